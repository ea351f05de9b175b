// Every history shipped under tests/data/porcupine must get the verdict that
// verdicts.json records, with the model that file describes for its folder.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history_io.h"
#include "chaosbench/checkers/linearizability.h"

namespace chaosbench::checkers {
namespace {

const std::string kDataDirectory = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/";

nlohmann::json load_verdicts() {
  std::ifstream stream(kDataDirectory + "verdicts.json");
  return nlohmann::json::parse(stream)["verdicts"];
}

void check_folder(const std::string& prefix, ModelKind model, std::size_t expected_files) {
  std::size_t checked = 0, invalid = 0;
  const nlohmann::json verdicts = load_verdicts();
  for (const auto& [name, expected] : verdicts.items()) {
    if (name.rfind(prefix, 0) != 0) continue;
    History history = read_history_file(kDataDirectory + name);
    LinearizabilityOptions options;
    options.model.kind = model;
    options.model.nil_read = NilRead::absent;
    options.time_limit = std::chrono::seconds(60);
    LinearizabilityResult result = check_linearizability(history, options);
    EXPECT_EQ(result.verdict, expected.get<bool>() ? Verdict::valid : Verdict::invalid)
        << name << ": " << result.reason;
    if (result.verdict == Verdict::invalid) {
      // Evidence names a real op of the history and a non-empty set of states.
      const PartitionReport& report = result.reports.front();
      EXPECT_LT(report.blocking_invocation, history.size()) << name;
      EXPECT_FALSE(report.states_before.empty()) << name;
      ++invalid;
    }
    ++checked;
  }
  EXPECT_EQ(checked, expected_files);
  EXPECT_GT(invalid, 0u);
}

TEST(PorcupineVerdicts, EtcdLogsMatchTheirVerdicts) { check_folder("jepsen/", ModelKind::cas_register, 102); }

TEST(PorcupineVerdicts, KvLogsMatchTheirVerdicts) { check_folder("kv/", ModelKind::kv, 6); }

TEST(PorcupineVerdicts, KvLogsMatchTheirVerdictsUnpartitioned) {
  for (const char* name : {"kv/c01-ok.txt", "kv/c01-bad.txt", "kv/c10-ok.txt", "kv/c10-bad.txt"}) {
    History history = read_history_file(kDataDirectory + name);
    LinearizabilityOptions options;
    options.model.kind = ModelKind::kv;
    options.partition_by_key = false;
    options.time_limit = std::chrono::seconds(60);
    bool expected = load_verdicts()[name].get<bool>();
    EXPECT_EQ(check_linearizability(history, options).verdict, expected ? Verdict::valid : Verdict::invalid) << name;
  }
}

}  // namespace
}  // namespace chaosbench::checkers
