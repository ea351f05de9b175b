// The kv workload: get / put / append over a window of three live keys
// ("k0".. ), the oldest replaced by a fresh one every few hundred operations.
// Values are unique tokens "N;"; on the node a key holds the list of tokens
// appended since the last put, which the history records as their
// concatenation, matching the checker's kv model (strings built by appends).
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class KvWorkload : public Workload {
 public:
  static constexpr std::uint64_t kLiveKeys = 3;
  KvWorkload(std::uint64_t seed, KeyRotation rotation, double read_fraction = 0.5);
  std::string_view name() const override { return "kv"; }
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  std::vector<std::string> default_checkers() const override { return {"linearizable"}; }
  std::set<std::string> client_operations() const override { return {"read", "write", "append"}; }

 private:
  std::mt19937_64 random_;
  KeyRotation rotation_;
  std::uint64_t reads_per_thousand_;
  std::uint64_t oldest_key_ = 0;
  std::uint64_t operations_left_on_window_ = 0;
  std::uint64_t next_token_ = 1;
};

}  // namespace chaosbench::workloads
