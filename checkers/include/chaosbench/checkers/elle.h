// Elle-style transactional anomaly checker for list-append and rw-register txn
// histories: infers ww/wr/rw (and process/real-time) dependencies, finds cycles
// (Tarjan SCCs, then shortest cycles per SCC by BFS), names each anomaly (G0,
// G1a, G1b, G1c, G-single, G-nonadjacent, G2-item, internal, lost-update, ...) and explains it
// in plain words. Pure function of the history; a time limit yields `unknown`.
//
// Txn values (DESIGN.md): [["append","x",3],["r","y",[1,2]]] for list-append,
// [["w","x",3],["r","y",2]] for rw-register; keys are strings or integers. An ok
// txn is read from its completion, info and fail txns from their invocation.
// Assumptions (as in Elle): appended (written) values are unique per key.
// Nothing to judge (unknown, not valid): no ok txn with an append/w, no ok txn with a known read,
// or no dependency inferred between any two txns (Elle's :empty-transaction-graph).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

// Consistency models and the anomalies each rules out, exactly as Elle's
// elle.consistency-model defines them (checkers/src/elle_models.cpp holds its
// three graphs as data): a model prohibits the anomalies it and every weaker
// model it implies proscribe directly, plus every anomaly implying one of
// those. E.g. snapshot-isolation prohibits G0, G1a, G1b, G1c, G-single,
// G-nonadjacent, lost-update, internal, incompatible-order, future-read,
// dirty-update, ... but not G2-item; repeatable-read (Adya's PL-2.99)
// prohibits G2-item and lost-update but, as in Elle, not G-single.
// `-process` / `-realtime` variants are cycles that need a process-order or
// real-time edge; those edges are only inferred for models that prohibit them.
enum class ConsistencyModel {
  read_uncommitted,
  read_committed,
  monotonic_atomic_view,
  consistent_view,
  snapshot_isolation,
  repeatable_read,
  serializable,
  strong_session_serializable,
  strict_serializable,
  cursor_stability,
  monotonic_view,
  monotonic_snapshot_read,
  forward_consistent_view,
  read_atomic,
  causal_cerone,
  prefix,
  parallel_snapshot_isolation,
  update_serializable,
  strong_session_read_uncommitted,
  strong_session_read_committed,
  strong_read_uncommitted,
  strong_read_committed,
  strong_session_snapshot_isolation,
  strong_snapshot_isolation,
};
// Elle's names ("snapshot-isolation"), its canonical ones ("PL-SI") and
// synonyms (strong-serializable, linearizable, conflict-serializable).
std::optional<ConsistencyModel> parse_consistency_model(std::string_view text);
std::string_view to_string(ConsistencyModel model);
std::vector<ConsistencyModel> all_consistency_models();
// Sorted anomaly names (Elle's anomalies-prohibited-by); `model` by any name Elle knows.
std::vector<std::string> anomalies_prohibited_by(std::string_view model);
std::vector<std::string> forbidden_anomalies(ConsistencyModel model);
bool model_forbids(ConsistencyModel model, std::string_view anomaly);
bool model_needs_process_edges(ConsistencyModel model);
bool model_needs_realtime_edges(ConsistencyModel model);

// Elle's boundary: the models some anomaly rules out, as the weakest ones
// (`not`) and the stronger rest (`also_not`); friendly names, sorted.
struct ModelBoundary {
  std::vector<std::string> not_models;
  std::vector<std::string> also_not;
};
ModelBoundary models_ruled_out_by(const std::vector<std::string>& anomalies);

enum class TxnWorkload { list_append, rw_register };

struct ElleOptions {
  ConsistencyModel model = ConsistencyModel::serializable;
  // rw-register's optional version-order sources, as Elle names them (all off
  // by default, as in Elle; the initial nil always precedes every version):
  // wfr-keys: a txn's write of a key follows its read of it (read v1, then
  // write v2: v1 < v2); sequential-keys: each key is sequentially consistent,
  // so a process's successive txns on a key see it in version order;
  // linearizable-keys: each key is linearizable, so real-time order does.
  // A source whose orders would make a key's versions cyclic is not used, and
  // the cycle is reported as cyclic-versions.
  bool wfr_keys = false;
  bool sequential_keys = false;
  bool linearizable_keys = false;
  std::chrono::milliseconds time_limit{0};    // 0: no limit (cycle search only)
  std::size_t max_anomalies_per_type = 8;     // evidence kept per anomaly type
  std::size_t max_cycle_search_starts = 256;  // BFS starts per SCC and search level
};

// One step of a cycle: txn `from` -> txn `to`, of `kind` (ww, wr, rw, process,
// realtime), with why in plain words.
struct CycleStep {
  std::uint32_t from = 0;  // history index of the txn's invocation
  std::uint32_t to = 0;
  std::string kind;
  std::string explanation;
};

struct Anomaly {
  std::string type;                       // e.g. "G-single", "G1a", "lost-update"
  bool forbidden = true;                  // by the options' model
  std::string explanation;                // one or more sentences
  std::vector<std::uint32_t> operations;  // history indices (invocations) involved
  std::vector<CycleStep> cycle;           // empty for non-cycle anomalies; first 50 steps of a longer cycle
};

struct ElleResult {
  Verdict verdict = Verdict::valid;
  std::string reason;
  ConsistencyModel model = ConsistencyModel::serializable;
  std::size_t transactions = 0;  // ok + info txns in the graph
  std::size_t edges = 0;
  std::size_t strongly_connected_components = 0;  // non-trivial ones
  // type -> count (every anomaly found, including ones the model allows).
  std::vector<std::pair<std::string, std::size_t>> anomaly_counts;
  std::vector<Anomaly> anomalies;  // evidence, up to max_anomalies_per_type per type
  // Every model some found anomaly rules out (Elle's boundary :not + :also-not).
  std::vector<std::string> models_ruled_out;
  std::vector<std::string> models_not;  // the weakest of those (Elle's :not)
  double elapsed_seconds = 0;
};

// Throws HistoryError ("op N: field 'value': ...") on malformed txn values or
// on a value appended (written) twice to one key.
ElleResult check_list_append(const History& history, const ElleOptions& options);
ElleResult check_rw_register(const History& history, const ElleOptions& options);
ElleResult check_transactions(const History& history, TxnWorkload workload, const ElleOptions& options);

nlohmann::json to_json(const ElleResult& result);
std::string describe(const ElleResult& result);

}  // namespace chaosbench::checkers
