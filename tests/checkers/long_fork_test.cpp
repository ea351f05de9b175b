// Long-fork checker (Jepsen's jepsen.tests.long-fork): reads of one group that
// saw its writes in incompatible orders are forks (invalid), with both reads as
// evidence; ordered reads are valid; a second write to a key, reads of the wrong
// number of keys or different values of one key make it unknown, as Jepsen's
// :multiple-writes and :illegal-history; malformed txns are HistoryErrors.
#include <gtest/gtest.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/long_fork.h"
#include "history_builder.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

// One txn as invoke + completion; reads are null on the invocation.
void long_fork_txn(HistoryBuilder& builder, std::int64_t process, const json& completed, OpType outcome = OpType::ok) {
  json invocation = completed;
  for (json& micro_op : invocation) {
    if (micro_op[0] == "r") micro_op[2] = nullptr;
  }
  builder.invoke(process, "txn", invocation);
  builder.add(outcome, process, "txn", outcome == OpType::ok ? completed : invocation, {});
}

CheckResult check(const HistoryBuilder& builder, std::size_t group_size = 2) {
  LongForkOptions options;
  options.group_size = group_size;
  return check_long_fork(builder.history(), options);
}

TEST(LongFork, JepsensExampleIsAFork) {
  // T1 writes x, T2 writes y; T3 sees y but not x, T4 sees x but not y.
  HistoryBuilder builder;
  long_fork_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  long_fork_txn(builder, 1, json::parse(R"([["w","y",1]])"));
  long_fork_txn(builder, 2, json::parse(R"([["r","x",null],["r","y",1]])"));  // op 5
  long_fork_txn(builder, 3, json::parse(R"([["r","y",null],["r","x",1]])"));  // op 7, keys in the other order
  CheckResult result = check(builder);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(result.reason, "1 long fork: reads of one group saw its writes in incompatible orders");
  EXPECT_EQ(result.details["forks"], json::parse("[[5, 7]]")) << result.details.dump();
  EXPECT_EQ(result.details["fork_count"], 1);
  ASSERT_EQ(result.evidence.size(), 1u);
  EXPECT_NE(result.evidence[0].find(R"(op 5 read {"x" nil, "y" 1} and op 7 read {"x" 1, "y" nil})"), std::string::npos)
      << result.evidence[0];
  EXPECT_NE(result.evidence[0].find(R"(op 5 saw the write of "y" but not of "x", op 7 the reverse)"), std::string::npos)
      << result.evidence[0];
}

// The issue's history in list-append form: T2 appends 1 to x, T4 appends 1 to y,
// T1 reads y=[1] and x=[], T3 reads x=[1] and y=[].
TEST(LongFork, TheIssuesListAppendHistoryIsAFork) {
  HistoryBuilder builder;
  long_fork_txn(builder, 0, json::parse(R"([["r","y",[1]],["r","x",[]]])"));
  long_fork_txn(builder, 1, json::parse(R"([["append","x",1]])"));
  long_fork_txn(builder, 2, json::parse(R"([["r","x",[1]],["r","y",[]]])"));
  long_fork_txn(builder, 3, json::parse(R"([["append","y",1]])"));
  CheckResult result = check(builder);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(result.details["fork_count"], 1);
}

TEST(LongFork, ReadsInOneOrderOfTheWritesAreValid) {
  HistoryBuilder builder;
  long_fork_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  long_fork_txn(builder, 1, json::parse(R"([["r","x",null],["r","y",null]])"));
  long_fork_txn(builder, 1, json::parse(R"([["r","x",1],["r","y",null]])"));
  long_fork_txn(builder, 2, json::parse(R"([["w","y",1]])"));
  long_fork_txn(builder, 3, json::parse(R"([["r","y",1],["r","x",1]])"));
  long_fork_txn(builder, 3, json::parse(R"([["r","x",1],["r","y",null]])"));
  // Another group, its own order (y2 before x2 here) is no fork with the first group's.
  long_fork_txn(builder, 4, json::parse(R"([["w","y2",1]])"));
  long_fork_txn(builder, 4, json::parse(R"([["r","x2",null],["r","y2",1]])"));
  long_fork_txn(builder, 5, json::parse(R"([["r","x2",null],["r","y2",1]])"));
  // A failed read and an info read are not judged.
  long_fork_txn(builder, 6, json::parse(R"([["r","x",null],["r","y",1]])"), OpType::fail);
  CheckResult result = check(builder);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  EXPECT_EQ(result.details["groups"], 2);
  EXPECT_EQ(result.details["reads"], 6);
  EXPECT_EQ(result.details["fork_count"], 0);
}

