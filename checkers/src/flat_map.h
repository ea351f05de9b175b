// Internal: an open-addressing hash map from 64-bit keys to 32-bit values, for
// the checkers' hot paths (no allocation per entry, unlike std::unordered_map).
// The key ~0 is reserved and must never be inserted. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace chaosbench::checkers::detail {

class FlatMap64 {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  FlatMap64() : slots_(64) {}

  // The value stored for `key`, or nullptr.
  const std::uint32_t* find(std::uint64_t key) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t index = hash(key) & mask;; index = (index + 1) & mask) {
      const Slot& slot = slots_[index];
      if (slot.key == key) return &slot.value;
      if (slot.key == kEmpty) return nullptr;
    }
  }

  // Inserts or overwrites.
  void insert(std::uint64_t key, std::uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t index = hash(key) & mask;; index = (index + 1) & mask) {
      Slot& slot = slots_[index];
      if (slot.key == key) {
        slot.value = value;
        return;
      }
      if (slot.key == kEmpty) {
        slot = Slot{key, value};
        ++count_;
        return;
      }
    }
  }

  std::size_t size() const { return count_; }

 private:
  struct Slot {
    std::uint64_t key = kEmpty;
    std::uint32_t value = 0;
  };

  static std::uint64_t hash(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return key;
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    count_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) insert(slot.key, slot.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace chaosbench::checkers::detail
