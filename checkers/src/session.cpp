#include "chaosbench/checkers/session.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/model.h"
#include "judge_floor.h"

namespace chaosbench::checkers {
namespace {

enum class Constraint : std::uint8_t {
  initial,
  cas,
  read_your_writes,
  monotonic_reads,
  monotonic_writes,
  writes_follow_reads
};

std::string_view guarantee_name(Constraint constraint) {
  switch (constraint) {
    case Constraint::read_your_writes:
      return "read-your-writes";
    case Constraint::monotonic_reads:
      return "monotonic-reads";
    case Constraint::monotonic_writes:
      return "monotonic-writes";
    case Constraint::writes_follow_reads:
      return "writes-follow-reads";
    case Constraint::cas:
      return "cas";
    case Constraint::initial:
      return "initial";
  }
  return "?";
}

constexpr std::uint32_t kNoOp = 0xffffffffu;

struct Edge {
  std::uint32_t from, to;  // value nodes of the key
  Constraint constraint;
  std::int64_t process;
  std::uint32_t first_op, second_op;  // history indices (invocations); kNoOp for initial
  bool removed = false;
};

struct KeyGraph {
  std::string key;
  std::vector<Value> values{kNull};  // node -> value
  std::unordered_map<std::uint32_t, std::uint32_t> node_of_value{{0, 0}};
  std::unordered_map<std::uint32_t, std::uint32_t> writer_of_node;  // node -> invocation
  std::vector<Edge> edges;

  std::uint32_t node(Value value) {
    auto [it, inserted] = node_of_value.try_emplace(value.id, static_cast<std::uint32_t>(values.size()));
    if (inserted) values.push_back(value);
    return it->second;
  }
};

struct LastOp {
  bool was_write;
  std::uint32_t node;
  std::uint32_t op;
};

class SessionChecker {
 public:
  SessionChecker(const History& history, const SessionOptions& options)
      : history_(history), options_(options), decoder_(history, ModelKind::cas_register) {}

  SessionResult run() {
    build();
    for (auto& [key, graph] : graphs_) find_violations(graph);
    SessionResult output;
    CheckResult& result = output.result;
    result.checker = "session";
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [name, count] : counts_) counts[name] = count;
    result.details["violation_counts"] = counts;
    result.details["keys"] = graphs_.size();
    result.details["operations"] = operations_;
    nlohmann::json violations = nlohmann::json::array();
    for (const SessionViolation& violation : violations_) {
      violations.push_back({{"guarantee", violation.guarantee},
                            {"process", violation.process},
                            {"key", violation.key},
                            {"indices", violation.operations},
                            {"explanation", violation.explanation}});
      result.evidence.push_back(fmt::format("{} (process {}, key {}): {}", violation.guarantee, violation.process,
                                            violation.key, violation.explanation));
    }
    result.details["violations"] = std::move(violations);
    const std::string nothing = floor_.missing("write or cas", "read", "write or cas");
    if (counts_.empty() && !nothing.empty()) {
      result.verdict = Verdict::unknown;
      result.reason = nothing;
    } else if (counts_.empty()) {
      result.verdict = Verdict::valid;
      result.reason = fmt::format(
          "{} ops on {} key(s): every process saw read-your-writes, monotonic reads, monotonic "
          "writes and writes-follow-reads",
          operations_, graphs_.size());
    } else {
      result.verdict = Verdict::invalid;
      std::string list;
      for (const auto& [name, count] : counts_) list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", name, count);
      result.reason = "session guarantees violated: " + list;
    }
    output.violations = std::move(violations_);
    return output;
  }

