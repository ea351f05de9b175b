// Suite shards without clusters: every entry lands in exactly one shard, seed groups stay
// whole, loads are balanced and the assignment is stable; `harness suite merge` combines
// shard stores (written here as a shard would write them) into the whole suite's verdict
// and exit code, and refuses a missing, duplicated or foreign shard with exit 3.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/suite_shards.h"

namespace fs = std::filesystem;
namespace harness = chaosbench::harness;
using nlohmann::json;

namespace {

struct TemporaryDirectory {
  TemporaryDirectory() {
    std::string pattern = (fs::temp_directory_path() / "cb-shards-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored_because_best_effort;
    fs::remove_all(path, ignored_because_best_effort);
  }
  fs::path path;
};

const char* kSuite = R"(
name = "sharded"
[defaults]
time_limit = "10s"
[[entry]]
name = "long"
time_limit = "60s"
[[entry]]
name = "bug"
expect = "invalid"
seeds = [1, 2, 3]
expect_on_at_least = 2
[[entry]]
name = "matrix"
target = ["raft", "zab", "quorum"]
nemesis = ["partition", "kill"]
)";

fs::path write_suite(const fs::path& directory) {
  std::ofstream(directory / "suite.toml") << kSuite;
  return directory / "suite.toml";
}

// What `harness suite FILE --shard K/N` leaves: STORE/sharded/<timestamp>/ with suite.toml,
// suite.json and one entries/<id>/ per entry; `verdicts` gives each entry's verdict.
fs::path write_shard_store(const fs::path& store, const fs::path& suite_file, int index, int count,
                           const std::map<std::string, std::string>& verdicts) {
  const harness::Suite suite = harness::load_suite(suite_file);
  const std::vector<int> shards = harness::assign_shards(suite.entries, count);
  const fs::path directory = store / "sharded" / fmt::format("2026120{}T000000", index);
  fs::create_directories(directory / "entries");
  fs::copy_file(suite_file, directory / "suite.toml");
  fs::create_directory_symlink(directory.filename(), store / "sharded" / "latest");
  json ids = json::array(), entries = json::array();
  for (std::size_t position = 0; position < suite.entries.size(); ++position) {
    const harness::SuiteEntry& entry = suite.entries[position];
    ids.push_back(entry.id);
    if (shards[position] != index) continue;
    const std::string verdict = verdicts.count(entry.id) ? verdicts.at(entry.id) : entry.expect;
    fs::create_directories(directory / "entries" / entry.id / "run");
    std::ofstream(directory / "entries" / entry.id / "run" / "results.json") << json{{"verdict", verdict}}.dump();
    entries.push_back({{"id", entry.id},
                       {"verdict", verdict},
                       {"expect", entry.expect},
                       {"passed", verdict == entry.expect},
                       {"exit_code", verdict == "valid"     ? 0
                                     : verdict == "invalid" ? 1
                                                            : 3},
                       {"wall_seconds", 12.5},
                       {"detection_seconds", nullptr},
                       {"message", ""},
                       {"command", json::array({"run", "--seed=" + std::to_string(entry.seed)})},
                       {"run_directory", "entries/" + entry.id + "/run"}});
  }
  const json summary{{"suite", "sharded"},
                     {"file", suite_file.string()},
                     {"parallel", 1},
                     {"filter", ""},
                     {"wall_seconds", 100.0 * index},
                     {"started", directory.filename().string()},
                     {"shard", {{"index", index}, {"count", count}, {"suite_entries", ids}}},
                     {"entries", entries}};
  std::ofstream(directory / "suite.json") << summary.dump();
  return store;
}

struct MergeResult {
  int exit_code;
  std::string out, errors;
  json summary;
};

MergeResult merge(const std::vector<fs::path>& stores, const fs::path& output) {
  harness::SuiteMergeOptions options;
  options.stores = stores;
  options.store = output.string();
  std::ostringstream out, errors;
  MergeResult result{harness::run_suite_merge_command(options, out, errors), out.str(), errors.str(), nullptr};
  if (fs::exists(output / "sharded" / "latest" / "suite.json")) {
    std::ifstream file(output / "sharded" / "latest" / "suite.json");
    result.summary = json::parse(file);
  }
  return result;
}

}  // namespace

TEST(SuiteShards, EveryEntryInExactlyOneShardWithSeedGroupsWholeAndLoadsBalanced) {
  TemporaryDirectory directory;
  const harness::Suite suite = harness::load_suite(write_suite(directory.path));
  ASSERT_EQ(suite.entries.size(), 10u);
  for (int count = 1; count <= 12; ++count) {
    const std::vector<int> shards = harness::assign_shards(suite.entries, count);
    ASSERT_EQ(shards.size(), suite.entries.size());
    EXPECT_EQ(shards, harness::assign_shards(suite.entries, count)) << "the assignment must be stable";
    std::map<std::string, std::set<int>> shards_of_group;
    std::vector<double> load(count, 0);
    for (std::size_t index = 0; index < shards.size(); ++index) {
      ASSERT_GE(shards[index], 1);
      ASSERT_LE(shards[index], count);
      shards_of_group[suite.entries[index].seed_group].insert(shards[index]);
      load[shards[index] - 1] += harness::shard_weight_seconds(suite.entries[index]);
    }
    for (const auto& [group, in] : shards_of_group) EXPECT_EQ(in.size(), 1u) << group << " split over shards";
    // Greedy largest-first: the heaviest shard exceeds the lightest by at most the largest group.
    const double largest_group = 3 * (10 + 10.0);  // bug's three seeds
    EXPECT_LE(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()),
              std::max(largest_group, 60 + 10.0))
        << count << " shards";
  }
  // 2 shards: "long" (70 s) and the bug group (60 s) go to different shards.
  const std::vector<int> two = harness::assign_shards(suite.entries, 2);
  EXPECT_NE(two[0], two[1]);
}

