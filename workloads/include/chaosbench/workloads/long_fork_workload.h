// The long-fork workload (Jepsen's jepsen.tests.long-fork): keys "x0", "x1", ..
// in groups of `group_size` (x0..x{n-1}, xn..), each written once, value 1, by a
// txn of one write; read txns read a whole group (keys shuffled) of a recently
// written key. Judged by the long-fork checker (reads of a group must agree on
// the order of its writes). History: f "txn", value the micro-ops.
#pragma once

#include <cstdint>
#include <deque>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class LongForkWorkload : public Workload {
 public:
  static constexpr std::size_t kRecentKeys = 8;  // reads go to the groups of the last 8 keys written
  // read_fraction: the share of read txns once some key is written. Throws
  // std::invalid_argument for a group size of 0.
  LongForkWorkload(std::uint64_t seed, double read_fraction, std::size_t group_size);
  std::string_view name() const override { return "long-fork"; }
  ClientOperation next() override;
  // One read of each group among the recent keys'.
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  std::set<std::string> client_operations() const override { return {"txn"}; }
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  std::vector<std::string> default_checkers() const override { return {"long-fork"}; }
  CheckerSettings checker_settings() const override;

 private:
  std::vector<std::uint64_t> group_of(std::uint64_t key) const;  // the group's keys, in order
  static ClientOperation read_txn(const std::vector<std::uint64_t>& keys);
  std::mt19937_64 random_;
  std::uint64_t reads_per_thousand_;
  std::size_t group_size_;
  std::deque<std::uint64_t> recent_;  // the last keys written, newest last
  std::uint64_t next_key_ = 0;
};

}  // namespace chaosbench::workloads
