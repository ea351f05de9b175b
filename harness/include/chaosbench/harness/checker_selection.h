// Runs named checkers on one history: the dispatch shared by `harness check`
// and `harness run`. Each checker gives a verdict, a one-line reason, evidence
// lines and its results.json entry; names must be from kCheckerNames.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/bank_checker.h"
#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/model.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::harness {

// linearizable, sequential, session, convergence, set, set-linearizable,
// counter, bank, elle-list-append, elle-rw-register, long-fork, and elle-cli's
// names list-append, rw-register, set-full.
extern const std::vector<std::string> kCheckerNames;
bool is_known_checker(const std::string& name);
std::string known_checkers_text();  // "linearizable, sequential, ..."

// What the checkers take besides the history.
struct CheckerConfiguration {
  checkers::ModelOptions model;  // linearizable, sequential
  bool partition_by_key = true;
  bool check_every_partition = false;
  std::chrono::milliseconds time_limit{0};  // 0: none (linearizable, sequential, elle-*)
  std::size_t memory_limit_bytes = std::size_t{8192} << 20;
  unsigned threads = 0;
  checkers::ConsistencyModel consistency_model = checkers::ConsistencyModel::serializable;  // elle-*
  checkers::BankOptions bank;
  std::size_t long_fork_group_size = 2;  // long-fork: keys each read reads
  // elle-rw-register's optional version-order sources (checkers::ElleOptions).
  bool wfr_keys = false;
  bool sequential_keys = false;
  bool linearizable_keys = false;
};

// The largest --group-size the long-fork checker and workload take.
inline constexpr std::size_t kMostLongForkGroupSize = 1000;

struct CheckerOutcome {
  std::string name;
  checkers::Verdict verdict = checkers::Verdict::valid;
  std::string reason;
  double elapsed_seconds = 0;
  std::string evidence;  // lines after the summary, "" when none
  nlohmann::json json;   // the results.json entry
};

// Throws what the checker throws (HistoryError on a history it cannot read).
CheckerOutcome run_checker(const std::string& name, const checkers::History& history,
                           const CheckerConfiguration& configuration);

// Each distinct name once, in order.
std::vector<CheckerOutcome> run_checkers(const std::vector<std::string>& names, const checkers::History& history,
                                         const CheckerConfiguration& configuration);

// invalid if any is invalid, else unknown if any is unknown, else valid.
checkers::Verdict overall_verdict(const std::vector<CheckerOutcome>& outcomes);

}  // namespace chaosbench::harness