TEST(SuiteShards, ShardArgumentIsKOfN) {
  EXPECT_EQ(harness::parse_shard("2/4").index, 2);
  EXPECT_EQ(harness::parse_shard("2/4").count, 4);
  for (const char* bad : {"", "2", "0/2", "3/2", "a/b", "1/0", "1/2/3", "-1/2", "1 /2"}) {
    EXPECT_THROW(harness::parse_shard(bad), std::invalid_argument) << bad;
  }
}

TEST(SuiteShards, MergeGivesTheWholeSuitesVerdictsAndExitCode) {
  TemporaryDirectory directory;
  const fs::path suite_file = write_suite(directory.path);
  const fs::path one = write_shard_store(directory.path / "one", suite_file, 1, 2, {});
  const fs::path two = write_shard_store(directory.path / "two", suite_file, 2, 2, {});
  const MergeResult passed = merge({two, one}, directory.path / "merged");
  ASSERT_EQ(passed.exit_code, 0) << passed.errors << passed.out;
  ASSERT_EQ(passed.summary["entries"].size(), 10u);
  const harness::Suite suite = harness::load_suite(suite_file);
  for (std::size_t index = 0; index < suite.entries.size(); ++index) {
    const json& entry = passed.summary["entries"][index];
    EXPECT_EQ(entry["id"], suite.entries[index].id) << "merged entries keep the suite's order";
    EXPECT_TRUE(entry["passed"].get<bool>());
    // The run directories were copied with the entries.
    EXPECT_TRUE(fs::exists(directory.path / "merged" / "sharded" / "latest" /
                           entry["run_directory"].get<std::string>() / "results.json"))
        << entry.dump();
  }
  EXPECT_EQ(passed.summary["wall_seconds"], 200.0);  // the slowest shard
  EXPECT_EQ(passed.summary["merged_shards"].size(), 2u);
  EXPECT_TRUE(fs::exists(directory.path / "merged" / "sharded" / "latest" / "junit.xml"));
  EXPECT_TRUE(fs::exists(directory.path / "merged" / "sharded" / "latest" / "index.html"));

  // One seed of the bug group missed (tolerated: 2 of 3 still found it), one entry of
  // the other shard gave the wrong verdict: exit 1, as the whole suite would.
  const std::vector<int> shards = harness::assign_shards(suite.entries, 2);
  std::map<std::string, std::string> verdicts_one, verdicts_two;
  (shards[1] == 1 ? verdicts_one : verdicts_two)["bug-s1"] = "valid";
  (shards[5] == 1 ? verdicts_one : verdicts_two)[suite.entries[5].id] = "invalid";
  TemporaryDirectory second;
  const fs::path bad_one = write_shard_store(second.path / "one", suite_file, 1, 2, verdicts_one);
  const fs::path bad_two = write_shard_store(second.path / "two", suite_file, 2, 2, verdicts_two);
  const MergeResult failed = merge({bad_one, bad_two}, second.path / "merged");
  EXPECT_EQ(failed.exit_code, 1) << failed.errors;
  EXPECT_EQ(failed.summary["mismatched"], 1);
  EXPECT_EQ(failed.summary["tolerated"], 1);
  EXPECT_EQ(failed.summary["entries"][1]["message"],
            "valid on this seed; invalid on 2 of 3 seed(s), at least 2 required (tolerated)");
  EXPECT_EQ(failed.summary["entries"][5]["message"], "expected valid, got invalid");
}

TEST(SuiteShards, MergeRefusesAMissingDuplicatedOrUnshardedStoreWithExitThree) {
  TemporaryDirectory directory;
  const fs::path suite_file = write_suite(directory.path);
  const fs::path one = write_shard_store(directory.path / "one", suite_file, 1, 3, {});
  const fs::path two = write_shard_store(directory.path / "two", suite_file, 2, 3, {});
  const fs::path output = directory.path / "merged";

  const MergeResult missing = merge({one, two}, output);
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.errors, "harness suite merge: suite sharded: shard 3 of 3 missing (got 2 stores)\n");
  const MergeResult twice = merge({one, two, one}, output);
  EXPECT_EQ(twice.exit_code, 3);
  EXPECT_NE(twice.errors.find("shard 1/3 given twice"), std::string::npos) << twice.errors;
  const MergeResult nothing = merge({directory.path / "absent"}, output);
  EXPECT_EQ(nothing.exit_code, 3);
  EXPECT_EQ(nothing.errors, "harness suite merge: " + (directory.path / "absent").string() + ": no such directory\n");

  // A store of an unsharded run: its suite.json has no "shard".
  const fs::path whole = directory.path / "whole" / "sharded" / "20261201T000000";
  fs::create_directories(whole);
  std::ofstream(whole / "suite.json") << R"({"suite":"sharded","entries":[]})";
  const MergeResult unsharded = merge({whole}, output);
  EXPECT_EQ(unsharded.exit_code, 3);
  EXPECT_NE(unsharded.errors.find("not a shard's store"), std::string::npos) << unsharded.errors;
  // Malformed suite.json: one line naming the file.
  std::ofstream(whole / "suite.json") << "{\"suite\": ";
  const MergeResult malformed = merge({whole}, output);
  EXPECT_EQ(malformed.exit_code, 3);
  EXPECT_EQ(malformed.errors.rfind("harness suite merge: " + (whole / "suite.json").string() + ": ", 0), 0u)
      << malformed.errors;
  EXPECT_EQ(std::count(malformed.errors.begin(), malformed.errors.end(), '\n'), 1);
  EXPECT_FALSE(fs::exists(output)) << "nothing is written when the shards do not add up";
}
