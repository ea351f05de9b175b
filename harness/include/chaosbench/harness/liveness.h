// Liveness after the final heal: the cluster must serve an ok operation again
// within --recovery-limit of the heal (VOPR's liveness mode, Antithesis' quiet
// period). The run probes each client's node with reads; judge_recovery()
// reads those probes from the history: verdict, time to recover, who answered.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::harness {

// What one node's probes came back with.
struct ProbeAnswers {
  std::size_t ok = 0;
  std::size_t fail = 0;       // a definite refusal (unavailable, not leader, connection refused, ...)
  std::size_t no_answer = 0;  // info: timed out or unknown, or never completed
};

struct RecoveryJudgement {
  checkers::Verdict verdict = checkers::Verdict::unknown;  // valid: ok within the limit; invalid: not
  std::int64_t recovered_after_ms = -1;                    // heal to the first ok completion; -1: none
  std::int64_t waited_ms = 0;                              // heal to the end of the probing
  std::int64_t limit_ms = 0;
  std::size_t probes = 0;
  std::map<std::string, ProbeAnswers> nodes;
  std::string reason;  // one line
};

// The client operations from `first_probe` on are the probes; `healed_at`
// and `probing_ended` are times in the history's clock (ns since its start).
RecoveryJudgement judge_recovery(const checkers::History& history, std::size_t first_probe, std::int64_t healed_at,
                                 std::int64_t probing_ended, std::chrono::milliseconds limit);

nlohmann::json to_json(const RecoveryJudgement& judgement);

}  // namespace chaosbench::harness
