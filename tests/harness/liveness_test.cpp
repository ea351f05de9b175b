// judge_recovery on hand-made probe histories: an ok within the limit is
// valid, none (or only one past the limit) invalid; per node what the probes
// got back; ops before the first probe and the nemesis's are not probes.
#include <gtest/gtest.h>

#include "chaosbench/harness/liveness.h"

namespace chaosbench::harness {
namespace {

using checkers::OpType;
constexpr std::int64_t kMillisecond = 1'000'000;

struct ProbeHistory {
  checkers::History history;
  void add(OpType type, std::int64_t process, const std::string& node, std::int64_t milliseconds) {
    checkers::Operation operation;
    operation.type = type;
    operation.process = process;
    operation.node = static_cast<std::uint16_t>(history.nodes.intern(node));
    operation.function = history.functions.intern("read");
    operation.time = milliseconds * kMillisecond;
    history.operations.push_back(operation);
  }
  void probe(std::int64_t process, const std::string& node, std::int64_t invoked, OpType outcome,
             std::int64_t completed) {
    add(OpType::invoke, process, node, invoked);
    add(outcome, process, node, completed);
  }
};

TEST(Liveness, AnOkWithinTheLimitIsValidAndNamesWhoAnswered) {
  ProbeHistory probes;
  probes.probe(0, "n1", 900, OpType::ok, 950);  // before the probes: not counted
  const std::size_t first = probes.history.size();
  probes.probe(0, "n1", 1000, OpType::fail, 1001);
  probes.probe(1, "n2", 1000, OpType::info, 3000);
  probes.probe(0, "n1", 1100, OpType::fail, 1101);
  probes.probe(2, "n3", 1100, OpType::ok, 1600);
  const RecoveryJudgement judgement =
      judge_recovery(probes.history, first, 1000 * kMillisecond, 3000 * kMillisecond, std::chrono::seconds(10));
  EXPECT_EQ(judgement.verdict, checkers::Verdict::valid) << judgement.reason;
  EXPECT_EQ(judgement.recovered_after_ms, 600);
  EXPECT_EQ(judgement.waited_ms, 2000);
  EXPECT_EQ(judgement.probes, 4u);
  EXPECT_EQ(judgement.nodes.at("n1").fail, 2u);
  EXPECT_EQ(judgement.nodes.at("n2").no_answer, 1u);
  EXPECT_EQ(judgement.nodes.at("n3").ok, 1u);
  EXPECT_EQ(judgement.reason,
            "served again 0.60 s after the final heal (limit 10 s; ok from n3; refused by n1; no answer from n2)");
}

TEST(Liveness, NoOkOrOnlyALateOneIsInvalid) {
  ProbeHistory silent;
  silent.probe(0, "n1", 0, OpType::fail, 1);
  silent.add(OpType::invoke, 1, "n2", 0);  // never completed: no answer
  RecoveryJudgement judgement = judge_recovery(silent.history, 0, 0, 2100 * kMillisecond, std::chrono::seconds(2));
  EXPECT_EQ(judgement.verdict, checkers::Verdict::invalid);
  EXPECT_EQ(judgement.recovered_after_ms, -1);
  EXPECT_EQ(judgement.nodes.at("n2").no_answer, 1u);
  EXPECT_EQ(judgement.reason,
            "no ok operation within 2 s of the final heal (waited 2.1 s, 2 probes; ok from none; refused by n1; no "
            "answer from n2)");
  ProbeHistory late;
  late.probe(0, "n1", 0, OpType::ok, 2500);
  judgement = judge_recovery(late.history, 0, 0, 2500 * kMillisecond, std::chrono::seconds(2));
  EXPECT_EQ(judgement.verdict, checkers::Verdict::invalid);
  EXPECT_EQ(judgement.recovered_after_ms, 2500);
  EXPECT_NE(judgement.reason.find("served again only 2.50 s after the final heal, past the 2 s limit"),
            std::string::npos)
      << judgement.reason;
}

TEST(Liveness, NoProbesIsUnknown) {
  ProbeHistory none;
  none.probe(0, "n1", 0, OpType::ok, 1);
  const RecoveryJudgement judgement = judge_recovery(none.history, none.history.size(), 0, 0, std::chrono::seconds(2));
  EXPECT_EQ(judgement.verdict, checkers::Verdict::unknown);
  EXPECT_EQ(to_json(judgement)["verdict"], "unknown");
}

}  // namespace
}  // namespace chaosbench::harness
