// Pages for a suite run: suite.json (written by `harness suite`) -> index.html (self-contained,
// static, links each entry's report.html by relative path) and junit.xml (one <testcase> per entry:
// a verdict other than the expected one is a <failure>, a harness failure or timeout an <error>).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::reports {

std::string render_suite_html(const nlohmann::json& suite);
std::string render_suite_junit(const nlohmann::json& suite);

}  // namespace chaosbench::reports
