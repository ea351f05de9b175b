// KvStateMachine: the deterministic key-value store every reference protocol
// (Raft, ZAB, quorum) replicates. Commands are client-protocol JSON objects
// (read, write, cas, append, add, delete, txn); apply() is a pure function of state and
// command, so replicas that apply the same commands agree. Not thread-safe.
// Txn micro-ops are protocol/transaction.h's.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace chaosbench::targets {

class KvStateMachine {
 public:
  // Returns an error message if `request` is not a well-formed state machine
  // command (wrong op, missing key, bad micro-op); nullopt if it can be applied.
  static std::optional<std::string> validate(const nlohmann::json& request);

  // True for ops that change state and so must go through the log.
  static bool is_update(const std::string& op);

  // Applies one validated command. Returns the reply body without the id:
  // {"ok":true[, "value":...]} or {"error":..., "definite":true} for a
  // precondition failure (cas mismatch, append to a non-list, add to a non-integer).
  nlohmann::json apply(const nlohmann::json& command);

  // Current value of `key`, or null when absent.
  nlohmann::json read(const std::string& key) const;

  // Serialised copy of the whole state (CBOR) and its inverse.
  std::string snapshot() const;
  void restore(const std::string& snapshot_bytes);

  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::string, nlohmann::json> values_;
};

}  // namespace chaosbench::targets
