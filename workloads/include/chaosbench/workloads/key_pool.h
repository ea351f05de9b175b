// The pool of active keys of the transactional workloads, as Elle's generator
// keeps it: `key_count` keys are active; each draw picks one by rank, uniformly
// or Zipfian (rank 0 the hottest); a key retires after exactly
// `max_writes_per_key` writes and a fresh key (the next unused number) takes its
// rank. Deterministic given the random source. Not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace chaosbench::workloads {

enum class KeyDistribution { uniform, zipf };

struct KeyPoolOptions {
  KeyDistribution distribution = KeyDistribution::zipf;
  // 0: Elle's default for the distribution (default_key_count).
  std::uint64_t key_count = 0;
  std::uint64_t max_writes_per_key = 32;  // Elle's default
};

// Elle's wr-txns: 10 active keys for a skewed choice, 3 for a uniform one.
std::uint64_t default_key_count(KeyDistribution distribution);
// Jepsen's jepsen.random/zipf-default-skew (its sampler cannot do exactly 1).
inline constexpr double kZipfSkew = 1.0001;
// The largest --key-count and --max-writes-per-key the workloads take.
inline constexpr std::uint64_t kMostActiveKeys = 100000;
inline constexpr std::uint64_t kMostWritesPerKey = 1000000;

// "uniform" or "zipf"; throws std::invalid_argument (one line, naming --key-dist) otherwise.
KeyDistribution parse_key_distribution(std::string_view text);
std::string_view to_string(KeyDistribution distribution);
// A flag's positive count no larger than `most`; throws std::invalid_argument
// ("<flag> '<text>': expected ...") otherwise.
std::uint64_t parse_pool_count(std::string_view flag, std::string_view text, std::uint64_t most);

class KeyPool {
 public:
  // Throws std::invalid_argument when a count is 0 or above its limit.
  explicit KeyPool(const KeyPoolOptions& options);
  // The rank (0 .. key_count-1) of the next key used, drawn from `random`.
  std::size_t choose_rank(std::mt19937_64& random) const;
  std::uint64_t key_at(std::size_t rank) const { return active_[rank]; }
  // Counts one write to the key at `rank`; at max_writes_per_key it retires.
  void count_write(std::size_t rank);
  // The active keys, by rank.
  const std::vector<std::uint64_t>& active_keys() const { return active_; }
  std::uint64_t max_writes_per_key() const { return max_writes_per_key_; }
  KeyDistribution distribution() const { return distribution_; }

 private:
  KeyDistribution distribution_;
  std::uint64_t max_writes_per_key_;
  std::vector<std::uint64_t> active_;
  std::vector<std::uint64_t> writes_;  // per rank: writes to the key there so far
  std::vector<double> cumulative_;     // zipf: P(rank <= i), the last entry 1
  std::uint64_t next_key_ = 0;
};

}  // namespace chaosbench::workloads
