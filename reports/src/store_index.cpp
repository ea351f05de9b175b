#include "chaosbench/reports/store_index.h"

#include <algorithm>

#include <fmt/format.h>

#include "chaosbench/reports/html_report.h"
#include "chaosbench/reports/report_error.h"
#include "chaosbench/reports/run_inputs.h"
#include "markup.h"

namespace chaosbench::reports {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json field(const json& test, const json& results, const char* name) {
  if (test.is_object()) {
    if (auto options = test.find("options"); options != test.end() && options->is_object() && options->contains(name)) {
      return (*options)[name];
    }
    if (test.contains(name)) return test[name];
  }
  if (results.is_object() && results.contains(name)) return results[name];
  return nullptr;
}

}  // namespace

RunSummary summarize_run(const fs::path& store, const fs::path& run_directory) {
  RunSummary summary;
  summary.directory = fs::relative(run_directory, store);
  summary.test = run_directory.parent_path().filename().string();
  summary.has_report = fs::exists(run_directory / "report.html");
  try {
    json test = json::object();
    if (fs::exists(run_directory / "test.json")) test = read_json_file(run_directory / "test.json");
    const json results = read_json_file(run_directory / "results.json");
    const auto outcomes = read_checker_outcomes(results, (run_directory / "results.json").string());
    summary.verdict = checkers::to_string(overall_verdict(results, outcomes));
    if (!text_of(field(test, results, "test")).empty()) summary.test = text_of(field(test, results, "test"));
    summary.started_at = text_of(field(test, results, "started_at"));
    summary.target = text_of(field(test, results, "target"));
    summary.workload = text_of(field(test, results, "workload"));
    summary.nemesis = text_of(field(test, results, "nemesis"));
    if (auto operations = results.find("operations"); operations != results.end()) {
      if (operations->is_object() && operations->contains("invoked") && (*operations)["invoked"].is_number()) {
        summary.operations = (*operations)["invoked"].get<std::uint64_t>();
      } else if (operations->is_number_unsigned()) {
        summary.operations = operations->get<std::uint64_t>();
      }
    }
    for (const char* name : {"latency", "latency_from_intended_send"}) {
      auto latency = results.find(name);
      if (latency != results.end() && latency->is_object() && latency->contains("p99_ms") &&
          (*latency)["p99_ms"].is_number()) {
        summary.p99_ms = (*latency)["p99_ms"].get<double>();
      }
    }
  } catch (const ReportError& error) {
    summary.error = error.what();
  }
  return summary;
}

std::vector<RunSummary> list_store_runs(const fs::path& store) {
  std::error_code error;
  if (!fs::is_directory(store, error)) throw ReportError(fmt::format("{}: not a store directory", store.string()));
  std::vector<RunSummary> runs;
  for (const auto& test : fs::directory_iterator(store)) {
    if (test.is_symlink() || !test.is_directory()) continue;  // store/latest
    for (const auto& run : fs::directory_iterator(test.path())) {
      if (run.is_symlink() || !run.is_directory()) continue;
      if (!fs::exists(run.path() / "results.json") && !fs::exists(run.path() / "history.jsonl")) continue;
      runs.push_back(summarize_run(store, run.path()));
    }
  }
  std::sort(runs.begin(), runs.end(), [](const RunSummary& left, const RunSummary& right) {
    if (left.started_at != right.started_at) return left.started_at > right.started_at;
    return left.directory.filename() > right.directory.filename();
  });
  return runs;
}

std::string render_store_index(const std::vector<RunSummary>& runs, const std::string& store_name) {
  std::string html = table_page_head(
      "chaosbench runs",
      R"(.verdict{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}
.valid{background:#1f9d55}.invalid{background:#d3343b}.unknown{background:#d08a00}.broken{background:#6b7280}
.error{color:#b42318;white-space:normal}a{color:#2456c7}
)");
  html += R"(<header><h1>chaosbench runs</h1><p>)";
  html += escape_html(store_name);
  html +=
      fmt::format(" &middot; {} run{}, newest first</p></header>\n<main>\n", runs.size(), runs.size() == 1 ? "" : "s");
  if (runs.empty()) {
    html += "<p>No runs in this store yet.</p>\n";
  } else {
    html +=
        "<table>\n<thead><tr><th>Verdict</th><th>Date</th><th>Test</th><th>Target</th><th>Workload</th>"
        "<th>Nemesis</th><th>Ops</th><th title=\"p99 latency of ok operations from results.json, measured from the "
        "intended send time\">p99</th><th>Report</th></tr></thead>\n<tbody>\n";
    for (const auto& run : runs) {
      const std::string verdict = run.error.empty() ? run.verdict : "broken";
      const std::string link = run.directory.generic_string() + "/" + (run.has_report ? "report.html" : "results.json");
      html += "<tr>";
      html += fmt::format("<td><span class=\"verdict {}\">{}</span></td>", escape_html(verdict), escape_html(verdict));
      html +=
          "<td>" + escape_html(run.started_at.empty() ? run.directory.filename().string() : run.started_at) + "</td>";
      html += "<td>" + escape_html(run.test) + "</td>";
      if (!run.error.empty()) {
        html += "<td class=\"error\" colspan=\"5\">" + escape_html(run.error) + "</td>";
      } else {
        html += "<td>" + escape_html(run.target) + "</td><td>" + escape_html(run.workload) + "</td><td>" +
                escape_html(run.nemesis) + "</td>";
        html += "<td class=\"num\">" + (run.operations ? fmt::format("{}", *run.operations) : std::string("&ndash;")) +
                "</td>";
        html += "<td class=\"num\">" + (run.p99_ms ? fmt::format("{:.1f} ms", *run.p99_ms) : std::string("&ndash;")) +
                "</td>";
      }
      html +=
          fmt::format("<td><a href=\"{}\">{}</a></td>", escape_html(link), run.has_report ? "report" : "results.json");
      html += "</tr>\n";
    }
    html += "</tbody></table>\n";
  }
  html += "</main></body></html>\n";
  return html;
}

}  // namespace chaosbench::reports
