// The register workload: read / write / cas on small integers (0-4), all
// clients on one key at a time, moving to a fresh key ("r0", "r1", ...) every
// few hundred operations so each key's sub-history stays small enough for the
// linearizability checker (cas-register model, a null read means absent).
// The unique-register variant writes each value once (1, 2, 3, ...) and never
// uses cas, so leaderless stores can serve it and the session checker applies.
// The register-delete variant is unique-register with a quarter of the updates
// deletes (a delete is a write of null: the key is absent again), for stores
// with tombstones; a deleted value read again is not linearizable. Its final
// reads cover every key the run used (r0 .. the current one), so a deleted
// value brought back on an old key is seen.
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class RegisterWorkload : public Workload {
 public:
  enum class Updates { write_and_cas, unique_writes, unique_writes_and_deletes };
  RegisterWorkload(std::uint64_t seed, KeyRotation rotation, double read_fraction = 0.5,
                   Updates updates = Updates::write_and_cas);
  std::string_view name() const override;
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  std::set<std::string> client_operations() const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::cas_register; }
  std::vector<std::string> default_checkers() const override {
    // The session checker knows writes, not deletes.
    if (updates_ == Updates::unique_writes) return {"linearizable", "session"};
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
  Updates updates_;
  std::int64_t next_unique_value_ = 1;
};

}  // namespace chaosbench::workloads
