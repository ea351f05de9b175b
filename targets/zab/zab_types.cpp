#include "zab/zab_types.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace chaosbench::zab {

using nlohmann::json;

std::string to_string(const Zxid& zxid) { return fmt::format("({},{})", zxid.epoch, zxid.counter); }

const char* role_name(Role role) {
  switch (role) {
    case Role::looking:
      return "looking";
    case Role::following:
      return "following";
    case Role::leading:
      return "leading";
  }
  return "unknown";
}

bool vote_beats(const Vote& challenger, const Vote& incumbent) {
  if (challenger.epoch != incumbent.epoch) return challenger.epoch > incumbent.epoch;
  if (challenger.zxid != incumbent.zxid) return challenger.zxid > incumbent.zxid;
  return challenger.leader > incumbent.leader;
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::notification:
      return "notification";
    case MessageType::follower_info:
      return "follower_info";
    case MessageType::new_epoch:
      return "new_epoch";
    case MessageType::ack_epoch:
      return "ack_epoch";
    case MessageType::new_leader:
      return "new_leader";
    case MessageType::ack_new_leader:
      return "ack_new_leader";
    case MessageType::up_to_date:
      return "up_to_date";
    case MessageType::proposal:
      return "proposal";
    case MessageType::ack:
      return "ack";
    case MessageType::commit:
      return "commit";
    case MessageType::ping:
      return "ping";
    case MessageType::ping_ack:
      return "ping_ack";
    case MessageType::forward:
      return "forward";
    case MessageType::sync_request:
      return "sync_request";
    case MessageType::sync_reply:
      return "sync_reply";
  }
  return "unknown";
}

namespace {

json zxid_to_json(const Zxid& zxid) { return json::array({zxid.epoch, zxid.counter}); }
Zxid zxid_from_json(const json& value) {
  return Zxid{value.at(0).get<std::uint64_t>(), value.at(1).get<std::uint64_t>()};
}
json bytes_to_json(const std::string& bytes) {
  return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}
std::string bytes_from_json(const json& value) {
  const auto& bytes = value.get_binary();
  return std::string(bytes.begin(), bytes.end());
}
json txn_to_json(const Txn& txn) {
  return json::array({zxid_to_json(txn.zxid), bytes_to_json(txn.command), txn.origin, txn.context});
}
Txn txn_from_json(const json& value) {
  Txn txn;
  txn.zxid = zxid_from_json(value.at(0));
  txn.command = bytes_from_json(value.at(1));
  txn.origin = value.at(2).get<std::string>();
  txn.context = value.at(3).get<std::uint64_t>();
  return txn;
}

}  // namespace

std::string encode_message(const Message& message) {
  json txns = json::array();
  for (const auto& txn : message.txns) txns.push_back(txn_to_json(txn));
  json value = json::array({static_cast<int>(message.type), message.from, message.to, message.epoch,
                            json::array({message.vote.leader, zxid_to_json(message.vote.zxid), message.vote.epoch}),
                            message.round, static_cast<int>(message.sender_role), message.peer_epoch,
                            zxid_to_json(message.zxid), zxid_to_json(message.previous_zxid),
                            static_cast<int>(message.mode), zxid_to_json(message.truncate_to), message.has_snapshot,
                            zxid_to_json(message.snapshot.zxid), bytes_to_json(message.snapshot.data), std::move(txns),
                            zxid_to_json(message.commit), message.context, message.epoch_ack_withheld});
  std::vector<std::uint8_t> bytes = json::to_cbor(value);
  return std::string(bytes.begin(), bytes.end());
}

Message decode_message(const std::string& bytes) {
  try {
    const json value = json::from_cbor(bytes);
    Message message;
    const int type = value.at(0).get<int>();
    if (type < 0 || type > static_cast<int>(MessageType::sync_reply)) throw std::runtime_error("bad message type");
    message.type = static_cast<MessageType>(type);
    message.from = value.at(1).get<std::string>();
    message.to = value.at(2).get<std::string>();
    message.epoch = value.at(3).get<std::uint64_t>();
    message.vote.leader = value.at(4).at(0).get<std::string>();
    message.vote.zxid = zxid_from_json(value.at(4).at(1));
    message.vote.epoch = value.at(4).at(2).get<std::uint64_t>();
    message.round = value.at(5).get<std::uint64_t>();
    const int role = value.at(6).get<int>();
    if (role < 0 || role > 2) throw std::runtime_error("bad role");
    message.sender_role = static_cast<Role>(role);
    message.peer_epoch = value.at(7).get<std::uint64_t>();
    message.zxid = zxid_from_json(value.at(8));
    message.previous_zxid = zxid_from_json(value.at(9));
    const int mode = value.at(10).get<int>();
    if (mode < 0 || mode > 2) throw std::runtime_error("bad sync mode");
    message.mode = static_cast<SyncMode>(mode);
    message.truncate_to = zxid_from_json(value.at(11));
    message.has_snapshot = value.at(12).get<bool>();
    message.snapshot.zxid = zxid_from_json(value.at(13));
    message.snapshot.data = bytes_from_json(value.at(14));
    for (const auto& txn : value.at(15)) message.txns.push_back(txn_from_json(txn));
    message.commit = zxid_from_json(value.at(16));
    message.context = value.at(17).get<std::uint64_t>();
    message.epoch_ack_withheld = value.at(18).get<bool>();
    return message;
  } catch (const json::exception& error) {
    throw std::runtime_error(std::string("malformed zab message: ") + error.what());
  }
}

}  // namespace chaosbench::zab
