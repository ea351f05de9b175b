// SimulationFailure: what a simulator throws when an invariant breaks, its
// text "seed S step N: what broke [state]" so the failing run can be replayed;
// run_seeds() runs consecutive seeds until one fails.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace chaosbench::sim {

struct SimulationFailure : std::runtime_error {
  SimulationFailure(std::uint64_t seed, std::int64_t step, const std::string& what)
      : std::runtime_error(fmt::format("seed {} step {}: {}", seed, step, what)) {}
};

// `run(seed)` returns a result with `ok`; the first failing one, else the last.
template <typename Run>
auto run_seeds(std::uint64_t first_seed, int seed_count, Run&& run) {
  decltype(run(first_seed)) last{};
  for (int offset = 0; offset < seed_count; ++offset) {
    last = run(first_seed + static_cast<std::uint64_t>(offset));
    if (!last.ok) return last;
  }
  return last;
}

}  // namespace chaosbench::sim
