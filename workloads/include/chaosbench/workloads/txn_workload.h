// The generator shared by the transactional workloads (list-append,
// rw-register): txns of 1-4 micro-ops over a KeyPool of active keys "x0"..
// (Zipfian choice over 10 keys, each retired for a fresh one after 32 writes,
// by default, as Elle's generator); written values are unique integers. A txn that is one read
// goes to the node as a plain read (so read modes and read bugs show), any
// other txn as one "txn" request. History: f "txn", value the micro-ops.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "chaosbench/workloads/key_pool.h"
#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class TxnWorkload : public Workload {
 public:
  static constexpr std::uint64_t kMostMicroOps = 4;
  // write_function: "append" (list-append) or "w" (rw-register). Throws
  // std::invalid_argument for counts KeyPool refuses.
  TxnWorkload(std::uint64_t seed, double read_fraction, std::string write_function, const KeyPoolOptions& keys);
  ClientOperation next() override;
  // One txn reading every active key.
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  std::set<std::string> client_operations() const override { return {"read", "txn"}; }
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  // Judged against strict serializability: every txn goes through the log of
  // the reference nodes, and their plain reads are linearizable by default.
  CheckerSettings checker_settings() const override;

 private:
  static bool is_single_read(const ClientOperation& operation);
  std::mt19937_64 random_;
  std::uint64_t reads_per_thousand_;
  std::string write_function_;
  KeyPool keys_;
  std::int64_t next_value_ = 1;
};

}  // namespace chaosbench::workloads
