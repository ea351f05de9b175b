// `harness check --checker NAME` end to end: several checkers on one history,
// each verdict in results.json under files[].checkers.<name>; bad names rejected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"

namespace chaosbench::harness {
namespace {

const std::string kHarnessBinary = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness";

control::CommandResult run_harness_with(std::vector<std::string> arguments) {
  control::LocalProcessSpec spec;
  spec.argv = {kHarnessBinary};
  spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
  return control::run_local(spec, std::chrono::seconds(120), "localhost");
}

std::filesystem::path scratch(const std::string& name) {
  auto directory = std::filesystem::temp_directory_path() / ("chaosbench-checkers-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  return directory / name;
}

TEST(HarnessCheckCheckers, ElleOnEdnListAppendWithResultsJson) {
  auto history = scratch("append.edn");
  std::ofstream(history) << R"([{:type :invoke, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 0}
{:type :ok, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 0}
{:type :invoke, :f :txn, :value [[:r 1 nil] [:r 2 nil]], :process 1}
{:type :ok, :f :txn, :value [[:r 1 []] [:r 2 [1]]], :process 1}
{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 2}
{:type :ok, :f :txn, :value [[:r 1 [1]]], :process 2}])";
  auto output = scratch("results.json");
  auto result = run_harness_with({"check", history.string(), "--checker", "elle-list-append", "-o", output.string()});
  EXPECT_EQ(result.status.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("elle-list-append: invalid: not serializable: G-single"), std::string::npos) << result.out;
  nlohmann::json json = nlohmann::json::parse(std::ifstream(output));
  EXPECT_EQ(json["files"][0]["checkers"]["elle-list-append"]["anomaly_counts"]["G-single"], 1);
  EXPECT_EQ(json["files"][0]["verdict"], "invalid");

  auto weaker = run_harness_with(
      {"check", history.string(), "--checker", "elle-list-append", "--consistency-model", "read-committed"});
  EXPECT_EQ(weaker.status.exit_code, 0) << weaker.out << weaker.err;
}

TEST(HarnessCheckCheckers, SeveralCheckersOnOneRegisterHistory) {
  auto history = scratch("register.jsonl");
  std::ofstream(history) << R"({"index":0,"type":"invoke","process":0,"f":"write","value":1,"time":0}
{"index":1,"type":"ok","process":0,"f":"write","value":1,"time":1}
{"index":2,"type":"invoke","process":1,"f":"read","value":null,"time":2}
{"index":3,"type":"ok","process":1,"f":"read","value":null,"time":3}
)";
  auto output = scratch("results2.json");
  auto result = run_harness_with({"check", history.string(), "--checker", "linearizable", "--checker", "sequential",
                                  "--checker", "session", "-o", output.string()});
  EXPECT_EQ(result.status.exit_code, 1) << result.out << result.err;  // a stale read: not linearizable
  nlohmann::json json = nlohmann::json::parse(std::ifstream(output));
  const auto& checkers = json["files"][0]["checkers"];
  EXPECT_EQ(checkers["linearizable"]["verdict"], "invalid");
  EXPECT_EQ(checkers["sequential"]["verdict"], "valid");
  EXPECT_EQ(checkers["session"]["verdict"], "valid");
}

TEST(HarnessCheckCheckers, SetLinearizableTurnsAStaleReadIntoInvalid) {
  auto history = scratch("set.jsonl");
  std::ofstream(history) << R"({"index":0,"type":"invoke","process":0,"f":"add","value":1,"time":0}
{"index":1,"type":"ok","process":0,"f":"add","value":1,"time":1}
{"index":2,"type":"invoke","process":1,"f":"read","value":null,"time":2}
{"index":3,"type":"ok","process":1,"f":"read","value":[],"time":3}
{"index":4,"type":"invoke","process":1,"f":"read","value":null,"time":4}
{"index":5,"type":"ok","process":1,"f":"read","value":[1],"time":5}
)";
  auto output = scratch("results3.json");
  auto result = run_harness_with(
      {"check", history.string(), "--checker", "set", "--checker", "set-linearizable", "-o", output.string()});
  EXPECT_EQ(result.status.exit_code, 1) << result.out << result.err;
  nlohmann::json json = nlohmann::json::parse(std::ifstream(output));
  const auto& checkers = json["files"][0]["checkers"];
  EXPECT_EQ(checkers["set"]["verdict"], "valid") << "set-full: a stale read alone is allowed";
  EXPECT_EQ(checkers["set-linearizable"]["verdict"], "invalid");
}

TEST(HarnessCheckCheckers, UnknownCheckerOrModelIsRejected) {
  auto history = scratch("empty.jsonl");
  std::ofstream(history) << "";
  auto bad_checker = run_harness_with({"check", history.string(), "--checker", "bogus"});
  EXPECT_EQ(bad_checker.status.exit_code, 3);
  EXPECT_NE(bad_checker.err.find("--checker 'bogus'"), std::string::npos) << bad_checker.err;
  auto bad_model =
      run_harness_with({"check", history.string(), "--checker", "elle-list-append", "--consistency-model", "x"});
  EXPECT_EQ(bad_model.status.exit_code, 3);
  EXPECT_NE(bad_model.err.find("--consistency-model 'x'"), std::string::npos) << bad_model.err;
}

}  // namespace
}  // namespace chaosbench::harness
