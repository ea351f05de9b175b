// Links: which directed links of a simulated cluster carry messages. Every
// partition a simulation makes (a random split, an isolated node, two sides cut
// apart, one blocked direction) is a set of blocked (from, to) pairs; heal()
// clears them. Nodes are indexes 0..size-1.
#pragma once

#include <cstddef>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace chaosbench::sim {

class Links {
 public:
  explicit Links(std::size_t nodes) : nodes_(nodes) {}

  bool connected(std::size_t from, std::size_t to) const { return blocked_.count({from, to}) == 0; }
  bool any_blocked() const { return !blocked_.empty(); }

  void block(std::size_t from, std::size_t to) { blocked_.insert({from, to}); }
  // Cuts both directions between every node of `side_a` and every node of `side_b`.
  void cut(const std::vector<std::size_t>& side_a, const std::vector<std::size_t>& side_b);
  void isolate(std::size_t node);
  // A fresh random two-way split (it may leave everyone on one side): replaces the current one.
  void split_randomly(std::mt19937_64& random);
  void heal() { blocked_.clear(); }

 private:
  std::size_t nodes_;
  std::set<std::pair<std::size_t, std::size_t>> blocked_;
};

}  // namespace chaosbench::sim
