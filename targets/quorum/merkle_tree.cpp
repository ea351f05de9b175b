#include "quorum/merkle_tree.h"

#include <stdexcept>
#include <string>

namespace chaosbench::quorum {
namespace {

std::uint64_t mix(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdull;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ull;
  value ^= value >> 33;
  return value;
}

}  // namespace

MerkleTree::MerkleTree(int depth) : depth_(depth) {
  if (depth < 1 || depth > 24)
    throw std::invalid_argument("merkle tree depth must be 1..24, not " + std::to_string(depth));
  levels_.resize(depth + 1);
  for (int level = 0; level <= depth; ++level) levels_[level].assign(std::size_t{1} << level, 0);
}

void MerkleTree::add(std::uint64_t key_hash, std::uint64_t versions_digest) {
  levels_[depth_][leaf_of(key_hash, depth_)] += mix(key_hash ^ mix(versions_digest + 0x9e3779b97f4a7c15ull));
}

void MerkleTree::build() {
  for (int level = depth_ - 1; level >= 0; --level) {
    auto& nodes = levels_[level];
    const auto& children = levels_[level + 1];
    for (std::size_t index = 0; index < nodes.size(); ++index) {
      const std::uint64_t left = children[2 * index];
      const std::uint64_t right = children[2 * index + 1];
      nodes[index] = (left == 0 && right == 0) ? 0 : mix(left * 31 + mix(right + 1));
    }
  }
}

std::vector<std::size_t> MerkleTree::descendants(int level, std::size_t index, int target_level) {
  const int shift = target_level - level;
  std::vector<std::size_t> result;
  result.reserve(std::size_t{1} << shift);
  for (std::size_t offset = 0; offset < (std::size_t{1} << shift); ++offset)
    result.push_back((index << shift) + offset);
  return result;
}

std::vector<std::size_t> MerkleTree::differing_leaves(const MerkleTree& a, const MerkleTree& b) {
  if (a.depth_ != b.depth_) throw std::invalid_argument("merkle trees of different depths");
  std::vector<std::size_t> frontier{0};
  for (int level = 0; level <= a.depth_; ++level) {
    std::vector<std::size_t> differing;
    for (auto index : frontier) {
      if (a.hash(level, index) != b.hash(level, index)) differing.push_back(index);
    }
    if (level == a.depth_) return differing;
    frontier.clear();
    for (auto index : differing) {
      frontier.push_back(2 * index);
      frontier.push_back(2 * index + 1);
    }
  }
  return {};
}

}  // namespace chaosbench::quorum
