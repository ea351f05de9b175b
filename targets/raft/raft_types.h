// Raft value types: log entries, snapshots, persistent hard state and the one
// message struct every RPC uses (fields unused by a message type stay zero).
// Plain values, copyable, encodable to CBOR for the peer transport.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chaosbench::raft {

using NodeId = std::string;

enum class Role { follower, pre_candidate, candidate, leader };
const char* role_name(Role role);

enum class EntryKind : std::uint8_t { noop = 0, command = 1 };

struct LogEntry {
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  EntryKind kind = EntryKind::command;
  std::string command;  // opaque to Raft: the state machine's serialised command
  bool operator==(const LogEntry&) const = default;
};

struct Snapshot {
  std::uint64_t index = 0;  // last log index the snapshot covers
  std::uint64_t term = 0;   // term of that entry
  std::string data;         // the state machine's serialised state
};

// State that must be on stable storage before any message depending on it is sent.
struct HardState {
  std::uint64_t term = 0;
  NodeId voted_for;
  bool operator==(const HardState&) const = default;
};

enum class MessageType : std::uint8_t {
  pre_vote = 0,
  pre_vote_response = 1,
  vote = 2,
  vote_response = 3,
  append_entries = 4,
  append_entries_response = 5,
  install_snapshot = 6,
};
const char* message_type_name(MessageType type);

struct Message {
  MessageType type = MessageType::append_entries;
  NodeId from;
  NodeId to;
  std::uint64_t term = 0;
  // pre_vote / vote requests: the candidate's last log position; responses: granted.
  std::uint64_t last_log_index = 0;
  std::uint64_t last_log_term = 0;
  bool granted = false;
  // append_entries
  std::uint64_t previous_log_index = 0;
  std::uint64_t previous_log_term = 0;
  std::uint64_t leader_commit = 0;
  std::vector<LogEntry> entries;
  // append_entries and its response: the leader's heartbeat round (ReadIndex, lease).
  std::uint64_t heartbeat_round = 0;
  // append_entries_response (also answers install_snapshot)
  bool success = false;
  std::uint64_t match_index = 0;
  std::uint64_t conflict_index = 0;  // fast backtracking hint
  std::uint64_t conflict_term = 0;
  // install_snapshot
  Snapshot snapshot;
};

// CBOR frames for the wire. decode throws std::runtime_error on malformed input.
std::string encode_message(const Message& message);
Message decode_message(const std::string& bytes);

nlohmann::json entry_to_json(const LogEntry& entry);
LogEntry entry_from_json(const nlohmann::json& value);

}  // namespace chaosbench::raft
