// The nemesis's pure parts: fault-list parsing, which nodes a kill targets,
// the seeded schedule (alternating, inside the run) and the partition shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chaosbench/nemesis/fault.h"
#include "chaosbench/nemesis/partition.h"
#include "chaosbench/nemesis/schedule.h"

namespace chaosbench {
namespace {

using namespace std::chrono_literals;

TEST(Nemesis, FaultListsParse) {
  using nemesis::FaultKind;
  EXPECT_EQ(nemesis::parse_fault_list("partition,kill,partition"),
            (std::vector<FaultKind>{FaultKind::partition, FaultKind::kill}));
  EXPECT_TRUE(nemesis::parse_fault_list("none").empty());
  EXPECT_THROW(nemesis::parse_fault_list("partition,,kill"), std::invalid_argument);
  EXPECT_THROW(nemesis::parse_fault_list("meteor"), std::invalid_argument);
}

TEST(Nemesis, KillTargetsChooseTheNamedNodes) {
  using nemesis::KillTargets;
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  for (const char* name : {"mixed", "one", "minority", "majority", "all", "leader"}) {
    auto parsed = nemesis::parse_kill_targets(name);
    ASSERT_TRUE(parsed) << name;
    EXPECT_EQ(nemesis::to_string(*parsed), name);
  }
  EXPECT_FALSE(nemesis::parse_kill_targets("everyone"));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 random(seed);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::all, nodes, "n2", random), nodes);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::leader, nodes, "n2", random), (std::vector<std::string>{"n2"}));
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::leader, nodes, std::nullopt, random).size(), 1u);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::one, nodes, "n2", random).size(), 1u);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::followers, nodes, "n2", random),
              (std::vector<std::string>{"n1", "n3", "n4", "n5"}));
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::followers, nodes, std::nullopt, random).size(), 4u);
    const auto majority = nemesis::choose_kill_targets(KillTargets::majority, nodes, "n2", random);
    EXPECT_GE(majority.size(), 3u);
    EXPECT_LE(majority.size(), 5u);
    EXPECT_TRUE(std::is_sorted(majority.begin(), majority.end()));
    EXPECT_EQ(std::set<std::string>(majority.begin(), majority.end()).size(), majority.size());
    const auto minority = nemesis::choose_kill_targets(KillTargets::minority, nodes, "n2", random);
    EXPECT_GE(minority.size(), 1u);
    EXPECT_LE(minority.size(), 2u);
    const auto mixed = nemesis::choose_kill_targets(KillTargets::mixed, nodes, "n2", random);
    EXPECT_GE(mixed.size(), 1u);
    EXPECT_LE(mixed.size(), 2u);
  }
  std::mt19937_64 random(1);
  EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::majority, {"n1", "n2", "n3"}, std::nullopt, random).size() >= 2,
            true);
}

TEST(Nemesis, ScheduleIsSeededAlternatesAndStaysInTheRun) {
  using nemesis::FaultKind;
  const std::vector<FaultKind> faults = {FaultKind::partition, FaultKind::kill, FaultKind::clock};
  auto schedule = nemesis::build_schedule(faults, 10s, 60s, 42);
  auto again = nemesis::build_schedule(faults, 10s, 60s, 42);
  auto other = nemesis::build_schedule(faults, 10s, 60s, 43);
  ASSERT_EQ(schedule.size(), again.size());
  for (std::size_t index = 0; index < schedule.size(); ++index) {
    EXPECT_EQ(schedule[index].at, again[index].at);
    EXPECT_EQ(schedule[index].seed, again[index].seed);
  }
  EXPECT_FALSE(schedule.size() == other.size() &&
               std::equal(schedule.begin(), schedule.end(), other.begin(),
                          [](const auto& a, const auto& b) { return a.at == b.at; }));
  for (FaultKind kind : faults) {
    bool active = false;
    int starts = 0;
    for (const auto& event : schedule) {
      EXPECT_LT(event.at, 60s);
      if (event.fault != kind) continue;
      EXPECT_NE(event.start, active) << "starts and stops alternate";
      active = event.start;
      starts += event.start;
    }
    EXPECT_GE(starts, 2) << nemesis::to_string(kind);
  }
  EXPECT_TRUE(
      std::is_sorted(schedule.begin(), schedule.end(), [](const auto& a, const auto& b) { return a.at < b.at; }));
}

std::set<std::string> visible_from(const nemesis::Grudge& grudge, const std::vector<std::string>& nodes,
                                   const std::string& node) {
  std::set<std::string> visible;
  for (const auto& other : nodes) {
    auto found = grudge.find(node);
    if (found == grudge.end() || !found->second.count(other)) visible.insert(other);
  }
  return visible;
}

