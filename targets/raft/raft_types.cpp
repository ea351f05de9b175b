#include "raft/raft_types.h"

#include <stdexcept>

namespace chaosbench::raft {

using nlohmann::json;

const char* role_name(Role role) {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "candidate";  // DESIGN.md's roles: leader/follower/candidate
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  return "unknown";
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::pre_vote:
      return "pre_vote";
    case MessageType::pre_vote_response:
      return "pre_vote_response";
    case MessageType::vote:
      return "vote";
    case MessageType::vote_response:
      return "vote_response";
    case MessageType::append_entries:
      return "append_entries";
    case MessageType::append_entries_response:
      return "append_entries_response";
    case MessageType::install_snapshot:
      return "install_snapshot";
  }
  return "unknown";
}

json entry_to_json(const LogEntry& entry) {
  return json::array({entry.term, entry.index, static_cast<int>(entry.kind),
                      json::binary(std::vector<std::uint8_t>(entry.command.begin(), entry.command.end()))});
}

LogEntry entry_from_json(const json& value) {
  LogEntry entry;
  entry.term = value.at(0).get<std::uint64_t>();
  entry.index = value.at(1).get<std::uint64_t>();
  int kind = value.at(2).get<int>();
  if (kind != 0 && kind != 1) throw std::runtime_error("bad entry kind");
  entry.kind = static_cast<EntryKind>(kind);
  const auto& bytes = value.at(3).get_binary();
  entry.command.assign(bytes.begin(), bytes.end());
  return entry;
}

std::string encode_message(const Message& message) {
  json document = json::array();
  document.push_back(static_cast<int>(message.type));
  document.push_back(message.from);
  document.push_back(message.to);
  document.push_back(message.term);
  document.push_back(message.last_log_index);
  document.push_back(message.last_log_term);
  document.push_back(message.granted);
  document.push_back(message.previous_log_index);
  document.push_back(message.previous_log_term);
  document.push_back(message.leader_commit);
  json entries = json::array();
  for (const auto& entry : message.entries) entries.push_back(entry_to_json(entry));
  document.push_back(std::move(entries));
  document.push_back(message.heartbeat_round);
  document.push_back(message.success);
  document.push_back(message.match_index);
  document.push_back(message.conflict_index);
  document.push_back(message.conflict_term);
  document.push_back(message.snapshot.index);
  document.push_back(message.snapshot.term);
  document.push_back(
      json::binary(std::vector<std::uint8_t>(message.snapshot.data.begin(), message.snapshot.data.end())));
  auto bytes = json::to_cbor(document);
  return std::string(bytes.begin(), bytes.end());
}

Message decode_message(const std::string& bytes) {
  try {
    json document = json::from_cbor(bytes);
    if (!document.is_array() || document.size() != 19) throw std::runtime_error("wrong field count");
    Message message;
    int type = document[0].get<int>();
    if (type < 0 || type > static_cast<int>(MessageType::install_snapshot)) throw std::runtime_error("bad type");
    message.type = static_cast<MessageType>(type);
    message.from = document[1].get<std::string>();
    message.to = document[2].get<std::string>();
    message.term = document[3].get<std::uint64_t>();
    message.last_log_index = document[4].get<std::uint64_t>();
    message.last_log_term = document[5].get<std::uint64_t>();
    message.granted = document[6].get<bool>();
    message.previous_log_index = document[7].get<std::uint64_t>();
    message.previous_log_term = document[8].get<std::uint64_t>();
    message.leader_commit = document[9].get<std::uint64_t>();
    for (const auto& entry : document[10]) message.entries.push_back(entry_from_json(entry));
    message.heartbeat_round = document[11].get<std::uint64_t>();
    message.success = document[12].get<bool>();
    message.match_index = document[13].get<std::uint64_t>();
    message.conflict_index = document[14].get<std::uint64_t>();
    message.conflict_term = document[15].get<std::uint64_t>();
    message.snapshot.index = document[16].get<std::uint64_t>();
    message.snapshot.term = document[17].get<std::uint64_t>();
    const auto& data = document[18].get_binary();
    message.snapshot.data.assign(data.begin(), data.end());
    return message;
  } catch (const json::exception& error) {
    throw std::runtime_error(std::string("malformed raft message: ") + error.what());
  }
}

}  // namespace chaosbench::raft
