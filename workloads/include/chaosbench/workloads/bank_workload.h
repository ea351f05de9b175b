// The bank workload: five accounts a0..a4 open with 20 each (a setup txn of
// writes). Clients transfer 1-5 between two accounts as one guarded txn
// [["at-least",from,n],["add",from,-n],["add",to,n]] (an overdraft fails and
// moves nothing) and read every balance in one txn of reads. The history
// records "transfer" {"from","to","amount"} and "read" {account: balance};
// judged by the bank checker: total 100, no negative balance, every account.
#pragma once

#include <cstdint>
#include <random>

#include "chaosbench/workloads/workload.h"

namespace chaosbench::workloads {

class BankWorkload : public Workload {
 public:
  static constexpr std::int64_t kAccounts = 5;
  static constexpr std::int64_t kOpeningBalance = 20;
  static constexpr std::int64_t kLargestTransfer = 5;
  BankWorkload(std::uint64_t seed, double read_fraction);
  std::string_view name() const override { return "bank"; }
  ClientOperation next() override;
  std::vector<ClientOperation> final_reads() const override;
  nlohmann::json request(const ClientOperation& operation) const override;
  nlohmann::json completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const override;
  checkers::ModelKind model() const override { return checkers::ModelKind::kv; }
  std::vector<std::string> default_checkers() const override { return {"bank"}; }
  std::set<std::string> client_operations() const override { return {"txn"}; }
  CheckerSettings checker_settings() const override;
  std::vector<ClientOperation> setup_operations() const override;
  static std::string account(std::int64_t index);

 private:
  std::mt19937_64 random_;
  std::uint64_t reads_per_thousand_;
};

}  // namespace chaosbench::workloads
