// List-append: each key's version order is its longest read (every other read
// must be a prefix of it); appends are unique, so each element names its writer.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "elle_internal.h"

namespace chaosbench::checkers {

using namespace elle;

namespace {

struct AppendRecord {
  std::uint32_t txn = 0;
  std::uint32_t position = kNoIndex;  // in its key's version order
  Element element = 0;
  std::uint32_t key = 0;
  bool final_in_txn = true;                  // the txn's last append to that key
  std::uint32_t previous_in_txn = kNoIndex;  // the txn's append to that key just before this one
};

struct KeyOrder {
  std::uint32_t offset = 0;  // the longest read, in table.read_elements
  std::uint32_t length = 0;
  std::uint32_t reader = kNoIndex;         // txn of that read
  std::uint32_t first_aborted = kNoIndex;  // first position written by a failed txn
  std::uint32_t first_garbage = kNoIndex;  // first position nobody appended
};

class ListAppendChecker {
 public:
  ListAppendChecker(const History& history, const ElleOptions& options)
      : history_(history),
        options_(options),
        table_(history, TxnWorkload::list_append),
        collector_(options.model, options.max_anomalies_per_type) {}

  ElleResult run(std::chrono::steady_clock::time_point started) {
    ElleResult result;
    result.model = options_.model;
    index_appends();
    check_internal();
    build_version_orders();
    check_append_order();
    std::vector<std::uint32_t> node_invocation;
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      if (table_.txns[txn].outcome == OpType::fail) continue;
      node_of_txn_[txn] = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(txn);
      node_invocation.push_back(table_.txns[txn].invocation);
    }
    DependencyGraph graph(static_cast<std::uint32_t>(nodes_.size()));
    add_write_write_edges(graph);
    check_reads(graph);
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
  const Element* version(std::uint32_t key) const { return table_.read_elements.data() + orders_[key].offset; }

  void index_appends() {
    node_of_txn_.assign(table_.txns.size(), kNoIndex);
    orders_.resize(table_.key_count());
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        if (op.kind != MicroKind::append) continue;
        if (record.outcome == OpType::fail) {
          failed_.insert(op.key, op.element, txn);
          continue;
        }
        auto id = static_cast<std::uint32_t>(appends_.size());
        std::uint32_t stored = appends_by_element_.insert(op.key, op.element, id);
        if (stored != id) {
          throw HistoryError(
              fmt::format("op {}: field 'value': {} appended to key {} twice (also by op {}); list-append needs unique "
                          "appended values",
                          record.invocation, table_.element_text(op.element), table_.key_text(op.key),
                          table_.txns[appends_[stored].txn].invocation));
        }
        AppendRecord append;
        append.txn = txn;
        append.key = op.key;
        append.element = op.element;
        for (std::uint32_t later = mop + 1; later < record.mop_end; ++later) {
          if (table_.mops[later].kind == MicroKind::append && table_.mops[later].key == op.key)
            append.final_in_txn = false;
        }
        for (std::uint32_t earlier = record.mop_begin; earlier < mop; ++earlier) {
          const MicroOp& before = table_.mops[earlier];
          if (before.kind == MicroKind::append && before.key == op.key) {
            append.previous_in_txn = appends_by_element_.find(op.key, before.element);
          }
        }
        appends_.push_back(append);
      }
    }
  }

