#include "chaosbench/harness/suite_command.h"

#include <atomic>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include "chaosbench/harness/control/supervised_child.h"
#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/run_store.h"
#include "chaosbench/harness/suite_shards.h"
#include "chaosbench/reports/suite_report.h"

namespace chaosbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Settings an entry inherits from [defaults] and may override; the matrix
// dimensions are lists (a single value is a list of one).
struct EntrySettings {
  std::vector<std::string> targets{"raft"}, workloads{"register"}, nemeses{"partition"};
  std::vector<std::uint64_t> seeds{1};
  std::string expect = "valid";
  std::string time_limit = "20s";
  std::optional<std::string> timeout;
  std::optional<int> nodes;
  std::optional<int> expect_on_at_least;
  std::vector<std::string> arguments;
};

class SuiteFileReader {
 public:
  explicit SuiteFileReader(fs::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const toml::node& node, std::string_view key, std::string_view reason) const {
    throw std::invalid_argument(
        fmt::format("{}:{}: key '{}': {}", file_.string(), node.source().begin.line, key, reason));
  }

  std::string string_of(const toml::node& node, std::string_view key) const {
    if (!node.is_string()) fail(node, key, "expected a string");
    return node.as_string()->get();
  }

  std::vector<std::string> strings_of(const toml::node& node, std::string_view key) const {
    if (node.is_string()) return {node.as_string()->get()};
    const toml::array* array = node.as_array();
    if (!array || array->empty()) fail(node, key, "expected a string or a non-empty array of strings");
    std::vector<std::string> values;
    for (const toml::node& element : *array) values.push_back(string_of(element, key));
    return values;
  }

  std::int64_t integer_of(const toml::node& node, std::string_view key, std::int64_t minimum) const {
    if (!node.is_integer()) fail(node, key, "expected an integer");
    const std::int64_t value = node.as_integer()->get();
    if (value < minimum) fail(node, key, fmt::format("must be at least {}", minimum));
    return value;
  }

  std::string duration_of(const toml::node& node, std::string_view key) const {
    std::string text = node.is_integer() ? std::to_string(node.as_integer()->get()) : string_of(node, key);
    try {
      parse_duration(text);
    } catch (const std::invalid_argument& error) {
      fail(node, key, error.what());
    }
    return text;
  }

  // Applies the keys of `table` on top of `settings`; `name` is only allowed in entries.
  void apply(const toml::table& table, EntrySettings& settings, std::string* name) const {
    for (const auto& [key_node, value] : table) {
      const std::string key(key_node.str());
      if (key == "name" && name) {
        *name = string_of(value, key);
        if (name->empty() || name->find_first_of("/ \t") != std::string::npos) {
          fail(value, key, "must be non-empty, without '/' or spaces");
        }
      } else if (key == "target") {
        settings.targets = strings_of(value, key);
      } else if (key == "workload") {
        settings.workloads = strings_of(value, key);
      } else if (key == "nemesis") {
        settings.nemeses = strings_of(value, key);
      } else if (key == "seed") {
        settings.seeds = {static_cast<std::uint64_t>(integer_of(value, key, 0))};
      } else if (key == "seeds") {
        const toml::array* array = value.as_array();
        if (!array || array->empty()) fail(value, key, "expected a non-empty array of integers");
        settings.seeds.clear();
        for (const toml::node& seed : *array)
          settings.seeds.push_back(static_cast<std::uint64_t>(integer_of(seed, key, 0)));
      } else if (key == "expect") {
        settings.expect = string_of(value, key);
        if (settings.expect != "valid" && settings.expect != "invalid")
          fail(value, key, "expected \"valid\" or \"invalid\"");
      } else if (key == "expect_on_at_least" && name) {
        settings.expect_on_at_least = static_cast<int>(integer_of(value, key, 1));
      } else if (key == "time_limit") {
        settings.time_limit = duration_of(value, key);
      } else if (key == "timeout") {
        settings.timeout = duration_of(value, key);
      } else if (key == "nodes") {
        settings.nodes = static_cast<int>(integer_of(value, key, 1));
      } else if (key == "args") {
        const toml::array* array = value.as_array();
        if (!array) fail(value, key, "expected an array of strings");
        settings.arguments.clear();
        for (const toml::node& argument : *array) settings.arguments.push_back(string_of(argument, key));
      } else {
        fail(value, key,
             name ? "unknown entry key (name, target, workload, nemesis, seed, seeds, expect, "
                    "expect_on_at_least, time_limit, timeout, nodes, args)"
                  : "unknown [defaults] key (target, workload, nemesis, seed, seeds, expect, time_limit, "
                    "timeout, nodes, args)");
      }
    }
  }

