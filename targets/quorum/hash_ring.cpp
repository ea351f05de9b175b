#include "quorum/hash_ring.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace chaosbench::quorum {

std::uint64_t HashRing::hash(std::string_view text) {
  std::uint64_t value = 14695981039346656037ull;
  for (unsigned char byte : text) {
    value ^= byte;
    value *= 1099511628211ull;
  }
  // splitmix64 finaliser: spreads FNV's weak low bits over the whole word.
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ull;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebull;
  value ^= value >> 31;
  return value;
}

HashRing::HashRing(std::vector<std::string> members, int virtual_nodes) : members_(std::move(members)) {
  if (members_.empty()) throw std::invalid_argument("hash ring: no members");
  if (virtual_nodes < 1) throw std::invalid_argument("hash ring: virtual nodes must be at least 1");
  if (std::set<std::string>(members_.begin(), members_.end()).size() != members_.size()) {
    throw std::invalid_argument("hash ring: a member is listed twice");
  }
  for (std::size_t member = 0; member < members_.size(); ++member) {
    for (int token = 0; token < virtual_nodes; ++token) {
      tokens_.emplace_back(hash(members_[member] + "#" + std::to_string(token)), member);
    }
  }
  std::sort(tokens_.begin(), tokens_.end());
}

std::vector<std::string> HashRing::preference_list(std::string_view key, std::size_t count) const {
  std::vector<std::size_t> indices;
  preference_indices(hash(key), count, indices);
  std::vector<std::string> result;
  result.reserve(indices.size());
  for (auto index : indices) result.push_back(members_[index]);
  return result;
}

void HashRing::preference_indices(std::uint64_t position, std::size_t count, std::vector<std::size_t>& out) const {
  out.clear();
  count = std::min(count, members_.size());
  auto start = std::lower_bound(tokens_.begin(), tokens_.end(), std::make_pair(position, std::size_t{0}));
  const std::size_t offset = static_cast<std::size_t>(start - tokens_.begin());
  for (std::size_t step = 0; step < tokens_.size() && out.size() < count; ++step) {
    const std::size_t member = tokens_[(offset + step) % tokens_.size()].second;
    if (std::find(out.begin(), out.end(), member) == out.end()) out.push_back(member);
  }
}

std::size_t HashRing::index_of(std::string_view member) const {
  for (std::size_t index = 0; index < members_.size(); ++index) {
    if (members_[index] == member) return index;
  }
  return members_.size();
}

}  // namespace chaosbench::quorum
