// MerkleTree: a complete binary hash tree over 2^depth buckets of the 64-bit
// key-hash space. A leaf is the order-independent sum of its keys' (key hash,
// versions digest) mixes; an inner node hashes its two children. Two replicas
// compare trees top-down and exchange only the keys of differing leaves.
#pragma once

#include <cstdint>
#include <vector>

namespace chaosbench::quorum {

class MerkleTree {
 public:
  // Throws std::invalid_argument unless 1 <= depth <= 24.
  explicit MerkleTree(int depth);

  int depth() const { return depth_; }
  // Adds one key's contribution to its leaf; call build() before reading hashes.
  void add(std::uint64_t key_hash, std::uint64_t versions_digest);
  void build();
  // Hash of node `index` (0 .. 2^level - 1) at `level` (0 = root, depth = leaves).
  std::uint64_t hash(int level, std::size_t index) const { return levels_[level][index]; }

  static std::size_t leaf_of(std::uint64_t key_hash, int depth) {
    return static_cast<std::size_t>(key_hash >> (64 - depth));
  }
  // The descendants of (level, index) at `target_level` >= level.
  static std::vector<std::size_t> descendants(int level, std::size_t index, int target_level);
  // Leaves that differ between two trees of the same depth (descending only into differing nodes).
  static std::vector<std::size_t> differing_leaves(const MerkleTree& a, const MerkleTree& b);

 private:
  int depth_;
  std::vector<std::vector<std::uint64_t>> levels_;
};

}  // namespace chaosbench::quorum
