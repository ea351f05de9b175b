#include "chaosbench/harness/checker_selection.h"

#include <algorithm>
#include <chrono>

#include "chaosbench/checkers/convergence.h"
#include "chaosbench/checkers/counter_checker.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/checkers/long_fork.h"
#include "chaosbench/checkers/sequential.h"
#include "chaosbench/checkers/session.h"
#include "chaosbench/checkers/set_checker.h"

namespace chaosbench::harness {

// list-append, rw-register and set-full are elle-cli's / Jepsen's names for elle-list-append, elle-rw-register and set.
const std::vector<std::string> kCheckerNames = {
    "linearizable",     "sequential",  "session",  "convergence",      "set",
    "set-linearizable", "counter",     "bank",     "elle-list-append", "elle-rw-register",
    "list-append",      "rw-register", "set-full", "long-fork"};

bool is_known_checker(const std::string& name) {
  return std::find(kCheckerNames.begin(), kCheckerNames.end(), name) != kCheckerNames.end();
}

std::string known_checkers_text() {
  std::string text;
  for (const std::string& name : kCheckerNames) text += (text.empty() ? "" : ", ") + name;
  return text;
}

namespace {

// describe() output without its first (summary) line.
std::string evidence_lines(const std::string& described) {
  std::size_t first_break = described.find('\n');
  return first_break == std::string::npos ? std::string() : described.substr(first_break + 1);
}

}  // namespace

CheckerOutcome run_checker(const std::string& given_name, const checkers::History& history,
                           const CheckerConfiguration& configuration) {
  CheckerOutcome outcome;
  outcome.name = given_name;
  const std::string name = given_name == "list-append"   ? "elle-list-append"
                           : given_name == "rw-register" ? "elle-rw-register"
                           : given_name == "set-full"    ? "set"
                                                         : given_name;
  auto from_simple = [&](const checkers::CheckResult& result) {
    outcome.verdict = result.verdict;
    outcome.reason = result.reason;
    outcome.elapsed_seconds = result.elapsed_seconds;
    outcome.evidence = evidence_lines(checkers::describe(result));
    outcome.json = checkers::to_json(result);
  };
  // The linearizability and sequential searches take the same limits and report alike.
  auto with_search_limits = [&](auto check) {
    check.model = configuration.model;
    check.partition_by_key = configuration.partition_by_key;
    check.check_every_partition = configuration.check_every_partition;
    check.time_limit = configuration.time_limit;
    check.memory_limit_bytes = configuration.memory_limit_bytes;
    check.threads = configuration.threads;
    return check;
  };
  auto from_search = [&](const auto& result) {
    outcome.verdict = result.verdict;
    outcome.reason = result.reason;
    outcome.elapsed_seconds = result.elapsed_seconds;
    outcome.evidence = evidence_lines(checkers::describe(result, history));
    outcome.json = checkers::to_json(result);
  };
  if (name == "linearizable") {
    from_search(checkers::check_linearizability(history, with_search_limits(checkers::LinearizabilityOptions{})));
  } else if (name == "sequential") {
    from_search(checkers::check_sequential_consistency(history, with_search_limits(checkers::SequentialOptions{})));
  } else if (name == "session") {
    from_simple(checkers::check_session_guarantees(history).result);
  } else if (name == "convergence") {
    from_simple(checkers::check_convergence(history));
  } else if (name == "set" || name == "set-linearizable") {
    checkers::SetOptions options;
    options.stale_reads_invalid = name == "set-linearizable";  // Jepsen's set-full with :linearizable? true
    from_simple(checkers::check_set(history, options));
  } else if (name == "counter") {
    from_simple(checkers::check_counter(history));
  } else if (name == "bank") {
    from_simple(checkers::check_bank(history, configuration.bank));
  } else if (name == "long-fork") {
    checkers::LongForkOptions options;
    options.group_size = configuration.long_fork_group_size;
    from_simple(checkers::check_long_fork(history, options));
  } else if (name == "elle-list-append" || name == "elle-rw-register") {
    checkers::ElleOptions elle;
    elle.model = configuration.consistency_model;
    elle.time_limit = configuration.time_limit;
    elle.wfr_keys = configuration.wfr_keys;
    elle.sequential_keys = configuration.sequential_keys;
    elle.linearizable_keys = configuration.linearizable_keys;
    auto workload =
        name == "elle-list-append" ? checkers::TxnWorkload::list_append : checkers::TxnWorkload::rw_register;
    checkers::ElleResult result = checkers::check_transactions(history, workload, elle);
    outcome.verdict = result.verdict;
    outcome.reason = result.reason;
    outcome.elapsed_seconds = result.elapsed_seconds;
    outcome.evidence = evidence_lines(checkers::describe(result));
    outcome.json = checkers::to_json(result);
  } else {
    throw std::invalid_argument("unknown checker '" + name + "' (known: " + known_checkers_text() + ")");
  }
  return outcome;
}

std::vector<CheckerOutcome> run_checkers(const std::vector<std::string>& names, const checkers::History& history,
                                         const CheckerConfiguration& configuration) {
  std::vector<CheckerOutcome> outcomes;
  for (const std::string& name : names) {
    bool seen = std::any_of(outcomes.begin(), outcomes.end(),
                            [&](const CheckerOutcome& outcome) { return outcome.name == name; });
    if (!seen) outcomes.push_back(run_checker(name, history, configuration));
  }
  return outcomes;
}

checkers::Verdict overall_verdict(const std::vector<CheckerOutcome>& outcomes) {
  checkers::Verdict verdict = checkers::Verdict::valid;
  for (const CheckerOutcome& outcome : outcomes) verdict = checkers::combine(verdict, outcome.verdict);
  return verdict;
}

}  // namespace chaosbench::harness