 private:
  void build() {
    std::map<std::pair<std::int64_t, std::uint32_t>, LastOp> last;  // (process, key) -> last ok op
    for (const OperationPair& pair : pair_operations(history_)) {
      if (pair.outcome == OpType::fail) continue;
      ModelOperation op = decoder_.decode(pair);
      const Operation& invocation = history_.operations[pair.invocation];
      KeyGraph& graph = graphs_[invocation.key];
      graph.key = history_.keys.name(invocation.key);
      ++operations_;
      auto record_write = [&](Value value) {
        std::uint32_t node = graph.node(value);
        auto [it, inserted] = graph.writer_of_node.try_emplace(node, pair.invocation);
        if (!inserted) {
          throw HistoryError(
              fmt::format("op {}: field 'value': {} written to key {} twice (also by op {}); session "
                          "guarantees need unique written values",
                          pair.invocation, decoder_.value_text(value), graph.key, it->second));
        }
        graph.edges.push_back(Edge{0, node, Constraint::initial, 0, kNoOp, kNoOp});
        return node;
      };
      bool ok = pair.outcome == OpType::ok;
      using Kind = ModelOperation::Kind;
      if (ok && op.kind != Kind::read) floor_.update(0, pair.invocation, true);  // any key will do
      if (op.kind == Kind::write) {
        std::uint32_t node = record_write(op.argument);
        if (ok) follow(last, graph, invocation.process, invocation.key, true, node, pair.invocation);
      } else if (op.kind == Kind::cas) {
        std::uint32_t written = record_write(op.second);
        if (!ok) continue;
        std::uint32_t expected = graph.node(op.argument);
        graph.edges.push_back(
            Edge{expected, written, Constraint::cas, invocation.process, pair.invocation, pair.invocation});
        follow(last, graph, invocation.process, invocation.key, false, expected, pair.invocation);
        follow(last, graph, invocation.process, invocation.key, true, written, pair.invocation);
      } else if (op.kind == Kind::read) {
        if (!ok) continue;
        floor_.ok_read(0, pair.completion);
        std::uint32_t node = graph.node(op.argument);
        reads_.push_back(PendingRead{invocation.key, node, pair.invocation, invocation.process});
        follow(last, graph, invocation.process, invocation.key, false, node, pair.invocation);
      } else {
        throw HistoryError(fmt::format("op {}: field 'f': session guarantees support read, write and cas, got '{}'",
                                       pair.invocation, history_.function_name(invocation)));
      }
    }
    // Reads of values nobody wrote (other than the initial nil).
    for (const PendingRead& read : reads_) {
      KeyGraph& graph = graphs_[read.key];
      if (read.node == 0 || graph.writer_of_node.contains(read.node)) continue;
      add_violation(SessionViolation{"unwritten-value",
                                     read.process,
                                     graph.key,
                                     {read.op},
                                     fmt::format("op {} read {}, which no op wrote to key {}", read.op,
                                                 decoder_.value_text(graph.values[read.node]), graph.key)});
      // Its constraints would only repeat this; drop them.
      for (Edge& edge : graph.edges) {
        if (edge.second_op == read.op || edge.first_op == read.op) edge.removed = true;
      }
    }
  }

  void follow(std::map<std::pair<std::int64_t, std::uint32_t>, LastOp>& last, KeyGraph& graph, std::int64_t process,
              std::uint32_t key, bool is_write, std::uint32_t node, std::uint32_t op) {
    auto [it, inserted] = last.try_emplace({process, key}, LastOp{is_write, node, op});
    if (inserted) return;
    LastOp previous = it->second;
    it->second = LastOp{is_write, node, op};
    if (previous.op == op) return;  // a cas's own read -> write
    Constraint constraint = previous.was_write
                                ? (is_write ? Constraint::monotonic_writes : Constraint::read_your_writes)
                                : (is_write ? Constraint::writes_follow_reads : Constraint::monotonic_reads);
    if (previous.node == node) return;  // a <= a holds (values are unique, so never a < a)
    graph.edges.push_back(Edge{previous.node, node, constraint, process, previous.op, op});
  }

  void add_violation(SessionViolation violation) {
    ++counts_[violation.guarantee];
    if (violations_.size() < options_.max_violations) violations_.push_back(std::move(violation));
  }

  std::string describe_edge(const KeyGraph& graph, const Edge& edge) const {
    auto text = [&](std::uint32_t node) { return decoder_.value_text(graph.values[node]); };
    switch (edge.constraint) {
      case Constraint::initial:
        return fmt::format("nil (the initial value) comes before {}", text(edge.to));
      case Constraint::cas:
        return fmt::format("op {} cas replaced {} with {}", edge.second_op, text(edge.from), text(edge.to));
      default: {
        bool first_write =
            edge.constraint == Constraint::read_your_writes || edge.constraint == Constraint::monotonic_writes;
        bool second_write =
            edge.constraint == Constraint::monotonic_writes || edge.constraint == Constraint::writes_follow_reads;
        return fmt::format("process {} {} {} (op {}) then {} {} (op {}), so {} {} {} ({})", edge.process,
                           first_write ? "wrote" : "read", text(edge.from), edge.first_op,
                           second_write ? "wrote" : "read", text(edge.to), edge.second_op, text(edge.from),
                           second_write ? "<" : "<=", text(edge.to), guarantee_name(edge.constraint));
      }
    }
  }

