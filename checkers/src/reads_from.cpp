#include "reads_from.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

// Why this decides linearizability when every write's value is distinct:
// - A read of v, and a cas expecting v, saw the one op that wrote v, so in any
//   linearization the ops of a value (its writer, then its reads) form one
//   contiguous block (a "cluster"), and a cas expecting u comes right after u's
//   block as the first op of its own value's block: cas glues clusters into chains.
// - Blocks do not interleave, so "op a ended before op b began" orders the chains
//   of a and b: chain S precedes chain T when the earliest end in S comes before
//   the latest start in T. That relation has a cycle exactly when it has one of
//   length two (take the member of the cycle with the earliest end), which a
//   sweep over chains sorted by earliest end finds in O(n log n).
// - Inside a chain the order is fixed: each block's writer first, then its reads
//   in order of completion; it fits real time when no op of a later block ended
//   before an op of an earlier block began, and no read ended before its writer began.
// - An unknown-outcome write or cas is needed only when its value is read or
//   expected (transitively); the others are left out, as taking no effect.
// The initial value's cluster has a virtual writer that ended before everything,
// which makes "the initial value comes first" one more two-cycle test.

namespace chaosbench::checkers {
namespace {

using Kind = ModelOperation::Kind;
constexpr std::int64_t kBeforeEverything = -1;
constexpr std::int64_t kNeverEnds = std::numeric_limits<std::int64_t>::max();
constexpr std::uint32_t kNoOperation = 0xffffffffu;
constexpr std::int32_t kNoCluster = -1;

struct Cluster {
  Value value;
  std::uint32_t writer = kNoOperation;  // kNoOperation: the initial value
  std::int64_t earliest_end = kNeverEnds;
  std::uint32_t earliest_end_op = kNoOperation;
  std::int64_t latest_start = kBeforeEverything;
  std::uint32_t latest_start_op = kNoOperation;
  std::int32_t next = kNoCluster;  // the value a cas made of this one
  std::int32_t previous = kNoCluster;
  bool alive = false;  // has its writer (or is the initial value)
};

// A chain of clusters (or one) with its aggregate interval ends.
struct Chain {
  std::int64_t earliest_end = kNeverEnds;
  std::uint32_t earliest_end_op = kNoOperation;
  std::int64_t latest_start = kBeforeEverything;
  std::uint32_t latest_start_op = kNoOperation;
};

std::int64_t start_of(const ModelOperation& op) { return op.invocation; }
std::int64_t end_of(const ModelOperation& op) {
  return op.outcome_unknown || op.completion == OperationPair::kNoCompletion ? kNeverEnds : op.completion;
}

class ReadsFromDecision {
 public:
  ReadsFromDecision(std::span<const ModelOperation> operations, const ModelOptions& options,
                    const OperationDecoder& decoder)
      : operations_(operations),
        decoder_(decoder),
        initial_(options.nil_read == NilRead::any ? options.initial : kNull),
        null_reads_match_anything_(options.nil_read == NilRead::any) {}

  // False when a value is written twice or a write writes the initial value.
  bool index_values() {
    clusters_.reserve(operations_.size() / 2 + 1);
    clusters_.push_back(Cluster{initial_});
    clusters_[0].alive = true;
    clusters_[0].earliest_end = kBeforeEverything;  // its virtual writer
    cluster_of_value_.reserve(operations_.size());
    cluster_of_value_.emplace(initial_.id, 0);
    for (std::uint32_t index = 0; index < operations_.size(); ++index) {
      const ModelOperation& op = operations_[index];
      if (op.kind == Kind::read) continue;
      if (op.kind != Kind::write && op.kind != Kind::cas) return false;
      Value written = written_value(op);
      if (!cluster_of_value_.emplace(written.id, static_cast<std::int32_t>(clusters_.size())).second) return false;
      Cluster cluster{written};
      cluster.writer = index;
      clusters_.push_back(cluster);
    }
    return true;
  }