 private:
  fs::path file_;
};

// The child failed or was killed: no verdict to compare with the expectation.
bool is_harness_failure(const std::string& verdict) { return verdict == "harness-failed" || verdict == "timed-out"; }

std::string id_part(std::string text) {
  for (char& character : text) {
    if (character == ',') character = '+';
    if (character == '/' || character == ' ') character = '_';
  }
  return text;
}

}  // namespace

Suite load_suite(const fs::path& file) {
  toml::table document;
  try {
    document = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    throw std::invalid_argument(
        fmt::format("{}:{}: {}", file.string(), error.source().begin.line, error.description()));
  }
  SuiteFileReader reader(file);
  Suite suite;
  suite.file = file;
  suite.name = file.stem().string();
  EntrySettings defaults;
  const toml::array* entries = nullptr;
  for (const auto& [key_node, value] : document) {
    const std::string key(key_node.str());
    if (key == "name") {
      suite.name = reader.string_of(value, key);
      if (suite.name.empty() || suite.name.find_first_of("/ \t") != std::string::npos) {
        reader.fail(value, key, "must be non-empty, without '/' or spaces");
      }
    } else if (key == "parallel") {
      suite.parallel = static_cast<int>(reader.integer_of(value, key, 1));
    } else if (key == "defaults") {
      if (!value.is_table()) reader.fail(value, key, "expected a table [defaults]");
    } else if (key == "entry") {
      entries = value.as_array();
      if (!entries || !entries->is_array_of_tables()) reader.fail(value, key, "expected [[entry]] tables");
    } else {
      reader.fail(value, key, "unknown top-level key (name, parallel, defaults, entry)");
    }
  }
  if (const toml::table* table = document["defaults"].as_table()) reader.apply(*table, defaults, nullptr);
  if (!entries || entries->empty()) {
    throw std::invalid_argument(fmt::format("{}:1: key 'entry': the suite has no [[entry]]", file.string()));
  }
  std::set<std::string> ids;
  for (const toml::node& node : *entries) {
    const toml::table& table = *node.as_table();
    EntrySettings settings = defaults;
    std::string name;
    reader.apply(table, settings, &name);
    if (name.empty()) reader.fail(table, "name", "every [[entry]] needs a name");
    if (const auto at_least = settings.expect_on_at_least) {
      const toml::node& node = *table.get("expect_on_at_least");
      if (settings.expect != "invalid") {
        reader.fail(node, "expect_on_at_least",
                    "only with expect = \"invalid\": a correct configuration must be valid on every seed");
      }
      if (static_cast<std::size_t>(*at_least) > settings.seeds.size()) {
        reader.fail(node, "expect_on_at_least",
                    fmt::format("{} is more than the entry's {} seed(s)", *at_least, settings.seeds.size()));
      }
    }
    for (const std::string& target : settings.targets) {
      for (const std::string& workload : settings.workloads) {
        for (const std::string& nemesis : settings.nemeses) {
          for (std::uint64_t seed : settings.seeds) {
            SuiteEntry entry;
            entry.id = name;
            if (settings.targets.size() > 1) entry.id += "-" + id_part(target);
            if (settings.workloads.size() > 1) entry.id += "-" + id_part(workload);
            if (settings.nemeses.size() > 1) entry.id += "-" + id_part(nemesis);
            entry.seed_group = entry.id;
            entry.seeds_in_group = static_cast<int>(settings.seeds.size());
            entry.expect_on_at_least = settings.expect_on_at_least;
            entry.id += fmt::format("-s{}", seed);
            entry.target = target;
            entry.workload = workload;
            entry.nemesis = nemesis;
            entry.seed = seed;
            entry.expect = settings.expect;
            entry.time_limit = settings.time_limit;
            entry.nodes = settings.nodes;
            entry.arguments = settings.arguments;
            entry.timeout = settings.timeout ? parse_duration(*settings.timeout)
                                             : 2 * parse_duration(settings.time_limit) + std::chrono::minutes(4);
            if (!ids.insert(entry.id).second)
              reader.fail(table, "name", fmt::format("duplicate entry id '{}'", entry.id));
            suite.entries.push_back(std::move(entry));
          }
        }
      }
    }
  }
  return suite;
}

