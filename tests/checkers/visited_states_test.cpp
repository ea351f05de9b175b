// VisitedStates, the explored-state memo of the linearizability and sequential
// searches: inserts and finds pairs, and charges exactly the bytes it holds to
// the shared memory budget, through growth, and gives them back when it goes.
#include "visited_states.h"  // checkers/src: a private header of the checkers library

#include <gtest/gtest.h>

namespace chaosbench::checkers {
namespace {

TEST(VisitedStates, FindsWhatWasInsertedAndTellsStatesApart) {
  std::atomic<std::size_t> used{0};
  SearchLimits limits;
  limits.memory_used = &used;
  limits.memory_limit = std::size_t{1} << 30;
  VisitedStates<std::uint64_t> visited(2, limits);
  const std::uint64_t first[2] = {1, 2}, second[2] = {1, 3};
  EXPECT_TRUE(visited.insert(7, 0, first));
  EXPECT_FALSE(visited.insert(7, 0, first));
  EXPECT_TRUE(visited.insert(7, 1, first)) << "same configuration, other model state";
  EXPECT_TRUE(visited.insert(7, 0, second)) << "same hash, other words";
  EXPECT_EQ(visited.size(), 3u);
}

TEST(VisitedStates, ChargesTheSlotsAndArenaItHoldsThroughGrowthAndReturnsThem) {
  std::atomic<std::size_t> used{0};
  SearchLimits limits;
  limits.memory_used = &used;
  limits.memory_limit = std::size_t{1} << 30;
  {
    VisitedStates<std::uint32_t> visited(3, limits, 64);
    for (std::uint32_t index = 0; index < 10'000; ++index) {
      const std::uint32_t configuration[3] = {index, index * 7, index * 13};
      ASSERT_TRUE(visited.insert(mix64(index), index % 5, configuration));
    }
    // 10,000 entries at most half full: 32,768 slots of 16 bytes, plus the arena's capacity.
    const std::size_t slots_bytes = 32768 * 16;
    EXPECT_GE(used.load(), slots_bytes + 10'000 * 3 * sizeof(std::uint32_t));
    EXPECT_LE(used.load(), slots_bytes + 2 * 10'000 * 3 * sizeof(std::uint32_t) + 4096);
    EXPECT_EQ(used.load(), visited.charged_bytes());
  }
  EXPECT_EQ(used.load(), 0u);
}

}  // namespace
}  // namespace chaosbench::checkers
