// rw-register: unique written values name their writer. Version order facts:
// the initial nil precedes every version, and a txn that reads v1 and then
// writes v2 to a key orders v1 before v2. Reads of nil anti-depend on every
// key's first known versions (sound: a non-immediate successor only shortcuts
// a chain of the same anti-dependency count).
#include <algorithm>

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

struct VersionEdge {
  std::uint32_t key;
  Element before;             // may be kNilElement
  std::uint32_t after_write;  // WriteRecord index
  std::uint32_t txn;          // the txn that read `before` and wrote `after`
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
          version_edges_.push_back(VersionEdge{op.key, op.element, later_write, txn});
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
          if (edge.txn == to && edge.before != kNilElement && written_by(edge.key, edge.before) == from) {
            return fmt::format("{} wrote key {} = {}, which {} read and then overwrote with {} (ww)", label(from),
                               table_.key_text(edge.key), table_.element_text(edge.before), label(to),
                               table_.element_text(writes_[edge.after_write].element));
          }
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
  std::vector<VersionEdge> version_edges_;
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
