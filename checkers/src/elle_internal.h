// Internal to the Elle checker: txn decoding into micro-ops, the dependency
// graph (CSR with edge-kind masks), SCCs, shortest-cycle search and anomaly
// collection shared by list-append and rw-register. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers::elle {

// Elements (appended / written / read values) as 64-bit numbers: integers in
// [-2^62, 2^62) as themselves, strings as kStringBase + id, null as kNilElement.
using Element = std::int64_t;
inline constexpr Element kNilElement = INT64_MIN;
inline constexpr Element kStringBase = INT64_MIN + 1;
inline constexpr std::int64_t kIntegerLimit = std::int64_t{1} << 62;

// "None" for a txn, position or write index held in a std::uint32_t.
inline constexpr std::uint32_t kNoIndex = 0xffffffffu;

enum class MicroKind : std::uint8_t { append, read, write };

struct MicroOp {
  MicroKind kind = MicroKind::read;
  bool read_known = false;        // read: a value was observed (ok txns only)
  std::uint32_t key = 0;          // dense key id
  Element element = kNilElement;  // append/write: the value; rw-register read: the value read
  std::uint32_t read_offset = 0;  // list-append read: elements in TxnTable::read_elements
  std::uint32_t read_length = 0;
};

struct Txn {
  std::uint32_t invocation = 0;
  std::uint32_t completion = OperationPair::kNoCompletion;
  std::int64_t process = 0;
  OpType outcome = OpType::info;
  std::uint32_t mop_begin = 0;
  std::uint32_t mop_end = 0;
};

// Every txn of a history (ok, info, fail), decoded.
class TxnTable {
 public:
  TxnTable(const History& history, TxnWorkload workload);

  std::vector<Txn> txns;
  std::vector<MicroOp> mops;
  std::vector<Element> read_elements;
  // Ok txns with an append/w micro-op, and with a read whose value is known.
  std::size_t committed_writing = 0;
  std::size_t committed_reading = 0;

  std::string key_text(std::uint32_t key) const { return key_names_[key]; }
  std::string element_text(Element element) const;
  std::string list_text(std::uint32_t offset, std::uint32_t length, std::size_t tail = 4) const;
  std::size_t key_count() const { return key_names_.size(); }

 private:
  void parse(std::string_view text, std::uint32_t op_index, bool reads_known, TxnWorkload workload);
  std::uint32_t intern_key(std::string_view text);
  Element intern_string(std::string_view text);

  struct TransparentHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, std::uint32_t, TransparentHash, std::equal_to<>> key_ids_;
  std::vector<std::string> key_names_;
  std::unordered_map<std::string, std::uint32_t, TransparentHash, std::equal_to<>> string_ids_;
  std::vector<std::string> strings_;
};

// Open-addressing map from (key id, element) to a 32-bit value.
class ElementMap {
 public:
  static constexpr std::uint32_t kMissing = 0xffffffffu;
  ElementMap() : slots_(1024) {}
  std::uint32_t find(std::uint32_t key, Element element) const;
  // Inserts when absent; returns the value now stored (the old one if present).
  std::uint32_t insert(std::uint32_t key, Element element, std::uint32_t value);
  std::size_t size() const { return count_; }

 private:
  struct Slot {
    Element element = 0;
    std::uint32_t key = 0;
    std::uint32_t value = kMissing;
  };
  static std::uint64_t hash(std::uint32_t key, Element element);
  void grow();
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

enum EdgeKind : std::uint8_t {
  kWriteWrite = 1,
  kWriteRead = 2,
  kReadWrite = 4,
  kProcess = 8,
  kRealtime = 16,
};
std::string_view edge_kind_name(std::uint8_t kind);

// Directed graph over txn nodes, edges labelled with a kind mask.
class DependencyGraph {
 public:
  explicit DependencyGraph(std::uint32_t node_count) : node_count_(node_count) {}
  void add_edge(std::uint32_t from, std::uint32_t to, std::uint8_t kind) {
    if (from != to) pending_.push_back(PendingEdge{from, to, kind});
  }
  // Builds the CSR form, merging duplicate edges; add_edge is not allowed after.
  void build();

  std::uint32_t node_count() const { return node_count_; }
  std::size_t edge_count() const { return targets_.size(); }
  std::uint32_t begin(std::uint32_t node) const { return offsets_[node]; }
  std::uint32_t end(std::uint32_t node) const { return offsets_[node + 1]; }
  std::uint32_t target(std::uint32_t edge) const { return targets_[edge]; }
  std::uint8_t kinds(std::uint32_t edge) const { return kinds_[edge]; }
  std::uint8_t kinds_between(std::uint32_t from, std::uint32_t to) const;

 private:
  struct PendingEdge {
    std::uint32_t from, to;
    std::uint8_t kind;
  };
  std::uint32_t node_count_;
  std::vector<PendingEdge> pending_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint32_t> targets_;
  std::vector<std::uint8_t> kinds_;
};

// Explains one edge in plain words (workload-specific).
using EdgeExplainer = std::function<std::string(std::uint32_t from, std::uint32_t to, std::uint8_t kind)>;

// Collects anomalies: counts every one, keeps evidence for the first few per type.
class AnomalyCollector {
 public:
  AnomalyCollector(ConsistencyModel model, std::size_t keep_per_type) : model_(model), keep_(keep_per_type) {}
  // False when the evidence would not be kept (the caller may skip building it).
  bool wants(const std::string& type) const;
  void add(Anomaly anomaly);
  void count_only(const std::string& type) { ++counts_[type]; }
  void fill(ElleResult& result) const;
  bool any_forbidden() const;
  bool forbids(std::string_view type) const { return model_forbids(model_, type); }

 private:
  ConsistencyModel model_;
  std::size_t keep_;
  std::map<std::string, std::size_t> counts_;
  std::vector<Anomaly> anomalies_;
};

// Finds the non-trivial SCCs of the graph and one shortest, most specific cycle
// per SCC; adds it as an anomaly. `node_invocation` maps nodes to history
// indices. Returns false when the deadline stopped the search.
bool find_cycle_anomalies(const DependencyGraph& graph, const std::vector<std::uint32_t>& node_invocation,
                          std::uint8_t extra_kinds, const EdgeExplainer& explain, AnomalyCollector& collector,
                          std::size_t max_starts, std::chrono::steady_clock::time_point deadline,
                          std::size_t& component_count);

// Adds process-order and real-time edges (transitively reduced) between graph nodes.
// `nodes` are indices into table.txns, in graph-node order.
void add_order_edges(const History& history, const TxnTable& table, const std::vector<std::uint32_t>& nodes,
                     bool process_edges, bool realtime_edges, DependencyGraph& graph);

// "op 12 (process 3)"
std::string txn_label(const History& history, const Txn& txn);

// The shared tail of both checkers: verdict, reason, models ruled out; unknown when
// the table has no committed txn that wrote, or none that read (nothing to judge).
void finish_result(ElleResult& result, const AnomalyCollector& collector, bool search_complete, const TxnTable& table);

}  // namespace chaosbench::checkers::elle
