#include "chaosbench/harness/bench_command.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "chaosbench/harness/control/supervised_child.h"
#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/run_command.h"
#include "chaosbench/harness/run_store.h"
#include "chaosbench/reports/bench_report.h"

namespace chaosbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

double percentile(std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

void fill_percentiles(WindowFigures& figures, std::vector<double> latencies) {
  std::sort(latencies.begin(), latencies.end());
  figures.p50_ms = percentile(latencies, 0.50);
  figures.p99_ms = percentile(latencies, 0.99);
  figures.p999_ms = percentile(latencies, 0.999);
}

struct ClientOp {
  double invoke = 0, complete = 0;
  bool ok = false;
  std::string window;
};

struct FaultWindow {
  std::string kind;
  double start = 0;              // its start's completion (applied)
  std::optional<double> stop;    // its stop's invocation (healing begins)
  std::optional<double> healed;  // its stop's completion
};

}  // namespace

BenchAnalysis analyze_bench_history(const fs::path& history_path, double warmup_seconds, double workload_seconds) {
  std::ifstream history(history_path);
  if (!history) throw std::runtime_error(fmt::format("cannot read {}", history_path.string()));
  std::vector<ClientOp> operations;
  std::map<std::string, std::size_t> open;  // client process -> its op in `operations`
  std::vector<FaultWindow> windows;
  std::multiset<std::string> active;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(history, line)) {
    ++line_number;
    if (line.empty()) continue;
    json operation;
    try {
      operation = json::parse(line);
    } catch (const json::exception& error) {
      throw std::runtime_error(fmt::format("{}:{}: {}", history_path.string(), line_number, error.what()));
    }
    const double time = operation.value("time", 0.0) / 1e9;
    const std::string type = operation.value("type", "");
    const std::string function = operation.value("f", "");
    if (operation.value("process", json()) == "nemesis") {
      const bool start = function.rfind("start-", 0) == 0, stop = function.rfind("stop-", 0) == 0;
      if (start && type == "info") {
        const json& done = operation["value"];
        if (done.is_object() && done.contains("error")) continue;
        windows.push_back(FaultWindow{function.substr(6), time, std::nullopt, std::nullopt});
        active.insert(function.substr(6));
      } else if (stop) {
        const std::string kind = function.substr(5);
        for (auto window = windows.rbegin(); window != windows.rend(); ++window) {
          if (window->kind != kind) continue;
          if (type == "invoke" && !window->stop) {
            window->stop = time;
            if (auto found = active.find(kind); found != active.end()) active.erase(found);
            break;
          }
          if (type != "invoke" && window->stop && !window->healed) {
            window->healed = time;
            break;
          }
        }
      }
      continue;
    }
    const std::string process = operation.contains("process") ? operation["process"].dump() : "";
    if (type == "invoke") {
      open[process] = operations.size();
      operations.push_back(ClientOp{time, 0, false, active.empty() ? "none" : *active.begin()});
    } else if (auto found = open.find(process); found != open.end()) {
      operations[found->second].complete = time;
      operations[found->second].ok = type == "ok";
      open.erase(found);
    }
  }

  BenchAnalysis analysis;
  analysis.measured_seconds = std::max(0.0, workload_seconds - warmup_seconds);
  std::vector<double> all_latencies;
  std::map<std::string, std::vector<double>> window_latencies;
  std::vector<double> ok_times;
  for (const ClientOp& operation : operations) {
    if (operation.invoke < warmup_seconds || operation.invoke >= workload_seconds || operation.complete == 0) continue;
    WindowFigures& window = analysis.by_window[operation.window];
    ++analysis.overall.completed;
    ++window.completed;
    if (!operation.ok) continue;
    ++analysis.overall.ok;
    ++window.ok;
    const double latency_ms = (operation.complete - operation.invoke) * 1e3;
    all_latencies.push_back(latency_ms);
    window_latencies[operation.window].push_back(latency_ms);
    ok_times.push_back(operation.complete);
  }
  fill_percentiles(analysis.overall, std::move(all_latencies));
  for (auto& [name, latencies] : window_latencies) fill_percentiles(analysis.by_window[name], std::move(latencies));
  analysis.ok_per_second =
      analysis.measured_seconds > 0 ? static_cast<double>(analysis.overall.ok) / analysis.measured_seconds : 0;

  std::sort(ok_times.begin(), ok_times.end());
  auto ok_between = [&](double from, double to) {
    return static_cast<double>(std::lower_bound(ok_times.begin(), ok_times.end(), to) -
                               std::lower_bound(ok_times.begin(), ok_times.end(), from));
  };
  for (const FaultWindow& window : windows) {
    if (!window.healed || window.start < warmup_seconds) continue;
    Recovery recovery{window.kind,  window.start, *window.healed,
                      std::nullopt, std::nullopt, *window.healed + 1.0 > workload_seconds};
    auto first_ok = std::lower_bound(ok_times.begin(), ok_times.end(), *window.healed);
    if (first_ok != ok_times.end() && *first_ok < workload_seconds)
      recovery.first_ok_seconds = *first_ok - *window.healed;
    const double baseline_from = std::max(warmup_seconds, window.start - 5.0);
    if (window.start - baseline_from >= 1.0) {
      const double baseline = ok_between(baseline_from, window.start) / (window.start - baseline_from);
      for (double from = *window.healed; from + 1.0 <= workload_seconds; from += 0.1) {
        if (ok_between(from, from + 1.0) >= 0.9 * baseline) {
          recovery.throughput_back_seconds = from - *window.healed;
          break;
        }
      }
    }
    analysis.recoveries.push_back(recovery);
  }
  return analysis;
}

