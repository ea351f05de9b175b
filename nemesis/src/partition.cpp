#include "chaosbench/nemesis/partition.h"

#include <algorithm>

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

Grudge isolate(const std::vector<std::string>& nodes, const std::string& lonely) {
  std::vector<std::string> others;
  for (const auto& node : nodes) {
    if (node != lonely) others.push_back(node);
  }
  Grudge grudge;
  cut(grudge, {lonely}, others);
  return grudge;
}

}  // namespace

const std::vector<PartitionShape>& all_partition_shapes() {
  static const std::vector<PartitionShape> shapes = {PartitionShape::halves,          PartitionShape::random_halves,
                                                     PartitionShape::isolate_one,     PartitionShape::isolate_leader,
                                                     PartitionShape::majorities_ring, PartitionShape::bridge};
  return shapes;
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
      return isolate(nodes, leader && std::find(nodes.begin(), nodes.end(), *leader) != nodes.end()
                                ? *leader
                                : nodes[random() % nodes.size()]);
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
  }
  return {};
}

std::string describe_grudge(const Grudge& grudge) {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [node, dropped] : grudge) document[node] = dropped;
  return document.dump();
}

}  // namespace chaosbench::nemesis