  // Reads inside one txn must agree with its earlier reads and appends.
  void check_internal() {
    struct KeyState {
      std::uint32_t key;
      std::uint32_t read_offset = 0, read_length = 0;
      bool read_seen = false;
      std::vector<Element> appended;
    };
    std::vector<KeyState> states;
    std::vector<Element> expected;
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      if (record.outcome != OpType::ok || record.mop_end - record.mop_begin < 2) continue;
      states.clear();
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        auto state =
            std::find_if(states.begin(), states.end(), [&](const KeyState& entry) { return entry.key == op.key; });
        if (state == states.end()) {
          states.push_back(KeyState{op.key, 0, 0, false, {}});
          state = states.end() - 1;
        }
        if (op.kind == MicroKind::append) {
          state->appended.push_back(op.element);
          continue;
        }
        if (!op.read_known) continue;
        const Element* read = table_.read_elements.data() + op.read_offset;
        bool consistent = true;
        if (state->read_seen) {
          expected.assign(table_.read_elements.begin() + state->read_offset,
                          table_.read_elements.begin() + state->read_offset + state->read_length);
          expected.insert(expected.end(), state->appended.begin(), state->appended.end());
          consistent = expected.size() == op.read_length && std::equal(expected.begin(), expected.end(), read);
        } else if (!state->appended.empty()) {
          expected = state->appended;
          consistent = op.read_length >= expected.size() &&
                       std::equal(expected.begin(), expected.end(), read + op.read_length - expected.size());
        }
        if (!consistent) {
          Anomaly anomaly;
          anomaly.type = "internal";
          anomaly.operations = {record.invocation};
          std::string expectation = state->read_seen ? "exactly " : "ending with ";
          for (std::size_t index = 0; index < expected.size(); ++index) {
            expectation += (index ? " " : "[") + table_.element_text(expected[index]);
          }
          expectation += "]";
          anomaly.explanation =
              fmt::format("{} read key {} = {}, but its own earlier reads and appends imply a list {}", label(txn),
                          table_.key_text(op.key), table_.list_text(op.read_offset, op.read_length), expectation);
          collector_.add(std::move(anomaly));
        }
        state->read_seen = true;
        state->read_offset = op.read_offset;
        state->read_length = op.read_length;
        state->appended.clear();
      }
    }
  }

  void build_version_orders() {
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      if (record.outcome != OpType::ok) continue;
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        if (op.kind != MicroKind::read || !op.read_known) continue;
        KeyOrder& order = orders_[op.key];
        if (order.reader == kNoIndex || op.read_length > order.length) {
          order.offset = op.read_offset;
          order.length = op.read_length;
          order.reader = txn;
        }
      }
    }
    for (std::uint32_t key = 0; key < orders_.size(); ++key) {
      KeyOrder& order = orders_[key];
      const Element* elements = version(key);
      std::uint32_t dirty = kNoIndex;  // first committed (or info) append after an aborted one
      for (std::uint32_t position = 0; position < order.length; ++position) {
        std::uint32_t append = appends_by_element_.find(key, elements[position]);
        if (append != ElementMap::kMissing && order.first_aborted != kNoIndex && dirty == kNoIndex) dirty = append;
        if (append != ElementMap::kMissing) {
          if (appends_[append].position != kNoIndex) {
            Anomaly anomaly;
            anomaly.type = "duplicate-elements";
            anomaly.operations = {table_.txns[order.reader].invocation, table_.txns[appends_[append].txn].invocation};
            anomaly.explanation =
                fmt::format("{} read key {} = {}, which holds {} (appended once, by {}) at positions {} and {}",
                            label(order.reader), table_.key_text(key), table_.list_text(order.offset, order.length, 8),
                            table_.element_text(elements[position]), label(appends_[append].txn),
                            appends_[append].position, position);
            collector_.add(std::move(anomaly));
            continue;
          }
          appends_[append].position = position;
        } else if (failed_.find(key, elements[position]) != ElementMap::kMissing) {
          order.first_aborted = std::min(order.first_aborted, position);
        } else {
          order.first_garbage = std::min(order.first_garbage, position);
        }
      }
      if (dirty != kNoIndex) report_dirty_update(key, dirty);
    }
  }

  // Elle's dirty update: a txn that did not fail appended on top of a failed
  // txn's append (the version order has the aborted element before it).
  void report_dirty_update(std::uint32_t key, std::uint32_t append) {
    if (!collector_.wants("dirty-update")) return collector_.count_only("dirty-update");
    const KeyOrder& order = orders_[key];
    Element aborted = version(key)[order.first_aborted];
    std::uint32_t failed = failed_.find(key, aborted);
    const AppendRecord& record = appends_[append];
    Anomaly anomaly;
    anomaly.type = "dirty-update";
    anomaly.operations = {table_.txns[order.reader].invocation, table_.txns[failed].invocation,
                          table_.txns[record.txn].invocation};
    anomaly.explanation = fmt::format(
        "{} read key {} = {}: {}'s append of {} came after {}, appended by {} that failed, so it updated a state "
        "that was never committed",
        label(order.reader), table_.key_text(key), table_.list_text(order.offset, order.length, 8), label(record.txn),
        table_.element_text(record.element), table_.element_text(aborted), label(failed));
    collector_.add(std::move(anomaly));
  }

  // A txn appends in order: its earlier append to a key must come earlier in the key's order.
  void check_append_order() {
    for (const AppendRecord& append : appends_) {
      if (append.position == kNoIndex || append.previous_in_txn == kNoIndex) continue;
      const AppendRecord& previous = appends_[append.previous_in_txn];
      if (previous.position != kNoIndex && previous.position < append.position) continue;
      if (!collector_.wants("incompatible-order")) {
        collector_.count_only("incompatible-order");
        continue;
      }
      std::uint32_t key = table_.mops[table_.txns[append.txn].mop_begin].key;
      for (std::uint32_t mop = table_.txns[append.txn].mop_begin; mop < table_.txns[append.txn].mop_end; ++mop) {
        if (table_.mops[mop].kind == MicroKind::append && table_.mops[mop].element == append.element)
          key = table_.mops[mop].key;
      }
      const KeyOrder& order = orders_[key];
      Anomaly anomaly;
      anomaly.type = "incompatible-order";
      anomaly.operations = {table_.txns[order.reader].invocation, table_.txns[append.txn].invocation};
      anomaly.explanation = fmt::format(
          "{} read key {} = {}, which has {} {}, but {} appended {} before {}", label(order.reader),
          table_.key_text(key), table_.list_text(order.offset, order.length, 8), table_.element_text(append.element),
          previous.position == kNoIndex ? fmt::format("without {}", table_.element_text(previous.element))
                                        : fmt::format("before {}", table_.element_text(previous.element)),
          label(append.txn), table_.element_text(previous.element), table_.element_text(append.element));
      collector_.add(std::move(anomaly));
    }
  }

  std::uint32_t writer_at(std::uint32_t key, std::uint32_t position) const {
    std::uint32_t append = appends_by_element_.find(key, version(key)[position]);
    if (append == ElementMap::kMissing || appends_[append].position != position) return kNoIndex;
    return append;
  }

  void add_write_write_edges(DependencyGraph& graph) {
    // Appends of committed txns that no read observed come after every observed one.
    unread_.resize(orders_.size());
    for (std::uint32_t append = 0; append < appends_.size(); ++append) {
      if (appends_[append].position == kNoIndex && table_.txns[appends_[append].txn].outcome == OpType::ok) {
        unread_[appends_[append].key].push_back(append);
      }
    }
    for (std::uint32_t key = 0; key < orders_.size(); ++key) {
      if (orders_[key].length > 0) {
        std::uint32_t last = writer_at(key, orders_[key].length - 1);
        for (std::uint32_t append : unread_[key]) {
          if (last != kNoIndex && appends_[last].txn != appends_[append].txn) {
            graph.add_edge(node_of_txn_[appends_[last].txn], node_of_txn_[appends_[append].txn], kWriteWrite);
          }
        }
      }
      std::uint32_t previous = kNoIndex;
      for (std::uint32_t position = 0; position < orders_[key].length; ++position) {
        std::uint32_t append = writer_at(key, position);
        if (append == kNoIndex) {
          previous = kNoIndex;
          continue;
        }
        std::uint32_t txn = appends_[append].txn;
        if (previous != kNoIndex && previous != txn)
          graph.add_edge(node_of_txn_[previous], node_of_txn_[txn], kWriteWrite);
        previous = txn;
      }
    }
  }

  // The first read of a key in a txn, before the txn appends to it, observes other txns' state.
  bool is_external_read(const Txn& record, std::uint32_t mop) const {
    std::uint32_t key = table_.mops[mop].key;
    for (std::uint32_t earlier = record.mop_begin; earlier < mop; ++earlier) {
      if (table_.mops[earlier].key == key) return false;
    }
    return true;
  }

  bool appends_later(const Txn& record, std::uint32_t mop) const {
    for (std::uint32_t later = mop + 1; later < record.mop_end; ++later) {
      if (table_.mops[later].kind == MicroKind::append && table_.mops[later].key == table_.mops[mop].key) return true;
    }
    return false;
  }

  void check_reads(DependencyGraph& graph) {
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> readers_then_appenders;  // (key, length) -> txns
    for (std::uint32_t txn = 0; txn < table_.txns.size(); ++txn) {
      const Txn& record = table_.txns[txn];
      if (record.outcome != OpType::ok) continue;
      for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
        const MicroOp& op = table_.mops[mop];
        if (op.kind != MicroKind::read || !op.read_known) continue;
        const KeyOrder& order = orders_[op.key];
        const Element* read = table_.read_elements.data() + op.read_offset;
        if (op.read_length > order.length ||
            std::memcmp(read, version(op.key), op.read_length * sizeof(Element)) != 0) {
          report_incompatible(txn, op);
          continue;
        }
        if (order.first_aborted < op.read_length) report_aborted_read(txn, op);
        if (order.first_garbage < op.read_length && collector_.wants("garbage-read")) {
          Anomaly anomaly;
          anomaly.type = "garbage-read";
          anomaly.operations = {record.invocation};
          anomaly.explanation = fmt::format("{} read key {} = {}, but no txn ever appended {} to it", label(txn),
                                            table_.key_text(op.key), table_.list_text(op.read_offset, op.read_length),
                                            table_.element_text(version(op.key)[order.first_garbage]));
          collector_.add(std::move(anomaly));
        } else if (order.first_garbage < op.read_length) {
          collector_.count_only("garbage-read");
        }
        if (!is_external_read(record, mop)) continue;
        std::uint32_t node = node_of_txn_[txn];
        if (op.read_length > 0) {
          std::uint32_t append = writer_at(op.key, op.read_length - 1);
          if (append != kNoIndex && appends_[append].txn != txn) {
            graph.add_edge(node_of_txn_[appends_[append].txn], node, kWriteRead);
            if (!appends_[append].final_in_txn) report_intermediate_read(txn, op, appends_[append]);
          }
        }
        if (op.read_length < order.length) {
          std::uint32_t append = writer_at(op.key, op.read_length);
          if (append != kNoIndex && appends_[append].txn != txn) {
            graph.add_edge(node, node_of_txn_[appends_[append].txn], kReadWrite);
          }
        } else {
          // (Not to the writer of the last element read: that is a G1b, reported as such.)
          std::uint32_t last = op.read_length > 0 ? writer_at(op.key, op.read_length - 1) : kNoIndex;
          std::uint32_t last_writer = last == kNoIndex ? kNoIndex : appends_[last].txn;
          for (std::uint32_t append : unread_[op.key]) {
            std::uint32_t writer = appends_[append].txn;
            if (writer != txn && writer != last_writer) graph.add_edge(node, node_of_txn_[writer], kReadWrite);
          }
        }
        if (appends_later(record, mop)) {
          report_future_read(txn, mop);
          readers_then_appenders[(std::uint64_t{op.key} << 32) | op.read_length].push_back(txn);
        }
      }
    }
    std::vector<std::pair<std::uint64_t, std::vector<std::uint32_t>>> groups;
    for (auto& entry : readers_then_appenders) {
      if (entry.second.size() > 1) groups.emplace_back(entry.first, std::move(entry.second));
    }
    std::sort(groups.begin(), groups.end());
    for (const auto& [slot, txns] : groups) {
      auto key = static_cast<std::uint32_t>(slot >> 32);
      auto length = static_cast<std::uint32_t>(slot & 0xffffffffu);
      if (!collector_.wants("lost-update")) {
        collector_.count_only("lost-update");
        continue;
      }
      Anomaly anomaly;
      anomaly.type = "lost-update";
      std::string names;
      for (std::uint32_t txn : txns) {
        anomaly.operations.push_back(table_.txns[txn].invocation);
        names += (names.empty() ? "" : ", ") + label(txn);
      }
      anomaly.explanation = fmt::format(
          "{} txns read key {} = {} and then each appended to it: each update was made without seeing the others' ({})",
          txns.size(), table_.key_text(key), table_.list_text(orders_[key].offset, length), names);
      collector_.add(std::move(anomaly));
    }
  }

  // A read before the txn's own append to the key must not contain that append.
  void report_future_read(std::uint32_t txn, std::uint32_t mop) {
    const Txn& record = table_.txns[txn];
    const MicroOp& read = table_.mops[mop];
    for (std::uint32_t later = mop + 1; later < record.mop_end; ++later) {
      const MicroOp& op = table_.mops[later];
      if (op.kind != MicroKind::append || op.key != read.key) continue;
      std::uint32_t append = appends_by_element_.find(op.key, op.element);
      if (append == ElementMap::kMissing || appends_[append].position == kNoIndex ||
          appends_[append].position >= read.read_length) {
        continue;
      }
      if (!collector_.wants("future-read")) return collector_.count_only("future-read");
      Anomaly anomaly;
      anomaly.type = "future-read";
      anomaly.operations = {record.invocation};
      anomaly.explanation =
          fmt::format("{} read key {} = {}, which already holds {}, an element the txn appends only later", label(txn),
                      table_.key_text(read.key), table_.list_text(read.read_offset, read.read_length),
                      table_.element_text(op.element));
      collector_.add(std::move(anomaly));
      return;
    }
  }

  void report_incompatible(std::uint32_t txn, const MicroOp& op) {
    if (!collector_.wants("incompatible-order")) return collector_.count_only("incompatible-order");
    const KeyOrder& order = orders_[op.key];
    Anomaly anomaly;
    anomaly.type = "incompatible-order";
    anomaly.operations = {table_.txns[txn].invocation, table_.txns[order.reader].invocation};
    anomaly.explanation = fmt::format(
        "{} read key {} = {} and {} read it = {}: neither is a prefix of the other, so "
        "the key's appends happened in no single order",
        label(txn), table_.key_text(op.key), table_.list_text(op.read_offset, op.read_length, 8), label(order.reader),
        table_.list_text(order.offset, order.length, 8));
    collector_.add(std::move(anomaly));
  }

  void report_aborted_read(std::uint32_t txn, const MicroOp& op) {
    if (!collector_.wants("G1a")) return collector_.count_only("G1a");
    Element element = version(op.key)[orders_[op.key].first_aborted];
    std::uint32_t failed = failed_.find(op.key, element);
    Anomaly anomaly;
    anomaly.type = "G1a";
    anomaly.operations = {table_.txns[txn].invocation, table_.txns[failed].invocation};
    anomaly.explanation =
        fmt::format("G1a (aborted read): {} read key {} = {}, which includes {}, appended by {} that failed",
                    label(txn), table_.key_text(op.key), table_.list_text(op.read_offset, op.read_length),
                    table_.element_text(element), label(failed));
    collector_.add(std::move(anomaly));
  }

  void report_intermediate_read(std::uint32_t txn, const MicroOp& op, const AppendRecord& append) {
    if (!collector_.wants("G1b")) return collector_.count_only("G1b");
    Anomaly anomaly;
    anomaly.type = "G1b";
    anomaly.operations = {table_.txns[txn].invocation, table_.txns[append.txn].invocation};
    anomaly.explanation = fmt::format(
        "G1b (intermediate read): {} read key {} = {}, ending in {}'s append of {}, but that txn appended to {} again "
        "afterwards: the read saw a state the writer never committed",
        label(txn), table_.key_text(op.key), table_.list_text(op.read_offset, op.read_length), label(append.txn),
        table_.element_text(append.element), table_.key_text(op.key));
    collector_.add(std::move(anomaly));
  }

  std::string explain(std::uint32_t from, std::uint32_t to, std::uint8_t kind) const {
    const Txn& source = table_.txns[from];
    const Txn& target = table_.txns[to];
    switch (kind) {
      case kWriteWrite:
        for (std::uint32_t first = source.mop_begin; first < source.mop_end; ++first) {
          const MicroOp& earlier = table_.mops[first];
          if (earlier.kind != MicroKind::append) continue;
          std::uint32_t append = appends_by_element_.find(earlier.key, earlier.element);
          if (append == ElementMap::kMissing || appends_[append].position == kNoIndex) continue;
          std::uint32_t position = appends_[append].position + 1;
          std::uint32_t next = position < orders_[earlier.key].length ? writer_at(earlier.key, position) : kNoIndex;
          if (next != kNoIndex && appends_[next].txn == to) {
            return fmt::format("{} appended {} to key {} and {} appended {} right after it (ww)", label(from),
                               table_.element_text(earlier.element), table_.key_text(earlier.key), label(to),
                               table_.element_text(appends_[next].element));
          }
          if (position == orders_[earlier.key].length) {
            for (std::uint32_t unread : unread_[earlier.key]) {
              if (appends_[unread].txn != to) continue;
              return fmt::format(
                  "{} appended {} to key {}, the last element any read saw, and {}'s append of {} was "
                  "never seen, so it came after (ww)",
                  label(from), table_.element_text(earlier.element), table_.key_text(earlier.key), label(to),
                  table_.element_text(appends_[unread].element));
            }
          }
        }
        break;
      case kWriteRead:
      case kReadWrite: {
        std::uint32_t reader = kind == kWriteRead ? to : from;
        std::uint32_t writer = kind == kWriteRead ? from : to;
        const Txn& record = kind == kWriteRead ? target : source;
        for (std::uint32_t mop = record.mop_begin; mop < record.mop_end; ++mop) {
          const MicroOp& op = table_.mops[mop];
          if (op.kind != MicroKind::read || !op.read_known || !is_external_read(record, mop)) continue;
          if (kind == kReadWrite && op.read_length == orders_[op.key].length) {
            for (std::uint32_t unread : unread_[op.key]) {
              if (appends_[unread].txn != writer) continue;
              return fmt::format("{} read key {} = {}, missing {}'s committed append of {}, so it ran before it (rw)",
                                 label(reader), table_.key_text(op.key),
                                 table_.list_text(op.read_offset, op.read_length), label(writer),
                                 table_.element_text(appends_[unread].element));
            }
          }
          std::uint32_t position = kind == kWriteRead ? op.read_length - 1 : op.read_length;
          if ((kind == kWriteRead && op.read_length == 0) || position >= orders_[op.key].length) continue;
          std::uint32_t append = writer_at(op.key, position);
          if (append == kNoIndex || appends_[append].txn != writer) continue;
          std::string list = table_.list_text(op.read_offset, op.read_length);
          if (kind == kWriteRead) {
            return fmt::format("{} read key {} = {} and so saw {}'s append of {} (wr)", label(reader),
                               table_.key_text(op.key), list, label(writer),
                               table_.element_text(appends_[append].element));
          }
          return fmt::format("{} read key {} = {}, missing {}'s append of {} that came next, so it ran before it (rw)",
                             label(reader), table_.key_text(op.key), list, label(writer),
                             table_.element_text(appends_[append].element));
        }
        break;
      }
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

  const History& history_;
  const ElleOptions& options_;
  TxnTable table_;
  AnomalyCollector collector_;
  std::vector<AppendRecord> appends_;
  ElementMap appends_by_element_;
  ElementMap failed_;
  std::vector<KeyOrder> orders_;
  std::vector<std::vector<std::uint32_t>> unread_;  // key -> committed appends no read observed
  std::vector<std::uint32_t> nodes_;
  std::vector<std::uint32_t> node_of_txn_;
};

}  // namespace

ElleResult check_list_append(const History& history, const ElleOptions& options) {
  auto started = std::chrono::steady_clock::now();
  ListAppendChecker checker(history, options);
  ElleResult result = checker.run(started);
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
