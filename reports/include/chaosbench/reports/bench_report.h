// Views of bench.json (written by `harness bench`): a plain-text table for the terminal, CSV
// (one row per target x nemesis, for plotting elsewhere) and bench.html (self-contained, static).
// Rows without an "analysis" (a failed run) are shown as failed; nothing else is assumed present.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::reports {

std::string render_bench_table(const nlohmann::json& bench);
std::string render_bench_csv(const nlohmann::json& bench);
std::string render_bench_html(const nlohmann::json& bench);

}  // namespace chaosbench::reports
