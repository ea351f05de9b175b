// A workload: which operations the clients issue, drawn from a seeded random
// source (same seed, same sequence), how each maps onto the client protocol
// (DESIGN.md) and back into the history, and which checker model applies.
// Not thread-safe: one thread draws the operations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/model.h"

namespace chaosbench::workloads {

// One operation as the history records it at invocation.
struct ClientOperation {
  std::string function;  // history "f": read/write/cas (register), get/put/append (kv)
  std::string key;
  nlohmann::json value;  // null for reads
  bool is_read() const { return function == "read" || function == "get"; }
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
  virtual nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const = 0;
  virtual checkers::ModelKind model() const = 0;
};

// "register" or "kv"; throws std::invalid_argument naming the known workloads.
// read_fraction (0..1): the share of reads (register) or gets (kv); the rest
// splits evenly into write/cas (register) or 70/30 into append/put (kv).
std::unique_ptr<Workload> make_workload(std::string_view name, std::uint64_t seed, KeyRotation rotation,
                                        double read_fraction = 0.5);
const std::vector<std::string>& workload_names();

}  // namespace chaosbench::workloads