json to_json(const BenchAnalysis& analysis) {
  auto figures = [](const WindowFigures& window) {
    return json{{"completed", window.completed}, {"ok", window.ok},         {"availability", window.availability()},
                {"p50_ms", window.p50_ms},       {"p99_ms", window.p99_ms}, {"p999_ms", window.p999_ms}};
  };
  json windows = json::object();
  for (const auto& [name, window] : analysis.by_window) windows[name] = figures(window);
  json recoveries = json::array();
  auto optional_number = [](const std::optional<double>& value) { return value ? json(*value) : json(nullptr); };
  for (const Recovery& recovery : analysis.recoveries) {
    recoveries.push_back({{"fault", recovery.fault},
                          {"start_seconds", recovery.start_seconds},
                          {"heal_seconds", recovery.heal_seconds},
                          {"first_ok_seconds", optional_number(recovery.first_ok_seconds)},
                          {"throughput_back_seconds", optional_number(recovery.throughput_back_seconds)},
                          {"run_ended", recovery.run_ended}});
  }
  return {{"measured_seconds", analysis.measured_seconds},
          {"ok_per_second", analysis.ok_per_second},
          {"overall", figures(analysis.overall)},
          {"by_window", windows},
          {"recoveries", recoveries}};
}

namespace {

std::string optional_seconds(const std::vector<Recovery>& recoveries, bool first_ok) {
  std::vector<double> values;
  std::size_t never = 0, run_ended = 0;
  for (const Recovery& recovery : recoveries) {
    const auto& value = first_ok ? recovery.first_ok_seconds : recovery.throughput_back_seconds;
    if (value) {
      values.push_back(*value);
    } else {
      ++(recovery.run_ended ? run_ended : never);
    }
  }
  if (values.empty() && never == 0 && run_ended == 0) return "-";
  std::sort(values.begin(), values.end());
  std::string text = !values.empty() ? fmt::format("{:.2f}", values[(values.size() - 1) / 2])
                     : never > 0     ? std::string("never")
                                     : std::string("run ended");
  if (never > 0 && !values.empty()) text += fmt::format(" ({} never)", never);
  if (run_ended > 0 && (!values.empty() || never > 0)) text += fmt::format(" ({} at run end)", run_ended);
  return text;
}

bool has_argument(const std::vector<std::string>& arguments, const std::string& text) {
  return std::any_of(arguments.begin(), arguments.end(),
                     [&](const std::string& argument) { return argument.find(text) != std::string::npos; });
}

}  // namespace

std::vector<std::string> promised_checkers(const std::string& target, const std::string& workload,
                                           const std::vector<std::string>& run_arguments) {
  if (workload != "register" && workload != "unique-register" && workload != "register-delete" && workload != "kv") {
    return {};  // set, counter, bank, txns: their own checkers judge what each target claims
  }
  if (target == "raft") return {"linearizable"};
  if (target == "etcd") return {has_argument(run_arguments, "--read=serializable") ? "sequential" : "linearizable"};
  if (target == "zab") return {has_argument(run_arguments, "--read-mode=sync") ? "linearizable" : "sequential"};
  if (target == "zookeeper") return {has_argument(run_arguments, "--sync-reads") ? "linearizable" : "sequential"};
  if (target == "quorum" && workload == "unique-register") return {"session", "convergence"};
  return {"convergence"};  // quorum, redis (asynchronous replication): replicas agree once healed
}