std::vector<std::string> run_arguments(const SuiteEntry& entry, const fs::path& entry_store) {
  std::vector<std::string> arguments{"run",
                                     "--target=" + entry.target,
                                     "--workload=" + entry.workload,
                                     "--nemesis=" + entry.nemesis,
                                     "--seed=" + std::to_string(entry.seed),
                                     "--time-limit=" + entry.time_limit,
                                     "--store=" + entry_store.string(),
                                     "--test-name=" + entry.id};
  if (entry.nodes) arguments.push_back("--nodes=" + std::to_string(*entry.nodes));
  arguments.insert(arguments.end(), entry.arguments.begin(), entry.arguments.end());
  return arguments;
}

std::vector<std::string> apply_seed_tolerance(const std::vector<SuiteEntry>& entries,
                                              std::vector<EntryOutcome>& outcomes) {
  std::map<std::string, std::vector<std::size_t>> groups;  // ordered: stable output
  for (std::size_t index = 0; index < entries.size(); ++index) {
    if (entries[index].expect_on_at_least) groups[entries[index].seed_group].push_back(index);
  }
  std::vector<std::string> lines;
  for (const auto& [group, members] : groups) {
    const SuiteEntry& first = entries[members.front()];
    const std::size_t present = members.size();
    const std::size_t required =
        (static_cast<std::size_t>(*first.expect_on_at_least) * present + first.seeds_in_group - 1) /
        first.seeds_in_group;
    std::size_t as_expected = 0;
    for (std::size_t index : members) as_expected += outcomes[index].verdict == entries[index].expect;
    const bool enough = as_expected >= required;
    const std::string tally =
        fmt::format("{} on {} of {} seed(s), at least {} required", first.expect, as_expected, present, required);
    for (std::size_t index : members) {
      EntryOutcome& outcome = outcomes[index];
      if (outcome.verdict == entries[index].expect || is_harness_failure(outcome.verdict)) continue;
      outcome.tolerated = enough;
      outcome.passed = enough;
      outcome.message = fmt::format("{} on this seed; {}{}", outcome.verdict, tally, enough ? " (tolerated)" : "");
    }
    lines.push_back(fmt::format("{} {}: {}", enough ? "PASS" : "FAIL", group, tally));
  }
  return lines;
}

