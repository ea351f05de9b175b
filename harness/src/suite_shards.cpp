#include "chaosbench/harness/suite_shards.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"

namespace chaosbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What an entry costs beyond its time limit: sandbox, cluster start, final reads, check, report.
constexpr double kEntryOverheadSeconds = 10;

std::optional<int> parse_positive(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

}  // namespace

SuiteShard parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto index =
      slash == std::string::npos ? std::nullopt : parse_positive(std::string_view(text).substr(0, slash));
  const auto count =
      slash == std::string::npos ? std::nullopt : parse_positive(std::string_view(text).substr(slash + 1));
  if (!index || !count) throw std::invalid_argument(fmt::format("--shard '{}': expected K/N, e.g. 2/4", text));
  if (*index > *count) {
    throw std::invalid_argument(fmt::format("--shard '{}': K must be between 1 and N ({})", text, *count));
  }
  return {*index, *count};
}

double shard_weight_seconds(const SuiteEntry& entry) {
  return static_cast<double>(parse_duration(entry.time_limit).count()) / 1000.0 + kEntryOverheadSeconds;
}

std::vector<int> assign_shards(const std::vector<SuiteEntry>& entries, int count) {
  if (count < 1) throw std::invalid_argument("assign_shards: the shard count must be at least 1");
  // Seed groups in order of first appearance, with their summed weight.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<std::size_t>> members;
  std::map<std::string, double> weight;
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const std::string& group = entries[index].seed_group.empty() ? entries[index].id : entries[index].seed_group;
    if (!members.count(group)) group_order.push_back(group);
    members[group].push_back(index);
    weight[group] += shard_weight_seconds(entries[index]);
  }
  // Largest first; equal weights keep the suite's order (stable sort), so the result
  // depends on nothing but the entries.
  std::stable_sort(group_order.begin(), group_order.end(),
                   [&](const std::string& left, const std::string& right) { return weight[left] > weight[right]; });
  std::vector<double> load(static_cast<std::size_t>(count), 0.0);
  std::vector<int> shard_of(entries.size(), 0);
  for (const std::string& group : group_order) {
    const auto lightest = std::min_element(load.begin(), load.end()) - load.begin();
    load[static_cast<std::size_t>(lightest)] += weight[group];
    for (std::size_t index : members[group]) shard_of[index] = static_cast<int>(lightest) + 1;
  }
  return shard_of;
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::invalid_argument(fmt::format("{}: cannot be read", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A shard's suite directory: the given one, its latest/, or the one <suite>/latest/ below a store.
fs::path find_suite_directory(const fs::path& given) {
  if (!fs::is_directory(given)) throw std::invalid_argument(fmt::format("{}: no such directory", given.string()));
  if (fs::exists(given / "suite.json")) return fs::canonical(given);
  if (fs::exists(given / "latest" / "suite.json")) return fs::canonical(given / "latest");
  std::vector<fs::path> found;
  for (const fs::directory_entry& child : fs::directory_iterator(given)) {
    if (child.is_directory() && fs::exists(child.path() / "latest" / "suite.json")) found.push_back(child.path());
  }
  if (found.size() == 1) return fs::canonical(found.front() / "latest");
  if (found.size() > 1) {
    throw std::invalid_argument(
        fmt::format("{}: holds {} suites; name one suite's directory (STORE/<suite>)", given.string(), found.size()));
  }
  throw std::invalid_argument(fmt::format(
      "{}: no suite.json here, in latest/, or in a <suite>/latest/ below it (not a suite store)", given.string()));
}

// Copies a run's files: directories, regular files and symlinks (as links); sockets and
// FIFOs a node left behind are not files of the record and are skipped.
void copy_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const fs::directory_entry& item : fs::directory_iterator(from)) {
    const fs::path target = to / item.path().filename();
    if (item.is_symlink()) {
      fs::copy_symlink(item.path(), target);
    } else if (item.is_directory()) {
      copy_tree(item.path(), target);
    } else if (item.is_regular_file()) {
      fs::copy_file(item.path(), target);
    }
  }
}

const json kNoEntries = json::array();

struct ShardStore {
  fs::path given, directory;
  json summary;
  int index = 0;
};

std::optional<double> optional_number(const json& document, const char* key) {
  if (!document.contains(key) || !document[key].is_number()) return std::nullopt;
  return document[key].get<double>();
}

