// VisitedStates<Word>: the (configuration, model state) pairs a search-based
// checker has explored, where a configuration is a fixed number of words (the
// linearized-op bitset, or each process's position). Open addressing over one
// arena; every byte it holds is charged to the check's shared memory budget.
// SearchLimits: what every partition of one check shares (deadline, memory, stop).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chaosbench::checkers {

// A 64-bit finaliser (MurmurHash3's fmix64): every input bit reaches every output bit.
inline std::uint64_t mix64(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  value ^= value >> 33;
  return value;
}

struct SearchLimits {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::size_t memory_limit = 0;
  std::atomic<std::size_t>* memory_used = nullptr;
  std::atomic<bool>* stop = nullptr;  // set when another partition was found invalid
};

template <typename Word>
class VisitedStates {
 public:
  VisitedStates(std::size_t words_per_configuration, const SearchLimits& limits, std::size_t initial_slots = 1024)
      : words_(words_per_configuration), limits_(limits), slots_(initial_slots) {
    account(slots_.size() * sizeof(Slot));
  }
  ~VisitedStates() { limits_.memory_used->fetch_sub(accounted_); }
  VisitedStates(const VisitedStates&) = delete;
  VisitedStates& operator=(const VisitedStates&) = delete;

  // Inserts the pair; false when it was there already. `configuration_hash` is
  // the caller's (incremental, Zobrist) hash of the words.
  bool insert(std::uint64_t configuration_hash, std::uint32_t state, const Word* configuration) {
    const std::uint64_t hash = mix64(configuration_hash ^ (state * 0x9E3779B97F4A7C15ULL)) | 1;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t index = hash & mask;; index = (index + 1) & mask) {
      Slot& slot = slots_[index];
      if (slot.hash == 0) {
        slot = Slot{hash, state, static_cast<std::uint32_t>(arena_.size() / words_)};
        const std::size_t before = arena_.capacity();
        arena_.insert(arena_.end(), configuration, configuration + words_);
        if (arena_.capacity() != before) account((arena_.capacity() - before) * sizeof(Word));
        if (++count_ * 2 > slots_.size()) grow();
        return true;
      }
      if (slot.hash == hash && slot.state == state &&
          same_words(&arena_[std::size_t{slot.configuration} * words_], configuration)) {
        return false;
      }
    }
  }

  std::size_t size() const { return count_; }
  bool over_memory_limit() const { return limits_.memory_used->load(std::memory_order_relaxed) > limits_.memory_limit; }
  // Bytes this set has charged to the budget (tests check the accounting).
  std::size_t charged_bytes() const { return accounted_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t state = 0;
    std::uint32_t configuration = 0;  // index into the arena, in configurations
  };

  // Configurations are a few words long: an inline loop beats a memcmp call.
  bool same_words(const Word* left, const Word* right) const {
    for (std::size_t word = 0; word < words_; ++word) {
      if (left[word] != right[word]) return false;
    }
    return true;
  }

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    account(bigger.size() * sizeof(Slot));
    bigger.swap(slots_);  // `bigger` now holds the old slots
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : bigger) {
      if (slot.hash == 0) continue;
      std::size_t index = slot.hash & mask;
      while (slots_[index].hash != 0) index = (index + 1) & mask;
      slots_[index] = slot;
    }
    release(bigger.size() * sizeof(Slot));
  }

  void account(std::size_t bytes) {
    accounted_ += bytes;
    limits_.memory_used->fetch_add(bytes, std::memory_order_relaxed);
  }
  void release(std::size_t bytes) {
    accounted_ -= bytes;
    limits_.memory_used->fetch_sub(bytes, std::memory_order_relaxed);
  }

  std::size_t words_;
  const SearchLimits& limits_;
  std::vector<Slot> slots_;
  std::vector<Word> arena_;
  std::size_t count_ = 0;
  std::size_t accounted_ = 0;
};

}  // namespace chaosbench::checkers
