// Markup helpers the report writers share: escaping for HTML and XML, a JSON
// value as display text, and the head of the small table pages (the store index,
// the suite page): doctype, a content security policy that allows no network, and
// the common styles.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace chaosbench::reports {

// Escapes & < > " and writes ' as `apostrophe` (HTML: &#39;, XML: &apos;).
std::string escape_markup(std::string_view text, std::string_view apostrophe);

// A JSON value as a page shows it: a string as is, null as "", anything else as JSON text.
std::string text_of(const nlohmann::json& value);

// Everything up to <body>: `title` (escaped) and the table styles, then `page_css`.
std::string table_page_head(std::string_view title, std::string_view page_css);

}  // namespace chaosbench::reports
