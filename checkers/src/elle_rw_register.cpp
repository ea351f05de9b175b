// rw-register: unique written values name their writer. Version order facts:
// the initial nil precedes every version; with Elle's optional sources,
// wfr-keys (a txn that reads v1 and then writes v2 to a key orders v1 before
// v2), sequential-keys (a process's successive txns on a key: the earlier's
// last value before the later's first) and linearizable-keys (the same along
// real-time order). Each source is merged in that order unless it makes some
// key's versions cyclic (then cyclic-versions, and the source is left out, as
// Elle does). Every version-order fact v1 < v2 gives ww edges from v1's writer
// and rw edges from v1's readers to v2's writer. Reads of nil anti-depend on
// every key's first known versions (sound: a non-immediate successor only
// shortcuts a chain of the same anti-dependency count).
#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "elle_internal.h"

namespace chaosbench::checkers {

using namespace elle;

namespace {

struct WriteRecord {
  std::uint32_t txn = 0;
  std::uint32_t key = 0;
  Element element = 0;
  bool final_in_txn = true;
  bool observed = false;         // read by some ok txn
  bool has_predecessor = false;  // some txn read a non-nil value and then wrote this
};

enum class VersionSource : std::uint8_t { wfr_keys, sequential_keys, linearizable_keys };

std::string_view version_source_name(VersionSource source) {
  switch (source) {
    case VersionSource::wfr_keys:
      return "wfr-keys";
    case VersionSource::sequential_keys:
      return "sequential-keys";
    case VersionSource::linearizable_keys:
      return "linearizable-keys";
  }
  return "?";
}

// v1 < v2 on a key, as one source infers it from txns `earlier` and `later`
// (the same txn for wfr-keys).
struct VersionRelation {
  std::uint32_t key;
  Element before;  // may be kNilElement
  Element after;   // may be kNilElement (then it is cyclic with the initial state)
  VersionSource source;
  std::uint32_t earlier;
  std::uint32_t later;
};

struct VersionEdge {
  std::uint32_t key;
  Element before;             // may be kNilElement
  std::uint32_t after_write;  // WriteRecord index
  std::uint32_t txn;          // the txn whose first value is `after` (for wfr-keys: that read `before` and wrote it)
  std::uint32_t earlier_txn;  // the txn whose last value is `before` (the same for wfr-keys)
  VersionSource source;
};

// What a txn did to one key as the order sources see it: its first external
// value (Elle: the external read, or else the external write) and its last
// (the final write, or else the external read). Info txns: their writes only.
struct KeyTouch {
  std::uint32_t key;
  Element first;
  Element last;
};

class RwRegisterChecker {
 public:
  RwRegisterChecker(const History& history, const ElleOptions& options)
      : history_(history),
        options_(options),
        table_(history, TxnWorkload::rw_register),
        collector_(options.model, options.max_anomalies_per_type) {}

  ElleResult run(std::chrono::steady_clock::time_point started) {
    ElleResult result;
    result.model = options_.model;
    index_writes();
    std::vector<std::uint32_t> node_invocation;
    node_of_txn_.assign(table_.txns.size(), kNoIndex);
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      if (table_.txns[txn].outcome == OpType::fail) continue;
      node_of_txn_[txn] = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(txn);
      node_invocation.push_back(table_.txns[txn].invocation);
    }
    DependencyGraph graph(static_cast<std::uint32_t>(nodes_.size()));
    check_reads(graph);
    if (options_.sequential_keys || options_.linearizable_keys) collect_touches();
    if (options_.sequential_keys) add_sequential_relations();
    if (options_.linearizable_keys) add_linearizable_relations();
    merge_version_sources();
    add_version_edges(graph);
    bool process = model_needs_process_edges(options_.model);
    bool realtime = model_needs_realtime_edges(options_.model);
    add_order_edges(history_, table_, nodes_, process, realtime, graph);
    graph.build();
    result.transactions = nodes_.size();
    result.edges = graph.edge_count();
    auto deadline =
        options_.time_limit.count() > 0 ? started + options_.time_limit : std::chrono::steady_clock::time_point::max();
    std::uint8_t extra = (process ? kProcess : 0) | (realtime ? kRealtime : 0);
    bool complete = find_cycle_anomalies(
        graph, node_invocation, extra,
        [&](std::uint32_t from, std::uint32_t to, std::uint8_t kind) {
          return explain(nodes_[from], nodes_[to], kind);
        },
        collector_, options_.max_cycle_search_starts, deadline, result.strongly_connected_components);
    finish_result(result, collector_, complete, table_);
    return result;
  }

