#include "chaosbench/workloads/bank_workload.h"

#include <fmt/format.h>

namespace chaosbench::workloads {

using nlohmann::json;

BankWorkload::BankWorkload(std::uint64_t seed, double read_fraction)
    : random_(seed), reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)) {}

std::string BankWorkload::account(std::int64_t index) { return fmt::format("a{}", index); }

ClientOperation BankWorkload::next() {
  if (random_() % 1000 < reads_per_thousand_) return ClientOperation{"read", "", nullptr};
  const auto from = static_cast<std::int64_t>(random_() % kAccounts);
  // Another account: shift by 1..kAccounts-1.
  const auto to = (from + 1 + static_cast<std::int64_t>(random_() % (kAccounts - 1))) % kAccounts;
  const auto amount = static_cast<std::int64_t>(1 + random_() % kLargestTransfer);
  return ClientOperation{"transfer", "", json{{"from", account(from)}, {"to", account(to)}, {"amount", amount}}};
}

std::vector<ClientOperation> BankWorkload::final_reads() const { return {ClientOperation{"read", "", nullptr}}; }

std::vector<ClientOperation> BankWorkload::setup_operations() const {
  json writes = json::array();
  for (std::int64_t index = 0; index < kAccounts; ++index) {
    writes.push_back(json::array({"w", account(index), kOpeningBalance}));
  }
  return {ClientOperation{"txn", "", writes}};
}

CheckerSettings BankWorkload::checker_settings() const {
  CheckerSettings settings = Workload::checker_settings();
  settings.bank.total = kAccounts * kOpeningBalance;
  for (std::int64_t index = 0; index < kAccounts; ++index) settings.bank.accounts.push_back(account(index));
  settings.bank.negative_balances_allowed = false;  // transfers are guarded by at-least
  return settings;
}

json BankWorkload::request(const ClientOperation& operation) const {
  if (operation.function == "txn") return {{"op", "txn"}, {"value", operation.value}};
  if (operation.function == "read") {
    json reads = json::array();
    for (std::int64_t index = 0; index < kAccounts; ++index)
      reads.push_back(json::array({"r", account(index), nullptr}));
    return {{"op", "txn"}, {"value", reads}};
  }
  const json& from = operation.value.at("from");
  const json& to = operation.value.at("to");
  const std::int64_t amount = operation.value.at("amount").get<std::int64_t>();
  return {{"op", "txn"},
          {"value", json::array({json::array({"at-least", from, amount}), json::array({"add", from, -amount}),
                                 json::array({"add", to, amount})})}};
}

json BankWorkload::completion_value(const ClientOperation& operation, const json& reply_value) const {
  if (operation.function == "txn") return reply_value;
  if (operation.function != "read") return operation.value;
  // [["r","a0",20],...] -> {"a0":20,...}; anything else is kept for the checker to report.
  if (!reply_value.is_array()) return reply_value;
  json balances = json::object();
  for (const auto& micro_op : reply_value) {
    if (!micro_op.is_array() || micro_op.size() != 3 || !micro_op[1].is_string()) return reply_value;
    balances[micro_op[1].get<std::string>()] = micro_op[2];
  }
  return balances;
}

}  // namespace chaosbench::workloads
