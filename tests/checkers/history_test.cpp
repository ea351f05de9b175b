#include <gtest/gtest.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {
namespace {

Operation make_op(History& history, OpType type, std::int64_t process, std::string_view function) {
  Operation op;
  op.type = type;
  op.process = process;
  op.function = history.functions.intern(function);
  return op;
}

TEST(ValuePool, InternsEqualValuesToOneHandle) {
  ValuePool pool;
  EXPECT_EQ(pool.intern_int(7), pool.intern_int(7));
  EXPECT_NE(pool.intern_int(7), pool.intern_string("7"));
  EXPECT_EQ(pool.intern_json(nlohmann::json::parse(R"({"b":1,"a":[1,2]})")),
            pool.intern_json(nlohmann::json::parse(R"({"a":[1,2],"b":1})")));
  EXPECT_TRUE(pool.intern_json(nullptr).is_null());
  EXPECT_EQ(pool.to_text(pool.intern_string("x\"y")), R"("x\"y")");
  EXPECT_EQ(pool.as_int(pool.intern_json(-12)), -12);
}

TEST(PairOperations, PairsByProcessAndTreatsMissingCompletionAsInfo) {
  History history;
  history.operations.push_back(make_op(history, OpType::invoke, 1, "write"));
  history.operations.push_back(make_op(history, OpType::invoke, 2, "read"));
  history.operations.push_back(make_op(history, OpType::invoke, kNemesisProcess, "start-partition"));
  history.operations.push_back(make_op(history, OpType::ok, 1, "write"));
  auto pairs = pair_operations(history);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].completion, 3u);
  EXPECT_EQ(pairs[0].outcome, OpType::ok);
  EXPECT_EQ(pairs[1].completion, OperationPair::kNoCompletion);
  EXPECT_EQ(pairs[1].outcome, OpType::info);
}

TEST(PairOperations, RejectsCompletionWithoutInvocation) {
  History history;
  history.operations.push_back(make_op(history, OpType::ok, 4, "write"));
  EXPECT_THROW(pair_operations(history), HistoryError);
}

TEST(PairOperations, RejectsDoubleInvocation) {
  History history;
  history.operations.push_back(make_op(history, OpType::invoke, 4, "write"));
  history.operations.push_back(make_op(history, OpType::invoke, 4, "write"));
  EXPECT_THROW(pair_operations(history), HistoryError);
}

TEST(Verdict, CombineOrdersInvalidThenUnknown) {
  EXPECT_EQ(combine(Verdict::valid, Verdict::unknown), Verdict::unknown);
  EXPECT_EQ(combine(Verdict::unknown, Verdict::invalid), Verdict::invalid);
  EXPECT_EQ(combine(Verdict::valid, Verdict::valid), Verdict::valid);
  EXPECT_EQ(parse_verdict("unknown"), Verdict::unknown);
  EXPECT_FALSE(parse_verdict("maybe"));
}

}  // namespace
}  // namespace chaosbench::checkers
