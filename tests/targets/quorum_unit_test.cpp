// Unit tests of the quorum store's building blocks: vector clocks, sibling
// reconciliation, the hash ring (placement, balance, rebalancing), Merkle
// diffs, message encoding, and recovery of a node from its log records.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "quorum/hash_ring.h"
#include "quorum/key_versions.h"
#include "quorum/merkle_tree.h"
#include "quorum/quorum_messages.h"
#include "quorum/quorum_node.h"
#include "quorum/vector_clock.h"
#include "runtime/clock.h"

namespace chaosbench::quorum {
namespace {

using nlohmann::json;

VectorClock clock_of(std::map<std::string, std::uint64_t> entries) {
  VectorClock clock;
  for (const auto& [node, counter] : entries) clock.set(node, counter);
  return clock;
}

Version version(json value, std::map<std::string, std::uint64_t> entries, std::int64_t timestamp = 0,
                std::string writer = "n1") {
  Version result;
  result.value = std::move(value);
  result.clock = clock_of(std::move(entries));
  result.timestamp = timestamp;
  result.writer = std::move(writer);
  return result;
}

TEST(VectorClockTest, CompareCoversAllFourOrders) {
  EXPECT_EQ(clock_of({{"a", 1}}).compare(clock_of({{"a", 1}})), ClockOrder::equal);
  EXPECT_EQ(clock_of({{"a", 1}}).compare(clock_of({{"a", 2}})), ClockOrder::before);
  EXPECT_EQ(clock_of({{"a", 1}, {"b", 1}}).compare(clock_of({{"a", 1}})), ClockOrder::after);
  EXPECT_EQ(clock_of({{"a", 2}}).compare(clock_of({{"b", 1}})), ClockOrder::concurrent);
  EXPECT_EQ(clock_of({}).compare(clock_of({{"b", 1}})), ClockOrder::before);
  EXPECT_EQ(clock_of({{"a", 2}, {"b", 1}}).compare(clock_of({{"a", 1}, {"b", 2}})), ClockOrder::concurrent);
}

TEST(VectorClockTest, MergeIsPointwiseMaximumAndRoundTripsThroughJson) {
  VectorClock clock = clock_of({{"a", 3}, {"b", 1}});
  clock.merge(clock_of({{"b", 4}, {"c", 2}}));
  EXPECT_EQ(clock, clock_of({{"a", 3}, {"b", 4}, {"c", 2}}));
  EXPECT_EQ(VectorClock::from_json(clock.to_json()), clock);
  EXPECT_THROW(VectorClock::from_json(json{{"a", -1}}), std::invalid_argument);
  EXPECT_THROW(VectorClock::from_json(json::array()), std::invalid_argument);
}

TEST(ReconcileTest, VectorClocksKeepConcurrentSiblingsAndDropAncestors) {
  const Siblings old_version{version(1, {{"n1", 1}})};
  const Siblings left{version(2, {{"n1", 2}})};
  const Siblings right{version(3, {{"n1", 1}, {"n2", 1}})};
  Siblings merged =
      reconcile(reconcile(old_version, left, ConflictMode::vector_clocks), right, ConflictMode::vector_clocks);
  ASSERT_EQ(merged.size(), 2u);
  const auto values = live_values(merged);
  EXPECT_EQ(std::set<json>(values.begin(), values.end()), (std::set<json>{2, 3}));
  EXPECT_EQ(chosen_value(merged), 3);
  // Order and repetition do not matter.
  Siblings other_order = reconcile(
      right, reconcile(left, reconcile(old_version, right, ConflictMode::vector_clocks), ConflictMode::vector_clocks),
      ConflictMode::vector_clocks);
  EXPECT_EQ(digest(other_order), digest(merged));
  // A write whose context covers both siblings supersedes them.
  const Siblings resolved{version(4, {{"n1", 2}, {"n2", 2}})};
  merged = reconcile(merged, resolved, ConflictMode::vector_clocks);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(chosen_value(merged), 4);
}

// Two writes through one coordinator from the same context (say two appends that read
// the same replicas) are concurrent. Plain vector clocks give the later {n1:1, n5:3}
// and the earlier {n1:1, n5:2}, so the later covers the earlier and an acknowledged
// write vanishes; dotted versions keep the context apart from the writer's own event.
TEST(ReconcileTest, DotsKeepTwoWritesOfOneCoordinatorFromOneContextAsSiblings) {
  auto dotted = [](json value, std::uint64_t counter, std::map<std::string, std::uint64_t> context) {
    Version result = version(std::move(value), std::move(context), 0, "n5");
    result.dot_node = "n5";
    result.dot_counter = counter;
    return result;
  };
  const Siblings base{dotted("a", 1, {})};
  const Siblings first{dotted("b", 2, {{"n5", 1}})};
  const Siblings second{dotted("c", 3, {{"n5", 1}})};
  Siblings merged = reconcile(reconcile(base, first, ConflictMode::vector_clocks), second, ConflictMode::vector_clocks);
  const auto values = live_values(merged);
  EXPECT_EQ(std::set<json>(values.begin(), values.end()), (std::set<json>{"b", "c"}))
      << "a superseded, b and c both kept";
  EXPECT_EQ(merged_clock(merged), clock_of({{"n5", 3}}));
  // A write from the merged context supersedes both; the same write twice is one version.
  const Siblings resolved{dotted("d", 4, {{"n5", 3}})};
  EXPECT_EQ(live_values(reconcile(reconcile(merged, resolved, ConflictMode::vector_clocks), resolved,
                                  ConflictMode::vector_clocks)),
            std::vector<json>{"d"});
  // Dots round-trip through the store's encoding; a bad dot is refused.
  EXPECT_EQ(to_json(siblings_from_json(to_json(merged))), to_json(merged));
  EXPECT_THROW(version_from_json(json{{"v", 1}, {"t", 0}, {"w", "n1"}, {"o", json::array({"n1", -1})}}),
               std::invalid_argument);
}

TEST(ReconcileTest, LastWriteWinsKeepsTheLargestTimestamp) {
  const Siblings early{version("early", {}, 100, "n2")};
  const Siblings late{version("late", {}, 200, "n1")};
  EXPECT_EQ(chosen_value(reconcile(early, late, ConflictMode::last_write_wins)), "late");
  EXPECT_EQ(chosen_value(reconcile(late, early, ConflictMode::last_write_wins)), "late");
  // Ties break on the writer id, deterministically.
  const Siblings tie{version("tie", {}, 200, "n3")};
  EXPECT_EQ(chosen_value(reconcile(late, tie, ConflictMode::last_write_wins)), "tie");
}

TEST(HashRingTest, PreferenceListsAreDistinctDeterministicAndBalanced) {
  HashRing ring({"n1", "n2", "n3", "n4", "n5"}, 64);
  HashRing same({"n1", "n2", "n3", "n4", "n5"}, 64);
  std::map<std::string, int> primaries;
  for (int key = 0; key < 10000; ++key) {
    const auto list = ring.preference_list("k" + std::to_string(key), 3);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(std::set<std::string>(list.begin(), list.end()).size(), 3u);
    EXPECT_EQ(list, same.preference_list("k" + std::to_string(key), 3));
    ++primaries[list[0]];
  }
  for (const auto& [node, count] : primaries) {
    EXPECT_GT(count, 1400) << node;  // 2000 each if perfectly even
    EXPECT_LT(count, 2600) << node;
  }
  EXPECT_EQ(ring.preference_list("x", 9).size(), 5u);
  EXPECT_THROW(HashRing({"n1", "n1"}, 4), std::invalid_argument);
}

TEST(HashRingTest, AddingANodeMovesOnlyItsShareOfKeysAndOnlyToIt) {
  HashRing before({"n1", "n2", "n3", "n4"}, 64);
  HashRing after({"n1", "n2", "n3", "n4", "n5"}, 64);
  int moved = 0;
  const int keys = 20000;
  for (int key = 0; key < keys; ++key) {
    const std::string name = "key-" + std::to_string(key);
    const auto old_primary = before.preference_list(name, 1)[0];
    const auto new_primary = after.preference_list(name, 1)[0];
    if (old_primary != new_primary) {
      ++moved;
      EXPECT_EQ(new_primary, "n5") << name;
    }
  }
  // About 1/5 of the keys move (consistent hashing), not most of them.
  EXPECT_GT(moved, keys / 5 - keys / 12);
  EXPECT_LT(moved, keys / 5 + keys / 12);
}

TEST(MerkleTreeTest, DiffFindsExactlyTheChangedBuckets) {
  MerkleTree a(10), b(10);
  std::set<std::size_t> expected;
  for (int key = 0; key < 5000; ++key) {
    const std::string name = "key-" + std::to_string(key);
    const std::uint64_t hash = HashRing::hash(name);
    a.add(hash, 42);
    const bool changed = key % 500 == 7;
    const bool missing = key % 777 == 3;
    if (!missing) b.add(hash, changed ? 43 : 42);
    if (changed || missing) expected.insert(MerkleTree::leaf_of(hash, 10));
  }
  a.build();
  b.build();
  const auto differing = MerkleTree::differing_leaves(a, b);
  EXPECT_EQ(std::set<std::size_t>(differing.begin(), differing.end()), expected);
  EXPECT_TRUE(MerkleTree::differing_leaves(a, a).empty());
  EXPECT_NE(a.hash(0, 0), b.hash(0, 0));
  EXPECT_EQ(MerkleTree::descendants(1, 1, 3), (std::vector<std::size_t>{4, 5, 6, 7}));
  EXPECT_THROW(MerkleTree(0), std::invalid_argument);
}

TEST(QuorumMessagesTest, RoundTripAndGarbageIsRejected) {
  Message message;
  message.type = MessageType::replica_write;
  message.from = "n1";
  message.to = "n2";
  message.operation = 77;
  message.key = "k";
  message.versions = {version(json::array({1, 2}), {{"n1", 5}}, 123, "n1")};
  message.hint_for = "n3";
  const Message decoded = decode_message(encode_message(message));
  EXPECT_EQ(decoded.type, message.type);
  EXPECT_EQ(decoded.operation, 77u);
  EXPECT_EQ(decoded.hint_for, "n3");
  EXPECT_EQ(digest(decoded.versions), digest(message.versions));
  EXPECT_THROW(decode_message("not cbor at all"), std::runtime_error);
  const auto wrong = json::to_cbor(json{{"y", 99}, {"f", "n1"}, {"o", "n2"}});
  EXPECT_THROW(decode_message(std::string(wrong.begin(), wrong.end())), std::runtime_error);
}

QuorumConfig single_node_config() {
  QuorumConfig config;
  config.id = "n1";
  config.members = {"n1"};
  config.replicas = 1;
  config.read_quorum = 1;
  config.write_quorum = 1;
  return config;
}

json reply_for(Ready& ready, std::uint64_t request_id) {
  for (const auto& answer : ready.replies) {
    if (answer.request_id == request_id) return answer.body;
  }
  return nullptr;
}

TEST(QuorumNodeTest, RestartRecoversStoreAndNeverReusesClockCounters) {
  targets::ManualClock monotonic, wall;
  std::vector<std::string> log;
  json first_context;
  {
    QuorumNode node(single_node_config(), monotonic, wall, RecoveredState{});
    node.client_request(1, {{"op", "write"}, {"key", "a"}, {"value", 1}});
    node.client_request(2, {{"op", "write"}, {"key", "b"}, {"value", 2}});
    node.client_request(3, {{"op", "delete"}, {"key", "b"}});
    node.client_request(4, {{"op", "read"}, {"key", "a"}});
    Ready ready = node.take_ready();
    log = ready.records;
    EXPECT_EQ(reply_for(ready, 1)["ok"], true);
    first_context = reply_for(ready, 4)["context"];
    EXPECT_EQ(reply_for(ready, 4)["value"], 1);
  }
  QuorumNode restarted(single_node_config(), monotonic, wall, RecoveredState{log});
  EXPECT_EQ(restarted.store().size(), 2u);  // a, and b's tombstone
  restarted.client_request(5, {{"op", "read"}, {"key", "b"}});
  restarted.client_request(6, {{"op", "write"}, {"key", "a"}, {"value", 3}});
  restarted.client_request(7, {{"op", "read"}, {"key", "a"}});
  Ready ready = restarted.take_ready();
  EXPECT_EQ(reply_for(ready, 5)["value"], nullptr);
  EXPECT_EQ(reply_for(ready, 7)["value"], 3);
  EXPECT_GT(reply_for(ready, 7)["context"]["n1"].get<std::uint64_t>(), first_context["n1"].get<std::uint64_t>());
}

TEST(QuorumNodeTest, WritesFromOneStaleContextThroughOneNodeBecomeSiblings) {
  targets::ManualClock monotonic, wall;
  QuorumNode node(single_node_config(), monotonic, wall, RecoveredState{});
  node.client_request(1, {{"op", "write"}, {"key", "k"}, {"value", "first"}});
  node.client_request(2, {{"op", "read"}, {"key", "k"}});
  Ready ready = node.take_ready();
  const json context = reply_for(ready, 2)["context"];
  // Two clients both read "first", then both write with that context.
  node.client_request(3, {{"op", "write"}, {"key", "k"}, {"value", "left"}, {"context", context}});
  node.client_request(4, {{"op", "write"}, {"key", "k"}, {"value", "right"}, {"context", context}});
  node.client_request(5, {{"op", "read"}, {"key", "k"}});
  ready = node.take_ready();
  EXPECT_EQ(reply_for(ready, 3)["ok"], true);
  EXPECT_EQ(reply_for(ready, 4)["ok"], true);
  EXPECT_EQ(reply_for(ready, 5)["siblings"], json::array({"left", "right"})) << reply_for(ready, 5).dump();
  // A write with the context of that read resolves them.
  node.client_request(6,
                      {{"op", "write"}, {"key", "k"}, {"value", "both"}, {"context", reply_for(ready, 5)["context"]}});
  node.client_request(7, {{"op", "read"}, {"key", "k"}});
  ready = node.take_ready();
  EXPECT_EQ(reply_for(ready, 7)["value"], "both");
  EXPECT_FALSE(reply_for(ready, 7).contains("siblings"));
}

TEST(QuorumNodeTest, RefusesConsensusOpsAndBadInputWithDefiniteErrors) {
  targets::ManualClock monotonic, wall;
  QuorumNode node(single_node_config(), monotonic, wall, RecoveredState{});
  node.client_request(1, {{"op", "cas"}, {"key", "a"}, {"from", 1}, {"to", 2}});
  node.client_request(2, {{"op", "write"}, {"key", "a"}});
  node.client_request(3, {{"op", "frobnicate"}, {"key", "a"}});
  node.client_request(4, {{"op", "write"}, {"key", "a"}, {"value", 1}, {"context", "junk"}});
  node.client_request(5, {{"op", "status"}});
  Ready ready = node.take_ready();
  EXPECT_EQ(reply_for(ready, 1),
            (json{{"error", "unsupported"},
                  {"definite", true},
                  {"message", "cas needs consensus; a leaderless quorum store cannot do it atomically"}}));
  EXPECT_EQ(reply_for(ready, 2)["error"], "malformed");
  EXPECT_EQ(reply_for(ready, 3)["error"], "unknown_op");
  EXPECT_EQ(reply_for(ready, 4)["error"], "malformed");
  EXPECT_EQ(reply_for(ready, 5)["value"]["role"], "replica");
  QuorumConfig bad = single_node_config();
  bad.write_quorum = 2;
  EXPECT_THROW(QuorumNode(bad, monotonic, wall, RecoveredState{}), std::invalid_argument);
}

}  // namespace
}  // namespace chaosbench::quorum
