// ZAB value types: zxids, transactions, snapshots, votes and the one message
// struct every ZAB exchange uses (fields unused by a message type stay empty).
// Plain values, copyable, encodable to CBOR for the peer transport.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace chaosbench::zab {

using NodeId = std::string;

// A transaction id: the epoch of the leader that proposed it and its position
// in that epoch (counter starts at 1). Ordered lexicographically.
struct Zxid {
  std::uint64_t epoch = 0;
  std::uint64_t counter = 0;
  auto operator<=>(const Zxid&) const = default;
  bool operator==(const Zxid&) const = default;
};
std::string to_string(const Zxid& zxid);

struct Txn {
  Zxid zxid;
  std::string command;        // opaque to ZAB: the state machine's serialised command
  NodeId origin;              // node whose client asked for it (answers on apply)
  std::uint64_t context = 0;  // origin's request context
  bool operator==(const Txn&) const = default;
};

struct Snapshot {
  Zxid zxid;         // last transaction the snapshot covers
  std::string data;  // the state machine's serialised state
};

enum class Role { looking, following, leading };
const char* role_name(Role role);

// A vote in fast leader election; higher (epoch, zxid, leader) wins.
struct Vote {
  NodeId leader;
  Zxid zxid;
  std::uint64_t epoch = 0;
  bool operator==(const Vote&) const = default;
};
bool vote_beats(const Vote& challenger, const Vote& incumbent);

enum class MessageType : std::uint8_t {
  notification = 0,    // election: vote, round, sender role
  follower_info = 1,   // follower -> leader: accepted epoch, last zxid
  new_epoch = 2,       // leader -> follower: proposed epoch
  ack_epoch = 3,       // follower -> leader: current epoch, last zxid
  new_leader = 4,      // leader -> follower: sync (diff/trunc/snap) then NEWLEADER
  ack_new_leader = 5,  // follower -> leader: synced, current epoch persisted
  up_to_date = 6,      // leader -> follower: commit point, start serving
  proposal = 7,        // leader -> follower: one txn, with the previous zxid
  ack = 8,             // follower -> leader: logged everything up to zxid
  commit = 9,          // leader -> follower: committed up to zxid
  ping = 10,           // leader -> follower: heartbeat with commit point
  ping_ack = 11,       // follower -> leader
  forward = 12,        // follower -> leader: a client's update
  sync_request = 13,   // follower -> leader: client sync (context)
  sync_reply = 14,     // leader -> follower: catch up to zxid, then answer context
};
const char* message_type_name(MessageType type);

enum class SyncMode : std::uint8_t { diff = 0, trunc = 1, snap = 2 };

struct Message {
  MessageType type = MessageType::notification;
  NodeId from;
  NodeId to;
  std::uint64_t epoch = 0;  // the session's epoch (leader <-> follower messages)
  // notification
  Vote vote;
  std::uint64_t round = 0;
  Role sender_role = Role::looking;
  // follower_info: accepted epoch; ack_epoch: current epoch
  std::uint64_t peer_epoch = 0;
  bool epoch_ack_withheld = false;  // ack_epoch: already accepted this epoch from another leader
  Zxid zxid;                        // last zxid / acked / committed / proposal's zxid / sync target
  Zxid previous_zxid;               // proposal: the zxid right before it in the leader's log
  // new_leader
  SyncMode mode = SyncMode::diff;
  Zxid truncate_to;  // diff/trunc: drop every txn after this, then append txns
  bool has_snapshot = false;
  Snapshot snapshot;
  std::vector<Txn> txns;  // new_leader (diff), proposal (one), forward (one)
  Zxid commit;            // new_leader / up_to_date / ping: leader's commit point
  std::uint64_t context = 0;
};

// CBOR frames for the wire. decode throws std::runtime_error on malformed input.
std::string encode_message(const Message& message);
Message decode_message(const std::string& bytes);

}  // namespace chaosbench::zab
