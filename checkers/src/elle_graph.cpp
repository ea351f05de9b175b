// The Elle dependency graph: CSR build, Tarjan SCCs (iterative), shortest-cycle
// search per SCC from the most specific anomaly to the most general, and the
// process / real-time edges.
#include <algorithm>

#include <fmt/format.h>

#include "elle_internal.h"

namespace chaosbench::checkers::elle {

std::string_view edge_kind_name(std::uint8_t kind) {
  switch (kind) {
    case kWriteWrite:
      return "ww";
    case kWriteRead:
      return "wr";
    case kReadWrite:
      return "rw";
    case kProcess:
      return "process";
    case kRealtime:
      return "realtime";
    default:
      return "?";
  }
}

void DependencyGraph::build() {
  offsets_.assign(std::size_t{node_count_} + 1, 0);
  for (const PendingEdge& edge : pending_) ++offsets_[edge.from + 1];
  for (std::size_t node = 0; node < node_count_; ++node) offsets_[node + 1] += offsets_[node];
  std::vector<std::uint32_t> raw_targets(pending_.size());
  std::vector<std::uint8_t> raw_kinds(pending_.size());
  {
    std::vector<std::uint32_t> cursor(offsets_.begin(), offsets_.end() - 1);
    for (const PendingEdge& edge : pending_) {
      std::uint32_t slot = cursor[edge.from]++;
      raw_targets[slot] = edge.to;
      raw_kinds[slot] = edge.kind;
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
  // Sort each node's edges by target and merge duplicates (kinds OR-ed).
  targets_.reserve(raw_targets.size());
  kinds_.reserve(raw_targets.size());
  std::vector<std::pair<std::uint32_t, std::uint8_t>> scratch;
  std::uint32_t written_begin = 0;
  for (std::uint32_t node = 0; node < node_count_; ++node) {
    scratch.clear();
    for (std::uint32_t edge = offsets_[node]; edge < offsets_[node + 1]; ++edge) {
      scratch.emplace_back(raw_targets[edge], raw_kinds[edge]);
    }
    if (scratch.size() > 1) std::sort(scratch.begin(), scratch.end());
    offsets_[node] = written_begin;
    for (std::size_t index = 0; index < scratch.size(); ++index) {
      if (!targets_.empty() && targets_.size() > written_begin && targets_.back() == scratch[index].first) {
        kinds_.back() |= scratch[index].second;
      } else {
        targets_.push_back(scratch[index].first);
        kinds_.push_back(scratch[index].second);
      }
    }
    written_begin = static_cast<std::uint32_t>(targets_.size());
  }
  offsets_[node_count_] = written_begin;
}

std::uint8_t DependencyGraph::kinds_between(std::uint32_t from, std::uint32_t to) const {
  auto first = targets_.begin() + offsets_[from];
  auto last = targets_.begin() + offsets_[from + 1];
  auto found = std::lower_bound(first, last, to);
  if (found == last || *found != to) return 0;
  return kinds_[static_cast<std::size_t>(found - targets_.begin())];
}

namespace {

constexpr std::uint32_t kUnvisited = 0xffffffffu;

class DeadlineReached {};

// Tarjan's algorithm over a subset of nodes and edge kinds, iterative.
class SccFinder {
 public:
  explicit SccFinder(const DependencyGraph& graph)
      : graph_(graph),
        index_(graph.node_count(), kUnvisited),
        lowlink_(graph.node_count()),
        on_stack_(graph.node_count()) {}

  // Calls on_component(members) for each SCC with at least two members.
  template <typename InSubset, typename OnComponent>
  void run(const std::vector<std::uint32_t>* nodes, InSubset in_subset, std::uint8_t mask, OnComponent on_component) {
    std::uint32_t counter = 0;
    auto visit_root = [&](std::uint32_t root) {
      if (index_[root] != kUnvisited) return;
      auto open = [&](std::uint32_t node) {
        index_[node] = lowlink_[node] = counter++;
        on_stack_[node] = 1;
        component_stack_.push_back(node);
        frames_.push_back(Frame{node, graph_.begin(node)});
      };
      open(root);
      while (!frames_.empty()) {
        Frame& frame = frames_.back();
        std::uint32_t node = frame.node;
        bool descended = false;
        while (frame.edge < graph_.end(node)) {
          std::uint32_t edge = frame.edge++;
          if (!(graph_.kinds(edge) & mask)) continue;
          std::uint32_t target = graph_.target(edge);
          if (!in_subset(target)) continue;
          if (index_[target] == kUnvisited) {
            open(target);
            descended = true;
            break;
          }
          if (on_stack_[target]) lowlink_[node] = std::min(lowlink_[node], index_[target]);
        }
        if (descended) continue;
        frames_.pop_back();
        if (!frames_.empty()) {
          std::uint32_t parent = frames_.back().node;
          lowlink_[parent] = std::min(lowlink_[parent], lowlink_[node]);
        }
        if (lowlink_[node] == index_[node]) {
          members_.clear();
          std::uint32_t member;
          do {
            member = component_stack_.back();
            component_stack_.pop_back();
            on_stack_[member] = 0;
            members_.push_back(member);
          } while (member != node);
          if (members_.size() > 1) on_component(members_);
        }
      }
    };
    if (nodes) {
      for (std::uint32_t node : *nodes) visit_root(node);
      for (std::uint32_t node : *nodes) index_[node] = kUnvisited;  // ready for the next subset
    } else {
      for (std::uint32_t node = 0; node < graph_.node_count(); ++node) visit_root(node);
    }
  }

 private:
  struct Frame {
    std::uint32_t node;
    std::uint32_t edge;
  };
  const DependencyGraph& graph_;
  std::vector<std::uint32_t> index_;
  std::vector<std::uint32_t> lowlink_;
  std::vector<std::uint8_t> on_stack_;
  std::vector<std::uint32_t> component_stack_;
  std::vector<Frame> frames_;
  std::vector<std::uint32_t> members_;
};

// Kind shown for an edge allowed by `mask`: the most specific one, anti-dependencies last.
std::uint8_t preferred_kind(std::uint8_t kinds) {
  for (std::uint8_t kind : {kWriteWrite, kWriteRead, kProcess, kRealtime, kReadWrite}) {
    if (kinds & kind) return kind;
  }
  return 0;
}

struct FoundCycle {
  std::vector<std::uint32_t> nodes;  // edge i: nodes[i] -> nodes[i+1 mod size]
  std::vector<std::uint8_t> kinds;   // chosen kind per edge
};

class CycleSearch {
 public:
  CycleSearch(const DependencyGraph& graph, const std::vector<std::uint32_t>& component,
              std::chrono::steady_clock::time_point deadline)
      : graph_(graph),
        component_(component),
        deadline_(deadline),
        stamp_(graph.node_count(), 0),
        parent_(graph.node_count(), 0) {}

  // Shortest path from `from` to `to` (inclusive) inside component `id` over
  // `mask`; empty when there is none. from == to asks for a cycle through it.
  std::vector<std::uint32_t> shortest_path(std::uint32_t from, std::uint32_t to, std::uint32_t id, std::uint8_t mask) {
    ++current_;
    queue_.clear();
    queue_.push_back(from);
    stamp_[from] = current_;
    for (std::size_t head = 0; head < queue_.size(); ++head) {
      if ((++work_ & 4095) == 0 && std::chrono::steady_clock::now() > deadline_) throw DeadlineReached{};
      std::uint32_t node = queue_[head];
      for (std::uint32_t edge = graph_.begin(node); edge < graph_.end(node); ++edge) {
        if (!(graph_.kinds(edge) & mask)) continue;
        std::uint32_t target = graph_.target(edge);
        if (component_[target] != id) continue;
        if (target == to) {
          std::vector<std::uint32_t> path;
          for (std::uint32_t step = node; step != from; step = parent_[step]) path.push_back(step);
          path.push_back(from);
          std::reverse(path.begin(), path.end());
          if (from != to) path.push_back(to);  // a cycle lists each node once
          return path;
        }
        if (stamp_[target] == current_) continue;
        stamp_[target] = current_;
        parent_[target] = node;
        queue_.push_back(target);
      }
    }
    return {};
  }

  // Shortest closed walk through `start` inside component `id` whose rw edges
  // are never adjacent (the last edge counts as before the first), over
  // `dependency` edges (ww, wr and any process / real-time ones) and rw edges:
  // a BFS over (node, arrived by rw) states that starts as if after an rw
  // edge, so the first edge is a dependency and the wrap-around is safe. An
  // edge that is both a dependency and rw is taken as the dependency. Empty
  // when there is none.
  FoundCycle shortest_nonadjacent_cycle(std::uint32_t start, std::uint32_t id, std::uint8_t dependency) {
    if (pair_stamp_.empty()) {
      pair_stamp_.assign(std::size_t{graph_.node_count()} * 2, 0);
      pair_parent_.assign(std::size_t{graph_.node_count()} * 2, 0);
    }
    ++current_;
    queue_.clear();
    const std::uint32_t first = start * 2 + 1;
    queue_.push_back(first);
    pair_stamp_[first] = current_;
    for (std::size_t head = 0; head < queue_.size(); ++head) {
      if ((++work_ & 4095) == 0 && std::chrono::steady_clock::now() > deadline_) throw DeadlineReached{};
      std::uint32_t state = queue_[head];
      std::uint32_t node = state / 2;
      bool after_rw = (state & 1) != 0;
      for (std::uint32_t edge = graph_.begin(node); edge < graph_.end(node); ++edge) {
        std::uint32_t target = graph_.target(edge);
        if (component_[target] != id) continue;
        std::uint8_t kinds = graph_.kinds(edge);
        std::uint32_t next;
        if (kinds & dependency) {
          next = target * 2;
        } else if ((kinds & kReadWrite) && !after_rw) {
          next = target * 2 + 1;
        } else {
          continue;
        }
        if (target == start) {
          FoundCycle cycle;
          std::vector<std::uint32_t> states{next};
          for (std::uint32_t step = state; step != first; step = pair_parent_[step]) states.push_back(step);
          states.push_back(first);
          std::reverse(states.begin(), states.end());  // first, ..., state, next (= start again)
          for (std::size_t index = 0; index + 1 < states.size(); ++index) {
            std::uint32_t from = states[index] / 2;
            std::uint32_t to = states[index + 1] / 2;
            cycle.nodes.push_back(from);
            std::uint8_t between = graph_.kinds_between(from, to);
            cycle.kinds.push_back((states[index + 1] & 1) ? std::uint8_t{kReadWrite}
                                                          : preferred_kind(between & dependency));
          }
          return cycle;
        }
        if (pair_stamp_[next] == current_) continue;
        pair_stamp_[next] = current_;
        pair_parent_[next] = state;
        queue_.push_back(next);
      }
    }
    return {};
  }

 private:
  const DependencyGraph& graph_;
  const std::vector<std::uint32_t>& component_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<std::uint32_t> pair_stamp_;
  std::vector<std::uint32_t> pair_parent_;
  std::vector<std::uint32_t> stamp_;
  std::vector<std::uint32_t> parent_;
  std::vector<std::uint32_t> queue_;
  std::uint32_t current_ = 0;
  std::uint64_t work_ = 0;
};

// Elle's cycle-explainer: the data-dependency type from the rw edges (one:
// G-single; several, none adjacent, the last edge wrapping round to the
// first: G-nonadjacent; several with two adjacent: G2-item; none: G1c when
// there is a wr edge, else G0), then -realtime if a real-time edge is used,
// else -process if a process edge is.
std::string cycle_name(const FoundCycle& cycle) {
  std::size_t anti = 0;
  bool reads = false, process = false, realtime = false, adjacent = false;
  for (std::size_t index = 0; index < cycle.kinds.size(); ++index) {
    std::uint8_t kind = cycle.kinds[index];
    anti += kind == kReadWrite;
    reads |= kind == kWriteRead;
    process |= kind == kProcess;
    realtime |= kind == kRealtime;
    std::uint8_t next = cycle.kinds[(index + 1) % cycle.kinds.size()];
    adjacent |= kind == kReadWrite && next == kReadWrite;
  }
  std::string name = anti == 0   ? (reads ? "G1c" : "G0")
                     : anti == 1 ? "G-single"
                     : adjacent  ? "G2-item"
                                 : "G-nonadjacent";
  if (realtime) return name + "-realtime";
  if (process) return name + "-process";
  return name;
}

std::string_view cycle_meaning(std::string_view name) {
  if (name.starts_with("G0")) return "a cycle of write-write dependencies only (dirty write)";
  if (name.starts_with("G1c")) return "a cycle of write-write and write-read dependencies (circular information flow)";
  if (name.starts_with("G-single")) return "a cycle with exactly one read-write anti-dependency (read skew)";
  if (name.starts_with("G-nonadjacent")) {
    return "a cycle with two or more read-write anti-dependencies, no two of them adjacent (which snapshot isolation "
           "forbids: e.g. a long fork)";
  }
  return "a cycle with two or more read-write anti-dependencies, two of them adjacent (write skew)";
}

}  // namespace

bool find_cycle_anomalies(const DependencyGraph& graph, const std::vector<std::uint32_t>& node_invocation,
                          std::uint8_t extra_kinds, const EdgeExplainer& explain, AnomalyCollector& collector,
                          std::size_t max_starts, std::chrono::steady_clock::time_point deadline,
                          std::size_t& component_count) {
  const std::uint8_t all_kinds = kWriteWrite | kWriteRead | kReadWrite | extra_kinds;
  std::vector<std::uint32_t> component(graph.node_count(), kUnvisited);
  std::vector<std::vector<std::uint32_t>> components;
  SccFinder finder(graph);
  finder.run(
      nullptr, [](std::uint32_t) { return true; }, all_kinds,
      [&](const std::vector<std::uint32_t>& members) {
        for (std::uint32_t member : members) component[member] = static_cast<std::uint32_t>(components.size());
        components.push_back(members);
      });
  component_count = components.size();
  CycleSearch search(graph, component, deadline);

  auto cycle_from_path = [&](const std::vector<std::uint32_t>& path, std::uint8_t mask, int forced_edge) {
    FoundCycle cycle;
    cycle.nodes = path;
    for (std::size_t index = 0; index < path.size(); ++index) {
      if (static_cast<int>(index) == forced_edge) {
        cycle.kinds.push_back(kReadWrite);
        continue;
      }
      std::uint8_t kinds = graph.kinds_between(path[index], path[(index + 1) % path.size()]) & mask;
      cycle.kinds.push_back(preferred_kind(kinds));
    }
    return cycle;
  };

  // One search level inside component `id`: 0 ww only (G0), 1 ww+wr (G1c),
  // 2 exactly one rw (G-single), 3 rw edges none adjacent (G-nonadjacent),
  // 4 any (G2-item); `extra` adds process / real-time edges to ww and wr.
  // The shortest cycle found from up to start_limit starts.
  auto search_level = [&](std::uint32_t id, int level, std::uint8_t extra) -> std::optional<FoundCycle> {
    const std::vector<std::uint32_t>& members = components[id];
    // Each BFS costs O(component): fewer starts in huge components.
    const std::size_t start_limit = std::min(max_starts, std::max<std::size_t>(4, 4'000'000 / (members.size() + 1)));
    std::optional<FoundCycle> best;
    if (level == 2) {
      std::uint8_t mask = kWriteWrite | kWriteRead | extra;
      std::size_t tries = 0;
      for (std::uint32_t from : members) {
        for (std::uint32_t edge = graph.begin(from); edge < graph.end(from) && tries < start_limit; ++edge) {
          if (!(graph.kinds(edge) & kReadWrite) || component[graph.target(edge)] != id) continue;
          ++tries;
          std::vector<std::uint32_t> back = search.shortest_path(graph.target(edge), from, id, mask);
          if (back.empty()) continue;
          if (best && best->nodes.size() <= back.size()) continue;
          // Cycle: from -> target (rw) -> ... -> from.
          std::vector<std::uint32_t> path{from};
          path.insert(path.end(), back.begin(), back.end() - 1);
          best = cycle_from_path(path, mask, 0);
          if (best->nodes.size() == 2) break;
        }
        if (tries >= start_limit || (best && best->nodes.size() == 2)) break;
      }
      return best;
    }
    if (level == 3) {
      std::uint8_t dependency = kWriteWrite | kWriteRead | extra;
      std::size_t tries = 0;
      for (std::uint32_t start : members) {
        if (tries >= start_limit) break;
        ++tries;
        FoundCycle cycle = search.shortest_nonadjacent_cycle(start, id, dependency);
        if (cycle.nodes.empty() || (best && best->nodes.size() <= cycle.nodes.size())) continue;
        best = std::move(cycle);
        if (best->nodes.size() <= 4) break;  // two rw edges need at least four steps
      }
      return best;
    }
    std::uint8_t base = level == 0   ? kWriteWrite
                        : level == 1 ? kWriteWrite | kWriteRead
                                     : kWriteWrite | kWriteRead | kReadWrite;
    std::uint8_t mask = base | extra;
    // Starts: members of non-trivial SCCs of the subgraph, which lie on a cycle.
    std::vector<std::uint32_t> starts;
    finder.run(
        &members, [&](std::uint32_t node) { return component[node] == id; }, mask,
        [&](const std::vector<std::uint32_t>& sub) {
          for (std::uint32_t node : sub) {
            if (starts.size() < start_limit) starts.push_back(node);
          }
        });
    for (std::uint32_t start : starts) {
      std::vector<std::uint32_t> path = search.shortest_path(start, start, id, mask);
      if (path.empty() || (best && best->nodes.size() <= path.size())) continue;
      best = cycle_from_path(path, mask, -1);
      if (best->nodes.size() == 2) break;
    }
    return best;
  };

  auto report = [&](std::uint32_t id, const FoundCycle& cycle, const std::string& name) {
    if (!collector.wants(name)) {
      collector.count_only(name);
      return;
    }
    Anomaly anomaly;
    anomaly.type = name;
    // Evidence for at most kShownSteps steps of a long cycle.
    constexpr std::size_t kShownSteps = 50;
    for (std::size_t index = 0; index < std::min(cycle.nodes.size(), kShownSteps); ++index) {
      std::uint32_t from = cycle.nodes[index];
      std::uint32_t to = cycle.nodes[(index + 1) % cycle.nodes.size()];
      CycleStep step;
      step.from = node_invocation[from];
      step.to = node_invocation[to];
      step.kind = std::string(edge_kind_name(cycle.kinds[index]));
      step.explanation = explain(from, to, cycle.kinds[index]);
      anomaly.operations.push_back(step.from);
      anomaly.cycle.push_back(std::move(step));
    }
    anomaly.explanation = fmt::format("{} txns in a strongly connected component of {} form {}.", cycle.nodes.size(),
                                      components[id].size(), cycle_meaning(name));
    for (const CycleStep& step : anomaly.cycle) anomaly.explanation += " " + step.explanation + ".";
    if (cycle.nodes.size() > kShownSteps) {
      anomaly.explanation +=
          fmt::format(" ... and {} more steps back to the first txn.", cycle.nodes.size() - kShownSteps);
    }
    collector.add(std::move(anomaly));
  };

  // Per component, as Elle orders its searches (most severe first, pure data
  // dependencies before process edges before real-time ones): G0, G1c,
  // G-single, G-nonadjacent, G2-item, then the -process and -realtime
  // variants. Each new type found is reported; the search of a component stops
  // at the first type the model prohibits.
  std::vector<std::uint8_t> extras{0};
  if (extra_kinds & kProcess) extras.push_back(kProcess);
  if (extra_kinds & kRealtime) extras.push_back(extra_kinds);
  try {
    for (std::uint32_t id = 0; id < components.size(); ++id) {
      std::vector<std::string> reported;
      bool prohibited = false;
      for (std::uint8_t extra : extras) {
        for (int level = 0; level < 5 && !prohibited; ++level) {
          std::optional<FoundCycle> cycle = search_level(id, level, extra);
          if (!cycle) continue;
          std::string name = cycle_name(*cycle);
          if (std::find(reported.begin(), reported.end(), name) != reported.end()) continue;
          reported.push_back(name);
          report(id, *cycle, name);
          prohibited = collector.forbids(name);
        }
      }
    }
  } catch (const DeadlineReached&) {
    return false;
  }
  return true;
}

void add_order_edges(const History& history, const TxnTable& table, const std::vector<std::uint32_t>& nodes,
                     bool process_edges, bool realtime_edges, DependencyGraph& graph) {
  if (process_edges) {
    std::unordered_map<std::int64_t, std::uint32_t> last_of_process;
    for (std::uint32_t node = 0; node < nodes.size(); ++node) {
      const Txn& txn = table.txns[nodes[node]];
      auto [it, inserted] = last_of_process.try_emplace(txn.process, node);
      if (!inserted) {
        graph.add_edge(it->second, node, kProcess);
        it->second = node;
      }
    }
  }
  if (!realtime_edges) return;
  // Real time is the ops' `time` (ns; file position when the input had none).
  // At equal times an invocation is not after the completion: invocations sort first.
  struct Event {
    std::int64_t time;
    std::uint32_t position;
    std::uint32_t node;
    bool completion;
  };
  std::vector<Event> events;
  events.reserve(nodes.size() * 2);
  for (std::uint32_t node = 0; node < nodes.size(); ++node) {
    const Txn& txn = table.txns[nodes[node]];
    events.push_back(Event{history.operations[txn.invocation].time, txn.invocation, node, false});
    if (txn.outcome == OpType::ok) {
      events.push_back(Event{history.operations[txn.completion].time, txn.completion, node, true});
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& left, const Event& right) {
    if (left.time != right.time) return left.time < right.time;
    if (left.completion != right.completion) return !left.completion;
    return left.position < right.position;
  });
  // frontier: completed txns with no real-time successor completed yet.
  std::vector<std::uint32_t> frontier;
  std::vector<std::uint32_t> snapshot_offset(nodes.size(), 0), snapshot_length(nodes.size(), 0);
  std::vector<std::uint32_t> snapshots;
  for (const Event& event : events) {
    if (!event.completion) {
      snapshot_offset[event.node] = static_cast<std::uint32_t>(snapshots.size());
      snapshot_length[event.node] = static_cast<std::uint32_t>(frontier.size());
      for (std::uint32_t before : frontier) {
        graph.add_edge(before, event.node, kRealtime);
        snapshots.push_back(before);
      }
      continue;
    }
    auto first = snapshots.begin() + snapshot_offset[event.node];
    auto last = first + snapshot_length[event.node];
    std::erase_if(frontier, [&](std::uint32_t member) { return std::find(first, last, member) != last; });
    frontier.push_back(event.node);
  }
}

std::string txn_label(const History& history, const Txn& txn) {
  // A Jepsen history's own :index, when it is not the position.
  if (txn.invocation < history.file_index.size()) {
    return fmt::format("op {} (:index {}, process {})", txn.invocation, history.file_index[txn.invocation],
                       txn.process);
  }
  return fmt::format("op {} (process {})", txn.invocation, txn.process);
}

// ---------------------------------------------------------------------------
// Anomaly collection and models

bool AnomalyCollector::wants(const std::string& type) const {
  std::size_t kept = 0;
  for (const Anomaly& anomaly : anomalies_) kept += anomaly.type == type;
  return kept < keep_;
}

void AnomalyCollector::add(Anomaly anomaly) {
  ++counts_[anomaly.type];
  if (!wants(anomaly.type)) return;
  anomaly.forbidden = model_forbids(model_, anomaly.type);
  anomalies_.push_back(std::move(anomaly));
}

bool AnomalyCollector::any_forbidden() const {
  for (const auto& [type, count] : counts_) {
    if (model_forbids(model_, type)) return true;
  }
  return false;
}

void AnomalyCollector::fill(ElleResult& result) const {
  result.anomaly_counts.assign(counts_.begin(), counts_.end());
  result.anomalies = anomalies_;
}

void finish_result(ElleResult& result, const AnomalyCollector& collector, bool search_complete, const TxnTable& table) {
  collector.fill(result);
  std::string forbidden;
  std::string allowed;
  for (const auto& [type, count] : result.anomaly_counts) {
    std::string& list = model_forbids(result.model, type) ? forbidden : allowed;
    list += fmt::format("{}{} ({})", list.empty() ? "" : ", ", type, count);
  }
  std::vector<std::string> found;
  for (const auto& [type, count] : result.anomaly_counts) found.push_back(type);
  ModelBoundary boundary = models_ruled_out_by(found);
  result.models_not = boundary.not_models;
  result.models_ruled_out = boundary.not_models;
  result.models_ruled_out.insert(result.models_ruled_out.end(), boundary.also_not.begin(), boundary.also_not.end());
  if (collector.any_forbidden()) {
    result.verdict = Verdict::invalid;
    result.reason = fmt::format("not {}: {}", to_string(result.model), forbidden);
  } else if (!search_complete) {
    result.verdict = Verdict::unknown;
    result.reason = fmt::format("time limit reached while searching cycles among {} txns", result.transactions);
  } else if (table.committed_writing == 0) {
    result.verdict = Verdict::unknown;
    result.reason = "nothing to judge: no committed transaction with a write";
  } else if (table.committed_reading == 0) {
    result.verdict = Verdict::unknown;
    result.reason = "nothing to judge: no committed transaction read anything";
  } else if (result.edges == 0) {
    // Elle's :empty-transaction-graph: no dependency inferred between any two txns.
    result.verdict = Verdict::unknown;
    result.reason = fmt::format("nothing to judge: no dependency between any two of the {} txns", result.transactions);
  } else {
    result.verdict = Verdict::valid;
    result.reason = fmt::format("{} txns: no anomaly that {} forbids", result.transactions, to_string(result.model));
  }
  if (!allowed.empty()) result.reason += fmt::format(" (allowed by {}: {})", to_string(result.model), allowed);
}

}  // namespace chaosbench::checkers::elle

namespace chaosbench::checkers {

ElleResult check_transactions(const History& history, TxnWorkload workload, const ElleOptions& options) {
  return workload == TxnWorkload::list_append ? check_list_append(history, options)
                                              : check_rw_register(history, options);
}

nlohmann::json to_json(const ElleResult& result) {
  nlohmann::json anomalies = nlohmann::json::array();
  for (const Anomaly& anomaly : result.anomalies) {
    nlohmann::json cycle = nlohmann::json::array();
    for (const CycleStep& step : anomaly.cycle) {
      cycle.push_back({{"from", step.from}, {"to", step.to}, {"kind", step.kind}, {"explanation", step.explanation}});
    }
    nlohmann::json entry{{"type", anomaly.type},
                         {"forbidden", anomaly.forbidden},
                         {"explanation", anomaly.explanation},
                         {"indices", anomaly.operations}};
    if (!cycle.empty()) entry["cycle"] = std::move(cycle);
    anomalies.push_back(std::move(entry));
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [type, count] : result.anomaly_counts) counts[type] = count;
  return nlohmann::json{{"verdict", to_string(result.verdict)},
                        {"reason", result.reason},
                        {"consistency_model", to_string(result.model)},
                        {"transactions", result.transactions},
                        {"edges", result.edges},
                        {"strongly_connected_components", result.strongly_connected_components},
                        {"anomaly_counts", counts},
                        {"anomalies", anomalies},
                        {"models_ruled_out", result.models_ruled_out},
                        {"models_not", result.models_not},
                        {"elapsed_seconds", result.elapsed_seconds}};
}

std::string describe(const ElleResult& result) {
  std::string text = fmt::format("{}: {}\n", to_string(result.verdict), result.reason);
  for (const Anomaly& anomaly : result.anomalies) {
    text += fmt::format("  {}{}: {}\n", anomaly.type, anomaly.forbidden ? "" : " (allowed)", anomaly.explanation);
  }
  if (!result.models_ruled_out.empty()) {
    auto joined = [](const std::vector<std::string>& names) {
      std::string text;
      for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
      return text;
    };
    std::vector<std::string> stronger(
        result.models_ruled_out.begin() + static_cast<std::ptrdiff_t>(result.models_not.size()),
        result.models_ruled_out.end());
    text += fmt::format("  ruled out: {}", joined(result.models_not));
    if (!stronger.empty()) text += fmt::format("; also not {}", joined(stronger));
    text += "\n";
  }
  return text;
}

}  // namespace chaosbench::checkers
