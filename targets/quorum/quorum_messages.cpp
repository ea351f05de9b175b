#include "quorum/quorum_messages.h"

#include <stdexcept>

namespace chaosbench::quorum {

const char* message_type_name(MessageType type) {
  static constexpr const char* kNames[] = {"gossip",       "gossip_reply", "replica_write",  "write_ack",
                                           "replica_read", "read_reply",   "repair",         "hint_replay",
                                           "hint_ack",     "tree_level",   "bucket_digests", "key_versions"};
  const int index = static_cast<int>(type);
  return index >= 0 && index < 12 ? kNames[index] : "unknown";
}

std::string encode_message(const Message& message) {
  nlohmann::json value = {{"y", static_cast<int>(message.type)}, {"f", message.from}, {"o", message.to}};
  if (message.operation != 0) value["p"] = message.operation;
  if (!message.key.empty()) value["k"] = message.key;
  if (!message.versions.empty()) value["v"] = to_json(message.versions);
  if (!message.hint_for.empty()) value["h"] = message.hint_for;
  if (!message.body.is_null()) value["b"] = message.body;
  const auto bytes = nlohmann::json::to_cbor(value);
  return std::string(bytes.begin(), bytes.end());
}

Message decode_message(std::string_view bytes) {
  nlohmann::json value;
  try {
    value = nlohmann::json::from_cbor(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("quorum message is not CBOR: ") + error.what());
  }
  try {
    Message message;
    const int type = value.at("y").get<int>();
    if (type < 0 || type > static_cast<int>(MessageType::key_versions)) {
      throw std::runtime_error("quorum message: unknown type " + std::to_string(type));
    }
    message.type = static_cast<MessageType>(type);
    message.from = value.at("f").get<std::string>();
    message.to = value.at("o").get<std::string>();
    message.operation = value.value("p", std::uint64_t{0});
    message.key = value.value("k", std::string());
    if (value.contains("v")) message.versions = siblings_from_json(value["v"]);
    message.hint_for = value.value("h", std::string());
    if (value.contains("b")) message.body = value["b"];
    return message;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("quorum message: ") + error.what());
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error(std::string("quorum message: ") + error.what());
  }
}

}  // namespace chaosbench::quorum