namespace {

// "sequential valid", "session+convergence invalid", from results.json's checker verdicts.
std::string promised_verdict(const json& results, const std::vector<std::string>& checkers) {
  if (checkers.empty()) return results.value("verdict", "");
  std::string worst = "valid";
  for (const std::string& name : checkers) {
    const std::string verdict = results["checker"].value(name, json::object()).value("verdict", "unknown");
    if (verdict == "invalid" || (verdict == "unknown" && worst == "valid")) worst = verdict;
  }
  return fmt::format("{} {}", fmt::join(checkers, "+"), worst);
}

}  // namespace

int run_bench_command(const BenchOptions& options, const fs::path& harness_executable, std::ostream& out,
                      std::ostream& errors) {
  const std::vector<std::string> targets = split_list(options.targets), nemeses = split_list(options.nemeses);
  double warmup_seconds = 0;
  std::chrono::milliseconds time_limit{0};
  try {
    if (targets.empty()) throw std::invalid_argument("--targets: empty list");
    if (nemeses.empty()) throw std::invalid_argument("--nemesis: empty list");
    for (const std::string& target : targets) {
      const auto& known = known_targets();
      if (std::find(known.begin(), known.end(), target) == known.end()) {
        throw std::invalid_argument(fmt::format("--targets: unknown target '{}'", target));
      }
    }
    for (const std::string& target : targets) {
      if (auto problem = workload_not_served(target, options.workload)) {
        throw std::invalid_argument(fmt::format("--workload: {}; compare only targets that serve it", *problem));
      }
    }
    if (options.rate <= 0) throw std::invalid_argument("--rate: the bench is open loop; give a rate above 0");
    warmup_seconds = static_cast<double>(parse_duration(options.warmup).count()) / 1000;
    time_limit = parse_duration(options.time_limit);
    parse_duration(options.nemesis_interval);
    if (warmup_seconds * 1000 >= static_cast<double>(time_limit.count())) {
      throw std::invalid_argument("--warmup: must be shorter than --time-limit");
    }
  } catch (const std::invalid_argument& error) {
    errors << "harness bench: " << error.what() << "\n";
    return kExitHarnessFailed;
  }

  const fs::path bench_directory = fs::path(options.store) / "bench" / utc_timestamp(std::chrono::system_clock::now());
  fs::create_directories(bench_directory / "runs");
  out << fmt::format("harness bench: {} x {} runs of {} s ({} s warm-up), {} ops/s open loop, seed {}; {}\n",
                     targets.size(), nemeses.size(), time_limit.count() / 1000, warmup_seconds, options.rate,
                     options.seed, bench_directory.string());
  json rows = json::array();
  bool failed = false;
  for (const std::string& target : targets) {
    for (const std::string& nemesis : nemeses) {
      const std::string name = fmt::format("{}-{}", target, nemesis == "none" ? "none" : nemesis);
      std::vector<std::string> arguments = {"run",
                                            "--target=" + target,
                                            "--workload=" + options.workload,
                                            "--nemesis=" + nemesis,
                                            "--nemesis-interval=" + options.nemesis_interval,
                                            "--seed=" + std::to_string(options.seed),
                                            "--rate=" + fmt::format("{}", options.rate),
                                            "--concurrency=" + std::to_string(options.concurrency),
                                            "--nodes=" + std::to_string(options.nodes),
                                            "--time-limit=" + options.time_limit,
                                            "--store=" + (bench_directory / "runs").string(),
                                            "--test-name=" + name};
      const std::vector<std::string> promised = promised_checkers(target, options.workload, options.run_arguments);
      for (const std::string& checker : promised) arguments.push_back("--checker=" + checker);
      const bool linearizable_column = !promised.empty();
      if (linearizable_column && std::find(promised.begin(), promised.end(), "linearizable") == promised.end()) {
        arguments.push_back("--checker=linearizable");
      }
      arguments.insert(arguments.end(), options.run_arguments.begin(), options.run_arguments.end());
      fs::create_directories(bench_directory / "runs" / name);
      const int exit_code =
          control::run_supervised(harness_executable, arguments, bench_directory / "runs" / name / "harness.log",
                                  2 * time_limit + std::chrono::minutes(4))
              .exit_code;
      json row{{"target", target}, {"nemesis", nemesis}, {"exit_code", exit_code}};
      std::error_code missing;
      const fs::path run_directory = fs::canonical(bench_directory / "runs" / "latest", missing);
      if (exit_code < 0 || exit_code >= kExitHarnessFailed || missing || !fs::exists(run_directory / "results.json") ||
          run_directory.parent_path().filename() != name) {
        errors << fmt::format("harness bench: run {} failed (exit {}); see {}\n", name, exit_code,
                              (bench_directory / "runs" / name / "harness.log").string());
        failed = true;
        rows.push_back(row);
        continue;
      }
      const json results = json::parse(std::ifstream(run_directory / "results.json"));
      const BenchAnalysis analysis = analyze_bench_history(run_directory / "history.jsonl", warmup_seconds,
                                                           results.value("workload_seconds", 0.0));
      row["verdict"] = results.value("verdict", "");
      row["promised"] = promised_verdict(results, promised);
      row["linearizable"] = linearizable_column
                                ? results["checker"].value("linearizable", json::object()).value("verdict", "unknown")
                                : "-";
      row["run_directory"] = fs::relative(run_directory, bench_directory).string();
      row["analysis"] = to_json(analysis);
      row["latency_from_intended_send"] = results.value("latency_from_intended_send", json::object());
      row["intended_not_sent"] = results.value("intended_not_sent", 0);
      row["recovery_first_ok_median"] = optional_seconds(analysis.recoveries, true);
      row["recovery_throughput_median"] = optional_seconds(analysis.recoveries, false);
      rows.push_back(row);
      out << fmt::format("  {} done: {}, linearizable {} ({:.0f} ok/s)\n", name, row["promised"].get<std::string>(),
                         row["linearizable"].get<std::string>(), analysis.ok_per_second);
      out.flush();
    }
  }

  const json document{{"targets", targets},
                      {"workload", options.workload},
                      {"nemeses", nemeses},
                      {"rate", options.rate},
                      {"concurrency", options.concurrency},
                      {"nodes", options.nodes},
                      {"time_limit", options.time_limit},
                      {"warmup", options.warmup},
                      {"seed", options.seed},
                      {"nemesis_interval", options.nemesis_interval},
                      {"rows", rows}};
  write_json_file(bench_directory / "bench.json", document);
  std::ofstream(bench_directory / "bench.csv") << reports::render_bench_csv(document);
  std::ofstream(bench_directory / "bench.html") << reports::render_bench_html(document);
  out << "\n" << reports::render_bench_table(document);
  out << fmt::format("\nbench: {} (bench.json, bench.csv, runs/)\n", (bench_directory / "bench.html").string());
  return failed ? kExitHarnessFailed : kExitValid;
}

