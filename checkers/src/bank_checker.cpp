#include "chaosbench/checkers/bank_checker.h"

#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "judge_floor.h"

namespace chaosbench::checkers {
namespace {

std::string account_name(const nlohmann::json& key) { return key.is_string() ? key.get<std::string>() : key.dump(); }

// The balances of a read, or nullopt when the op is not a balance read.
std::optional<std::map<std::string, nlohmann::json>> balances_of(const History& history, const OperationPair& pair) {
  const Operation& invocation = history.operations[pair.invocation];
  const std::string& function = history.function_name(invocation);
  nlohmann::json value = history.values.to_json(history.operations[pair.completion].value);
  std::map<std::string, nlohmann::json> balances;
  if (function == "read") {
    if (!value.is_object()) {
      throw HistoryError(fmt::format("op {}: field 'value': a bank read must be an object {{account: balance}}, got {}",
                                     pair.completion, value.dump()));
    }
    for (const auto& [account, balance] : value.items()) balances[account] = balance;
    return balances;
  }
  if (function != "txn") return std::nullopt;
  if (!value.is_array()) {
    throw HistoryError(
        fmt::format("op {}: field 'value': a txn must be a list of micro-ops, got {}", pair.completion, value.dump()));
  }
  for (const auto& mop : value) {
    if (!mop.is_array() || mop.size() != 3) {
      throw HistoryError(fmt::format("op {}: field 'value': a micro-op must be [f, account, value], got {}",
                                     pair.completion, mop.dump()));
    }
    if (mop[0] != "r") return std::nullopt;  // a transfer
    balances[account_name(mop[1])] = mop[2];
  }
  return balances;
}

}  // namespace

CheckResult check_bank(const History& history, const BankOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CheckResult result;
  result.checker = "bank";
  std::optional<std::int64_t> total = options.total;
  bool inferred = false;
  std::size_t reads = 0, wrong_total = 0, negative = 0, missing = 0, bad = 0;
  std::set<std::string> expected_accounts(options.accounts.begin(), options.accounts.end());
  auto note = [&](std::string line) {
    if (result.evidence.size() < options.max_evidence) result.evidence.push_back(std::move(line));
  };
  JudgeFloor floor;
  for (const OperationPair& pair : pair_operations(history)) {
    if (pair.outcome != OpType::ok) continue;
    auto balances = balances_of(history, pair);
    if (!balances) {
      const std::string& function = history.function_name(history.operations[pair.invocation]);
      if (function == "transfer" || function == "txn") floor.update(0, pair.invocation, true);
      continue;
    }
    ++reads;
    floor.ok_read(0, pair.completion);
    std::int64_t sum = 0;
    bool read_bad = false;
    for (const auto& [account, balance] : *balances) {
      if (!balance.is_number_integer()) {
        note(fmt::format("op {} read account {} = {}: not a balance", pair.invocation, account, balance.dump()));
        read_bad = true;
        continue;
      }
      std::int64_t amount = balance.get<std::int64_t>();
      sum += amount;
      if (amount < 0 && !options.negative_balances_allowed) {
        ++negative;
        note(fmt::format("op {} read account {} = {}: a negative balance", pair.invocation, account, amount));
      }
    }
    if (!expected_accounts.empty()) {
      for (const std::string& account : expected_accounts) {
        if (!balances->contains(account)) {
          ++missing;
          note(fmt::format("op {} did not read account {}", pair.invocation, account));
        }
      }
    }
    if (read_bad) {
      ++bad;
      continue;
    }
    if (!total) {
      total = sum;
      inferred = true;
      continue;
    }
    if (sum != *total) {
      ++wrong_total;
      note(fmt::format("op {} read balances summing to {}, not {}", pair.invocation, sum, *total));
    }
  }
  result.details = {{"reads", reads},
                    {"total", total ? nlohmann::json(*total) : nlohmann::json(nullptr)},
                    {"total_inferred", inferred},
                    {"wrong_total", wrong_total},
                    {"negative", negative},
                    {"missing_account", missing},
                    {"bad_reads", bad}};
  if (wrong_total + negative + missing + bad > 0) {
    result.verdict = Verdict::invalid;
    result.reason = fmt::format(
        "{} of {} read(s) wrong: {} with a wrong total, {} with negative balances, {} missing an "
        "account, {} with a non-integer balance",
        wrong_total + negative + missing + bad, reads, wrong_total, negative, missing, bad);
  } else if (!floor.has_acknowledged_update()) {
    result.verdict = Verdict::unknown;
    result.reason = floor.missing_update("transfer");
  } else if (reads == 0) {
    result.verdict = Verdict::unknown;
    result.reason = "nothing to judge: no ok balance read";
  } else if (std::string nothing = floor.missing("transfer", "balance read", "transfer"); !nothing.empty()) {
    result.verdict = Verdict::unknown;
    result.reason = nothing;
  } else {
    result.verdict = Verdict::valid;
    result.reason =
        fmt::format("{} read(s) all sum to {}{}", reads, *total,
                    inferred ? " (the total of the first read; pass the expected total to check that too)" : "");
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