void read_run_outcome(const fs::path& run_directory, EntryOutcome& outcome) {
  std::ifstream results_file(run_directory / "results.json");
  if (!results_file) return;
  json results;
  try {
    results = json::parse(results_file);
  } catch (const json::exception& error) {
    throw std::runtime_error(fmt::format("{}: {}", (run_directory / "results.json").string(), error.what()));
  }
  if (results.contains("verdict") && results["verdict"].is_string()) outcome.verdict = results["verdict"];
  if (results.contains("time_to_detection_ms") && results["time_to_detection_ms"].is_number()) {
    outcome.online_detection_seconds = results["time_to_detection_ms"].get<double>() / 1000;
  }
  if (results.contains("online_check") && results["online_check"].is_object()) {
    outcome.online_agrees = results["online_check"].value("agrees_with_offline", false);
  }
  // The ops the checker names: the blocking op of every invalid key, and the ops concurrent with it.
  std::set<std::int64_t> blocking, named;
  if (auto checker = results.find("checker"); checker != results.end() && checker->is_object()) {
    for (const auto& [name, result] : checker->items()) {
      if (!result.is_object() || !result.contains("anomalies")) continue;
      for (const json& anomaly : result["anomalies"]) {
        if (anomaly.value("verdict", "") != "invalid" || !anomaly.contains("blocking_index")) continue;
        blocking.insert(anomaly["blocking_index"].get<std::int64_t>());
        named.insert(anomaly["blocking_index"].get<std::int64_t>());
        for (const json& index : anomaly.value("concurrent_indices", json::array()))
          named.insert(index.get<std::int64_t>());
      }
    }
  }
  if (blocking.empty()) return;
  std::ifstream history(run_directory / "history.jsonl");
  std::string line;
  std::int64_t position = 0;
  std::map<std::string, std::int64_t> awaiting_completion;  // process -> blocking invocation's index
  while (std::getline(history, line)) {
    json operation = json::parse(line, nullptr, false);
    const std::int64_t index = operation.is_object() ? operation.value("index", position) : position;
    ++position;
    if (!operation.is_object() || !operation.contains("time")) continue;
    const double seconds = operation["time"].get<double>() / 1e9;
    const std::string process = operation.contains("process") ? operation["process"].dump() : "";
    const std::string type = operation.value("type", "");
    if (named.count(index) && type == "invoke" && !outcome.first_evidence_seconds)
      outcome.first_evidence_seconds = seconds;
    if (blocking.count(index) && type == "invoke") {
      awaiting_completion[process] = index;
    } else if (type != "invoke" && awaiting_completion.count(process)) {
      awaiting_completion.erase(process);
      if (!outcome.detection_seconds || seconds < *outcome.detection_seconds) outcome.detection_seconds = seconds;
    }
  }
}

namespace {

json entry_json(const SuiteEntry& entry, const EntryOutcome& outcome, const fs::path& suite_directory,
                const std::vector<std::string>& command) {
  auto optional_number = [](const std::optional<double>& value) { return value ? json(*value) : json(nullptr); };
  json document{
      {"id", entry.id},
      {"target", entry.target},
      {"workload", entry.workload},
      {"nemesis", entry.nemesis},
      {"seed", entry.seed},
      {"expect", entry.expect},
      {"time_limit", entry.time_limit},
      {"verdict", outcome.verdict},
      {"passed", outcome.passed},
      {"tolerated", outcome.tolerated},
      {"exit_code", outcome.exit_code},
      {"wall_seconds", outcome.wall_seconds},
      {"detection_seconds", optional_number(outcome.detection_seconds)},
      {"first_evidence_seconds", optional_number(outcome.first_evidence_seconds)},
      {"online_detection_seconds", optional_number(outcome.online_detection_seconds)},
      {"online_agrees", outcome.online_agrees ? json(*outcome.online_agrees) : json(nullptr)},
      {"message", outcome.message},
      {"command", command},
      {"log", fs::relative(suite_directory / "entries" / entry.id / "harness.log", suite_directory).string()}};
  if (!outcome.run_directory.empty()) {
    document["run_directory"] = fs::relative(outcome.run_directory, suite_directory).string();
    if (fs::exists(outcome.run_directory / "report.html")) {
      document["report"] = fs::relative(outcome.run_directory / "report.html", suite_directory).string();
    }
  }
  return document;
}

EntryOutcome run_entry(const SuiteEntry& entry, const fs::path& harness_executable, const fs::path& entry_store,
                       const std::vector<std::string>& arguments) {
  EntryOutcome outcome;
  fs::create_directories(entry_store);
  const fs::path log_path = entry_store / "harness.log";
  const control::SupervisedOutcome child =
      control::run_supervised(harness_executable, arguments, log_path, entry.timeout);
  outcome.exit_code = child.exit_code;
  outcome.wall_seconds = child.wall_seconds;
  std::error_code missing;
  const fs::path latest = fs::read_symlink(entry_store / "latest", missing);
  if (!missing) outcome.run_directory = fs::weakly_canonical(entry_store / latest);
  if (!outcome.run_directory.empty()) read_run_outcome(outcome.run_directory, outcome);
  if (child.timed_out) {
    outcome.verdict = "timed-out";
    outcome.message = fmt::format("killed after the entry's timeout of {} s", entry.timeout.count() / 1000);
    if (!child.survivors.empty()) {
      outcome.message += fmt::format("; {} of its processes survived SIGKILL (first PID {})", child.survivors.size(),
                                     child.survivors.front());
    }
  } else if (outcome.exit_code == kExitHarnessFailed || outcome.exit_code > kExitHarnessFailed ||
             outcome.exit_code < 0) {
    outcome.verdict = "harness-failed";
    outcome.message = fmt::format("harness run exited with {}; see {}", outcome.exit_code, log_path.string());
  } else if (outcome.verdict.empty()) {
    outcome.verdict = outcome.exit_code == kExitValid     ? "valid"
                      : outcome.exit_code == kExitInvalid ? "invalid"
                                                          : "unknown";
  }
  outcome.passed = outcome.verdict == entry.expect;
  if (!outcome.passed && outcome.message.empty()) outcome.message = mismatch_message(entry, outcome.verdict);
  return outcome;
}

}  // namespace

