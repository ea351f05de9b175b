#include "chaosbench/reports/bench_report.h"

#include <vector>

#include <fmt/format.h>

#include "chaosbench/reports/html_report.h"

namespace chaosbench::reports {

using nlohmann::json;

namespace {

const std::vector<std::string> kColumns = {"target",
                                           "nemesis",
                                           "promised",
                                           "linearizable",
                                           "ok/s",
                                           "p50 ms",
                                           "p99 ms",
                                           "p999 ms",
                                           "p99 ms intended",
                                           "avail no fault",
                                           "avail fault",
                                           "p99 ms fault",
                                           "recovery first ok s",
                                           "recovery 90% tput s",
                                           "not sent"};

std::string number(const json& value, const char* format) {
  return value.is_number() ? fmt::format(fmt::runtime(format), value.get<double>()) : std::string("-");
}

// One row's cells, in kColumns order.
std::vector<std::string> cells(const json& row) {
  std::vector<std::string> values = {row.value("target", ""), row.value("nemesis", "")};
  if (!row.contains("analysis")) {
    values.push_back(fmt::format("run failed (exit {})", row.value("exit_code", -1)));
    values.resize(kColumns.size(), "-");
    return values;
  }
  const json& analysis = row["analysis"];
  const json& overall = analysis["overall"];
  const json& windows = analysis["by_window"];
  const json none = windows.contains("none") ? windows["none"] : json::object();
  json fault = json::object();
  for (const auto& [name, window] : windows.items()) {
    if (name != "none") fault = window;  // a bench run has one fault kind
  }
  values.push_back(row.value("promised", row.value("verdict", "")));
  values.push_back(row.value("linearizable", "-"));
  values.push_back(number(analysis["ok_per_second"], "{:.0f}"));
  values.push_back(number(overall["p50_ms"], "{:.2f}"));
  values.push_back(number(overall["p99_ms"], "{:.2f}"));
  values.push_back(number(overall["p999_ms"], "{:.2f}"));
  values.push_back(number(row.value("latency_from_intended_send", json::object()).value("p99_ms", json()), "{:.2f}"));
  values.push_back(none.contains("availability") ? number(none["availability"].get<double>() * 100, "{:.1f}%") : "-");
  values.push_back(fault.contains("availability") ? number(fault["availability"].get<double>() * 100, "{:.1f}%") : "-");
  values.push_back(fault.contains("p99_ms") ? number(fault["p99_ms"], "{:.2f}") : "-");
  values.push_back(row.value("recovery_first_ok_median", "-"));
  values.push_back(row.value("recovery_throughput_median", "-"));
  values.push_back(fmt::format("{}", row.value("intended_not_sent", 0)));
  return values;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char character : text) quoted += character == '"' ? std::string("\"\"") : std::string(1, character);
  return quoted + "\"";
}

}  // namespace

std::string render_bench_table(const json& bench) {
  std::vector<std::vector<std::string>> table = {kColumns};
  for (const json& row : bench.value("rows", json::array())) table.push_back(cells(row));
  std::vector<std::size_t> widths(kColumns.size(), 0);
  for (const auto& line : table) {
    for (std::size_t column = 0; column < line.size(); ++column)
      widths[column] = std::max(widths[column], line[column].size());
  }
  std::string text;
  for (const auto& line : table) {
    for (std::size_t column = 0; column < line.size(); ++column) {
      text += fmt::format("{:<{}}{}", line[column], widths[column], column + 1 < line.size() ? "  " : "\n");
    }
  }
  return text;
}

std::string render_bench_csv(const json& bench) {
  std::string text;
  for (std::size_t column = 0; column < kColumns.size(); ++column)
    text += (column ? "," : "") + csv_field(kColumns[column]);
  text += "\n";
  for (const json& row : bench.value("rows", json::array())) {
    const auto values = cells(row);
    for (std::size_t column = 0; column < values.size(); ++column)
      text += (column ? "," : "") + csv_field(values[column]);
    text += "\n";
  }
  return text;
}

std::string render_bench_html(const json& bench) {
  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>chaosbench bench</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}h1{margin:0;font-size:20px;font-weight:600}
header p{margin:4px 0 0;color:#aab3c5}main{padding:20px 28px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.08)}
th,td{text-align:right;padding:7px 11px;border-bottom:1px solid #eceef2;white-space:nowrap;font-variant-numeric:tabular-nums}
th{background:#eef0f4;font-weight:600;font-size:12px;color:#535d70}td:nth-child(-n+4),th:nth-child(-n+4){text-align:left}
p.note{max-width:60em;color:#535d70}
</style></head><body>
<header><h1>chaosbench bench</h1><p>)";
  html += escape_html(
      fmt::format("workload {}, {} ops/s open loop, {} clients, {} nodes, {} per run ({} warm-up excluded), "
                  "fault interval {}, seed {}",
                  bench.value("workload", ""), bench.value("rate", 0.0), bench.value("concurrency", 0),
                  bench.value("nodes", 0), bench.value("time_limit", ""), bench.value("warmup", ""),
                  bench.value("nemesis_interval", ""), bench.value("seed", 0)));
  html += "</p></header>\n<main>\n<table>\n<thead><tr>";
  for (const std::string& column : kColumns) html += "<th>" + escape_html(column) + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const json& row : bench.value("rows", json::array())) {
    html += "<tr>";
    for (const std::string& value : cells(row)) html += "<td>" + escape_html(value) + "</td>";
    html += "</tr>\n";
  }
  html += R"(</tbody></table>
<p class="note">promised: the verdict of the checkers that judge what the target promises on this workload
(raft, etcd: linearizable; zab local reads, ZooKeeper without sync, etcd serializable reads: sequential;
quorum, Redis: convergence, and session for quorum on unique-register; other workloads: their own checkers);
linearizable: the linearizability checker's verdict on the same history, for comparison.
ok/s and the p50/p99/p999 columns: ok operations invoked after the warm-up and before the final reads,
latency from the send time recorded in history.jsonl. "p99 ms intended": the client pool's own figure, measured from
each operation's intended send time (open loop, so queueing behind a stall counts; not sent: intended operations
dropped because the backlog was full). Availability: ok / completed operations invoked while no fault, or the fault,
was active. Recovery (median over the run's fault windows): from the stop of a fault (heal complete) to the first ok
operation, and to ok throughput over 1 s back within 10% of the 5 s before that fault began; "run ended": the fault
was healed less than 1 s before the load stopped, so there was no time to recover in.</p>
</main></body></html>
)";
  return html;
}

}  // namespace chaosbench::reports
