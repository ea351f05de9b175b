#include "chaosbench/harness/liveness.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace chaosbench::harness {

RecoveryJudgement judge_recovery(const checkers::History& history, std::size_t first_probe, std::int64_t healed_at,
                                 std::int64_t probing_ended, std::chrono::milliseconds limit) {
  RecoveryJudgement judgement;
  judgement.limit_ms = limit.count();
  std::map<std::int64_t, std::string> pending;  // process -> the node its probe went to
  std::int64_t first_ok = -1;
  for (std::size_t index = first_probe; index < history.operations.size(); ++index) {
    const checkers::Operation& operation = history.operations[index];
    if (operation.process == checkers::kNemesisProcess) continue;
    if (operation.type == checkers::OpType::invoke) {
      pending[operation.process] = history.nodes.name(operation.node);
      ++judgement.probes;
      continue;
    }
    auto found = pending.find(operation.process);
    if (found == pending.end()) continue;
    ProbeAnswers& answers = judgement.nodes[found->second];
    pending.erase(found);
    if (operation.type == checkers::OpType::ok) {
      ++answers.ok;
      if (first_ok < 0) first_ok = operation.time;
    } else if (operation.type == checkers::OpType::fail) {
      ++answers.fail;
    } else {
      ++answers.no_answer;
    }
  }
  for (const auto& [process, node] : pending) ++judgement.nodes[node].no_answer;
  judgement.waited_ms = (probing_ended - healed_at) / 1'000'000;
  if (first_ok >= 0) judgement.recovered_after_ms = (first_ok - healed_at) / 1'000'000;
  std::vector<std::string> answered, refused, silent;
  for (const auto& [node, answers] : judgement.nodes) {
    (answers.ok ? answered : answers.fail ? refused : silent).push_back(node);
  }
  auto names = [](const std::vector<std::string>& nodes) {
    return nodes.empty() ? std::string("none") : fmt::format("{}", fmt::join(nodes, ", "));
  };
  const std::string who =
      fmt::format("ok from {}; refused by {}; no answer from {}", names(answered), names(refused), names(silent));
  const double limit_seconds = static_cast<double>(judgement.limit_ms) / 1000;
  if (judgement.probes == 0) {
    judgement.reason = "no probe was sent after the heal";
  } else if (first_ok >= 0 && judgement.recovered_after_ms <= judgement.limit_ms) {
    judgement.verdict = checkers::Verdict::valid;
    judgement.reason = fmt::format("served again {:.2f} s after the final heal (limit {:g} s; {})",
                                   static_cast<double>(judgement.recovered_after_ms) / 1000, limit_seconds, who);
  } else {
    judgement.verdict = checkers::Verdict::invalid;
    judgement.reason =
        first_ok >= 0
            ? fmt::format("served again only {:.2f} s after the final heal, past the {:g} s limit ({} probes; {})",
                          static_cast<double>(judgement.recovered_after_ms) / 1000, limit_seconds, judgement.probes,
                          who)
            : fmt::format("no ok operation within {:g} s of the final heal (waited {:.1f} s, {} probes; {})",
                          limit_seconds, static_cast<double>(judgement.waited_ms) / 1000, judgement.probes, who);
  }
  return judgement;
}

nlohmann::json to_json(const RecoveryJudgement& judgement) {
  nlohmann::json nodes = nlohmann::json::object();
  for (const auto& [node, answers] : judgement.nodes) {
    nodes[node] = {{"ok", answers.ok}, {"fail", answers.fail}, {"no_answer", answers.no_answer}};
  }
  return {{"verdict", checkers::to_string(judgement.verdict)},
          {"reason", judgement.reason},
          {"recovered_after_ms",
           judgement.recovered_after_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(judgement.recovered_after_ms)},
          {"waited_ms", judgement.waited_ms},
          {"limit_ms", judgement.limit_ms},
          {"probes", judgement.probes},
          {"nodes", nodes}};
}

}  // namespace chaosbench::harness
