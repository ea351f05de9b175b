// HashRing: consistent hashing with virtual nodes. Each member owns
// `virtual_nodes` tokens on a 64-bit ring; a key's preference list is the
// first N distinct members met walking clockwise from the key's hash. The
// hash is fixed (FNV-1a + a 64-bit finaliser), so every node computes the same ring.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaosbench::quorum {

class HashRing {
 public:
  // Throws std::invalid_argument for no members, duplicates or virtual_nodes < 1.
  HashRing(std::vector<std::string> members, int virtual_nodes);

  // The first `count` distinct members clockwise from the key (fewer if the ring has fewer).
  std::vector<std::string> preference_list(std::string_view key, std::size_t count) const;
  // Every member, in the order met walking clockwise from the key.
  std::vector<std::string> walk(std::string_view key) const { return preference_list(key, members_.size()); }
  // The same as member indices, for the ring position `position` (= hash(key)),
  // written into `out` (reused to avoid allocating in hot loops).
  void preference_indices(std::uint64_t position, std::size_t count, std::vector<std::size_t>& out) const;
  // Index of `member` in members(), or members().size() if absent.
  std::size_t index_of(std::string_view member) const;
  const std::vector<std::string>& members() const { return members_; }
  std::size_t token_count() const { return tokens_.size(); }

  // The stable 64-bit hash used for ring positions and Merkle buckets.
  static std::uint64_t hash(std::string_view text);

 private:
  std::vector<std::string> members_;
  std::vector<std::pair<std::uint64_t, std::size_t>> tokens_;  // (position, member index), sorted
};

}  // namespace chaosbench::quorum
