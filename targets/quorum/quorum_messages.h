// Peer messages of the quorum store and their wire encoding (CBOR of a small
// JSON object, one message per PeerTransport frame). decode_message throws
// std::runtime_error with the reason for anything malformed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "quorum/key_versions.h"

namespace chaosbench::quorum {

enum class MessageType : int {
  gossip = 0,           // body: heartbeat table; answered by gossip_reply (push-pull)
  gossip_reply = 1,     // body: heartbeat table
  replica_write = 2,    // key, versions, hint_for (sloppy quorum); answered by write_ack after it is durable
  write_ack = 3,        // operation
  replica_read = 4,     // key; answered by read_reply
  read_reply = 5,       // operation, key, versions
  repair = 6,           // key, versions: read repair, no answer
  hint_replay = 7,      // operation = hint id, key, versions; answered by hint_ack once durable
  hint_ack = 8,         // operation = hint id
  tree_level = 9,       // operation = session; body {"level":L,"indices":[..],"hashes":[..]}
  bucket_digests = 10,  // operation = session; body {"keys":[[key,digest],..],"buckets":[..]}
  key_versions = 11,    // operation = session; body {"entries":{key:versions},"want":[keys]}
};

const char* message_type_name(MessageType type);

struct Message {
  MessageType type = MessageType::gossip;
  std::string from;
  std::string to;
  std::uint64_t operation = 0;
  std::string key;
  Siblings versions;
  std::string hint_for;
  nlohmann::json body;  // null unless the type says otherwise
};

std::string encode_message(const Message& message);
Message decode_message(std::string_view bytes);

}  // namespace chaosbench::quorum