std::vector<SuiteEntry> filter_entries(const Suite& suite, const std::string& filter) {
  std::vector<SuiteEntry> entries;
  for (const SuiteEntry& entry : suite.entries) {
    if (entry.id.find(filter) != std::string::npos) entries.push_back(entry);
  }
  return entries;
}

std::string mismatch_message(const SuiteEntry& entry, const std::string& verdict) {
  return fmt::format("expected {}, got {}", entry.expect, verdict);
}

fs::path create_suite_directory(const fs::path& store, const std::string& suite_name, const fs::path& suite_file) {
  const fs::path suite_root = store / suite_name;
  fs::path suite_directory = suite_root / utc_timestamp(std::chrono::system_clock::now());
  for (int suffix = 2; fs::exists(suite_directory); ++suffix) {
    suite_directory = suite_root / fmt::format("{}-{}", utc_timestamp(std::chrono::system_clock::now()), suffix);
  }
  fs::create_directories(suite_directory / "entries");
  suite_directory = fs::canonical(suite_directory);
  fs::copy_file(suite_file, suite_directory / "suite.toml");
  return suite_directory;
}

namespace {

// Per seed group that ran with --check-online: how many runs the online check
// found invalid and the median of their times to detection.
json online_detection_summary(const std::vector<SuiteEntry>& entries, const std::vector<EntryOutcome>& outcomes) {
  std::map<std::string, std::pair<std::size_t, std::vector<double>>> groups;  // group -> runs, detection times
  std::vector<std::string> order;
  for (std::size_t index = 0; index < entries.size(); ++index) {
    if (!outcomes[index].online_agrees) continue;  // not checked online
    const std::string& group = entries[index].seed_group.empty() ? entries[index].id : entries[index].seed_group;
    if (!groups.contains(group)) order.push_back(group);
    auto& [runs, seconds] = groups[group];
    ++runs;
    if (outcomes[index].online_detection_seconds) seconds.push_back(*outcomes[index].online_detection_seconds);
  }
  json summary = json::array();
  for (const std::string& group : order) {
    auto& [runs, seconds] = groups[group];
    std::sort(seconds.begin(), seconds.end());
    json median = nullptr;
    if (!seconds.empty()) {
      const std::size_t middle = seconds.size() / 2;
      median = seconds.size() % 2 ? seconds[middle] : (seconds[middle - 1] + seconds[middle]) / 2;
    }
    summary.push_back({{"entry", group},
                       {"runs", runs},
                       {"detected_online", seconds.size()},
                       {"median_seconds", median},
                       {"seconds", seconds}});
  }
  return summary;
}

}  // namespace

