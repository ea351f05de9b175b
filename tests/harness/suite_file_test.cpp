// harness suite, the parts that need no cluster: suite files expand into the
// right matrix, bad files fail with "FILE:LINE: key 'K'" (and exit 3 from the
// command line), and detection times come from results.json + history.jsonl.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/suite_command.h"

namespace fs = std::filesystem;
namespace harness = chaosbench::harness;
using namespace std::chrono_literals;

namespace {

struct TemporaryDirectory {
  TemporaryDirectory() {
    std::string pattern = (fs::temp_directory_path() / "cb-suite-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored_because_best_effort;
    fs::remove_all(path, ignored_because_best_effort);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
  fs::path path;
};

std::string load_error(const std::string& text) {
  TemporaryDirectory directory;
  const fs::path file = directory.write("bad.toml", text);
  try {
    harness::load_suite(file);
  } catch (const std::invalid_argument& error) {
    std::string message = error.what();
    const std::string prefix = file.string() + ":";
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    return message.substr(prefix.size());
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return {};
}

}  // namespace

TEST(SuiteFile, MatrixExpandsTargetsWorkloadsNemesesAndSeedsWithDefaults) {
  TemporaryDirectory directory;
  const fs::path file = directory.write("s.toml", R"(
name = "nightly-x"
parallel = 2
[defaults]
time_limit = "30s"
nodes = 3
args = ["--rate=50"]

[[entry]]
name = "proto"
target = ["raft", "zab"]
workload = "kv"
nemesis = ["partition", "kill,pause"]
seeds = [1, 2, 3]

[[entry]]
name = "bug"
nemesis = "partition"
seed = 9
expect = "invalid"
time_limit = 10
timeout = "1m"
args = ["--target-arg=--bug=stale-follower-read"]
)");
  const harness::Suite suite = harness::load_suite(file);
  EXPECT_EQ(suite.name, "nightly-x");
  EXPECT_EQ(suite.parallel, 2);
  ASSERT_EQ(suite.entries.size(), 2u * 2 * 3 + 1);
  EXPECT_EQ(suite.entries[0].id, "proto-raft-partition-s1");
  EXPECT_EQ(suite.entries[5].id, "proto-raft-kill+pause-s3");
  EXPECT_EQ(suite.entries[6].target, "zab");
  EXPECT_EQ(suite.entries[0].expect, "valid");
  EXPECT_EQ(suite.entries[0].timeout, 2 * 30s + 4min);  // default: twice the time limit plus four minutes
  const harness::SuiteEntry& bug = suite.entries.back();
  EXPECT_EQ(bug.id, "bug-s9");
  EXPECT_EQ(bug.target, "raft");
  EXPECT_EQ(bug.expect, "invalid");
  EXPECT_EQ(bug.timeout, 60s);
  const auto arguments = harness::run_arguments(bug, "/s/entries/bug-s9");
  const std::vector<std::string> expected = {"run",
                                             "--target=raft",
                                             "--workload=register",
                                             "--nemesis=partition",
                                             "--seed=9",
                                             "--time-limit=10",
                                             "--store=/s/entries/bug-s9",
                                             "--test-name=bug-s9",
                                             "--nodes=3",
                                             "--target-arg=--bug=stale-follower-read"};
  EXPECT_EQ(arguments, expected);
}

TEST(SuiteFile, BadFilesNameTheLineAndTheKey) {
  EXPECT_EQ(load_error("name = \"x\"\n"), "1: key 'entry': the suite has no [[entry]]");
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\nexpect = \"maybe\"\n"),
            "3: key 'expect': expected \"valid\" or \"invalid\"");
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\n\nseeds = []\n"),
            "4: key 'seeds': expected a non-empty array of integers");
  EXPECT_NE(load_error("[[entry]]\nname = \"a\"\ntimelimit = \"3s\"\n").find("3: key 'timelimit': unknown entry key"),
            std::string::npos);
  EXPECT_NE(load_error("[defaults]\ntime_limit = \"soon\"\n[[entry]]\nname = \"a\"\n").find("2: key 'time_limit': "),
            std::string::npos);
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\n[[entry]]\nname = \"a\"\n"),
            "3: key 'name': duplicate entry id 'a-s1'");
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\nnodes = 0\n"), "3: key 'nodes': must be at least 1");
  EXPECT_EQ(load_error("[[entry]]\ntarget = \"raft\"\n"), "1: key 'name': every [[entry]] needs a name");
  EXPECT_NE(load_error("[[entry]]\nname = \"a\nx").find("2: "), std::string::npos);  // TOML syntax error
  EXPECT_EQ(load_error("paralel = 2\n"), "1: key 'paralel': unknown top-level key (name, parallel, defaults, entry)");
}