  ReadsFromOutcome decide() {
    if (auto unwritten = mark_needed_writes()) return *unwritten;
    if (auto contradiction = gather_clusters()) return *contradiction;
    if (auto contradiction = build_chains()) return *contradiction;
    if (auto contradiction = find_two_cycle()) return *contradiction;
    return ReadsFromOutcome{};
  }

 private:
  static Value written_value(const ModelOperation& op) { return op.kind == Kind::cas ? op.second : op.argument; }
  std::int32_t cluster_of(Value value) const {
    auto found = cluster_of_value_.find(value.id);
    return found == cluster_of_value_.end() ? kNoCluster : found->second;
  }
  bool constrains(const ModelOperation& op) const {
    return !(op.kind == Kind::read && null_reads_match_anything_ && op.argument.is_null());
  }
  bool included(const ModelOperation& op) const {
    if (!constrains(op)) return false;
    if (op.kind == Kind::read || !op.outcome_unknown) return true;
    return needed_[cluster_of(written_value(op))];
  }
  std::string describe(std::uint32_t op) const { return describe_operation(decoder_, operations_[op]); }
  std::string value_text(std::int32_t cluster) const {
    return cluster == 0 ? "the initial value" : "value " + decoder_.value_text(clusters_[cluster].value);
  }
  // The cluster an included op belongs to: its value's (a cas: the value it wrote).
  std::int32_t cluster_of_op(std::uint32_t op) const {
    const ModelOperation& operation = operations_[op];
    return cluster_of(operation.kind == Kind::read ? operation.argument : written_value(operation));
  }

  static ReadsFromOutcome invalid(std::string reason, std::uint32_t blocking) {
    return ReadsFromOutcome{Verdict::invalid, std::move(reason), blocking};
  }

  // A value is needed when an ok read returns it or an ok (or needed) cas expects
  // it; the unknown-outcome op that wrote a needed value must have taken effect.
  std::optional<ReadsFromOutcome> mark_needed_writes() {
    needed_.assign(clusters_.size(), 0);
    std::vector<std::int32_t> work;
    auto need = [&](std::int32_t cluster) {
      if (!needed_[cluster]) {
        needed_[cluster] = 1;
        work.push_back(cluster);
      }
    };
    for (std::uint32_t index = 0; index < operations_.size(); ++index) {
      const ModelOperation& op = operations_[index];
      if (!constrains(op) || (op.kind == Kind::cas && op.outcome_unknown) || op.kind == Kind::write) continue;
      std::int32_t cluster = cluster_of(op.argument);
      if (cluster == kNoCluster) {
        return invalid(fmt::format("{} {} {}, which no operation wrote", describe(index),
                                   op.kind == Kind::read ? "read" : "expected", decoder_.value_text(op.argument)),
                       index);
      }
      need(cluster);
    }
    while (!work.empty()) {
      std::int32_t cluster = work.back();
      work.pop_back();
      std::uint32_t writer = clusters_[cluster].writer;
      if (writer == kNoOperation || !operations_[writer].outcome_unknown || operations_[writer].kind != Kind::cas)
        continue;
      std::int32_t expected = cluster_of(operations_[writer].argument);
      if (expected == kNoCluster) {
        return invalid(fmt::format("{} is the only write of {}, and it expected {}, which no operation wrote",
                                   describe(writer), decoder_.value_text(clusters_[cluster].value),
                                   decoder_.value_text(operations_[writer].argument)),
                       writer);
      }
      need(expected);
    }
    return std::nullopt;
  }

  void add_member(std::int32_t cluster, std::uint32_t op) {
    Cluster& target = clusters_[cluster];
    if (end_of(operations_[op]) < target.earliest_end) {
      target.earliest_end = end_of(operations_[op]);
      target.earliest_end_op = op;
    }
    if (start_of(operations_[op]) > target.latest_start) {
      target.latest_start = start_of(operations_[op]);
      target.latest_start_op = op;
    }
  }