TEST(Nemesis, PartitionShapes) {
  using nemesis::PartitionShape;
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  std::mt19937_64 random(1);

  auto halves = nemesis::partition_grudge(PartitionShape::halves, nodes, random, std::nullopt);
  EXPECT_EQ(halves.at("n1"), (std::set<std::string>{"n3", "n4", "n5"}));
  EXPECT_EQ(halves.at("n5"), (std::set<std::string>{"n1", "n2"}));

  auto leader = nemesis::partition_grudge(PartitionShape::isolate_leader, nodes, random, std::string("n4"));
  EXPECT_EQ(leader.at("n4"), (std::set<std::string>{"n1", "n2", "n3", "n5"}));
  EXPECT_EQ(leader.at("n1"), (std::set<std::string>{"n4"}));

  for (int round = 0; round < 20; ++round) {
    auto ring = nemesis::partition_grudge(PartitionShape::majorities_ring, nodes, random, std::nullopt);
    std::set<std::set<std::string>> majorities;
    for (const auto& node : nodes) {
      auto visible = visible_from(ring, nodes, node);
      EXPECT_EQ(visible.size(), 3u) << "every node sees a majority (itself included)";
      EXPECT_TRUE(visible.count(node));
      majorities.insert(visible);
    }
    EXPECT_EQ(majorities.size(), 5u) << "no two nodes see the same majority";

    auto bridge = nemesis::partition_grudge(PartitionShape::bridge, nodes, random, std::nullopt);
    int bridges = 0;
    for (const auto& node : nodes) bridges += visible_from(bridge, nodes, node).size() == 5;
    EXPECT_EQ(bridges, 1);

    auto random_halves = nemesis::partition_grudge(PartitionShape::random_halves, nodes, random, std::nullopt);
    std::size_t lonely = 0;
    for (const auto& node : nodes) lonely += visible_from(random_halves, nodes, node).size() == 2;
    EXPECT_EQ(lonely, 2u);
  }
  EXPECT_TRUE(nemesis::partition_grudge(PartitionShape::halves, {"n1"}, random, std::nullopt).empty());
}

// One-way shapes: some node drops another's packets while that one still hears it.
TEST(Nemesis, OneWayPartitionShapesCutOneDirectionOnly) {
  using nemesis::PartitionShape;
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  std::mt19937_64 random(7);
  auto mutual = [](const nemesis::Grudge& grudge) {
    for (const auto& [node, dropped] : grudge) {
      for (const auto& other : dropped) {
        auto found = grudge.find(other);
        if (found != grudge.end() && found->second.count(node)) return true;
      }
    }
    return false;
  };

  auto to_leader = nemesis::partition_grudge(PartitionShape::one_way_to_leader, nodes, random, std::string("n4"));
  EXPECT_EQ(to_leader, (nemesis::Grudge{{"n4", {"n1", "n2", "n3", "n5"}}})) << "the leader hears nobody";

  auto from_leader = nemesis::partition_grudge(PartitionShape::one_way_from_leader, nodes, random, std::string("n4"));
  EXPECT_EQ(from_leader.size(), 4u);
  EXPECT_FALSE(from_leader.count("n4")) << "the leader hears everyone";
  for (const auto& [node, dropped] : from_leader) EXPECT_EQ(dropped, (std::set<std::string>{"n4"})) << node;

  for (int round = 0; round < 20; ++round) {
    auto halves = nemesis::partition_grudge(PartitionShape::one_way_halves, nodes, random, std::nullopt);
    EXPECT_FALSE(mutual(halves));
    ASSERT_EQ(halves.size(), 3u) << "the majority stops hearing the minority";
    const std::set<std::string> unheard = halves.begin()->second;
    EXPECT_EQ(unheard.size(), 2u);
    for (const auto& [node, dropped] : halves) {
      EXPECT_EQ(dropped, unheard);
      EXPECT_FALSE(unheard.count(node));
    }
    auto unknown_leader =
        nemesis::partition_grudge(PartitionShape::one_way_to_leader, nodes, random, std::optional<std::string>());
    ASSERT_EQ(unknown_leader.size(), 1u) << "a random node when the leader is unknown";
    EXPECT_EQ(unknown_leader.begin()->second.size(), 4u);
    EXPECT_FALSE(mutual(unknown_leader));
  }
}

TEST(Nemesis, PartitionShapeGroupsAndUnknownNames) {
  using nemesis::PartitionShape;
  EXPECT_EQ(nemesis::parse_partition_shapes("two-way"), nemesis::two_way_partition_shapes());
  EXPECT_EQ(nemesis::parse_partition_shapes("one-way"),
            (std::vector<PartitionShape>{PartitionShape::one_way_halves, PartitionShape::one_way_from_leader,
                                         PartitionShape::one_way_to_leader}));
  EXPECT_EQ(nemesis::parse_partition_shapes("all").size(), 9u);
  EXPECT_EQ(nemesis::parse_partition_shapes("isolate-one,one-way-to-leader,isolate-one"),
            (std::vector<PartitionShape>{PartitionShape::isolate_one, PartitionShape::one_way_to_leader}));
  for (PartitionShape shape : nemesis::all_partition_shapes()) {
    EXPECT_EQ(nemesis::parse_partition_shape(nemesis::to_string(shape)), shape);
    EXPECT_EQ(nemesis::is_one_way(shape), nemesis::to_string(shape).starts_with("one-way-"));
  }
  try {
    nemesis::parse_partition_shapes("halves,one-way-sideways");
    FAIL() << "an unknown shape is refused";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("unknown shape 'one-way-sideways'"), std::string::npos) << message;
    EXPECT_NE(message.find("one-way-from-leader"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace chaosbench
