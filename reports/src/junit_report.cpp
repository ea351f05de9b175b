#include "chaosbench/reports/junit_report.h"

#include <fmt/format.h>

#include "markup.h"

namespace chaosbench::reports {

using checkers::Verdict;

std::string escape_xml(std::string_view text) {
  std::string allowed;
  allowed.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;  // not allowed in XML 1.0
    allowed += c;
  }
  return escape_markup(allowed, "&apos;");
}

namespace {

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

std::string render_junit_report(const RunInputs& inputs) {
  std::string test = text_of(inputs.test.value("test", nlohmann::json()));
  if (test.empty()) test = text_of(inputs.results.value("test", nlohmann::json()));
  if (test.empty()) test = inputs.directory.parent_path().filename().string();
  const std::string suite = test + "/" + inputs.directory.filename().string();
  std::size_t failures = 0, errors = 0;
  for (const auto& checker : inputs.checkers) {
    if (checker.verdict == Verdict::invalid) ++failures;
    if (checker.verdict == Verdict::unknown) ++errors;
  }
  double seconds = inputs.results.value("workload_seconds", 0.0);
  if (!inputs.results.contains("workload_seconds") && !inputs.history.operations.empty()) {
    seconds = static_cast<double>(inputs.history.operations.back().time - inputs.history.operations.front().time) / 1e9;
  }

  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"chaosbench\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                     inputs.checkers.size(), failures, errors);
  xml +=
      fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3f}\"",
                  escape_xml(suite), inputs.checkers.size(), failures, errors, seconds);
  const std::string started = text_of(inputs.test.value("started_at", nlohmann::json()));
  if (!started.empty()) xml += fmt::format(" timestamp=\"{}\"", escape_xml(started));
  xml += ">\n    <properties>\n";
  xml += fmt::format("      <property name=\"verdict\" value=\"{}\"/>\n", checkers::to_string(inputs.verdict));
  xml += fmt::format("      <property name=\"run_directory\" value=\"{}\"/>\n", escape_xml(inputs.directory.string()));
  const nlohmann::json options = inputs.test.value("options", nlohmann::json::object());
  for (const char* name : {"seed", "target", "workload", "nemesis", "nodes"}) {
    nlohmann::json value =
        options.is_object() && options.contains(name) ? options[name] : inputs.test.value(name, nlohmann::json());
    if (!value.is_null()) {
      xml += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, escape_xml(text_of(value)));
    }
  }
  xml += "    </properties>\n";
  for (const auto& checker : inputs.checkers) {
    double checker_seconds = 0;
    if (checker.details.is_object() && checker.details.contains("elapsed_seconds") &&
        checker.details["elapsed_seconds"].is_number()) {
      checker_seconds = checker.details["elapsed_seconds"].get<double>();
    }
    xml += fmt::format("    <testcase classname=\"chaosbench.{}\" name=\"{}\" time=\"{:.3f}\"", escape_xml(test),
                       escape_xml(checker.name), checker_seconds);
    const std::string reason =
        one_line(checker.reason.empty() ? std::string(checkers::to_string(checker.verdict)) : checker.reason);
    if (checker.verdict == Verdict::valid) {
      xml += "/>\n";
      continue;
    }
    const char* element = checker.verdict == Verdict::invalid ? "failure" : "error";
    xml +=
        fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", element, escape_xml(reason),
                    checkers::to_string(checker.verdict),
                    escape_xml(checker.details.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)), element);
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace chaosbench::reports