  std::optional<ReadsFromOutcome> gather_clusters() {
    for (std::uint32_t index = 0; index < operations_.size(); ++index) {
      const ModelOperation& op = operations_[index];
      if (!included(op)) continue;
      std::int32_t cluster = cluster_of_op(index);
      add_member(cluster, index);
      if (op.kind == Kind::write) clusters_[cluster].alive = true;
      if (op.kind == Kind::read) {
        std::uint32_t writer = clusters_[cluster].writer;
        if (writer != kNoOperation && end_of(op) < start_of(operations_[writer])) {
          return invalid(
              fmt::format("{} ended before {}, the only write of its value, began", describe(index), describe(writer)),
              index);
        }
      }
      if (op.kind != Kind::cas) continue;
      clusters_[cluster].alive = true;
      std::int32_t expected = cluster_of(op.argument);  // exists: mark_needed_writes checked
      if (clusters_[expected].next != kNoCluster) {
        std::uint32_t other = clusters_[clusters_[expected].next].writer;
        return invalid(fmt::format("{} and {} both expected {}, which was written once", describe(other),
                                   describe(index), decoder_.value_text(op.argument)),
                       index);
      }
      clusters_[expected].next = cluster;
      clusters_[cluster].previous = expected;
    }
    return std::nullopt;
  }

  // Chains from each cluster that no cas made; inside each, no op of a later
  // cluster may end before an op of an earlier one began.
  std::optional<ReadsFromOutcome> build_chains() {
    std::vector<char> chained(clusters_.size(), 0);
    std::vector<std::int32_t> members;
    for (std::int32_t head = 0; head < static_cast<std::int32_t>(clusters_.size()); ++head) {
      if (!clusters_[head].alive || clusters_[head].previous != kNoCluster) continue;
      members.clear();
      for (std::int32_t cluster = head; cluster != kNoCluster; cluster = clusters_[cluster].next) {
        members.push_back(cluster);
        chained[cluster] = 1;
      }
      Chain chain;
      for (auto position = members.rbegin(); position != members.rend(); ++position) {
        const Cluster& cluster = clusters_[*position];
        if (chain.earliest_end < cluster.latest_start) {  // a later block ended before this one's op began
          std::uint32_t later = chain.earliest_end_op;
          return invalid(fmt::format("{} needs {}, but {} ended before it began, and it needs {}, which cas "
                                     "operations made from {} afterwards",
                                     describe(cluster.latest_start_op), value_text(*position), describe(later),
                                     value_text(cluster_of_op(later)), value_text(*position)),
                         cluster.latest_start_op);
        }
        if (cluster.earliest_end < chain.earliest_end) {
          chain.earliest_end = cluster.earliest_end;
          chain.earliest_end_op = cluster.earliest_end_op;
        }
        if (cluster.latest_start > chain.latest_start) {
          chain.latest_start = cluster.latest_start;
          chain.latest_start_op = cluster.latest_start_op;
        }
      }
      chains_.push_back(chain);
    }
    for (std::int32_t cluster = 0; cluster < static_cast<std::int32_t>(clusters_.size()); ++cluster) {
      if (!clusters_[cluster].alive || chained[cluster]) continue;
      // Every value on this loop was made by a cas expecting the one before it.
      std::string values;
      std::int32_t member = cluster;
      for (int shown = 0; shown < 8 && (shown == 0 || member != cluster); ++shown) {
        values += (values.empty() ? "" : " -> ") + decoder_.value_text(clusters_[member].value);
        member = clusters_[member].next;
      }
      return invalid(fmt::format("cas operations form a loop of values ({} -> ...): none can have been first", values),
                     clusters_[cluster].writer);
    }
    return std::nullopt;
  }

