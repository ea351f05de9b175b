// A workload: which operations the clients issue, drawn from a seeded random
// source (same seed, same sequence), how each maps onto the client protocol
// (DESIGN.md) and back into the history, and which checkers (with which
// settings) judge its history by default. Not thread-safe: one thread draws.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/bank_checker.h"
#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/model.h"
#include "chaosbench/workloads/key_pool.h"

namespace chaosbench::workloads {

// One operation as the history records it at invocation.
struct ClientOperation {
  std::string function;  // history "f": read/write/cas (register), get/put/append (kv), add, transfer, txn
  std::string key;       // "" for workloads without per-op keys (set, counter, bank, txns)
  nlohmann::json value;  // null for reads
  bool is_read() const { return function == "read" || function == "get"; }
};

// The settings the checkers take from the workload (harness check takes them
// from flags). Only the checkers that run use theirs.
struct CheckerSettings {
  checkers::ModelKind model = checkers::ModelKind::cas_register;  // linearizable, sequential
  // elle-list-append, elle-rw-register: the model the history is judged against.
  checkers::ConsistencyModel consistency_model = checkers::ConsistencyModel::serializable;
  checkers::BankOptions bank;            // total, accounts, whether negative balances are allowed
  std::size_t long_fork_group_size = 2;  // long-fork: keys each read reads
  bool wfr_keys = false;                 // elle-rw-register: writes follow reads within a txn (Elle's :wfr-keys?)
};

// How many operations go to one key before the workload moves to a fresh key:
// drawn uniformly from [minimum, maximum] for each key.
struct KeyRotation {
  std::uint64_t minimum = 100;
  std::uint64_t maximum = 300;
};

// "150" or "100-300"; throws std::invalid_argument (one line) otherwise.
KeyRotation parse_key_rotation(std::string_view text);

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string_view name() const = 0;
  // The next operation of the seeded sequence.
  virtual ClientOperation next() = 0;
  // One read of every key still in use (issued after the faults are healed).
  virtual std::vector<ClientOperation> final_reads() const = 0;
  // The client-protocol request for `operation`, without "id".
  virtual nlohmann::json request(const ClientOperation& operation) const = 0;
  // The history value of an ok completion, given the reply's "value" (or null).
  virtual nlohmann::json completion_value(const ClientOperation& operation,
                                          const nlohmann::json& reply_value) const = 0;
  // A read answered with concurrent versions (a Dynamo-style node's "siblings"): the value
  // this workload's client resolves them to. By default the node's own pick ("value").
  virtual nlohmann::json resolve_siblings(const nlohmann::json& reply_value, const nlohmann::json& /*siblings*/) const {
    return reply_value;
  }
  // The client-protocol ops (read, write, cas, append, add, delete, txn) its
  // requests use, setup and final reads included: a target must serve them all.
  virtual std::set<std::string> client_operations() const = 0;
  virtual checkers::ModelKind model() const = 0;
  // Checker names (as `harness check --checker` takes them) that judge this
  // workload's history when the user names none.
  virtual std::vector<std::string> default_checkers() const = 0;
  virtual CheckerSettings checker_settings() const {
    CheckerSettings settings;
    settings.model = model();
    return settings;
  }
  // Operations that must succeed, in order, before the workload starts (e.g.
  // the bank's opening balances); none by default.
  virtual std::vector<ClientOperation> setup_operations() const { return {}; }
};

// One of workload_names(); throws std::invalid_argument naming the known ones.
// read_fraction (0..1): the share of reads (register, set, counter, bank),
// gets (kv), read txns (long-fork) or read micro-ops (list-append,
// rw-register); the rest splits evenly into write/cas (register), 70/30 into
// append/put (kv), and is adds (set, counter), transfers (bank) or
// appends/writes (the txn workloads). `rotation` applies to register and kv,
// `txn_keys` to list-append and rw-register, `group_size` to long-fork.
std::unique_ptr<Workload> make_workload(std::string_view name, std::uint64_t seed, KeyRotation rotation,
                                        double read_fraction = 0.5, const KeyPoolOptions& txn_keys = {},
                                        std::size_t group_size = 2);
// list-append, rw-register: the workloads that take KeyPoolOptions.
bool uses_key_pool(std::string_view name);
const std::vector<std::string>& workload_names();
std::string known_workloads_text();  // "register, kv, set, ..."

}  // namespace chaosbench::workloads
