// The register workload: read / write / cas on small integers (0-4), all
// clients on one key at a time, moving to a fresh key ("r0", "r1", ...) every
// few hundred operations so each key's sub-history stays small enough for the
// linearizability checker (cas-register model, a null read means absent).
// The unique-register variant writes each value once (1, 2, 3, ...) and never
// uses cas, so leaderless stores can serve it and the session checker applies.
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class RegisterWorkload : public Workload {
 public:
  RegisterWorkload(std::uint64_t seed, KeyRotation rotation, double read_fraction = 0.5, bool unique_writes = false);
  std::string_view name() const override { return unique_writes_ ? "unique-register" : "register"; }
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::cas_register; }
  std::vector<std::string> default_checkers() const override {
    if (unique_writes_) return {"linearizable", "session"};
    return {"linearizable"};
  }

 private:
  std::string current_key() const;
  std::mt19937_64 random_;
  KeyRotation rotation_;
  std::uint64_t reads_per_thousand_;
  std::uint64_t key_index_ = 0;
  std::uint64_t keys_started_ = 0;
  std::uint64_t operations_left_on_key_ = 0;
  bool unique_writes_ = false;
  std::int64_t next_unique_value_ = 1;
};

}  // namespace chaosbench::workloads