int merge(const SuiteMergeOptions& options, std::ostream& out, std::ostream& errors) {
  std::vector<ShardStore> shards;
  for (const fs::path& given : options.stores) {
    ShardStore shard;
    shard.given = given;
    shard.directory = find_suite_directory(given);
    try {
      shard.summary = json::parse(read_file(shard.directory / "suite.json"));
    } catch (const json::exception& error) {
      throw std::invalid_argument(fmt::format("{}: {}", (shard.directory / "suite.json").string(), error.what()));
    }
    const json& description = shard.summary.value("shard", json());
    if (!description.is_object() || !description.value("index", json()).is_number_integer() ||
        !description.value("count", json()).is_number_integer() ||
        !description.value("suite_entries", json()).is_array()) {
      throw std::invalid_argument(
          fmt::format("{}: not a shard's store (its suite.json has no 'shard'; run the suite with --shard K/N)",
                      (shard.directory / "suite.json").string()));
    }
    shard.index = description["index"].get<int>();
    shards.push_back(std::move(shard));
  }
  const ShardStore& first = shards.front();
  const int count = first.summary["shard"]["count"].get<int>();
  const std::string suite_name = first.summary.value("suite", "");
  const std::string filter = first.summary.value("filter", "");
  const std::string suite_text = read_file(first.directory / "suite.toml");
  std::map<int, const ShardStore*> by_index;
  for (const ShardStore& shard : shards) {
    const std::string where = shard.directory.string();
    if (shard.summary.value("suite", "") != suite_name) {
      throw std::invalid_argument(fmt::format("{}: suite '{}', but {} holds suite '{}'", where,
                                              shard.summary.value("suite", ""), first.directory.string(), suite_name));
    }
    if (shard.summary["shard"]["count"].get<int>() != count) {
      throw std::invalid_argument(fmt::format("{}: shard {}/{}, but {} is one of {} shards", where, shard.index,
                                              shard.summary["shard"]["count"].get<int>(), first.directory.string(),
                                              count));
    }
    if (read_file(shard.directory / "suite.toml") != suite_text || shard.summary.value("filter", "") != filter ||
        shard.summary["shard"]["suite_entries"] != first.summary["shard"]["suite_entries"]) {
      throw std::invalid_argument(
          fmt::format("{}: ran a different suite file, filter or entry list than {}", where, first.directory.string()));
    }
    if (shard.index < 1 || shard.index > count) {
      throw std::invalid_argument(fmt::format("{}: shard index {} is not between 1 and {}", where, shard.index, count));
    }
    if (!by_index.emplace(shard.index, &shard).second) {
      throw std::invalid_argument(fmt::format("{}: shard {}/{} given twice (also {})", where, shard.index, count,
                                              by_index[shard.index]->directory.string()));
    }
  }
  std::vector<int> missing;
  for (int index = 1; index <= count; ++index) {
    if (!by_index.count(index)) missing.push_back(index);
  }
  if (!missing.empty()) {
    throw std::invalid_argument(fmt::format("suite {}: shard{} {} of {} missing (got {} store{})", suite_name,
                                            missing.size() == 1 ? "" : "s", fmt::join(missing, ", "), count,
                                            shards.size(), shards.size() == 1 ? "" : "s"));
  }

  // The entries as the whole suite expands them (from the suite file the shards ran).
  Suite suite = load_suite(first.directory / "suite.toml");
  suite.name = suite_name;
  const std::vector<SuiteEntry> entries = filter_entries(suite, filter);
  json expected_ids = json::array();
  for (const SuiteEntry& entry : entries) expected_ids.push_back(entry.id);
  if (expected_ids != first.summary["shard"]["suite_entries"]) {
    throw std::invalid_argument(fmt::format(
        "{}: its entry list differs from what this harness expands from its suite.toml (another harness version?)",
        first.directory.string()));
  }
  std::map<std::string, std::pair<const ShardStore*, const json*>> ran;
  for (const auto& [index, shard] : by_index) {
    const json& shard_entries = shard->summary.contains("entries") ? shard->summary.at("entries") : kNoEntries;
    if (!shard_entries.is_array()) {
      throw std::invalid_argument(
          fmt::format("{}: 'entries' is not an array", (shard->directory / "suite.json").string()));
    }
    for (const json& document : shard_entries) {
      if (!document.is_object()) {
        throw std::invalid_argument(
            fmt::format("{}: an entry is not an object", (shard->directory / "suite.json").string()));
      }
      const std::string id = document.value("id", "");
      if (!ran.emplace(id, std::make_pair(shard, &document)).second) {
        throw std::invalid_argument(fmt::format("entry {} ran in two shards ({} and {})", id,
                                                ran[id].first->directory.string(), shard->directory.string()));
      }
    }
  }
  for (const SuiteEntry& entry : entries) {
    if (!ran.count(entry.id)) {
      throw std::invalid_argument(fmt::format("entry {} is in no shard's store (its shard stopped early?)", entry.id));
    }
  }
  if (ran.size() != entries.size())
    throw std::invalid_argument("a shard's store holds entries the suite does not have");

  const fs::path suite_directory = create_suite_directory(options.store, suite_name, first.directory / "suite.toml");
  out << fmt::format("harness suite merge {}: {} shards, {} entries; store {}\n", suite_name, count, entries.size(),
                     suite_directory.string());
  std::vector<EntryOutcome> outcomes(entries.size());
  std::vector<std::vector<std::string>> commands(entries.size());
  for (std::size_t index = 0; index < entries.size(); ++index) {
    const SuiteEntry& entry = entries[index];
    const auto& [shard, document] = ran[entry.id];
    const fs::path entry_directory = shard->directory / "entries" / entry.id;
    if (fs::exists(entry_directory)) copy_tree(entry_directory, suite_directory / "entries" / entry.id);
    EntryOutcome& outcome = outcomes[index];
    outcome.verdict = document->value("verdict", "");
    outcome.exit_code = document->value("exit_code", -1);
    outcome.wall_seconds = document->value("wall_seconds", 0.0);
    outcome.detection_seconds = optional_number(*document, "detection_seconds");
    outcome.first_evidence_seconds = optional_number(*document, "first_evidence_seconds");
    if (document->contains("run_directory")) {
      outcome.run_directory = suite_directory / document->value("run_directory", "");
    }
    outcome.passed = outcome.verdict == entry.expect;
    // Seed tolerance is applied again over the whole suite below.
    const bool harness_failure = outcome.verdict == "harness-failed" || outcome.verdict == "timed-out";
    outcome.message = outcome.passed    ? ""
                      : harness_failure ? document->value("message", "")
                                        : mismatch_message(entry, outcome.verdict);
    for (const json& argument : document->value("command", json::array())) commands[index].push_back(argument);
    out << fmt::format("[{}/{}] {} {}: {} (expected {}), shard {}\n", index + 1, entries.size(),
                       outcome.passed ? "PASS" : "FAIL", entry.id, outcome.verdict, entry.expect, shard->index);
  }
  double wall_seconds = 0;
  json shard_documents = json::array();
  for (const auto& [index, shard] : by_index) {
    wall_seconds = std::max(wall_seconds, shard->summary.value("wall_seconds", 0.0));
    shard_documents.push_back({{"index", index},
                               {"store", shard->given.string()},
                               {"started", shard->summary.value("started", "")},
                               {"wall_seconds", shard->summary.value("wall_seconds", 0.0)},
                               {"entries", shard->summary.value("entries", json::array()).size()}});
  }
  json summary{{"file", first.summary.value("file", "")},
               {"parallel", first.summary.value("parallel", 1)},
               {"filter", filter},
               {"wall_seconds", wall_seconds},
               {"merged_shards", shard_documents}};
  return finish_suite(options.store, suite_name, suite_directory, entries, outcomes, commands, std::move(summary), out,
                      errors);
}

}  // namespace

int run_suite_merge_command(const SuiteMergeOptions& options, std::ostream& out, std::ostream& errors) {
  try {
    return merge(options, out, errors);
  } catch (const std::invalid_argument& error) {
    errors << "harness suite merge: " << error.what() << "\n";
  } catch (const fs::filesystem_error& error) {
    errors << "harness suite merge: " << error.what() << "\n";
  }
  return kExitHarnessFailed;
}

CLI::App* add_suite_merge_command(CLI::App& suite_app, SuiteMergeOptions& options) {
  CLI::App* merge_app = suite_app.add_subcommand(
      "merge",
      "Combine the stores of a suite's shards (harness suite FILE --shard K/N) into one suite.json, junit.xml and "
      "index.html; exit code as if the suite had run whole");
  merge_app
      ->add_option("stores", options.stores,
                   "Each shard's store: its suite directory, STORE/<suite>, or a STORE holding one suite")
      ->required();
  merge_app->add_option("--store", options.store, "Where the merged suite goes: STORE/<suite>/<timestamp>/")
      ->capture_default_str();
  return merge_app;
}

}  // namespace chaosbench::harness
