#include "runtime/kv_state_machine.h"

#include <gtest/gtest.h>

namespace chaosbench::targets {
namespace {

using nlohmann::json;

TEST(KvStateMachine, WriteReadCasAppendAdd) {
  KvStateMachine machine;
  EXPECT_EQ(machine.read("x"), json(nullptr));
  EXPECT_EQ(machine.apply({{"op", "write"}, {"key", "x"}, {"value", 1}}), json({{"ok", true}}));
  EXPECT_EQ(machine.apply({{"op", "read"}, {"key", "x"}})["value"], 1);
  EXPECT_EQ(machine.apply({{"op", "cas"}, {"key", "x"}, {"from", 1}, {"to", 2}}), json({{"ok", true}}));
  json failed = machine.apply({{"op", "cas"}, {"key", "x"}, {"from", 1}, {"to", 3}});
  EXPECT_EQ(failed["error"], "precondition_failed");
  EXPECT_EQ(failed["definite"], true);
  EXPECT_EQ(machine.read("x"), 2);
  machine.apply({{"op", "append"}, {"key", "l"}, {"value", 5}});
  machine.apply({{"op", "append"}, {"key", "l"}, {"value", 6}});
  EXPECT_EQ(machine.read("l"), json::array({5, 6}));
  machine.apply({{"op", "add"}, {"key", "c"}, {"value", 5}});
  machine.apply({{"op", "add"}, {"key", "c"}, {"value", -2}});
  EXPECT_EQ(machine.read("c"), 3);
  EXPECT_EQ(machine.apply({{"op", "append"}, {"key", "c"}, {"value", 1}})["error"], "precondition_failed");
  EXPECT_EQ(machine.apply({{"op", "delete"}, {"key", "c"}}), json({{"ok", true}}));
  EXPECT_EQ(machine.read("c"), json(nullptr));
  EXPECT_EQ(machine.apply({{"op", "delete"}, {"key", "never-written"}}), json({{"ok", true}}));
  EXPECT_TRUE(KvStateMachine::is_update("delete"));
}

TEST(KvStateMachine, TransactionIsAtomic) {
  KvStateMachine machine;
  json reply = machine.apply({{"op", "txn"},
                              {"value", json::array({json::array({"append", "x", 1}), json::array({"r", "x", nullptr}),
                                                     json::array({"w", "y", 7})})}});
  ASSERT_EQ(reply["ok"], true);
  EXPECT_EQ(reply["value"][1][2], json::array({1}));
  EXPECT_EQ(machine.read("y"), 7);
  // The add fails on a list, so the append before it must not happen either.
  json failed = machine.apply(
      {{"op", "txn"}, {"value", json::array({json::array({"append", "x", 2}), json::array({"add", "x", 1})})}});
  EXPECT_EQ(failed["error"], "precondition_failed");
  EXPECT_EQ(machine.read("x"), json::array({1}));
}

// The bank workload's transfer: a guard, then the two adds; an overdraft
// fails definitely and moves no money.
TEST(KvStateMachine, AtLeastGuardsATransfer) {
  KvStateMachine machine;
  auto transfer = [&](int amount) {
    return machine.apply(
        {{"op", "txn"},
         {"value", json::array({json::array({"at-least", "a", amount}), json::array({"add", "a", -amount}),
                                json::array({"add", "b", amount})})}});
  };
  EXPECT_EQ(transfer(1)["error"], "precondition_failed") << "an absent account holds nothing";
  machine.apply({{"op", "write"}, {"key", "a"}, {"value", 10}});
  machine.apply({{"op", "write"}, {"key", "b"}, {"value", 10}});
  json moved = transfer(10);
  ASSERT_EQ(moved["ok"], true) << moved.dump();
  EXPECT_EQ(moved["value"][0], json::array({"at-least", "a", 10}));
  EXPECT_EQ(machine.read("a"), 0);
  EXPECT_EQ(machine.read("b"), 20);
  json overdraft = transfer(1);
  EXPECT_EQ(overdraft["error"], "precondition_failed");
  EXPECT_EQ(overdraft["definite"], true);
  EXPECT_EQ(machine.read("a"), 0);
  EXPECT_EQ(machine.read("b"), 20);
  machine.apply({{"op", "write"}, {"key", "s"}, {"value", "text"}});
  EXPECT_EQ(machine.apply({{"op", "txn"}, {"value", json::array({json::array({"at-least", "s", 0})})}})["error"],
            "precondition_failed");
  EXPECT_TRUE(KvStateMachine::validate({{"op", "txn"}, {"value", json::array({json::array({"at-least", "a", "x"})})}})
                  .has_value());
}

TEST(KvStateMachine, ValidateRejectsMalformedCommands) {
  EXPECT_TRUE(KvStateMachine::validate({{"op", "write"}, {"key", "x"}, {"value", 1}}) == std::nullopt);
  EXPECT_TRUE(KvStateMachine::validate({{"op", "frobnicate"}, {"key", "x"}}).has_value());
  EXPECT_TRUE(KvStateMachine::validate({{"op", "write"}, {"value", 1}}).has_value());
  EXPECT_TRUE(KvStateMachine::validate({{"op", "add"}, {"key", "x"}, {"value", "a"}}).has_value());
  EXPECT_TRUE(
      KvStateMachine::validate({{"op", "txn"}, {"value", json::array({json::array({"zz", "x", 1})})}}).has_value());
  EXPECT_TRUE(KvStateMachine::validate(json::array()).has_value());
}

TEST(KvStateMachine, SnapshotRoundTrip) {
  KvStateMachine machine;
  machine.apply({{"op", "write"}, {"key", "a"}, {"value", "text"}});
  machine.apply({{"op", "append"}, {"key", "b"}, {"value", 1}});
  KvStateMachine copy;
  copy.restore(machine.snapshot());
  EXPECT_EQ(copy.read("a"), "text");
  EXPECT_EQ(copy.read("b"), json::array({1}));
  EXPECT_EQ(copy.size(), 2u);
}

}  // namespace
}  // namespace chaosbench::targets