int finish_suite(const fs::path& store, const std::string& suite_name, const fs::path& suite_directory,
                 const std::vector<SuiteEntry>& entries, std::vector<EntryOutcome>& outcomes,
                 const std::vector<std::vector<std::string>>& commands, json summary, std::ostream& out,
                 std::ostream& errors) {
  const std::vector<std::string> group_lines = apply_seed_tolerance(entries, outcomes);
  if (!group_lines.empty()) out << "\nseed groups with expect_on_at_least:\n";
  for (const std::string& line : group_lines) out << "  " << line << "\n";
  std::size_t passed = 0, tolerated = 0, mismatched = 0, harness_failures = 0;
  json entry_documents = json::array();
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const EntryOutcome& outcome = outcomes[index];
    if (outcome.passed) {
      ++passed;
      tolerated += outcome.tolerated;
    } else if (is_harness_failure(outcome.verdict)) {
      ++harness_failures;
    } else {
      ++mismatched;
    }
    entry_documents.push_back(entry_json(entries[index], outcome, suite_directory, commands[index]));
  }
  if (json online = online_detection_summary(entries, outcomes); !online.empty()) {
    out << "\nfound by the online check (--check-online), per entry over its seeds:\n";
    for (const json& group : online) {
      out << fmt::format("  {}: online on {} of {} run(s){}\n", group["entry"].get<std::string>(),
                         group["detected_online"].get<std::size_t>(), group["runs"].get<std::size_t>(),
                         group["median_seconds"].is_number()
                             ? fmt::format(", median time to detection {:.2f} s", group["median_seconds"].get<double>())
                             : "");
    }
    summary["online_detection"] = online;
  }
  summary["suite"] = suite_name;
  summary["started"] = suite_directory.filename().string();
  summary["passed"] = passed;
  summary["tolerated"] = tolerated;
  summary["mismatched"] = mismatched;
  summary["harness_failures"] = harness_failures;
  summary["entries"] = entry_documents;
  try {
    write_json_file(suite_directory / "suite.json", summary);
    std::ofstream(suite_directory / "junit.xml") << reports::render_suite_junit(summary);
    std::ofstream(suite_directory / "index.html") << reports::render_suite_html(summary);
    const fs::path latest = store / suite_name / "latest";
    const fs::path temporary = latest.string() + ".new";
    fs::remove(temporary);
    fs::create_directory_symlink(suite_directory.filename(), temporary);
    fs::rename(temporary, latest);
  } catch (const std::exception& error) {
    errors << "harness suite: writing the summary: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  out << fmt::format("\nsuite {}: {} passed{}, {} verdict(s) not as expected, {} harness failure(s) in {:.0f} s\n",
                     suite_name, passed, tolerated ? fmt::format(" ({} tolerated miss(es))", tolerated) : "",
                     mismatched, harness_failures, summary.value("wall_seconds", 0.0));
  out << fmt::format("summary: {}\njunit: {}\n", (suite_directory / "index.html").string(),
                     (suite_directory / "junit.xml").string());
  if (harness_failures > 0) return kExitHarnessFailed;
  return mismatched > 0 ? kExitInvalid : kExitValid;
}

namespace {

std::string format_duration(double seconds) {
  const long whole = std::lround(std::max(0.0, seconds));
  if (whole < 60) return fmt::format("{} s", whole);
  if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, whole / 60 % 60);
}

}  // namespace

