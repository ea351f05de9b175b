// --nemesis random: the draw is a function of the seed alone (the same seed,
// the same configuration), varied over seeds, only with kinds the target has,
// and plan_run turns it into the plan as if the four flags had been given.
#include <gtest/gtest.h>

#include <set>

#include "chaosbench/harness/run_command.h"
#include "chaosbench/harness/swarm.h"
#include "chaosbench/nemesis/fault.h"

namespace chaosbench::harness {
namespace {

TEST(Swarm, TheSeedAloneDecidesTheDrawAndSeedsVaryIt) {
  std::set<std::string> nemeses, targets, intervals;
  std::set<std::string> kinds_seen;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const SwarmDraw draw = draw_swarm(seed, false, false);
    EXPECT_EQ(draw.flags(), draw_swarm(seed, false, false).flags());
    EXPECT_FALSE(draw.nemesis.empty());
    for (nemesis::FaultKind kind : nemesis::parse_fault_list(draw.nemesis)) {
      kinds_seen.insert(std::string(nemesis::to_string(kind)));
      EXPECT_FALSE(nemesis::is_storage_fault(kind));
      EXPECT_NE(kind, nemesis::FaultKind::failpoint) << "the target has none";
    }
    EXPECT_TRUE(nemesis::parse_kill_targets(draw.kill_targets)) << draw.kill_targets;
    nemeses.insert(draw.nemesis);
    targets.insert(draw.kill_targets);
    intervals.insert(draw.nemesis_interval);
  }
  EXPECT_GT(nemeses.size(), 30u);
  EXPECT_EQ(targets.size(), 7u);
  EXPECT_EQ(intervals.size(), 5u);
  EXPECT_EQ(kinds_seen, (std::set<std::string>{"partition", "kill", "pause", "clock", "loss", "delay"}));
  bool failpoint = false;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    failpoint = failpoint || draw_swarm(seed, true, false).nemesis.find("failpoint") != std::string::npos;
  }
  EXPECT_TRUE(failpoint) << "a target with failpoints gets them drawn";
  // Link toxics where the peers can be proxied, drawn after the rest: the other draws keep their seed's values.
  std::set<std::string> toxics_seen;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const SwarmDraw plain = draw_swarm(seed, true, false), proxied = draw_swarm(seed, true, true);
    EXPECT_EQ(proxied.kill_targets, plain.kill_targets);
    EXPECT_EQ(proxied.partition_shapes, plain.partition_shapes);
    EXPECT_EQ(proxied.nemesis_interval, plain.nemesis_interval);
    EXPECT_EQ(proxied.nemesis.rfind(plain.nemesis, 0), 0u) << proxied.nemesis << " extends " << plain.nemesis;
    for (nemesis::FaultKind kind : nemesis::parse_fault_list(proxied.nemesis)) {
      if (nemesis::is_link_toxic(kind)) toxics_seen.insert(std::string(nemesis::to_string(kind)));
    }
  }
  EXPECT_EQ(toxics_seen.size(), 6u) << "every link toxic is drawn on some seed";
}

TEST(Swarm, PlanRunAppliesTheDrawAndRecordsIt) {
  RunOptions options;
  options.nemesis = "random";
  options.seed = 42;
  const RunPlan plan = plan_run(options, std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness");
  const SwarmDraw draw = draw_swarm(42, true, true);  // refnode raft has failpoints and proxiable peers
  EXPECT_EQ(plan.swarm_flags, draw.flags());
  EXPECT_EQ(plan.options.nemesis, draw.nemesis);
  EXPECT_EQ(plan.faults, nemesis::parse_fault_list(draw.nemesis));
  EXPECT_EQ(std::string(nemesis::to_string(plan.kill_targets)), draw.kill_targets);
  EXPECT_EQ(plan.partition_shapes.size(),
            static_cast<std::size_t>(std::count(draw.partition_shapes.begin(), draw.partition_shapes.end(), ',') + 1));
  options.nemesis = "partition";
  EXPECT_TRUE(plan_run(options, std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness").swarm_flags.empty());
}

}  // namespace
}  // namespace chaosbench::harness
