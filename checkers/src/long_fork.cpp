#include "chaosbench/checkers/long_fork.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"

namespace chaosbench::checkers {

namespace {

using nlohmann::json;

// One ok read txn: per key of its group (sorted by key text), the value seen (nullopt: none).
struct LongForkRead {
  std::uint32_t index = 0;
  std::vector<std::string> keys;
  std::vector<std::optional<std::string>> seen;
};

// The micro-ops of a txn value, each [f, k, v]; throws HistoryError otherwise.
const json& long_fork_micro_ops(const json& value, std::uint32_t index) {
  if (!value.is_array() || value.empty()) {
    throw HistoryError(fmt::format("op {}: field 'value': a long-fork txn is a non-empty list of micro-ops, got {}",
                                   index, value.dump()));
  }
  for (const json& micro_op : value) {
    if (!micro_op.is_array() || micro_op.size() != 3 || !micro_op[0].is_string()) {
      throw HistoryError(
          fmt::format("op {}: field 'value': a micro-op is [f, key, value], got {}", index, micro_op.dump()));
    }
    const std::string& function = micro_op[0].get_ref<const std::string&>();
    if (function != "r" && function != "w" && function != "append") {
      throw HistoryError(
          fmt::format("op {}: field 'value': long-fork knows micro-ops r, w and append, got '{}'", index, function));
    }
  }
  return value;
}

bool long_fork_is_read_txn(const json& micro_ops) {
  return std::all_of(micro_ops.begin(), micro_ops.end(), [](const json& micro_op) { return micro_op[0] == "r"; });
}

std::string long_fork_state_text(const LongForkRead& read) {
  std::string text = "{";
  for (std::size_t key = 0; key < read.keys.size(); ++key) {
    text += fmt::format("{}{} {}", key ? ", " : "", read.keys[key], read.seen[key].value_or("nil"));
  }
  return text + "}";
}

}  // namespace

CheckResult check_long_fork(const History& history, const LongForkOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  CheckResult result;
  result.checker = "long-fork";
  auto finish = [&]() -> CheckResult {
    result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return std::move(result);
  };
  std::map<std::string, std::uint32_t> writer_of_key;  // key text -> index of the invocation writing it
  std::optional<std::string> rewritten_key;
  std::uint32_t first_writer = 0, second_writer = 0;
  std::vector<LongForkRead> reads;
  for (const OperationPair& pair : pair_operations(history)) {
    const Operation& invocation = history.operations[pair.invocation];
    if (history.function_name(invocation) != "txn") {
      throw HistoryError(fmt::format("op {}: field 'f': the long-fork checker knows txn, got '{}'", pair.invocation,
                                     history.function_name(invocation)));
    }
    const json invoked_value = history.values.to_json(invocation.value);
    const json& invoked = long_fork_micro_ops(invoked_value, pair.invocation);
    if (!long_fork_is_read_txn(invoked)) {
      if (invoked.size() != 1) {
        throw HistoryError(fmt::format("op {}: field 'value': a long-fork txn is one write or only reads, got {}",
                                       pair.invocation, invoked.dump()));
      }
      // As Jepsen: every invoked write counts, whatever its outcome.
      const std::string key = invoked[0][1].dump();
      auto [found, inserted] = writer_of_key.emplace(key, pair.invocation);
      if (!inserted && !rewritten_key) {
        rewritten_key = key;
        first_writer = found->second;
        second_writer = pair.invocation;
      }
      continue;
    }
    if (pair.outcome != OpType::ok) continue;
    const json completed = history.values.to_json(history.operations[pair.completion].value);
    const json& micro_ops = long_fork_micro_ops(completed, pair.completion);
    if (!long_fork_is_read_txn(micro_ops)) {
      throw HistoryError(fmt::format("op {}: field 'value': the completion of a read txn has a write: {}",
                                     pair.completion, micro_ops.dump()));
    }
    std::map<std::string, std::optional<std::string>> seen;
    for (const json& micro_op : micro_ops) {
      const json& value = micro_op[2];
      std::optional<std::string> text;
      if (value.is_array() && value.size() == 1) {
        text = value[0].dump();  // a list-append read of a key appended once
      } else if (value.is_array() && value.size() > 1) {
        result.verdict = Verdict::unknown;
        result.reason =
            fmt::format("op {} read {} = {}: more than one write to a key, which the long-fork checker cannot judge",
                        pair.completion, micro_op[1].dump(), value.dump());
        return finish();
      } else if (!value.is_null() && !(value.is_array() && value.empty())) {
        text = value.dump();
      }
      seen.emplace(micro_op[1].dump(), text);
    }
    LongForkRead read;
    read.index = pair.completion;
    for (auto& [key, value] : seen) {
      read.keys.push_back(key);
      read.seen.push_back(std::move(value));
    }
    reads.push_back(std::move(read));
  }
  result.details["reads"] = reads.size();
  result.details["writes"] = writer_of_key.size();
  if (rewritten_key) {
    result.verdict = Verdict::unknown;
    result.reason = fmt::format("key {} is written more than once (ops {} and {}); long-fork assumes one write per key",
                                *rewritten_key, first_writer, second_writer);
    result.details["multiple_writes"] = json::parse(*rewritten_key);
    return finish();
  }
  // Reads by group (the sorted keys read); within a group, by distinct state: forks are between states.
  std::map<std::vector<std::string>, std::map<std::vector<std::optional<std::string>>, std::vector<std::size_t>>>
      groups;
  for (std::size_t position = 0; position < reads.size(); ++position) {
    const LongForkRead& read = reads[position];
    if (read.keys.size() != options.group_size) {
      result.verdict = Verdict::unknown;
      result.reason = fmt::format("op {} read {} keys; every read should read exactly {} (the group size)", read.index,
                                  read.keys.size(), options.group_size);
      return finish();
    }
    groups[read.keys][read.seen].push_back(position);
  }
  result.details["groups"] = groups.size();
  std::size_t fork_count = 0, groups_judged = 0;
  json forks = json::array();
  for (const auto& [keys, states] : groups) {
    std::size_t reads_in_group = 0;
    for (const auto& [state, members] : states) reads_in_group += members.size();
    groups_judged += reads_in_group >= 2;
    for (auto left = states.begin(); left != states.end(); ++left) {
      for (auto right = std::next(left); right != states.end(); ++right) {
        const auto &a = left->first, &b = right->first;
        const LongForkRead &read_a = reads[left->second.front()], &read_b = reads[right->second.front()];
        std::optional<std::size_t> only_a, only_b;  // a key one saw written and the other did not
        for (std::size_t key = 0; key < keys.size(); ++key) {
          if (a[key] == b[key]) continue;
          if (a[key] && b[key]) {
            result.verdict = Verdict::unknown;
            result.reason = fmt::format(
                "ops {} and {} read different values of key {} ({} and {}); long-fork assumes one write per key",
                read_a.index, read_b.index, keys[key], *a[key], *b[key]);
            return finish();
          }
          (a[key] ? only_a : only_b) = key;
        }
        if (!only_a || !only_b) continue;
        fork_count += left->second.size() * right->second.size();  // every pair of ops with these two states
        if (forks.size() < options.max_evidence) {
          forks.push_back(json::array({read_a.index, read_b.index}));
          result.evidence.push_back(fmt::format(
              "fork: op {} read {} and op {} read {}: op {} saw the write of {} but not of {}, op {} the reverse",
              read_a.index, long_fork_state_text(read_a), read_b.index, long_fork_state_text(read_b), read_a.index,
              keys[*only_a], keys[*only_b], read_b.index));
        }
      }
    }
  }
  result.details["forks"] = forks;
  result.details["fork_count"] = fork_count;  // pairs of reads; evidence: one pair per two distinct states
  if (fork_count > 0) {
    result.verdict = Verdict::invalid;
    result.reason = fmt::format("{} long fork{}: reads of one group saw its writes in incompatible orders", fork_count,
                                fork_count == 1 ? "" : "s");
  } else if (groups_judged == 0) {
    result.verdict = Verdict::unknown;
    result.reason = "nothing to judge: no two ok reads of the same group";
  } else {
    result.verdict = Verdict::valid;
    result.reason =
        fmt::format("{} reads in {} groups: every two reads of a group are ordered", reads.size(), groups.size());
  }
  return finish();
}

}  // namespace chaosbench::checkers
