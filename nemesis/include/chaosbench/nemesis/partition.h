// Partition shapes as pure functions: given the nodes (and the leader, for
// isolate-leader) and a seeded random source, which nodes each node drops
// traffic from. Drops are applied on the receiving side (iptables INPUT); a
// grudge that only one of two nodes holds is a one-way cut (Nemesis::apply_network).
#pragma once

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::nemesis {

enum class PartitionShape {
  halves,
  random_halves,
  isolate_one,
  isolate_leader,
  majorities_ring,
  bridge,
  one_way_halves,
  one_way_from_leader,
  one_way_to_leader
};

std::string_view to_string(PartitionShape shape);
std::optional<PartitionShape> parse_partition_shape(std::string_view text);
const std::vector<PartitionShape>& all_partition_shapes();      // two-way, then one-way
const std::vector<PartitionShape>& two_way_partition_shapes();  // the first six
const std::vector<PartitionShape>& one_way_partition_shapes();  // the one-way-* shapes
bool is_one_way(PartitionShape shape);
// --partition-shapes: comma-separated names, or the groups two-way, one-way and
// all. Throws std::invalid_argument (one line, listing the names) for an unknown one.
std::vector<PartitionShape> parse_partition_shapes(std::string_view text);

// node -> the nodes whose packets it drops. Nodes without a grudge are absent.
using Grudge = std::map<std::string, std::set<std::string>>;

// halves: first half | rest (in the given order); random-halves: the same after
// a shuffle; isolate-one: one random node cut off; isolate-leader: the leader
// cut off (a random node if the leader is unknown); majorities-ring: nodes on a
// shuffled ring each see a majority made of their ring neighbours, no two the
// same; bridge: two halves that only one node in the middle can talk to.
// One-way: one-way-halves: a random minority is heard by nobody outside it and
// hears everyone; one-way-from-leader: nobody hears the leader, it hears
// everyone; one-way-to-leader: the leader hears nobody, everyone hears it (for
// both, a random node when the leader is unknown).
// Fewer than two nodes: no grudge.
Grudge partition_grudge(PartitionShape shape, const std::vector<std::string>& nodes, std::mt19937_64& random,
                        const std::optional<std::string>& leader);

// Connected components as the history records them: {"n1": ["n3","n4"], ...}.
std::string describe_grudge(const Grudge& grudge);

}  // namespace chaosbench::nemesis