int run_suite_command(const SuiteCommandOptions& options, const fs::path& harness_executable, std::ostream& out,
                      std::ostream& errors) {
  if (options.file.empty()) {
    errors << "harness suite: a suite file is required (harness suite FILE.toml, or harness suite merge STORE...)\n";
    return kExitHarnessFailed;
  }
  Suite suite;
  std::optional<SuiteShard> shard;
  try {
    suite = load_suite(options.file);
    if (!options.shard.empty()) shard = parse_shard(options.shard);
  } catch (const std::invalid_argument& error) {
    errors << "harness suite: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  const std::vector<SuiteEntry> suite_entries = filter_entries(suite, options.filter);
  if (suite_entries.empty()) {
    errors << fmt::format("harness suite: no entry of {} matches '{}'\n", options.file.string(), options.filter);
    return kExitHarnessFailed;
  }
  std::vector<SuiteEntry> entries;
  std::vector<SuiteEntry> selected = suite_entries;
  for (SuiteEntry& entry : selected) {
    entry.arguments.insert(entry.arguments.end(), options.run_arguments.begin(), options.run_arguments.end());
  }
  if (shard) {
    const std::vector<int> shards = assign_shards(suite_entries, shard->count);
    for (std::size_t index = 0; index < suite_entries.size(); ++index) {
      if (shards[index] == shard->index) entries.push_back(selected[index]);
    }
  } else {
    entries = selected;
  }
  const std::string shard_text =
      shard ? fmt::format(" (shard {}/{} of {} entries)", shard->index, shard->count, suite_entries.size()) : "";
  if (options.list) {
    if (shard)
      out << fmt::format("shard {}/{}: {} of {} entries\n", shard->index, shard->count, entries.size(),
                         suite_entries.size());
    for (const SuiteEntry& entry : entries) {
      std::string command = "harness";
      for (const std::string& argument : run_arguments(entry, "STORE")) command += " " + argument;
      const std::string seeds_required =
          entry.expect_on_at_least ? fmt::format(" on at least {} of the {} seeds of {}", *entry.expect_on_at_least,
                                                 entry.seeds_in_group, entry.seed_group)
                                   : "";
      out << fmt::format("{}  expect {}{}  timeout {} s\n  {}\n", entry.id, entry.expect, seeds_required,
                         entry.timeout.count() / 1000, command);
    }
    return kExitValid;
  }
  const int parallel = std::max(1, options.parallel > 0 ? options.parallel : suite.parallel);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (static_cast<unsigned>(parallel) > cores) {
    errors << fmt::format("harness suite: warning: --parallel {} on {} core(s); timings will be disturbed\n", parallel,
                          cores);
  }

  fs::path suite_directory;
  try {
    suite_directory = create_suite_directory(options.store, suite.name, options.file);
  } catch (const fs::filesystem_error& error) {
    errors << "harness suite: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  out << fmt::format("harness suite {}: {} entr{}{}, {} at a time; store {}\n", suite.name, entries.size(),
                     entries.size() == 1 ? "y" : "ies", shard_text, parallel, suite_directory.string());
  if (entries.empty()) out << "harness suite: this shard has no entries (fewer seed groups than shards)\n";

  std::vector<EntryOutcome> outcomes(entries.size());
  std::vector<std::vector<std::string>> commands(entries.size());
  std::atomic<std::size_t> next{0};
  std::mutex output_mutex;
  std::size_t started = 0, finished = 0;
  // The ETA: the wall time of the entries done, per second of their weight, times the weight left.
  double weight_left = 0, weight_done = 0, wall_done = 0;
  for (const SuiteEntry& entry : entries) weight_left += shard_weight_seconds(entry);
  const auto suite_start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (std::size_t index = next++; index < entries.size(); index = next++) {
      const SuiteEntry& entry = entries[index];
      {
        std::lock_guard lock(output_mutex);
        ++started;
        out << fmt::format("[{}/{}] run  {} (time limit {}){}\n", started, entries.size(), entry.id, entry.time_limit,
                           wall_done > 0
                               ? fmt::format(", about {} left in the suite",
                                             format_duration(weight_left * wall_done / weight_done / parallel))
                               : "");
        out.flush();
      }
      const fs::path entry_store = suite_directory / "entries" / entry.id;
      commands[index] = run_arguments(entry, entry_store);
      try {
        outcomes[index] = run_entry(entry, harness_executable, entry_store, commands[index]);
      } catch (const std::exception& error) {
        outcomes[index].verdict = "harness-failed";
        outcomes[index].message = fmt::format("entry {}: {}", entry.id, error.what());
      }
      const EntryOutcome& outcome = outcomes[index];
      std::lock_guard lock(output_mutex);
      ++finished;
      const double weight = shard_weight_seconds(entry);
      weight_left -= weight;
      weight_done += weight;
      wall_done += outcome.wall_seconds;
      // A miss of an entry with expect_on_at_least is judged once its whole seed group ran.
      const bool decided_later = !outcome.passed && entry.expect_on_at_least && !is_harness_failure(outcome.verdict);
      out << fmt::format(
          "[{}/{}] {} {}: {} (expected {}), {:.1f} s{}{}{}{}\n", finished, entries.size(),
          outcome.passed  ? "PASS"
          : decided_later ? "MISS"
                          : "FAIL",
          entry.id, outcome.verdict, entry.expect, outcome.wall_seconds,
          outcome.detection_seconds ? fmt::format(", detected at {:.2f} s", *outcome.detection_seconds) : "",
          outcome.online_detection_seconds
              ? fmt::format(", found online at {:.2f} s", *outcome.online_detection_seconds)
              : "",
          outcome.passed || outcome.message.empty() ? "" : "; " + outcome.message,
          finished < entries.size() && weight_done > 0
              ? fmt::format("; ETA {}", format_duration(weight_left * wall_done / weight_done / parallel))
              : "");
      out.flush();
    }
  };
  std::vector<std::thread> workers;
  for (int worker_index = 1; worker_index < parallel; ++worker_index) workers.emplace_back(worker);
  worker();
  for (std::thread& thread : workers) thread.join();

  json summary{{"file", options.file.string()},
               {"parallel", parallel},
               {"filter", options.filter},
               {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - suite_start).count()}};
  if (shard) {
    json suite_ids = json::array();
    for (const SuiteEntry& entry : suite_entries) suite_ids.push_back(entry.id);
    summary["shard"] = {{"index", shard->index}, {"count", shard->count}, {"suite_entries", suite_ids}};
  }
  return finish_suite(options.store, suite.name, suite_directory, entries, outcomes, commands, std::move(summary), out,
                      errors);
}

