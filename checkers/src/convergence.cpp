#include "chaosbench/checkers/convergence.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"

namespace chaosbench::checkers {
namespace {

struct FinalRead {
  std::int64_t time;
  std::uint32_t op;
  Value value;
};

struct Write {
  Value value;  // null for a delete
  std::int64_t process;
  std::uint32_t op;
  bool acknowledged;
  bool deletes = false;
  std::uint32_t completion = UINT32_MAX;  // index of the ok completion; UINT32_MAX when info
  bool appends = false;                   // an "append" (kv: string concatenation, or a list element)
};

}  // namespace

CheckResult check_convergence(const History& history, const ConvergenceOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CheckResult result;
  result.checker = "convergence";
  auto evidence = [&](std::string line) {
    if (result.evidence.size() < options.max_evidence) result.evidence.push_back(std::move(line));
  };

  std::int64_t heal_time = INT64_MIN;
  std::int64_t last_nemesis = -1;
  std::set<std::uint16_t> client_nodes;
  for (std::size_t index = 0; index < history.size(); ++index) {
    const Operation& op = history.operations[index];
    if (op.process == kNemesisProcess) {
      last_nemesis = static_cast<std::int64_t>(index);
      // "final-reads" (harness run) marks where the final reads begin; the
      // heal is the last fault op before it.
      if (history.function_name(op) != "final-reads") heal_time = op.time;
    } else if (op.node != 0) {
      client_nodes.insert(op.node);
    }
  }
  const bool marker = history.functions.find("final-read").has_value();

  std::map<std::uint32_t, std::map<std::uint16_t, std::vector<FinalRead>>> reads;  // key -> node -> reads
  std::map<std::uint32_t, std::vector<Write>> writes;                              // key -> writes
  bool acknowledged_update = false;
  for (const OperationPair& pair : pair_operations(history)) {
    const Operation& invocation = history.operations[pair.invocation];
    const std::string& function = history.function_name(invocation);
    const bool update = function == "write" || function == "put" || function == "append" || function == "add" ||
                        function == "delete" || function == "cas";
    acknowledged_update = acknowledged_update || (update && pair.outcome == OpType::ok);
    if (update && function != "delete" && function != "cas") {
      if (pair.outcome == OpType::fail) continue;
      const bool acknowledged = pair.outcome == OpType::ok;
      writes[invocation.key].push_back(Write{invocation.value, invocation.process, pair.invocation, acknowledged, false,
                                             acknowledged ? pair.completion : UINT32_MAX, function == "append"});
      continue;
    }
    if (function == "delete") {  // a write of null: the key is absent again
      if (pair.outcome == OpType::fail) continue;
      const bool acknowledged = pair.outcome == OpType::ok;
      writes[invocation.key].push_back(Write{kNull, invocation.process, pair.invocation, acknowledged, true,
                                             acknowledged ? pair.completion : UINT32_MAX});
      continue;
    }
    if (function == "cas") {  // [old, new]: writes new
      if (pair.outcome == OpType::fail) continue;
      nlohmann::json pair_value = history.values.to_json(invocation.value);
      if (!pair_value.is_array() || pair_value.size() != 2) {
        throw HistoryError(fmt::format("op {}: field 'value': a cas needs [old, new]", pair.invocation));
      }
      // A new value no op ever read or wrote is not interned: no final read can match it.
      if (auto written = history.values.find_json(pair_value[1])) {
        writes[invocation.key].push_back(
            Write{*written, invocation.process, pair.invocation, pair.outcome == OpType::ok});
      }
      continue;
    }
    bool final =
        marker ? function == "final-read"
               : (function == "read" || function == "get") && static_cast<std::int64_t>(pair.invocation) > last_nemesis;
    if (!final || pair.outcome != OpType::ok) continue;
    const Operation& completion = history.operations[pair.completion];
    std::uint16_t node = invocation.node != 0 ? invocation.node : completion.node;
    if (node == 0) {
      throw HistoryError(
          fmt::format("op {}: field 'node': a final read must name the node it read from", pair.invocation));
    }
    reads[invocation.key][node].push_back(FinalRead{invocation.time, pair.invocation, completion.value});
  }

  // Canonical text of a final value: lists compare as sets of elements.
  std::unordered_map<std::uint32_t, std::string> canonical_cache;
  auto canonical = [&](Value value) -> const std::string& {
    auto [it, inserted] = canonical_cache.try_emplace(value.id);
    if (inserted) {
      nlohmann::json json = history.values.to_json(value);
      if (json.is_array()) {
        std::vector<std::string> elements;
        for (const auto& element : json) elements.push_back(element.dump());
        std::sort(elements.begin(), elements.end());
        it->second = nlohmann::json(elements).dump();
      } else {
        it->second = json.dump();
      }
    }
    return it->second;
  };

  std::size_t final_read_count = 0, divergent = 0, lost = 0;
  std::int64_t converged_at = INT64_MIN;
  std::int64_t first_final_read = INT64_MAX;
  std::set<std::uint16_t> nodes_with_final_reads;
  for (auto& [key, by_node] : reads) {
    std::string key_name = history.keys.name(key);
    std::string key_label = key_name.empty() ? "" : fmt::format("key {}: ", key_name);
    std::map<std::string, std::vector<std::uint16_t>> finals;  // canonical value -> nodes
    for (auto& [node, node_reads] : by_node) {
      nodes_with_final_reads.insert(node);
      final_read_count += node_reads.size();
      first_final_read = std::min(first_final_read, node_reads.front().time);
      finals[canonical(node_reads.back().value)].push_back(node);
    }
    if (finals.size() > 1) {
      ++divergent;
      std::string listing;
      for (const auto& [value, nodes] : finals) {
        std::string names;
        for (std::uint16_t node : nodes) names += (names.empty() ? "" : ",") + history.nodes.name(node);
        listing += fmt::format("{}{} on {}", listing.empty() ? "" : "; ", value, names);
      }
      evidence(fmt::format("{}nodes disagree after the heal: {}", key_label, listing));
    }
    // Every acknowledged write present in each node's final value.
    const std::vector<Write>& key_writes = writes[key];
    std::set<std::uint32_t> reported;
    for (auto& [node, node_reads] : by_node) {
      const FinalRead& last = node_reads.back();
      nlohmann::json final_value = history.values.to_json(last.value);
      if (final_value.is_array()) {
        std::set<std::string> present;
        for (const auto& element : final_value) present.insert(element.dump());
        for (const Write& write : key_writes) {
          if (!write.acknowledged || write.deletes || present.contains(history.values.to_json(write.value).dump()))
            continue;
          // A delete that did not complete before this write began may have removed it.
          if (std::any_of(key_writes.begin(), key_writes.end(),
                          [&](const Write& other) { return other.deletes && other.completion > write.op; })) {
            continue;
          }
          if (!reported.insert(write.op).second) continue;
          ++lost;
          evidence(fmt::format("{}acknowledged op {} ({} {}) is missing from node {}'s final read (op {})", key_label,
                               write.op, history.function_name(history.operations[write.op]),
                               history.values.to_text(write.value), history.nodes.name(node), last.op));
        }
        continue;
      }
      // A string built by appends (the kv model: append concatenates): every
      // acknowledged append is in it, unless a put or delete that did not
      // complete before the append began may have replaced it.
      if (final_value.is_string() &&
          std::any_of(key_writes.begin(), key_writes.end(), [](const Write& write) { return write.appends; })) {
        const std::string& text = final_value.get_ref<const std::string&>();
        for (const Write& write : key_writes) {
          if (!write.acknowledged || !write.appends) continue;
          const nlohmann::json appended = history.values.to_json(write.value);
          if (appended.is_string() && text.find(appended.get_ref<const std::string&>()) != std::string::npos) continue;
          if (std::any_of(key_writes.begin(), key_writes.end(),
                          [&](const Write& other) { return !other.appends && other.completion > write.op; })) {
            continue;
          }
          if (!reported.insert(write.op).second) continue;
          ++lost;
          evidence(fmt::format("{}acknowledged op {} (append {}) is missing from node {}'s final value {} (op {})",
                               key_label, write.op, history.values.to_text(write.value), history.nodes.name(node),
                               history.values.to_text(last.value), last.op));
        }
        continue;
      }
      const bool has_deletes =
          std::any_of(key_writes.begin(), key_writes.end(), [](const Write& write) { return write.deletes; });
      if (last.value.is_null() && !has_deletes) {
        for (const Write& write : key_writes) {
          if (!write.acknowledged || !reported.insert(write.op).second) continue;
          ++lost;
          evidence(fmt::format("{}node {} reads nil at the end, but op {} wrote {} and was acknowledged", key_label,
                               history.nodes.name(node), write.op, history.values.to_text(write.value)));
        }
        continue;
      }
      // Values may be written more than once: the final value is present if
      // some write of it has no later acknowledged write by the same process.
      // A delete writes null: nil is present if some delete has no later
      // acknowledged write or delete by the same process; nil with no
      // acknowledged update at all is the initial state.
      auto successor_of = [&](const Write& writer) {
        return std::find_if(key_writes.begin(), key_writes.end(), [&](const Write& write) {
          return write.acknowledged && write.process == writer.process && write.op > writer.op;
        });
      };
      const Write* writer = nullptr;
      for (const Write& write : key_writes) {
        if (write.value != last.value) continue;
        writer = &write;
        if (successor_of(write) == key_writes.end()) break;
      }
      if (writer == nullptr) {
        if (reported.insert(last.op).second) {
          ++lost;
          evidence(fmt::format("{}node {}'s final value {} (op {}) was never written", key_label,
                               history.nodes.name(node), history.values.to_text(last.value), last.op));
        }
        continue;
      }
      auto successor = successor_of(*writer);
      if (successor != key_writes.end() && reported.insert(successor->op).second) {
        ++lost;
        auto update = [&](const Write& write) {
          return write.deletes ? std::string("deleted the key")
                               : fmt::format("wrote {}", history.values.to_text(write.value));
        };
        evidence(
            fmt::format("{}node {} ends with {} from op {}, but the same process later {} (op {}, acknowledged), "
                        "which is lost",
                        key_label, history.nodes.name(node), history.values.to_text(writer->value), writer->op,
                        update(*successor), successor->op));
      }
    }
    if (finals.size() == 1) {
      const std::string& agreed = finals.begin()->first;
      for (auto& [node, node_reads] : by_node) {
        std::size_t start = node_reads.size();
        while (start > 0 && canonical(node_reads[start - 1].value) == agreed) --start;
        converged_at = std::max(converged_at, node_reads[start].time);
      }
    }
  }
  for (std::uint16_t node : client_nodes) {
    if (!nodes_with_final_reads.contains(node)) {
      evidence(fmt::format("node {} served ops but has no final read", history.nodes.name(node)));
    }
  }

  bool missing_nodes = !client_nodes.empty() && nodes_with_final_reads.size() < client_nodes.size();
  std::int64_t reference = heal_time != INT64_MIN ? heal_time : first_final_read;
  nlohmann::json convergence_seconds = nullptr;
  if (final_read_count > 0 && divergent == 0) {
    convergence_seconds = std::max<double>(0, static_cast<double>(converged_at - reference) / 1e9);
  }
  result.details = {{"nodes", nodes_with_final_reads.size()},
                    {"keys", reads.size()},
                    {"final_reads", final_read_count},
                    {"final_reads_by", marker ? "final-read ops" : "reads after the last nemesis op"},
                    {"divergent_keys", divergent},
                    {"lost_writes", lost},
                    {"convergence_seconds", convergence_seconds}};
  if (divergent > 0 || lost > 0) {
    result.verdict = Verdict::invalid;
    result.reason =
        fmt::format("did not converge: {} key(s) differ between nodes, {} acknowledged write(s) lost", divergent, lost);
  } else if (!acknowledged_update) {
    result.verdict = Verdict::unknown;
    result.reason = "nothing to judge: no acknowledged write, put, append, add, delete or cas";
  } else if (final_read_count == 0) {
    result.verdict = Verdict::unknown;
    result.reason = marker ? "nothing to judge: no ok final-read ops"
                           : "nothing to judge: no ok reads after the last nemesis op (no final reads)";
  } else if (missing_nodes) {
    result.verdict = Verdict::unknown;
    result.reason =
        fmt::format("only {} of {} nodes have final reads", nodes_with_final_reads.size(), client_nodes.size());
  } else {
    result.verdict = Verdict::valid;
    result.reason =
        fmt::format("{} node(s) agree on {} key(s), no acknowledged write lost; converged {:.3f} s after the heal",
                    nodes_with_final_reads.size(), reads.size(), convergence_seconds.get<double>());
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
