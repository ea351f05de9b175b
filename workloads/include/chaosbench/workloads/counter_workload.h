// The counter workload: clients add small positive amounts (1-5) to one counter
// (the node key "counter", op add) and read it; an absent key reads as 0.
// Judged by the counter checker (each read within the bounds the ok and
// unknown adds allow).
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class CounterWorkload : public Workload {
 public:
  static constexpr const char* kKey = "counter";
  static constexpr std::int64_t kLargestAdd = 5;
  CounterWorkload(std::uint64_t seed, double read_fraction);
  std::string_view name() const override { return "counter"; }
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  std::vector<std::string> default_checkers() const override { return {"counter"}; }
  std::set<std::string> client_operations() const override { return {"read", "add"}; }

 private:
  std::mt19937_64 random_;
  std::uint64_t reads_per_thousand_;
};

}  // namespace chaosbench::workloads
