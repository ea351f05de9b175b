// The set workload (Jepsen's set-full): clients add unique integers 0, 1, 2, ...
// to one set and read the whole set. On the node the set is a list under the
// key "set" (add = append, read = read); an absent key reads as the empty set,
// and sibling lists (concurrent adds on a Dynamo-style node) read as their union.
// Judged by the set checker (lost, stale, unexpected elements).
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class SetWorkload : public Workload {
 public:
  static constexpr const char* kKey = "set";  // the node key holding the set
  SetWorkload(std::uint64_t seed, double read_fraction);
  std::string_view name() const override { return "set"; }
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  nlohmann::json resolve_siblings(const nlohmann::json& reply_value, const nlohmann::json& siblings) const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  std::vector<std::string> default_checkers() const override { return {"set"}; }
  std::set<std::string> client_operations() const override { return {"read", "append"}; }

 private:
  std::mt19937_64 random_;
  std::uint64_t reads_per_thousand_;
  std::int64_t next_element_ = 0;
};

}  // namespace chaosbench::workloads