TEST(SuiteFile, ExpectOnAtLeastOnlyForPlantedBugsAndAtMostTheSeeds) {
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\nseeds = [1, 2]\nexpect_on_at_least = 1\n"),
            "4: key 'expect_on_at_least': only with expect = \"invalid\": a correct configuration must be valid on "
            "every seed");
  EXPECT_EQ(load_error("[[entry]]\nname = \"a\"\nexpect = \"invalid\"\nseeds = [1, 2]\nexpect_on_at_least = 3\n"),
            "5: key 'expect_on_at_least': 3 is more than the entry's 2 seed(s)");
  EXPECT_NE(load_error("[defaults]\nexpect_on_at_least = 1\n[[entry]]\nname = \"a\"\n")
                .find("2: key 'expect_on_at_least': unknown [defaults] key"),
            std::string::npos);
}

// Two seed groups of one [[entry]] (two nemeses), 3 seeds each, at least 2 must find the bug.
TEST(SuiteFile, SeedToleranceIsDecidedPerGroup) {
  TemporaryDirectory directory;
  const fs::path file = directory.write("zoo.toml", R"(
[[entry]]
name = "bug"
expect = "invalid"
nemesis = ["partition", "kill"]
seeds = [1, 2, 3]
expect_on_at_least = 2
[[entry]]
name = "strict"
expect = "invalid"
)");
  const harness::Suite suite = harness::load_suite(file);
  ASSERT_EQ(suite.entries.size(), 7u);
  EXPECT_EQ(suite.entries[0].seed_group, "bug-partition");
  EXPECT_EQ(suite.entries[0].seeds_in_group, 3);
  EXPECT_EQ(suite.entries[3].seed_group, "bug-kill");
  EXPECT_FALSE(suite.entries[6].expect_on_at_least.has_value());

  // partition: invalid, valid, invalid -> 2 of 3, the miss is tolerated.
  // kill: invalid, valid, unknown -> 1 of 3, both misses fail.  strict: valid -> fails as before.
  const std::vector<std::string> verdicts{"invalid", "valid", "invalid", "invalid", "valid", "unknown", "valid"};
  std::vector<harness::EntryOutcome> outcomes(verdicts.size());
  for (std::size_t index = 0; index < verdicts.size(); ++index) {
    outcomes[index].verdict = verdicts[index];
    outcomes[index].passed = verdicts[index] == "invalid";
  }
  const auto lines = harness::apply_seed_tolerance(suite.entries, outcomes);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "FAIL bug-kill: invalid on 1 of 3 seed(s), at least 2 required");
  EXPECT_EQ(lines[1], "PASS bug-partition: invalid on 2 of 3 seed(s), at least 2 required");
  EXPECT_TRUE(outcomes[1].passed);
  EXPECT_TRUE(outcomes[1].tolerated);
  EXPECT_EQ(outcomes[1].message, "valid on this seed; invalid on 2 of 3 seed(s), at least 2 required (tolerated)");
  EXPECT_FALSE(outcomes[4].passed);
  EXPECT_FALSE(outcomes[5].passed);
  EXPECT_FALSE(outcomes[5].tolerated);
  EXPECT_FALSE(outcomes[6].passed);
  EXPECT_TRUE(outcomes[0].passed);
  EXPECT_FALSE(outcomes[0].tolerated);

  // --filter picked one seed of a group: the requirement shrinks to ceil(2 * 1 / 3) = 1.
  const std::vector<harness::SuiteEntry> one{suite.entries[1]};
  std::vector<harness::EntryOutcome> one_outcome(1);
  one_outcome[0].verdict = "valid";
  EXPECT_EQ(harness::apply_seed_tolerance(one, one_outcome).front(),
            "FAIL bug-partition: invalid on 0 of 1 seed(s), at least 1 required");
  // A harness failure is never tolerated.
  std::vector<harness::EntryOutcome> failed(3);
  failed[0].verdict = failed[2].verdict = "invalid";
  failed[1].verdict = "timed-out";
  const std::vector<harness::SuiteEntry> group(suite.entries.begin(), suite.entries.begin() + 3);
  harness::apply_seed_tolerance(group, failed);
  EXPECT_FALSE(failed[1].passed);
}