TEST(LongFork, EveryPairOfForkedReadsCountsAndGroupsOfThree) {
  HistoryBuilder builder;
  for (const char* key : {"a", "b", "c"}) long_fork_txn(builder, 0, json::array({json::array({"w", key, 1})}));
  long_fork_txn(builder, 1, json::parse(R"([["r","a",1],["r","b",null],["r","c",null]])"));
  long_fork_txn(builder, 2, json::parse(R"([["r","a",1],["r","b",null],["r","c",null]])"));
  long_fork_txn(builder, 3, json::parse(R"([["r","a",null],["r","b",null],["r","c",1]])"));
  long_fork_txn(builder, 4, json::parse(R"([["r","a",1],["r","b",1],["r","c",1]])"));  // after all: ordered
  CheckResult result = check(builder, 3);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(result.details["fork_count"], 2) << "both a-only reads against the c-only read";
  EXPECT_EQ(result.evidence.size(), 1u) << "one example per two distinct states";
}

TEST(LongFork, ASecondWriteToAKeyIsUnknownAsJepsensMultipleWrites) {
  HistoryBuilder builder;
  long_fork_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  long_fork_txn(builder, 1, json::parse(R"([["w","x",2]])"), OpType::fail);  // invoked counts, as in Jepsen
  long_fork_txn(builder, 2, json::parse(R"([["r","x",null],["r","y",1]])"));
  long_fork_txn(builder, 3, json::parse(R"([["r","x",1],["r","y",null]])"));
  CheckResult result = check(builder);
  EXPECT_EQ(result.verdict, Verdict::unknown) << describe(result);
  EXPECT_EQ(result.reason, R"(key "x" is written more than once (ops 0 and 2); long-fork assumes one write per key)");
  EXPECT_EQ(result.details["multiple_writes"], "x");
}

TEST(LongFork, IllegalReadsAreUnknown) {
  {
    HistoryBuilder builder;  // a read of one key with group size 2
    long_fork_txn(builder, 0, json::parse(R"([["r","x",null]])"));
    CheckResult result = check(builder);
    EXPECT_EQ(result.verdict, Verdict::unknown);
    EXPECT_EQ(result.reason, "op 1 read 1 keys; every read should read exactly 2 (the group size)");
  }
  {
    HistoryBuilder builder;  // two values of x: two writes, whatever the history says
    long_fork_txn(builder, 0, json::parse(R"([["r","x",1],["r","y",null]])"));
    long_fork_txn(builder, 1, json::parse(R"([["r","x",2],["r","y",null]])"));
    CheckResult result = check(builder);
    EXPECT_EQ(result.verdict, Verdict::unknown);
    EXPECT_NE(result.reason.find("read different values of key \"x\" (1 and 2)"), std::string::npos) << result.reason;
  }
  {
    HistoryBuilder builder;  // a list of two appends
    long_fork_txn(builder, 0, json::parse(R"([["r","x",[1,2]],["r","y",[]]])"));
    EXPECT_EQ(check(builder).verdict, Verdict::unknown);
  }
}

TEST(LongFork, NothingToJudgeWithoutTwoReadsOfAGroup) {
  HistoryBuilder builder;
  long_fork_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  long_fork_txn(builder, 1, json::parse(R"([["r","x",1],["r","y",null]])"));
  CheckResult result = check(builder);
  EXPECT_EQ(result.verdict, Verdict::unknown);
  EXPECT_EQ(result.reason, "nothing to judge: no two ok reads of the same group");
}

TEST(LongFork, MalformedTxnsAreHistoryErrors) {
  auto throws_with = [](const json& value, const std::string& function, const std::string& text) {
    HistoryBuilder builder;
    builder.invoke(0, function, value).ok(0, function, value);
    try {
      check_long_fork(builder.history());
      ADD_FAILURE() << value.dump() << " taken";
    } catch (const HistoryError& error) {
      EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
    }
  };
  throws_with(json::parse(R"([["w","x",1],["r","y",null]])"), "txn",
              "op 0: field 'value': a long-fork txn is one write");
  throws_with(json::parse(R"([["cas","x",1]])"), "txn", "knows micro-ops r, w and append, got 'cas'");
  throws_with(json::parse(R"([["r","x"]])"), "txn", "a micro-op is [f, key, value]");
  throws_with(json(3), "txn", "a non-empty list of micro-ops");
  throws_with(json(3), "read", "field 'f': the long-fork checker knows txn, got 'read'");
}

}  // namespace
}  // namespace chaosbench::checkers
