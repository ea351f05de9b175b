// `harness check` end to end: verdict lines, exit codes 0/1/2/3, one-line errors
// naming file and line, results.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"

namespace chaosbench::harness {
namespace {

const std::string kHarness = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness";
const std::string kData = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/";

control::CommandResult run_harness(std::vector<std::string> arguments) {
  control::LocalProcessSpec spec;
  spec.argv = {kHarness};
  spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
  return control::run_local(spec, std::chrono::seconds(120), "localhost");
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    path_ = std::filesystem::temp_directory_path() /
            ("chaosbench-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

int lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

TEST(HarnessCheck, ValidHistoryExitsZeroWithOneLine) {
  auto result = run_harness({"check", kData + "jepsen/etcd_002.log"});
  EXPECT_EQ(result.status.exit_code, 0) << result.err;
  EXPECT_EQ(lines(result.out), 1) << result.out;
  EXPECT_NE(result.out.find("etcd_002.log: valid"), std::string::npos) << result.out;
}

TEST(HarnessCheck, InvalidHistoryExitsOneWithEvidenceAndResultsJson) {
  TemporaryDirectory directory;
  auto output = directory.path() / "results.json";
  auto result =
      run_harness({"check", "--output", output.string(), kData + "jepsen/etcd_000.log", kData + "kv/c10-ok.txt"});
  EXPECT_EQ(result.status.exit_code, 1) << result.err;
  EXPECT_NE(result.out.find("etcd_000.log: invalid: op 84"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("possible states just before it"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("c10-ok.txt: valid"), std::string::npos) << result.out;
  std::ifstream stream(output);
  auto json = nlohmann::json::parse(stream);
  EXPECT_EQ(json["verdict"], "invalid");
  ASSERT_EQ(json["files"].size(), 2u);
  EXPECT_EQ(json["files"][0]["checkers"]["linearizable"]["anomalies"][0]["blocking_index"], 84);
  EXPECT_EQ(json["files"][1]["model"], "kv");

  auto quiet = run_harness({"check", "--quiet", kData + "jepsen/etcd_000.log"});
  EXPECT_EQ(quiet.status.exit_code, 1);
  EXPECT_EQ(lines(quiet.out), 1) << quiet.out;
}

TEST(HarnessCheck, TimeLimitExitsTwo) {
  // 40 concurrent writes of 0 and 1, each ending after every later-begun one (so
  // none makes another redundant), and a read nobody wrote: exponential, cut
  // off by the limit. (Distinct values would be decided from the reads at once.)
  TemporaryDirectory directory;
  std::string text;
  int index = 0;
  for (int process = 0; process < 40; ++process) {
    text += "{\"index\":" + std::to_string(index++) + ",\"type\":\"invoke\",\"process\":" + std::to_string(process) +
            ",\"f\":\"write\",\"value\":" + std::to_string(process % 2) + "}\n";
  }
  for (int process = 39; process >= 0; --process) {
    text += "{\"index\":" + std::to_string(index++) + ",\"type\":\"ok\",\"process\":" + std::to_string(process) +
            ",\"f\":\"write\",\"value\":" + std::to_string(process % 2) + "}\n";
  }
  text +=
      "{\"index\":" + std::to_string(index++) + ",\"type\":\"invoke\",\"process\":99,\"f\":\"read\",\"value\":null}\n";
  text += "{\"index\":" + std::to_string(index++) + ",\"type\":\"ok\",\"process\":99,\"f\":\"read\",\"value\":-1}\n";
  auto file = directory.write("hard.jsonl", text);
  auto result = run_harness({"check", "--time-limit", "200ms", file.string()});
  EXPECT_EQ(result.status.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.out.find("unknown"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("time limit"), std::string::npos) << result.out;
  // With an invalid file beside it the verdicts combine to invalid: exit 1, whatever the order.
  for (const auto& files : {std::vector<std::string>{file.string(), kData + "jepsen/etcd_000.log"},
                            std::vector<std::string>{kData + "jepsen/etcd_000.log", file.string()}}) {
    std::vector<std::string> arguments = {"check", "--time-limit", "200ms"};
    arguments.insert(arguments.end(), files.begin(), files.end());
    auto both = run_harness(arguments);
    EXPECT_EQ(both.status.exit_code, 1) << both.out << both.err;
  }
}

TEST(HarnessCheck, MalformedHistoryExitsThreeNamingFileAndLineAndStillChecksTheRest) {
  TemporaryDirectory directory;
  auto bad = directory.write("bad.jsonl",
                             "{\"index\":0,\"type\":\"invoke\",\"process\":1,\"f\":\"write\",\"value\":1}\n"
                             "{\"index\":1,\"type\":\"done\",\"process\":1,\"f\":\"write\",\"value\":1}\n");
  auto result = run_harness({"check", bad.string(), kData + "jepsen/etcd_002.log"});
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_EQ(lines(result.err), 1) << result.err;
  EXPECT_NE(result.err.find(bad.string() + ":2: field 'type'"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("etcd_002.log: valid"), std::string::npos) << result.out;
}

TEST(HarnessCheck, UnpairedCompletionExitsThree) {
  TemporaryDirectory directory;
  auto bad =
      directory.write("orphan.jsonl", "{\"index\":0,\"type\":\"ok\",\"process\":1,\"f\":\"write\",\"value\":1}\n");
  auto result = run_harness({"check", bad.string()});
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_EQ(lines(result.err), 1) << result.err;
  EXPECT_NE(result.err.find("orphan.jsonl"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("without an invocation"), std::string::npos) << result.err;
}

TEST(HarnessCheck, BadFlagsAndMissingFilesExitThreeWithOneLine) {
  for (const auto& arguments :
       std::vector<std::vector<std::string>>{{"check", "--model", "queue", kData + "jepsen/etcd_002.log"},
                                             {"check", "--nil-read", "maybe", kData + "jepsen/etcd_002.log"},
                                             {"check", "--time-limit", "soon", kData + "jepsen/etcd_002.log"},
                                             {"check", "--initial", "{nope", kData + "jepsen/etcd_002.log"},
                                             {"check", "--format", "xml", kData + "jepsen/etcd_002.log"},
                                             {"check", "/nonexistent/history.jsonl"},
                                             {"check", "--no-such-flag", kData + "jepsen/etcd_002.log"},
                                             {"frobnicate"}}) {
    auto result = run_harness(arguments);
    EXPECT_EQ(result.status.exit_code, 3) << arguments[1] << ": " << result.err;
    EXPECT_EQ(lines(result.err), 1) << arguments[1] << ": " << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
}

}  // namespace
}  // namespace chaosbench::harness
