#include "chaosbench/nemesis/partition.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "name_list.h"

#include <nlohmann/json.hpp>

namespace chaosbench::nemesis {
namespace {

void shuffle(std::vector<std::string>& nodes, std::mt19937_64& random) {
  // Fisher-Yates with modulo draws: the same on every standard library.
  for (std::size_t index = nodes.size(); index > 1; --index) {
    std::swap(nodes[index - 1], nodes[random() % index]);
  }
}

// Every node of `side` drops traffic from every node of `other`, and the reverse.
void cut(Grudge& grudge, const std::vector<std::string>& side, const std::vector<std::string>& other) {
  for (const auto& a : side) {
    for (const auto& b : other) {
      grudge[a].insert(b);
      grudge[b].insert(a);
    }
  }
}

Grudge split(const std::vector<std::string>& nodes) {
  const std::size_t half = nodes.size() / 2;
  Grudge grudge;
  cut(grudge, {nodes.begin(), nodes.begin() + half}, {nodes.begin() + half, nodes.end()});
  return grudge;
}

std::vector<std::string> all_but(const std::vector<std::string>& nodes, const std::string& excluded) {
  std::vector<std::string> others;
  for (const auto& node : nodes) {
    if (node != excluded) others.push_back(node);
  }
  return others;
}

Grudge isolate(const std::vector<std::string>& nodes, const std::string& lonely) {
  Grudge grudge;
  cut(grudge, {lonely}, all_but(nodes, lonely));
  return grudge;
}

// Every node of `deaf` drops traffic from every node of `unheard`; not the reverse.
void cut_one_way(Grudge& grudge, const std::vector<std::string>& deaf, const std::vector<std::string>& unheard) {
  for (const auto& a : deaf) {
    for (const auto& b : unheard) grudge[a].insert(b);
  }
}

std::string leader_or_random(const std::vector<std::string>& nodes, const std::optional<std::string>& leader,
                             std::mt19937_64& random) {
  if (leader && std::find(nodes.begin(), nodes.end(), *leader) != nodes.end()) return *leader;
  return nodes[random() % nodes.size()];
}

}  // namespace

const std::vector<PartitionShape>& two_way_partition_shapes() {
  static const std::vector<PartitionShape> shapes = {PartitionShape::halves,          PartitionShape::random_halves,
                                                     PartitionShape::isolate_one,     PartitionShape::isolate_leader,
                                                     PartitionShape::majorities_ring, PartitionShape::bridge};
  return shapes;
}

const std::vector<PartitionShape>& one_way_partition_shapes() {
  static const std::vector<PartitionShape> shapes = {
      PartitionShape::one_way_halves, PartitionShape::one_way_from_leader, PartitionShape::one_way_to_leader};
  return shapes;
}

const std::vector<PartitionShape>& all_partition_shapes() {
  static const std::vector<PartitionShape> shapes = [] {
    std::vector<PartitionShape> all = two_way_partition_shapes();
    all.insert(all.end(), one_way_partition_shapes().begin(), one_way_partition_shapes().end());
    return all;
  }();
  return shapes;
}

bool is_one_way(PartitionShape shape) {
  const auto& one_way = one_way_partition_shapes();
  return std::find(one_way.begin(), one_way.end(), shape) != one_way.end();
}

std::vector<PartitionShape> parse_partition_shapes(std::string_view text) {
  if (text == "all") return all_partition_shapes();
  if (text == "two-way") return two_way_partition_shapes();
  if (text == "one-way") return one_way_partition_shapes();
  return parse_name_list<PartitionShape>(text, parse_partition_shape, [](std::string_view name) {
    std::string known;
    for (PartitionShape each : all_partition_shapes()) known += std::string(to_string(each)) + ", ";
    throw std::invalid_argument(fmt::format(
        "--partition-shapes: unknown shape '{}' (known: {}or the groups two-way, one-way, all)", name, known));
  });
}

std::string_view to_string(PartitionShape shape) {
  switch (shape) {
    case PartitionShape::halves:
      return "halves";
    case PartitionShape::random_halves:
      return "random-halves";
    case PartitionShape::isolate_one:
      return "isolate-one";
    case PartitionShape::isolate_leader:
      return "isolate-leader";
    case PartitionShape::majorities_ring:
      return "majorities-ring";
    case PartitionShape::bridge:
      return "bridge";
    case PartitionShape::one_way_halves:
      return "one-way-halves";
    case PartitionShape::one_way_from_leader:
      return "one-way-from-leader";
    case PartitionShape::one_way_to_leader:
      return "one-way-to-leader";
  }
  return "?";
}

std::optional<PartitionShape> parse_partition_shape(std::string_view text) {
  for (PartitionShape shape : all_partition_shapes()) {
    if (to_string(shape) == text) return shape;
  }
  return std::nullopt;
}

Grudge partition_grudge(PartitionShape shape, const std::vector<std::string>& nodes, std::mt19937_64& random,
                        const std::optional<std::string>& leader) {
  if (nodes.size() < 2) return {};
  std::vector<std::string> order = nodes;
  switch (shape) {
    case PartitionShape::halves:
      return split(order);
    case PartitionShape::random_halves:
      shuffle(order, random);
      return split(order);
    case PartitionShape::isolate_one:
      return isolate(nodes, nodes[random() % nodes.size()]);
    case PartitionShape::isolate_leader:
      return isolate(nodes, leader_or_random(nodes, leader, random));
    case PartitionShape::majorities_ring: {
      shuffle(order, random);
      const std::size_t count = order.size();
      const std::size_t majority = count / 2 + 1;
      const std::size_t before = (majority - 1) / 2;  // neighbours seen on each side
      Grudge grudge;
      for (std::size_t position = 0; position < count; ++position) {
        std::set<std::string> visible;
        for (std::size_t step = 0; step < majority; ++step) {
          visible.insert(order[(position + count - before + step) % count]);
        }
        for (const auto& node : order) {
          if (!visible.count(node)) grudge[order[position]].insert(node);
        }
      }
      return grudge;
    }
    case PartitionShape::bridge: {
      if (order.size() < 3) return split(order);
      shuffle(order, random);
      const std::size_t middle = order.size() / 2;  // the bridge node
      Grudge grudge;
      cut(grudge, {order.begin(), order.begin() + middle}, {order.begin() + middle + 1, order.end()});
      return grudge;
    }
    case PartitionShape::one_way_halves: {
      shuffle(order, random);
      const std::size_t minority = std::max<std::size_t>(1, (order.size() - 1) / 2);
      Grudge grudge;
      cut_one_way(grudge, {order.begin() + minority, order.end()}, {order.begin(), order.begin() + minority});
      return grudge;
    }
    case PartitionShape::one_way_from_leader: {
      const std::string chosen = leader_or_random(nodes, leader, random);
      Grudge grudge;
      cut_one_way(grudge, all_but(nodes, chosen), {chosen});
      return grudge;
    }
    case PartitionShape::one_way_to_leader: {
      const std::string chosen = leader_or_random(nodes, leader, random);
      Grudge grudge;
      cut_one_way(grudge, {chosen}, all_but(nodes, chosen));
      return grudge;
    }
  }
  return {};
}

std::string describe_grudge(const Grudge& grudge) {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [node, dropped] : grudge) document[node] = dropped;
  return document.dump();
}

}  // namespace chaosbench::nemesis