  // Repeatedly: find a cycle among the remaining constraints (Kahn's algorithm
  // leaves the nodes on or behind cycles), take a shortest one, report it,
  // drop its last-added constraint.
  void find_violations(KeyGraph& graph) {
    const std::size_t node_count = graph.values.size();
    for (int round = 0; round < 1000; ++round) {
      std::vector<std::vector<std::uint32_t>> out(node_count), in(node_count);
      std::vector<std::uint32_t> in_degree(node_count, 0);
      for (std::uint32_t index = 0; index < graph.edges.size(); ++index) {
        const Edge& edge = graph.edges[index];
        if (edge.removed) continue;
        out[edge.from].push_back(index);
        in[edge.to].push_back(index);
        ++in_degree[edge.to];
      }
      std::vector<std::uint32_t> queue;
      std::vector<char> done(node_count, 0);
      for (std::uint32_t node = 0; node < node_count; ++node) {
        if (in_degree[node] == 0) queue.push_back(node);
      }
      for (std::size_t head = 0; head < queue.size(); ++head) {
        done[queue[head]] = 1;
        for (std::uint32_t index : out[queue[head]]) {
          if (--in_degree[graph.edges[index].to] == 0) queue.push_back(graph.edges[index].to);
        }
      }
      if (queue.size() == node_count) return;
      // Walk predecessors among the leftovers until a node repeats: it is on a cycle.
      std::uint32_t node = 0;
      while (done[node]) ++node;
      std::vector<char> seen(node_count, 0);
      while (!seen[node]) {
        seen[node] = 1;
        for (std::uint32_t index : in[node]) {
          if (!done[graph.edges[index].from]) {
            node = graph.edges[index].from;
            break;
          }
        }
      }
      // Shortest cycle through it (BFS over leftover nodes).
      std::vector<std::uint32_t> parent_edge(node_count, kNoOp);
      std::vector<std::uint32_t> frontier{node};
      std::vector<char> visited(node_count, 0);
      visited[node] = 1;
      std::uint32_t closing = kNoOp;
      for (std::size_t head = 0; head < frontier.size() && closing == kNoOp; ++head) {
        for (std::uint32_t index : out[frontier[head]]) {
          std::uint32_t target = graph.edges[index].to;
          if (done[target]) continue;
          if (target == node) {
            closing = index;
            break;
          }
          if (visited[target]) continue;
          visited[target] = 1;
          parent_edge[target] = index;
          frontier.push_back(target);
        }
      }
      std::vector<std::uint32_t> cycle{closing};
      for (std::uint32_t at = graph.edges[closing].from; at != node; at = graph.edges[parent_edge[at]].from) {
        cycle.push_back(parent_edge[at]);
      }
      std::reverse(cycle.begin(), cycle.end());
      // Name it after the constraint added last (the latest second op).
      std::uint32_t blamed = kNoOp;
      for (std::uint32_t index : cycle) {
        const Edge& edge = graph.edges[index];
        if (edge.constraint == Constraint::initial || edge.constraint == Constraint::cas) continue;
        if (blamed == kNoOp || edge.second_op > graph.edges[blamed].second_op) blamed = index;
      }
      if (blamed == kNoOp) blamed = cycle.back();
      SessionViolation violation;
      const Edge& culprit = graph.edges[blamed];
      violation.guarantee = std::string(guarantee_name(culprit.constraint));
      violation.process = culprit.process;
      violation.key = graph.key;
      std::string steps;
      for (std::uint32_t index : cycle) {
        const Edge& edge = graph.edges[index];
        for (std::uint32_t op : {edge.first_op, edge.second_op}) {
          if (op != kNoOp &&
              std::find(violation.operations.begin(), violation.operations.end(), op) == violation.operations.end()) {
            violation.operations.push_back(op);
          }
        }
        steps += (steps.empty() ? "" : "; ") + describe_edge(graph, edge);
      }
      std::sort(violation.operations.begin(), violation.operations.end());
      violation.explanation =
          fmt::format("op {} of process {} breaks it: no order of key {}'s values satisfies all of: {}",
                      culprit.second_op, culprit.process, graph.key, steps);
      add_violation(std::move(violation));
      graph.edges[blamed].removed = true;
    }
  }

  struct PendingRead {
    std::uint32_t key;
    std::uint32_t node;
    std::uint32_t op;
    std::int64_t process;
  };

  const History& history_;
  const SessionOptions& options_;
  OperationDecoder decoder_;
  std::map<std::uint32_t, KeyGraph> graphs_;
  std::vector<PendingRead> reads_;
  std::size_t operations_ = 0;
  JudgeFloor floor_;
  std::map<std::string, std::size_t> counts_;
  std::vector<SessionViolation> violations_;
};

}  // namespace

SessionResult check_session_guarantees(const History& history, const SessionOptions& options) {
  auto started = std::chrono::steady_clock::now();
  SessionChecker checker(history, options);
  SessionResult result = checker.run();
  result.result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
