#include "sim/links.h"

namespace chaosbench::sim {

void Links::cut(const std::vector<std::size_t>& side_a, const std::vector<std::size_t>& side_b) {
  for (std::size_t a : side_a) {
    for (std::size_t b : side_b) {
      if (a == b) continue;
      block(a, b);
      block(b, a);
    }
  }
}

void Links::isolate(std::size_t node) {
  std::vector<std::size_t> others;
  for (std::size_t other = 0; other < nodes_; ++other) {
    if (other != node) others.push_back(other);
  }
  cut({node}, others);
}

void Links::split_randomly(std::mt19937_64& random) {
  heal();
  std::vector<std::size_t> sides[2];
  for (std::size_t node = 0; node < nodes_; ++node) sides[random() % 2].push_back(node);
  cut(sides[0], sides[1]);
}

}  // namespace chaosbench::sim
