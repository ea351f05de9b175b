// Consistency models and anomalies as Elle's elle.consistency-model namespace
// defines them: three graphs given as data (which anomaly implies which, which
// model implies which, which anomalies each model proscribes directly) and the
// closures Elle computes over them (anomalies-prohibited-by,
// anomalies->impossible-models, boundary). Names are Elle's; each model also
// has Elle's canonical (Adya) name, e.g. snapshot-isolation = PL-SI.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chaosbench/checkers/elle.h"

namespace chaosbench::checkers {
namespace elle_model_tables {

using Graph = std::map<std::string, std::vector<std::string>>;

// elle.consistency-model/implied-anomalies: an anomaly on the left is also
// each anomaly on the right.
const Graph& implied_anomalies() {
  static const Graph graph{
      {"G0", {"G1c", "G0-process"}},
      {"G0-process", {"G1c-process", "G0-realtime"}},
      {"G0-realtime", {"G1c-realtime"}},
      {"G1a", {"G1"}},
      {"G1b", {"G1"}},
      {"G1c", {"G1", "G1c-process"}},
      {"G1c-process", {"G1c-realtime", "G1-process"}},
      {"G1c-realtime", {"G1-realtime"}},
      {"G1", {"G1-process"}},
      {"G1-process", {"G1-realtime"}},
      {"G-single-item", {"G-single", "G-single-item-process", "G-nonadjacent-item"}},
      {"G-single-item-process", {"G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"}},
      {"G-single-item-realtime", {"G-single-realtime", "G-nonadjacent-item-realtime"}},
      {"G-single", {"G-nonadjacent", "GSIb", "G-single-process"}},
      {"G-single-process", {"G-nonadjacent-process", "G-single-realtime"}},
      {"G-single-realtime", {"G-nonadjacent-realtime"}},
      {"G-nonadjacent-item", {"G-nonadjacent", "G2-item", "G-nonadjacent-item-process"}},
      {"G-nonadjacent-item-process", {"G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"}},
      {"G-nonadjacent-item-realtime", {"G2-item-realtime", "G-nonadjacent-realtime"}},
      {"G-nonadjacent", {"G2", "G-nonadjacent-process"}},
      {"G-nonadjacent-process", {"G2-process", "G-nonadjacent-realtime"}},
      {"G-nonadjacent-realtime", {"G2-realtime"}},
      {"G2", {"G2-process"}},
      {"G2-item", {"G2", "G2-item-process"}},
      {"G2-item-process", {"G2-process", "G2-item-realtime"}},
      {"G2-item-realtime", {"G2-realtime"}},
      {"G2-process", {"G2-realtime"}},
      {"GSIa", {"GSI"}},
      {"GSIb", {"GSI"}},
      {"incompatible-order", {"G1a"}},
      {"future-read", {"G1c"}},
      {"dirty-update", {"G1a"}},
      {"lost-update", {"write-skew", "G2-item"}},
      {"write-skew", {"G2"}},
  };
  return graph;
}

// elle.consistency-model/canonical-model-names.
const std::map<std::string, std::string>& canonical_names() {
  static const std::map<std::string, std::string> names{
      {"consistent-view", "PL-2+"},
      {"conflict-serializable", "PL-3"},
      {"cursor-stability", "PL-CS"},
      {"forward-consistent-view", "PL-FCV"},
      {"monotonic-snapshot-read", "PL-MSR"},
      {"monotonic-view", "PL-2L"},
      {"read-committed", "PL-2"},
      {"read-uncommitted", "PL-1"},
      {"repeatable-read", "PL-2.99"},
      {"serializable", "PL-3"},
      {"snapshot-isolation", "PL-SI"},
      {"strict-serializable", "PL-SS"},
      {"strong-serializable", "PL-SS"},
      {"update-serializable", "PL-3U"},
      {"strong-session-read-uncommitted", "strong-session-PL-1"},
      {"strong-session-read-committed", "strong-session-PL-2"},
      {"strong-read-uncommitted", "strong-PL-1"},
      {"strong-read-committed", "strong-PL-2"},
  };
  return names;
}

std::string canonical(const std::string& model) {
  auto found = canonical_names().find(model);
  return found == canonical_names().end() ? model : found->second;
}

// Canonical -> friendly; PL-3 is "serializable", PL-SS "strict-serializable".
std::string friendly(const std::string& model) {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> reverse;
    for (const auto& [name, canonical_name] : canonical_names()) reverse[canonical_name] = name;
    reverse["PL-3"] = "serializable";
    reverse["PL-SS"] = "strict-serializable";
    return reverse;
  }();
  auto found = names.find(model);
  return found == names.end() ? model : found->second;
}

Graph canonicalized(const Graph& graph, bool targets_too) {
  Graph result;
  for (const auto& [from, targets] : graph) {
    auto& out = result[canonical(from)];
    for (const std::string& target : targets) out.push_back(targets_too ? canonical(target) : target);
  }
  return result;
}

// elle.consistency-model/models: a history satisfying the left model satisfies
// each model on the right. Canonical names.
const Graph& models() {
  static const Graph graph = canonicalized(
      Graph{
          {"causal-cerone", {"read-atomic"}},
          {"consistent-view", {"cursor-stability", "monotonic-view"}},
          {"conflict-serializable", {"view-serializable"}},
          {"cursor-stability", {"read-committed", "PL-2"}},
          {"forward-consistent-view", {"consistent-view"}},
          {"PL-2", {"PL-1"}},
          {"PL-3", {"repeatable-read", "update-serializable"}},
          {"update-serializable", {"forward-consistent-view"}},
          {"monotonic-atomic-view", {"read-committed"}},
          {"monotonic-view", {"PL-2"}},
          {"monotonic-snapshot-read", {"PL-2"}},
          {"parallel-snapshot-isolation", {"causal-cerone", "ROLA"}},
          {"prefix", {"causal-cerone"}},
          {"read-atomic", {"monotonic-atomic-view"}},
          {"read-committed", {"read-uncommitted"}},
          {"repeatable-read", {"cursor-stability", "monotonic-atomic-view"}},
          {"ROLA", {"read-atomic"}},
          {"serializable", {"repeatable-read", "snapshot-isolation", "view-serializable"}},
          {"session-serializable", {"1SR"}},
          {"snapshot-isolation",
           {"forward-consistent-view", "monotonic-atomic-view", "monotonic-snapshot-read",
            "parallel-snapshot-isolation", "prefix"}},
          {"strict-serializable",
           {"PL-3", "serializable", "linearizable", "snapshot-isolation", "strong-snapshot-isolation",
            "strong-session-serializable"}},
          {"strong-session-PL-1", {"PL-1"}},
          {"strong-session-PL-2", {"PL-2", "strong-session-PL-1"}},
          {"strong-PL-1", {"strong-session-PL-1"}},
          {"strong-PL-2", {"strong-session-PL-2", "strong-PL-1"}},
          {"strong-session-serializable", {"serializable", "strong-session-snapshot-isolation"}},
          {"strong-session-snapshot-isolation", {"snapshot-isolation", "strong-session-PL-2"}},
          {"strong-serializable", {"session-serializable"}},
          {"strong-snapshot-isolation", {"strong-session-snapshot-isolation", "strong-PL-2"}},
          {"linearizable", {"sequential"}},
          {"sequential", {"causal"}},
          {"causal", {"writes-follow-reads", "PRAM"}},
          {"PRAM", {"monotonic-reads", "monotonic-writes", "read-your-writes"}},
      },
      true);
  return graph;
}

// elle.consistency-model/direct-proscribed-anomalies (canonical model names).
// garbage-read (a read of an element or value no txn wrote) is chaosbench's
// own; Elle has no name for it. It is proscribed with PL-1's other
// "no Adya history can have this" anomalies.
const Graph& direct_proscribed() {
  static const Graph graph = canonicalized(
      Graph{
          {"causal-cerone", {"internal", "G1a"}},
          {"cursor-stability", {"G1", "G-cursor", "lost-update"}},
          {"monotonic-view", {"G1", "G-monotonic"}},
          {"monotonic-snapshot-read", {"G1", "G-MSR"}},
          {"consistent-view", {"G1", "G-single"}},
          {"forward-consistent-view", {"G1", "G-SIb"}},
          {"parallel-snapshot-isolation", {"internal", "G1a"}},
          {"PL-3", {"G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"}},
          {"PL-2", {"G1", "PL-2-cycle-exists"}},
          {"PL-1", {"G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists", "garbage-read"}},
          {"prefix", {"internal", "G1a"}},
          {"serializable", {"internal"}},
          {"snapshot-isolation", {"internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"}},
          {"read-atomic", {"internal", "G1a", "future-read"}},
          {"repeatable-read", {"G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"}},
          {"ROLA", {"lost-update"}},
          {"strict-serializable", {"G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"}},
          {"strong-session-PL-1", {"strong-session-PL-1-cycle-exists", "G0-process"}},
          {"strong-session-PL-2", {"strong-session-PL-2-cycle-exists", "G1c-process"}},
          {"strong-PL-1", {"strong-PL-1-cycle-exists", "G0-realtime"}},
          {"strong-PL-2", {"strong-PL-2-cycle-exists", "G1c-realtime"}},
          {"strong-session-snapshot-isolation",
           {"internal", "G1-process", "G-nonadjacent-process", "strong-session-snapshot-isolation-cycle-exists"}},
          {"strong-snapshot-isolation",
           {"internal", "G1-realtime", "G-nonadjacent-realtime", "strong-snapshot-isolation-cycle-exists"}},
          {"strong-session-serializable", {"G1-process", "G2-process", "strong-session-serializable-cycle-exists"}},
          {"update-serializable", {"G1", "G-update"}},
      },
      false);
  return graph;
}

Graph reversed(const Graph& graph) {
  Graph result;
  for (const auto& [from, targets] : graph) {
    for (const std::string& target : targets) result[target].push_back(from);
  }
  return result;
}

// Every vertex reachable from `starts` (included).
std::set<std::string> reachable(const Graph& graph, const std::set<std::string>& starts) {
  std::set<std::string> seen(starts.begin(), starts.end());
  std::vector<std::string> stack(starts.begin(), starts.end());
  while (!stack.empty()) {
    std::string vertex = std::move(stack.back());
    stack.pop_back();
    auto found = graph.find(vertex);
    if (found == graph.end()) continue;
    for (const std::string& next : found->second) {
      if (seen.insert(next).second) stack.push_back(next);
    }
  }
  return seen;
}

const Graph& models_reversed() {
  static const Graph graph = reversed(models());
  return graph;
}
const Graph& implied_reversed() {
  static const Graph graph = reversed(implied_anomalies());
  return graph;
}
const Graph& proscribed_reversed() {
  static const Graph graph = reversed(direct_proscribed());
  return graph;
}

struct ModelName {
  ConsistencyModel model;
  std::string_view name;
};
constexpr ModelName kModelNames[] = {
    {ConsistencyModel::read_uncommitted, "read-uncommitted"},
    {ConsistencyModel::read_committed, "read-committed"},
    {ConsistencyModel::monotonic_atomic_view, "monotonic-atomic-view"},
    {ConsistencyModel::cursor_stability, "cursor-stability"},
    {ConsistencyModel::monotonic_view, "monotonic-view"},
    {ConsistencyModel::monotonic_snapshot_read, "monotonic-snapshot-read"},
    {ConsistencyModel::consistent_view, "consistent-view"},
    {ConsistencyModel::forward_consistent_view, "forward-consistent-view"},
    {ConsistencyModel::read_atomic, "read-atomic"},
    {ConsistencyModel::causal_cerone, "causal-cerone"},
    {ConsistencyModel::prefix, "prefix"},
    {ConsistencyModel::parallel_snapshot_isolation, "parallel-snapshot-isolation"},
    {ConsistencyModel::snapshot_isolation, "snapshot-isolation"},
    {ConsistencyModel::repeatable_read, "repeatable-read"},
    {ConsistencyModel::update_serializable, "update-serializable"},
    {ConsistencyModel::serializable, "serializable"},
    {ConsistencyModel::strong_session_read_uncommitted, "strong-session-read-uncommitted"},
    {ConsistencyModel::strong_session_read_committed, "strong-session-read-committed"},
    {ConsistencyModel::strong_read_uncommitted, "strong-read-uncommitted"},
    {ConsistencyModel::strong_read_committed, "strong-read-committed"},
    {ConsistencyModel::strong_session_snapshot_isolation, "strong-session-snapshot-isolation"},
    {ConsistencyModel::strong_snapshot_isolation, "strong-snapshot-isolation"},
    {ConsistencyModel::strong_session_serializable, "strong-session-serializable"},
    {ConsistencyModel::strict_serializable, "strict-serializable"},
};

}  // namespace elle_model_tables

