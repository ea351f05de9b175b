// Partition shapes as pure functions: given the nodes (and the leader, for
// isolate-leader) and a seeded random source, which nodes each node drops
// traffic from. Drops are applied on the receiving side (iptables INPUT).
#pragma once

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::nemesis {

enum class PartitionShape { halves, random_halves, isolate_one, isolate_leader, majorities_ring, bridge };

std::string_view to_string(PartitionShape shape);
std::optional<PartitionShape> parse_partition_shape(std::string_view text);
const std::vector<PartitionShape>& all_partition_shapes();

// node -> the nodes whose packets it drops. Nodes without a grudge are absent.
using Grudge = std::map<std::string, std::set<std::string>>;

// halves: first half | rest (in the given order); random-halves: the same after
// a shuffle; isolate-one: one random node cut off; isolate-leader: the leader
// cut off (a random node if the leader is unknown); majorities-ring: nodes on a
// shuffled ring each see a majority made of their ring neighbours, no two the
// same; bridge: two halves that only one node in the middle can talk to.
// Fewer than two nodes: no grudge.
Grudge partition_grudge(PartitionShape shape, const std::vector<std::string>& nodes, std::mt19937_64& random,
                        const std::optional<std::string>& leader);

// Connected components as the history records them: {"n1": ["n3","n4"], ...}.
std::string describe_grudge(const Grudge& grudge);

}  // namespace chaosbench::nemesis
