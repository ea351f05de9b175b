// Bank checker: transfers move money between accounts; every ok read of all
// balances must sum to the total, and, when the target promises it, hold no
// negative balance. Reads: "read" ops whose value is an object {account:
// balance}, or "txn" ops made only of ["r", account, balance] micro-ops.
// Transfers ("transfer" or txns with writes) are not checked themselves. Pure. Nothing to judge
// (unknown, not valid): no ok transfer, or no ok balance read completing after the invocation of one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct BankOptions {
  std::optional<std::int64_t> total;  // nullopt: the first ok read's sum (said so in the reason)
  std::vector<std::string> accounts;  // empty: not checked; else every read must show exactly these
  bool negative_balances_allowed = true;
  std::size_t max_evidence = 20;
};

// checker "bank"; details: reads, total, wrong_total, negative, missing_account, bad_reads.
// Throws HistoryError for a read whose value is not an object / balance not an integer.
CheckResult check_bank(const History& history, const BankOptions& options = {});

}  // namespace chaosbench::checkers