std::vector<ConsistencyModel> all_consistency_models() {
  using namespace elle_model_tables;
  std::vector<ConsistencyModel> all;
  for (const ModelName& entry : kModelNames) all.push_back(entry.model);
  return all;
}

std::optional<ConsistencyModel> parse_consistency_model(std::string_view text) {
  using namespace elle_model_tables;
  for (const ModelName& entry : kModelNames) {
    if (entry.name == text) return entry.model;
  }
  // Elle's other names for the same models (canonical Adya names, synonyms).
  std::string name(text);
  if (name == "linearizable" || name == "strong-serializable") return ConsistencyModel::strict_serializable;
  if (name == "conflict-serializable") return ConsistencyModel::serializable;
  for (const ModelName& entry : kModelNames) {
    if (canonical(std::string(entry.name)) == name) return entry.model;
  }
  return std::nullopt;
}

std::string_view to_string(ConsistencyModel model) {
  using namespace elle_model_tables;
  for (const ModelName& entry : kModelNames) {
    if (entry.model == model) return entry.name;
  }
  return "?";
}

std::vector<std::string> anomalies_prohibited_by(std::string_view model) {
  using namespace elle_model_tables;
  std::set<std::string> implied_models = reachable(models(), {canonical(std::string(model))});
  std::set<std::string> direct;
  for (const std::string& implied : implied_models) {
    auto found = direct_proscribed().find(implied);
    if (found != direct_proscribed().end()) direct.insert(found->second.begin(), found->second.end());
  }
  std::set<std::string> all = reachable(implied_reversed(), direct);
  return {all.begin(), all.end()};
}

