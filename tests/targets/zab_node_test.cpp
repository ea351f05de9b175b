// ZAB core rules without a network: the wire encoding round-trips, and a
// follower refuses a leader of an older epoch than it accepted.
#include "zab/zab_node.h"

#include <gtest/gtest.h>

#include <string>

namespace chaosbench::zab {
namespace {

Txn txn(std::uint64_t epoch, std::uint64_t counter) {
  return Txn{Zxid{epoch, counter}, "{\"op\":\"write\",\"key\":\"k\",\"value\":" + std::to_string(counter) + "}", "n1",
             counter};
}

TEST(ZabMessages, EncodingRoundTrips) {
  Message message;
  message.type = MessageType::new_leader;
  message.from = "n1";
  message.to = "n2";
  message.epoch = 7;
  message.vote = Vote{"n3", Zxid{6, 9}, 6};
  message.mode = SyncMode::snap;
  message.has_snapshot = true;
  message.snapshot = Snapshot{Zxid{6, 2}, std::string("\0bytes", 6)};
  message.txns = {txn(6, 3), txn(7, 1)};
  message.commit = Zxid{6, 3};
  message.epoch_ack_withheld = true;
  Message decoded = decode_message(encode_message(message));
  EXPECT_EQ(decoded.type, message.type);
  EXPECT_EQ(decoded.vote, message.vote);
  EXPECT_EQ(decoded.snapshot.data, message.snapshot.data);
  EXPECT_EQ(decoded.txns, message.txns);
  EXPECT_EQ(decoded.commit, message.commit);
  EXPECT_TRUE(decoded.epoch_ack_withheld);
  EXPECT_THROW(decode_message("garbage"), std::runtime_error);
}

TEST(ZabNode, FollowerRefusesAnOlderEpochLeader) {
  ZabConfig config;
  config.id = "n2";
  config.members = {"n1", "n2", "n3"};
  PersistentState restored;
  restored.epochs = EpochState{5, 4};
  ZabNode node(config, restored);
  node.take_ready();
  // n1 and n3 tell n2 that n1 leads; n2 follows and sends FOLLOWERINFO.
  for (const char* peer : {"n1", "n3"}) {
    Message notification;
    notification.type = MessageType::notification;
    notification.from = peer;
    notification.to = "n2";
    notification.sender_role = std::string(peer) == "n1" ? Role::leading : Role::following;
    notification.vote = Vote{"n1", Zxid{}, 3};
    node.step(notification);
  }
  ASSERT_EQ(node.role(), Role::following);
  Message new_epoch;
  new_epoch.type = MessageType::new_epoch;
  new_epoch.from = "n1";
  new_epoch.to = "n2";
  new_epoch.epoch = 4;  // below n2's acceptedEpoch 5
  node.step(new_epoch);
  EXPECT_EQ(node.role(), Role::looking);
  EXPECT_EQ(node.accepted_epoch(), 5u);
}

}  // namespace
}  // namespace chaosbench::zab