 private:
  std::string label(std::uint32_t txn) const { return txn_label(history_, table_.txns[txn]); }

  void index_writes() {
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        if (op.kind != MicroKind::write) continue;
        if (record.outcome == OpType::fail) {
          failed_.insert(op.key, op.element, txn);
          continue;
        }
        auto id = static_cast<std::uint32_t>(writes_.size());
        std::uint32_t stored = writes_by_element_.insert(op.key, op.element, id);
        if (stored != id) {
          throw HistoryError(
              fmt::format("op {}: field 'value': {} written to key {} twice (also by op {}); rw-register needs unique "
                          "written values",
                          record.invocation, table_.element_text(op.element), table_.key_text(op.key),
                          table_.txns[writes_[stored].txn].invocation));
        }
        WriteRecord write;
        write.txn = txn;
        write.key = op.key;
        write.element = op.element;
        for (std::uint32_t later = mop + 1; later < record.mop_end; ++later) {
          if (table_.mops[later].kind == MicroKind::write && table_.mops[later].key == op.key)
            write.final_in_txn = false;
        }
        writes_.push_back(write);
      }
    }
  }

  void add_anomaly(const std::string& type, std::vector<std::uint32_t> operations,
                   const std::function<std::string()>& text) {
    if (!collector_.wants(type)) return collector_.count_only(type);
    Anomaly anomaly;
    anomaly.type = type;
    anomaly.operations = std::move(operations);
    anomaly.explanation = text();
    collector_.add(std::move(anomaly));
  }

  void check_reads(DependencyGraph& graph) {
    struct KeyState {
      std::uint32_t key;
      Element value;
      bool from_write;
    };
    std::vector<KeyState> states;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> lost_update_groups;  // reader slot -> txns
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      if (record.outcome != OpType::ok) continue;
      states.clear();
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        auto state =
            std::find_if(states.begin(), states.end(), [&](const KeyState& entry) { return entry.key == op.key; });
        if (op.kind == MicroKind::write) {
          if (state == states.end()) {
            states.push_back(KeyState{op.key, op.element, true});
          } else {
            *state = KeyState{op.key, op.element, true};
          }
          continue;
        }
        if (!op.read_known) continue;
        if (state != states.end()) {
          if (state->value != op.element) {
            Element expected = state->value;
            bool from_write = state->from_write;
            add_anomaly("internal", {record.invocation}, [&] {
              return fmt::format("{} read key {} = {}, but it had {} {} earlier in the same txn", label(txn),
                                 table_.key_text(op.key), table_.element_text(op.element),
                                 from_write ? "written" : "read", table_.element_text(expected));
            });
          }
          state->value = op.element;
          state->from_write = false;
          continue;
        }
        states.push_back(KeyState{op.key, op.element, false});
        external_reads_.push_back(ExternalRead{txn, op.key, op.element});
        std::uint32_t node = node_of_txn_[txn];
        // Does this txn write the key later? Then it read-modify-wrote it.
        std::uint32_t later_write = kNoIndex;
        for (std::uint32_t later = mop + 1; later < record.mop_end; ++later) {
          if (table_.mops[later].kind == MicroKind::write && table_.mops[later].key == op.key) {
            later_write = writes_by_element_.find(op.key, table_.mops[later].element);
          }
        }
        if (later_write != kNoIndex) {
          if (options_.wfr_keys) {
            relations_.push_back(
                VersionRelation{op.key, op.element, writes_[later_write].element, VersionSource::wfr_keys, txn, txn});
          }
          std::uint64_t slot = external_slot(op.key, op.element);
          lost_update_groups[slot].push_back(txn);
        }
        if (op.element == kNilElement) continue;
        std::uint32_t write = writes_by_element_.find(op.key, op.element);
        if (write == ElementMap::kMissing) {
          std::uint32_t failed = failed_.find(op.key, op.element);
          if (failed != ElementMap::kMissing) {
            add_anomaly("G1a", {record.invocation, table_.txns[failed].invocation}, [&] {
              return fmt::format("G1a (aborted read): {} read key {} = {}, written by {} that failed", label(txn),
                                 table_.key_text(op.key), table_.element_text(op.element), label(failed));
            });
          } else {
            add_anomaly("garbage-read", {record.invocation}, [&] {
              return fmt::format("{} read key {} = {}, which no txn ever wrote", label(txn), table_.key_text(op.key),
                                 table_.element_text(op.element));
            });
          }
          continue;
        }
        WriteRecord& writer = writes_[write];
        writer.observed = true;
        if (writer.txn == txn) continue;
        graph.add_edge(node_of_txn_[writer.txn], node, kWriteRead);
        if (!writer.final_in_txn) {
          add_anomaly("G1b", {record.invocation, table_.txns[writer.txn].invocation}, [&] {
            return fmt::format("G1b (intermediate read): {} read key {} = {}, which {} overwrote later in the same txn",
                               label(txn), table_.key_text(op.key), table_.element_text(op.element), label(writer.txn));
          });
        }
      }
    }
    std::vector<std::pair<std::uint64_t, std::vector<std::uint32_t>>> groups;
    for (auto& entry : lost_update_groups) {
      if (entry.second.size() > 1) groups.emplace_back(entry.first, std::move(entry.second));
    }
    std::sort(groups.begin(), groups.end());
    for (const auto& [slot, txns] : groups) {
      std::vector<std::uint32_t> operations;
      std::string names;
      for (std::uint32_t txn : txns) {
        operations.push_back(table_.txns[txn].invocation);
        names += (names.empty() ? "" : ", ") + label(txn);
      }
      for (const ExternalRead& read : external_reads_) {
        if (read.txn == txns.front() && external_slot(read.key, read.element) == slot) {
          add_anomaly("lost-update", operations, [&] {
            return fmt::format("{} txns read key {} = {} and then each wrote it, none seeing the others' write ({})",
                               txns.size(), table_.key_text(read.key), table_.element_text(read.element), names);
          });
          break;
        }
      }
    }
  }

  std::uint64_t external_slot(std::uint32_t key, Element element) {
    std::uint32_t id = slot_ids_.insert(key, element, static_cast<std::uint32_t>(slot_ids_.size()));
    return id;
  }

  void collect_touches() {
    touch_begin_.assign(table_.txns.size() + 1, 0);
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      touch_begin_[txn] = static_cast<std::uint32_t>(touches_.size());
      const Txn& record = table_.txns[txn];
      if (record.outcome == OpType::fail) continue;
      const bool ok = record.outcome == OpType::ok;
      struct Seen {
        bool read = false, wrote = false;
        Element read_value = kNilElement, written = kNilElement;
      };
      std::vector<std::pair<std::uint32_t, Seen>> seen;
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        auto entry = std::find_if(seen.begin(), seen.end(), [&](const auto& item) { return item.first == op.key; });
        if (entry == seen.end()) {
          seen.emplace_back(op.key, Seen{});
          entry = std::prev(seen.end());
        }
        Seen& state = entry->second;
        if (op.kind == MicroKind::write) {
          state.wrote = true;
          state.written = op.element;
        } else if (ok && op.read_known && !state.read && !state.wrote) {
          state.read = true;  // the external read
          state.read_value = op.element;
        }
      }
      for (const auto& [key, state] : seen) {
        if (!state.read && !state.wrote) continue;  // no external value known
        // As Elle's (or ext-read ext-write): a nil read gives way to the write.
        Element first = state.read && state.read_value != kNilElement ? state.read_value
                        : state.wrote                                 ? state.written
                                                                      : state.read_value;
        Element last = state.wrote ? state.written : state.read_value;
        touches_.push_back(KeyTouch{key, first, last});
      }
    }
    touch_begin_[table_.txns.size()] = static_cast<std::uint32_t>(touches_.size());
  }

  void relate(std::uint32_t earlier, std::uint32_t later, const KeyTouch& from, const KeyTouch& to,
              VersionSource source) {
    if (from.last == to.first || from.last == kNilElement) return;  // nil < v is the initial state's
    relations_.push_back(VersionRelation{from.key, from.last, to.first, source, earlier, later});
  }

  // Each process's txns in order; per key, consecutive txns touching it.
  void add_sequential_relations() {
    std::unordered_map<std::int64_t, std::vector<std::uint32_t>> by_process;
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      if (table_.txns[txn].outcome != OpType::fail) by_process[table_.txns[txn].process].push_back(txn);
    }
    std::vector<std::int64_t> processes;
    for (const auto& entry : by_process) processes.push_back(entry.first);
    std::sort(processes.begin(), processes.end());
    for (std::int64_t process : processes) {
      std::unordered_map<std::uint32_t, std::pair<std::uint32_t, KeyTouch>> last_by_key;  // key -> (txn, touch)
      for (std::uint32_t txn : by_process[process]) {
        for (std::uint32_t touch = touch_begin_[txn]; touch < touch_begin_[txn + 1]; ++touch) {
          const KeyTouch& current = touches_[touch];
          auto found = last_by_key.find(current.key);
          if (found != last_by_key.end()) {
            relate(found->second.first, txn, found->second.second, current, VersionSource::sequential_keys);
          }
          last_by_key[current.key] = {txn, current};
        }
      }
    }
  }

  // Per key: each ok txn's real-time successors touching the key that no
  // other such txn separates from it (Elle's downstream search, compressed).
  void add_linearizable_relations() {
    struct Interval {
      std::uint32_t invocation, completion, txn, touch;
    };
    std::unordered_map<std::uint32_t, std::vector<Interval>> by_key;
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      for (std::uint32_t touch = touch_begin_[txn]; touch < touch_begin_[txn + 1]; ++touch) {
        std::uint32_t completion = record.outcome == OpType::ok ? record.completion : kNoIndex;  // info: never
        by_key[touches_[touch].key].push_back(Interval{record.invocation, completion, txn, touch});
      }
    }
    std::vector<std::uint32_t> keys;
    for (const auto& entry : by_key) keys.push_back(entry.first);
    std::sort(keys.begin(), keys.end());
    for (std::uint32_t key : keys) {
      std::vector<Interval>& intervals = by_key[key];
      std::sort(intervals.begin(), intervals.end(),
                [](const Interval& a, const Interval& b) { return a.invocation < b.invocation; });
      std::vector<std::uint32_t> suffix_min(intervals.size() + 1, kNoIndex);
      for (std::size_t index = intervals.size(); index-- > 0;) {
        suffix_min[index] = std::min(suffix_min[index + 1], intervals[index].completion);
      }
      for (const Interval& earlier : intervals) {
        if (earlier.completion == kNoIndex) continue;
        auto first = std::upper_bound(
            intervals.begin(), intervals.end(), earlier.completion,
            [](std::uint32_t completion, const Interval& interval) { return completion < interval.invocation; });
        const std::uint32_t bound = suffix_min[static_cast<std::size_t>(first - intervals.begin())];
        for (auto later = first; later != intervals.end() && later->invocation < bound; ++later) {
          relate(earlier.txn, later->txn, touches_[earlier.touch], touches_[later->touch],
                 VersionSource::linearizable_keys);
        }
      }
    }
  }

  // Merges the sources' relations in Elle's order; a source that makes some
  // key's versions cyclic (with the initial state, nil before every version)
  // is dropped and reported.
  void merge_version_sources() {
    std::vector<VersionRelation> accepted;
    for (VersionSource source :
         {VersionSource::wfr_keys, VersionSource::sequential_keys, VersionSource::linearizable_keys}) {
      std::vector<VersionRelation> candidate = accepted;
      bool any = false;
      for (const VersionRelation& relation : relations_) {
        if (relation.source == source) {
          candidate.push_back(relation);
          any = true;
        }
      }
      if (!any) continue;
      if (report_version_cycle(candidate, source)) continue;
      accepted = std::move(candidate);
    }
    for (const VersionRelation& relation : accepted) {
      if (relation.after == kNilElement) continue;
      std::uint32_t after = writes_by_element_.find(relation.key, relation.after);
      if (after == ElementMap::kMissing) continue;  // a garbage or aborted read, reported as such
      version_edges_.push_back(
          VersionEdge{relation.key, relation.before, after, relation.later, relation.earlier, relation.source});
    }
  }

  // Finds one cycle among `relations`' versions (per key; v < nil closes one
  // through the initial state), reports it as cyclic-versions; true if found.
  bool report_version_cycle(const std::vector<VersionRelation>& relations, VersionSource source) {
    std::unordered_map<std::uint32_t, std::vector<const VersionRelation*>> by_key;
    for (const VersionRelation& relation : relations) by_key[relation.key].push_back(&relation);
    std::vector<std::uint32_t> keys;
    for (const auto& entry : by_key) keys.push_back(entry.first);
    std::sort(keys.begin(), keys.end());
    for (std::uint32_t key : keys) {
      std::vector<Element> cycle = version_cycle(by_key[key]);
      if (cycle.empty()) continue;
      std::vector<std::uint32_t> operations;
      std::string sources;
      for (const VersionRelation* relation : by_key[key]) {
        for (std::uint32_t txn : {relation->earlier, relation->later}) {
          const std::uint32_t invocation = table_.txns[txn].invocation;
          if (std::find(operations.begin(), operations.end(), invocation) == operations.end())
            operations.push_back(invocation);
        }
        const std::string name(version_source_name(relation->source));
        if (sources.find(name) == std::string::npos) sources += (sources.empty() ? "" : ", ") + name;
      }
      std::sort(operations.begin(), operations.end());
      if (operations.size() > 8) operations.resize(8);
      add_anomaly("cyclic-versions", operations, [&] {
        std::string order;
        for (Element element : cycle) order += table_.element_text(element) + " < ";
        order += table_.element_text(cycle.front());
        return fmt::format(
            "cyclic-versions: key {} would need {} (from the initial state and {}), so {} is not used to order "
            "versions",
            table_.key_text(key), order, sources, version_source_name(source));
      });
      return true;
    }
    return false;
  }

  // A cycle of versions (in order), or empty. nil precedes every version.
  static std::vector<Element> version_cycle(const std::vector<const VersionRelation*>& relations) {
    for (const VersionRelation* relation : relations) {
      if (relation->after == kNilElement && relation->before != kNilElement) return {kNilElement, relation->before};
    }
    std::unordered_map<Element, std::uint32_t> ids;
    std::vector<Element> elements;
    auto id_of = [&](Element element) {
      auto [found, inserted] = ids.emplace(element, static_cast<std::uint32_t>(elements.size()));
      if (inserted) elements.push_back(element);
      return found->second;
    };
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (const VersionRelation* relation : relations) {
      if (relation->before == kNilElement || relation->after == kNilElement) continue;
      edges.emplace_back(id_of(relation->before), id_of(relation->after));
    }
    std::vector<std::vector<std::uint32_t>> out(elements.size());
    for (const auto& [from, to] : edges) out[from].push_back(to);
    // Iterative DFS with colours; a grey target closes a cycle along the stack.
    std::vector<std::uint8_t> colour(elements.size(), 0);
    std::vector<std::pair<std::uint32_t, std::size_t>> stack;
    for (std::uint32_t root = 0; root < elements.size(); ++root) {
      if (colour[root]) continue;
      stack.emplace_back(root, 0);
      colour[root] = 1;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next == out[node].size()) {
          colour[node] = 2;
          stack.pop_back();
          continue;
        }
        const std::uint32_t target = out[node][next++];
        if (colour[target] == 1) {
          std::vector<Element> cycle;
          bool on = false;
          for (const auto& frame : stack) {
            on = on || frame.first == target;
            if (on) cycle.push_back(elements[frame.first]);
          }
          return cycle;
        }
        if (colour[target] == 0) {
          colour[target] = 1;
          stack.emplace_back(target, 0);
        }
      }
    }
    return {};
  }

  void add_version_edges(DependencyGraph& graph) {
    for (const VersionEdge& edge : version_edges_) {
      if (edge.before != kNilElement) writes_[edge.after_write].has_predecessor = true;
    }
    // Readers per (key, value), nil included.
    std::vector<std::vector<std::uint32_t>> readers;
    ElementMap reader_group;
    for (const ExternalRead& read : external_reads_) {
      std::uint32_t group = reader_group.insert(read.key, read.element, static_cast<std::uint32_t>(readers.size()));
      if (group == readers.size()) readers.emplace_back();
      readers[group].push_back(read.txn);
    }
    auto anti_depend = [&](std::uint32_t key, Element before, const WriteRecord& after) {
      std::uint32_t group = reader_group.find(key, before);
      if (group == ElementMap::kMissing) return;
      for (std::uint32_t reader : readers[group]) {
        if (reader != after.txn) graph.add_edge(node_of_txn_[reader], node_of_txn_[after.txn], kReadWrite);
      }
    };
    for (const VersionEdge& edge : version_edges_) {
      const WriteRecord& after = writes_[edge.after_write];
      if (edge.before != kNilElement) {
        std::uint32_t before = writes_by_element_.find(edge.key, edge.before);
        if (before != ElementMap::kMissing && writes_[before].txn != after.txn) {
          graph.add_edge(node_of_txn_[writes_[before].txn], node_of_txn_[after.txn], kWriteWrite);
        }
      }
      anti_depend(edge.key, edge.before, after);
    }
    // nil precedes the first known versions of each key.
    for (const WriteRecord& write : writes_) {
      if (write.has_predecessor) continue;
      if (!write.observed && table_.txns[write.txn].outcome != OpType::ok) continue;  // may never have happened
      anti_depend(write.key, kNilElement, write);
    }
  }

  std::string explain(std::uint32_t from, std::uint32_t to, std::uint8_t kind) const {
    const Txn& source = table_.txns[from];
    auto written_by = [&](std::uint32_t key, Element element) {
      std::uint32_t write = writes_by_element_.find(key, element);
      return write == ElementMap::kMissing ? kNoIndex : writes_[write].txn;
    };
    switch (kind) {
      case kWriteWrite:
        for (const VersionEdge& edge : version_edges_) {
          if (writes_[edge.after_write].txn != to || edge.before == kNilElement ||
              written_by(edge.key, edge.before) != from)
            continue;
          if (edge.source == VersionSource::wfr_keys) {
            return fmt::format("{} wrote key {} = {}, which {} read and then overwrote with {} (ww, wfr-keys)",
                               label(from), table_.key_text(edge.key), table_.element_text(edge.before), label(to),
                               table_.element_text(writes_[edge.after_write].element));
          }
          return fmt::format("{} wrote key {} = {}, and {} wrote {}, which came later in the version order: {} (ww)",
                             label(from), table_.key_text(edge.key), table_.element_text(edge.before), label(to),
                             table_.element_text(writes_[edge.after_write].element), version_reason(edge));
        }
        break;
      case kWriteRead:
        for (const ExternalRead& read : external_reads_) {
          if (read.txn == to && read.element != kNilElement && written_by(read.key, read.element) == from) {
            return fmt::format("{} read key {} = {}, written by {} (wr)", label(to), table_.key_text(read.key),
                               table_.element_text(read.element), label(from));
          }
        }
        break;
      case kReadWrite:
        for (const VersionEdge& edge : version_edges_) {
          if (writes_[edge.after_write].txn != to || edge.before == kNilElement) continue;
          for (const ExternalRead& read : external_reads_) {
            if (read.txn == from && read.key == edge.key && read.element == edge.before) {
              return fmt::format("{} read key {} = {}, and {} wrote {}, which came later in the version order: {} (rw)",
                                 label(from), table_.key_text(edge.key), table_.element_text(edge.before), label(to),
                                 table_.element_text(writes_[edge.after_write].element), version_reason(edge));
            }
          }
        }
        for (const ExternalRead& read : external_reads_) {
          if (read.txn != from) continue;
          for (const WriteRecord& write : writes_) {
            if (write.txn == to && write.key == read.key) {
              return fmt::format("{} read key {} = {}, a version before {}'s write of {} (rw)", label(from),
                                 table_.key_text(read.key), table_.element_text(read.element), label(to),
                                 table_.element_text(write.element));
            }
          }
        }
        break;
      case kProcess:
        return fmt::format("{} and then {} ran on process {} in that order (process)", label(from), label(to),
                           source.process);
      case kRealtime:
        return fmt::format("{} completed (op {}) before {} began (realtime)", label(from), source.completion,
                           label(to));
      default:
        break;
    }
    return fmt::format("{} precedes {} ({})", label(from), label(to), edge_kind_name(kind));
  }

  // Why `edge.before` precedes the version `edge` leads to, in words.
  std::string version_reason(const VersionEdge& edge) const {
    const Txn& earlier = table_.txns[edge.earlier_txn];
    switch (edge.source) {
      case VersionSource::wfr_keys:
        return fmt::format("{} read {} and then wrote it (wfr-keys)", label(edge.txn),
                           table_.element_text(edge.before));
      case VersionSource::sequential_keys:
        return fmt::format("{} and then {} ran on process {} (sequential-keys)", label(edge.earlier_txn),
                           label(edge.txn), earlier.process);
      case VersionSource::linearizable_keys:
        return fmt::format("{} completed (op {}) before {} began (linearizable-keys)", label(edge.earlier_txn),
                           earlier.completion, label(edge.txn));
    }
    return "";
  }

  struct ExternalRead {
    std::uint32_t txn;
    std::uint32_t key;
    Element element;
  };

  const History& history_;
  const ElleOptions& options_;
  TxnTable table_;
  AnomalyCollector collector_;
  std::vector<WriteRecord> writes_;
  ElementMap writes_by_element_;
  ElementMap failed_;
  ElementMap slot_ids_;
  std::vector<VersionRelation> relations_;  // every source's, before merging
  std::vector<VersionEdge> version_edges_;  // the merged sources', to written versions
  std::vector<KeyTouch> touches_;           // per txn (touch_begin_), its keys' first and last values
  std::vector<std::uint32_t> touch_begin_;
  std::vector<ExternalRead> external_reads_;
  std::vector<std::uint32_t> nodes_;
  std::vector<std::uint32_t> node_of_txn_;
};

}  // namespace

ElleResult check_rw_register(const History& history, const ElleOptions& options) {
  auto started = std::chrono::steady_clock::now();
  RwRegisterChecker checker(history, options);
  ElleResult result = checker.run(started);
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