  // Two chains that each must come before the other.
  std::optional<ReadsFromOutcome> find_two_cycle() {
    std::vector<std::uint32_t> order(chains_.size());
    for (std::uint32_t index = 0; index < order.size(); ++index) order[index] = index;
    std::sort(order.begin(), order.end(), [&](std::uint32_t left, std::uint32_t right) {
      return chains_[left].earliest_end < chains_[right].earliest_end;
    });
    // best[i], second[i]: the two chains with the latest starts among order[0..i].
    std::vector<std::uint32_t> best(order.size()), second(order.size(), kNoOperation);
    for (std::size_t index = 0; index < order.size(); ++index) {
      std::uint32_t chain = order[index];
      if (index == 0) {
        best[0] = chain;
        continue;
      }
      best[index] = best[index - 1];
      second[index] = second[index - 1];
      if (chains_[chain].latest_start > chains_[best[index]].latest_start) {
        second[index] = best[index];
        best[index] = chain;
      } else if (second[index] == kNoOperation || chains_[chain].latest_start > chains_[second[index]].latest_start) {
        second[index] = chain;
      }
    }
    std::vector<std::int64_t> ends(order.size());
    for (std::size_t index = 0; index < order.size(); ++index) ends[index] = chains_[order[index]].earliest_end;
    for (std::uint32_t later = 0; later < chains_.size(); ++later) {
      // Chains that end an op before `later` starts one must come before it.
      auto before = std::lower_bound(ends.begin(), ends.end(), chains_[later].latest_start) - ends.begin();
      if (before == 0) continue;
      std::uint32_t first = best[before - 1];
      if (first == later) first = second[before - 1];
      if (first == kNoOperation || chains_[first].latest_start <= chains_[later].earliest_end) continue;
      // Told from the op that began last, except that the initial value's chain
      // (its virtual first op has no index) is always the one that came first.
      bool swap =
          chains_[later].earliest_end_op == kNoOperation ||
          (chains_[first].earliest_end_op != kNoOperation && chains_[later].latest_start > chains_[first].latest_start);
      return swap ? two_cycle(later, first) : two_cycle(first, later);
    }
    return std::nullopt;
  }

  // Chain `first` must precede `later` (an op of it ended before one of `later`
  // began) and follow it (the other way round).
  ReadsFromOutcome two_cycle(std::uint32_t first, std::uint32_t later) const {
    const Chain& first_chain = chains_[first];
    const Chain& second_chain = chains_[later];
    // first precedes later: first.earliest_end_op ended before later.latest_start_op began;
    // later precedes first: later.earliest_end_op ended before first.latest_start_op began.
    std::uint32_t blocked = first_chain.latest_start_op;
    std::uint32_t ended = second_chain.earliest_end_op;
    std::string other_order = first_chain.earliest_end_op == kNoOperation
                                  ? fmt::format("{} was there first", value_text(cluster_of_op(blocked)))
                                  : fmt::format("{} ended before {} began", describe(first_chain.earliest_end_op),
                                                describe(second_chain.latest_start_op));
    return invalid(fmt::format("{} needs {}, but {} ended before it began, and that needs {}, which came after "
                               "{} ({})",
                               describe(blocked), value_text(cluster_of_op(blocked)), describe(ended),
                               value_text(cluster_of_op(ended)), value_text(cluster_of_op(blocked)), other_order),
                   blocked);
  }

  std::span<const ModelOperation> operations_;
  const OperationDecoder& decoder_;
  Value initial_;
  bool null_reads_match_anything_;
  std::vector<Cluster> clusters_;
  std::unordered_map<std::uint32_t, std::int32_t> cluster_of_value_;
  std::vector<char> needed_;
  std::vector<Chain> chains_;
};

}  // namespace

std::optional<ReadsFromOutcome> decide_from_reads(std::span<const ModelOperation> operations,
                                                  const ModelOptions& options, const OperationDecoder& decoder,
                                                  std::uint32_t key_count) {
  if (key_count != 1 || options.kind != ModelKind::cas_register) return std::nullopt;
  ReadsFromDecision decision(operations, options, decoder);
  if (!decision.index_values()) return std::nullopt;
  return decision.decide();
}

}  // namespace chaosbench::checkers
