#include "chaosbench/reports/suite_report.h"

#include <fmt/format.h>

#include "chaosbench/reports/html_report.h"
#include "chaosbench/reports/junit_report.h"
#include "markup.h"

namespace chaosbench::reports {

using nlohmann::json;

namespace {

std::string text(const json& document, const char* key) {
  if (!document.is_object() || !document.contains(key)) return {};
  const json& value = document[key];
  return value.is_string() ? value.get<std::string>() : value.is_null() ? std::string() : value.dump();
}

std::string seconds_cell(const json& entry, const char* key) {
  if (!entry.contains(key) || !entry[key].is_number()) return "&ndash;";
  return fmt::format("{:.2f} s", entry[key].get<double>());
}

bool is_harness_failure(const std::string& verdict) { return verdict == "harness-failed" || verdict == "timed-out"; }

}  // namespace

std::string render_suite_html(const json& suite) {
  std::string html = table_page_head(
      "chaosbench suite",
      R"(.badge{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}
.pass{background:#1f9d55}.tolerated{background:#b7791f}.fail{background:#d3343b}.error{background:#6b7280}
.message{white-space:normal;color:#b42318}a{color:#2456c7}
)");
  html += R"(<header><h1>chaosbench suite )";
  html += escape_html(text(suite, "suite"));
  html += "</h1><p>";
  html += escape_html(text(suite, "file")) + " &middot; started " + escape_html(text(suite, "started"));
  const int tolerated = suite.value("tolerated", 0);
  html += fmt::format(
      " &middot; {} passed{}, {} not as expected, {} harness failure(s) &middot; {:.0f} s, {} at a "
      "time</p></header>\n<main>\n",
      suite.value("passed", 0),
      tolerated ? fmt::format(" ({} of them misses tolerated by expect_on_at_least)", tolerated) : "",
      suite.value("mismatched", 0), suite.value("harness_failures", 0), suite.value("wall_seconds", 0.0),
      suite.value("parallel", 1));
  html +=
      "<table>\n<thead><tr><th>Result</th><th>Entry</th><th>Target</th><th>Workload</th><th>Nemesis</th>"
      "<th>Seed</th><th>Expected</th><th>Verdict</th><th>Wall time</th>"
      "<th title=\"completion of the first operation the checker could not place, from the run's start\">Detected "
      "at</th>"
      "<th>Report</th><th>Message</th></tr></thead>\n<tbody>\n";
  for (const json& entry : suite.value("entries", json::array())) {
    const std::string verdict = text(entry, "verdict");
    const bool passed = entry.value("passed", false);
    const char* result = passed                        ? (entry.value("tolerated", false) ? "tolerated" : "pass")
                         : is_harness_failure(verdict) ? "error"
                                                       : "fail";
    html += fmt::format("<tr><td><span class=\"badge {}\">{}</span></td>", result, result);
    for (const char* key : {"id", "target", "workload", "nemesis"})
      html += "<td>" + escape_html(text(entry, key)) + "</td>";
    html += "<td class=\"num\">" + escape_html(text(entry, "seed")) + "</td>";
    html += "<td>" + escape_html(text(entry, "expect")) + "</td><td>" + escape_html(verdict) + "</td>";
    html += "<td class=\"num\">" + seconds_cell(entry, "wall_seconds") + "</td>";
    html += "<td class=\"num\">" + seconds_cell(entry, "detection_seconds") + "</td>";
    if (entry.contains("report")) {
      html += "<td><a href=\"" + escape_html(text(entry, "report")) + "\">report</a></td>";
    } else {
      html += "<td><a href=\"" + escape_html(text(entry, "log")) + "\">log</a></td>";
    }
    html += "<td class=\"message\">" + escape_html(text(entry, "message")) + "</td></tr>\n";
  }
  html += "</tbody></table>\n</main></body></html>\n";
  return html;
}

std::string render_suite_junit(const json& suite) {
  const json entries = suite.value("entries", json::array());
  std::size_t failures = 0, errors = 0;
  for (const json& entry : entries) {
    if (entry.value("passed", false)) continue;
    is_harness_failure(text(entry, "verdict")) ? ++errors : ++failures;
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"chaosbench\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
                     entries.size(), failures, errors, suite.value("wall_seconds", 0.0));
  xml += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\" timestamp=\"{}\">\n",
      escape_xml(text(suite, "suite")), entries.size(), failures, errors, suite.value("wall_seconds", 0.0),
      escape_xml(text(suite, "started")));
  for (const json& entry : entries) {
    xml +=
        fmt::format("    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3f}\"", escape_xml(text(suite, "suite")),
                    escape_xml(text(entry, "target")), escape_xml(text(entry, "id")), entry.value("wall_seconds", 0.0));
    const std::string verdict = text(entry, "verdict");
    std::string details = fmt::format("expected {}, got {}; seed {}; run {}", text(entry, "expect"), verdict,
                                      text(entry, "seed"), text(entry, "run_directory"));
    if (entry.value("passed", false)) {
      if (entry.value("tolerated", false)) details += "; " + text(entry, "message");
      xml += ">\n      <system-out>" + escape_xml(details) + "</system-out>\n    </testcase>\n";
    } else {
      const char* element = is_harness_failure(verdict) ? "error" : "failure";
      xml += fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", element,
                         escape_xml(text(entry, "message")), escape_xml(verdict), escape_xml(details), element);
    }
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace chaosbench::reports
