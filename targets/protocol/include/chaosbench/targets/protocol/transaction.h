// The client protocol's data requests and txn semantics (DESIGN.md): micro-ops [f, key, value]
// with f one of r, w, append, add and the guard at-least, applied in order to a
// view of the keys; a failed guard or a type mismatch fails the whole txn, which
// then changes nothing. Shared by the reference nodes and the real-system adapters.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::targets::protocol {

// The problem with a data request (read, write, cas, append, add, delete, txn:
// an unknown op, a missing key or value, a bad micro-op), or nullopt when it is
// well formed. "status" and other control ops are not data requests.
std::optional<std::string> validate_request(const nlohmann::json& request);

// The problem with a txn's micro-op list, or nullopt when every micro-op is
// [f, key, value] with a known f and an integer where add and at-least need one.
std::optional<std::string> validate_transaction(const nlohmann::json& micro_ops);

// Applies one micro-op to `view` (absent keys are absent from the map) and
// returns what the txn reply echoes as its value (the read value for r).
// Throws std::invalid_argument naming the precondition that failed.
nlohmann::json apply_micro_op(std::map<std::string, nlohmann::json>& view, const std::string& function,
                              const std::string& key, const nlohmann::json& value);

// The reply to an op whose precondition failed (a cas that did not match, a
// failed guard, a type mismatch): {"error":"precondition_failed","message":...,
// "definite":true}. Certainly no effect, the history's `fail`.
nlohmann::json precondition_failed_reply(const std::string& message);

struct TransactionResult {
  // The micro-ops with reads filled in (the reply's value); empty when a precondition failed.
  nlohmann::json completed = nlohmann::json::array();
  std::optional<std::string> failed_precondition;
};

// Applies a validated micro-op list to `view`; on a failed precondition `view`
// is left as it was.
TransactionResult apply_transaction(std::map<std::string, nlohmann::json>& view, const nlohmann::json& micro_ops);

// The part of a data request a replicated node puts into its log (op, key,
// value, from, to: everything but the client's id), as compact JSON.
std::string logged_command(const nlohmann::json& request);

// Every key the txn touches, and those of them it changes (w, append, add).
std::set<std::string> transaction_keys(const nlohmann::json& micro_ops);
std::set<std::string> transaction_written_keys(const nlohmann::json& micro_ops);

}  // namespace chaosbench::targets::protocol
