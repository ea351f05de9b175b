// Session guarantees: linearizable simulations keep all four; each guarantee
// broken on purpose is found and named, with the process and the ops.
#include <gtest/gtest.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/session.h"
#include "history_builder.h"
#include "register_simulation.h"

namespace chaosbench::checkers {
namespace {

using testing::HistoryBuilder;

TEST(Session, LinearizableSimulationsKeepEveryGuarantee) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = seed;
    simulation.operations = 2000;
    simulation.keys = 3;
    History history = testing::simulate_register_history(simulation);
    SessionResult result = check_session_guarantees(history);
    EXPECT_EQ(result.result.verdict, Verdict::valid) << "seed " << seed << ": " << describe(result.result);
  }
}

TEST(Session, ReadYourWrites) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "read", nullptr).ok(0, "read", nullptr);
  SessionResult result = check_session_guarantees(builder.history());
  EXPECT_EQ(result.result.verdict, Verdict::invalid);
  ASSERT_EQ(result.violations.size(), 1u);
  EXPECT_EQ(result.violations[0].guarantee, "read-your-writes");
  EXPECT_EQ(result.violations[0].process, 0);
  EXPECT_EQ(result.violations[0].operations, (std::vector<std::uint32_t>{0, 2}));
}

TEST(Session, MonotonicReads) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 1);
  SessionResult result = check_session_guarantees(builder.history());
  ASSERT_EQ(result.violations.size(), 1u) << describe(result.result);
  EXPECT_EQ(result.violations[0].guarantee, "monotonic-reads");
  EXPECT_EQ(result.violations[0].process, 1);
  EXPECT_EQ(result.violations[0].operations, (std::vector<std::uint32_t>{0, 2, 4, 6}));
}

TEST(Session, MonotonicWrites) {
  HistoryBuilder builder;
  builder.invoke(1, "read", nullptr).ok(1, "read", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 1);
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  SessionResult result = check_session_guarantees(builder.history());
  ASSERT_EQ(result.violations.size(), 1u) << describe(result.result);
  EXPECT_EQ(result.violations[0].guarantee, "monotonic-writes");
  EXPECT_EQ(result.violations[0].process, 0);
}

TEST(Session, WritesFollowReads) {
  HistoryBuilder builder;
  builder.invoke(1, "read", nullptr).ok(1, "read", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 1);
  builder.invoke(2, "write", 1).ok(2, "write", 1);
  builder.invoke(0, "read", nullptr).ok(0, "read", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  SessionResult result = check_session_guarantees(builder.history());
  ASSERT_EQ(result.violations.size(), 1u) << describe(result.result);
  EXPECT_EQ(result.violations[0].guarantee, "writes-follow-reads");
  EXPECT_EQ(result.violations[0].process, 0);
  EXPECT_NE(result.violations[0].explanation.find("op 8"), std::string::npos) << result.violations[0].explanation;
}

TEST(Session, PerKeyAndUnwrittenValues) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1, "x").ok(0, "write", 1, "x");
  builder.invoke(0, "read", nullptr, "y").ok(0, "read", nullptr, "y");  // another key: fine
  builder.invoke(0, "read", nullptr, "x").ok(0, "read", 7, "x");        // never written
  SessionResult result = check_session_guarantees(builder.history());
  ASSERT_EQ(result.violations.size(), 1u) << describe(result.result);
  EXPECT_EQ(result.violations[0].guarantee, "unwritten-value");
  EXPECT_EQ(result.violations[0].key, "x");
}

TEST(Session, RejectsDuplicateWritesAndUnknownFunctions) {
  HistoryBuilder duplicate;
  duplicate.invoke(0, "write", 1).ok(0, "write", 1);
  duplicate.invoke(1, "write", 1).ok(1, "write", 1);
  EXPECT_THROW(check_session_guarantees(duplicate.history()), HistoryError);
  HistoryBuilder append;
  append.invoke(0, "append", "a").ok(0, "append", "a");
  EXPECT_THROW(check_session_guarantees(append.history()), HistoryError);
}

}  // namespace
}  // namespace chaosbench::checkers