TEST(SuiteFile, CommandLineRejectsABadFileWithOneLineAndExitThree) {
  TemporaryDirectory directory;
  const fs::path file = directory.write("bad.toml", "[[entry]]\nname = \"a\"\nnemesis = 3\n");
  chaosbench::harness::control::LocalProcessSpec spec;
  spec.argv = {std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness", "suite", file.string(), "--store",
               (directory.path / "store").string()};
  const auto result = chaosbench::harness::control::run_local(spec, 20s, "localhost");
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_EQ(result.err, "harness suite: " + file.string() +
                            ":3: key 'nemesis': expected a string or a non-empty array of strings\n");
  EXPECT_FALSE(fs::exists(directory.path / "store"));
}

TEST(SuiteFile, DetectionTimeIsTheCompletionOfTheBlockingOperation) {
  TemporaryDirectory directory;
  directory.write("results.json", R"({"verdict":"invalid","checker":{"linearizable":{"verdict":"invalid","anomalies":[
    {"key":"k1","verdict":"valid"},
    {"key":"k2","verdict":"invalid","blocking_index":3,"concurrent_indices":[2]}]}}})");
  directory.write("history.jsonl",
                  R"({"index":0,"type":"invoke","process":1,"f":"write","key":"k2","value":1,"time":1000000000}
{"index":1,"type":"ok","process":1,"f":"write","key":"k2","value":1,"time":1500000000}
{"index":2,"type":"invoke","process":2,"f":"write","key":"k2","value":2,"time":2000000000}
{"index":3,"type":"invoke","process":1,"f":"read","key":"k2","value":null,"time":2100000000}
{"index":4,"type":"ok","process":2,"f":"write","key":"k2","value":2,"time":2200000000}
{"index":5,"type":"ok","process":1,"f":"read","key":"k2","value":1,"time":2500000000}
)");
  harness::EntryOutcome outcome;
  harness::read_run_outcome(directory.path, outcome);
  EXPECT_EQ(outcome.verdict, "invalid");
  ASSERT_TRUE(outcome.detection_seconds.has_value());
  EXPECT_DOUBLE_EQ(*outcome.detection_seconds, 2.5);
  ASSERT_TRUE(outcome.first_evidence_seconds.has_value());
  EXPECT_DOUBLE_EQ(*outcome.first_evidence_seconds, 2.0);

  harness::EntryOutcome valid;
  directory.write("results.json",
                  R"({"verdict":"valid","checker":{"linearizable":{"verdict":"valid","anomalies":[]}}})");
  harness::read_run_outcome(directory.path, valid);
  EXPECT_EQ(valid.verdict, "valid");
  EXPECT_FALSE(valid.detection_seconds.has_value());
}