CLI::App* add_suite_command(CLI::App& app, SuiteCommandOptions& suite) {
  CLI::App* suite_app = app.add_subcommand(
      "suite",
      "Run a suite file's matrix of `harness run` entries; exit 1 if any verdict differs from its `expect`, "
      "3 on a harness failure or a bad suite file (docs/suites.md)");
  // Not required by CLI11: `harness suite merge` has none (run_suite_command checks).
  suite_app->add_option("file", suite.file, "Suite file (TOML), e.g. suites/smoke.toml");
  suite_app->add_option("--store", suite.store, "Store directory; the suite goes to STORE/<suite>/<timestamp>/")
      ->capture_default_str();
  suite_app
      ->add_option("--parallel", suite.parallel,
                   "Entries run at once (default: the file's `parallel`, else 1); each entry is a whole cluster")
      ->check(CLI::PositiveNumber);
  suite_app->add_option("--filter", suite.filter, "Run only entries whose id contains this text");
  suite_app->add_option("--shard", suite.shard,
                        "K/N: run only the K-th of N disjoint shards (seed groups whole, balanced by time limit); "
                        "combine the shards' stores with `harness suite merge`");
  suite_app
      ->add_option("--run-arg", suite.run_arguments,
                   "Append this argument to every entry's `harness run` (repeatable), e.g. "
                   "--run-arg=--check-online")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  suite_app->add_flag("--list", suite.list, "Print the expanded entries and their `harness run` commands, run nothing");
  return suite_app;
}

}  // namespace chaosbench::harness
