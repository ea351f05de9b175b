#include "chaosbench/workloads/key_pool.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace chaosbench::workloads {

std::uint64_t default_key_count(KeyDistribution distribution) {
  return distribution == KeyDistribution::uniform ? 3 : 10;
}

KeyDistribution parse_key_distribution(std::string_view text) {
  if (text == "uniform") return KeyDistribution::uniform;
  if (text == "zipf") return KeyDistribution::zipf;
  throw std::invalid_argument(fmt::format("--key-dist: unknown distribution '{}' (known: uniform, zipf)", text));
}

std::string_view to_string(KeyDistribution distribution) {
  return distribution == KeyDistribution::uniform ? "uniform" : "zipf";
}

std::uint64_t parse_pool_count(std::string_view flag, std::string_view text, std::uint64_t most) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 || value > most) {
    throw std::invalid_argument(fmt::format("{} '{}': expected a whole number from 1 to {}", flag, text, most));
  }
  return value;
}

KeyPool::KeyPool(const KeyPoolOptions& options)
    : distribution_(options.distribution), max_writes_per_key_(options.max_writes_per_key) {
  const std::uint64_t key_count = options.key_count == 0 ? default_key_count(distribution_) : options.key_count;
  if (key_count > kMostActiveKeys) {
    throw std::invalid_argument(fmt::format("--key-count {}: at most {}", key_count, kMostActiveKeys));
  }
  if (max_writes_per_key_ == 0 || max_writes_per_key_ > kMostWritesPerKey) {
    throw std::invalid_argument(
        fmt::format("--max-writes-per-key {}: expected 1 to {}", max_writes_per_key_, kMostWritesPerKey));
  }
  active_.resize(key_count);
  writes_.assign(key_count, 0);
  for (std::uint64_t& key : active_) key = next_key_++;
  if (distribution_ == KeyDistribution::zipf) {
    double total = 0;
    cumulative_.resize(key_count);
    for (std::size_t rank = 0; rank < key_count; ++rank) {
      total += 1 / std::pow(static_cast<double>(rank + 1), kZipfSkew);
      cumulative_[rank] = total;
    }
    for (double& bound : cumulative_) bound /= total;
    cumulative_.back() = 1;
  }
}

std::size_t KeyPool::choose_rank(std::mt19937_64& random) const {
  if (distribution_ == KeyDistribution::uniform) return static_cast<std::size_t>(random() % active_.size());
  // 53 random bits as a double in [0, 1): the same on every platform, unlike std's distributions.
  const double draw = static_cast<double>(random() >> 11) * 0x1.0p-53;
  const auto bound = std::upper_bound(cumulative_.begin(), cumulative_.end(), draw);
  return std::min(static_cast<std::size_t>(bound - cumulative_.begin()), active_.size() - 1);
}

void KeyPool::count_write(std::size_t rank) {
  if (++writes_[rank] < max_writes_per_key_) return;
  active_[rank] = next_key_++;
  writes_[rank] = 0;
}

}  // namespace chaosbench::workloads