std::vector<std::string> forbidden_anomalies(ConsistencyModel model) {
  using namespace elle_model_tables;
  return anomalies_prohibited_by(to_string(model));
}

bool model_forbids(ConsistencyModel model, std::string_view anomaly) {
  using namespace elle_model_tables;
  static const std::map<ConsistencyModel, std::set<std::string, std::less<>>> table = [] {
    std::map<ConsistencyModel, std::set<std::string, std::less<>>> sets;
    for (const ModelName& entry : kModelNames) {
      std::vector<std::string> names = anomalies_prohibited_by(entry.name);
      sets[entry.model] = {names.begin(), names.end()};
    }
    return sets;
  }();
  const auto& names = table.at(model);
  return names.find(anomaly) != names.end();
}

ModelBoundary models_ruled_out_by(const std::vector<std::string>& anomalies) {
  using namespace elle_model_tables;
  ModelBoundary boundary;
  if (anomalies.empty()) return boundary;
  std::set<std::string> implied = reachable(implied_anomalies(), {anomalies.begin(), anomalies.end()});
  std::set<std::string> direct;
  for (const std::string& anomaly : implied) {
    auto found = proscribed_reversed().find(anomaly);
    if (found != proscribed_reversed().end()) direct.insert(found->second.begin(), found->second.end());
  }
  std::set<std::string> impossible = reachable(models_reversed(), direct);
  // Weakest: impossible models that imply no other impossible model.
  std::set<std::string> weakest, others;
  for (const std::string& model : impossible) {
    std::set<std::string> below = reachable(models(), {model});
    below.erase(model);
    bool covered =
        std::any_of(below.begin(), below.end(), [&](const std::string& m) { return impossible.contains(m); });
    (covered ? others : weakest).insert(friendly(model));
  }
  boundary.not_models.assign(weakest.begin(), weakest.end());
  for (const std::string& name : weakest) others.erase(name);
  boundary.also_not.assign(others.begin(), others.end());
  return boundary;
}

bool model_needs_process_edges(ConsistencyModel model) {
  using namespace elle_model_tables;
  for (const std::string& anomaly : forbidden_anomalies(model)) {
    if (anomaly.ends_with("-process")) return true;
  }
  return false;
}

bool model_needs_realtime_edges(ConsistencyModel model) {
  using namespace elle_model_tables;
  for (const std::string& anomaly : forbidden_anomalies(model)) {
    if (anomaly.ends_with("-realtime")) return true;
  }
  return false;
}

}  // namespace chaosbench::checkers
