// report.html: one self-contained page (inline CSS and JavaScript, no network)
// built from a run's inputs. All data goes into one
// <script type="application/json"> block with '<', '>' and '&' escaped as
// \uXXXX, and the page builds its DOM with textContent, so no string from a
// history, log or flag can become markup. Operations are stored as compact
// columnar arrays (about 40 bytes per operation).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chaosbench/reports/run_inputs.h"

namespace chaosbench::reports {

// The JSON the page renders (exposed for tests); see report.js for its use.
nlohmann::json build_report_data(const RunInputs& inputs);

// Serialises JSON for embedding in a <script> element: invalid UTF-8
// replaced, '<', '>', '&', U+2028 and U+2029 written as \u escapes.
std::string embeddable_json(const nlohmann::json& document);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string escape_html(std::string_view text);

std::string render_html_report(const RunInputs& inputs);

}  // namespace chaosbench::reports