CLI::App* add_bench_command(CLI::App& app, BenchOptions& bench) {
  CLI::App* bench_app = app.add_subcommand(
      "bench",
      "Same seeded open-loop load against each target under each fault kind (one `harness run` each); one "
      "table of throughput, latency, availability and recovery (docs/bench-mode.md)");
  bench_app->add_option("--targets", bench.targets, "Targets, comma-separated")->capture_default_str();
  bench_app->add_option("--workload", bench.workload, "Workload of every run")->capture_default_str();
  bench_app->add_option("--nemesis", bench.nemeses, "Fault kinds, comma-separated, one run each; none = no faults")
      ->capture_default_str();
  bench_app->add_option("--rate", bench.rate, "Intended operations per second (open loop)")->capture_default_str();
  bench_app->add_option("--concurrency", bench.concurrency, "Logical client processes")->capture_default_str();
  bench_app->add_option("--nodes", bench.nodes, "Nodes per cluster")->capture_default_str();
  bench_app->add_option("--time-limit", bench.time_limit, "Workload time per run")->capture_default_str();
  bench_app->add_option("--warmup", bench.warmup, "Operations invoked before this are left out")->capture_default_str();
  bench_app->add_option("--nemesis-interval", bench.nemesis_interval, "As for harness run")->capture_default_str();
  bench_app->add_option("--seed", bench.seed, "Seed of every run (same ops, same schedule)")->capture_default_str();
  bench_app->add_option("--store", bench.store, "Store directory; the bench goes to STORE/bench/<timestamp>/")
      ->capture_default_str();
  bench_app
      ->add_option("--run-arg", bench.run_arguments,
                   "Extra `harness run` flag for every run, repeatable: --run-arg=--op-timeout=1s")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  return bench_app;
}

}  // namespace chaosbench::harness
