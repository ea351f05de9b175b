// Whether a history gives a checker something to judge: an acknowledged update, and an ok read
// completing after the invocation of a counted update on the same key. Fed in any order, O(1) an op.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::checkers {

class JudgeFloor {
 public:
  // An update invoked at history index `invocation` that took effect (acknowledged)
  // or, for the searches, may have (info); a read completing after it could have observed it.
  void update(std::uint32_t key, std::uint32_t invocation, bool acknowledged) {
    acknowledged_ = acknowledged_ || acknowledged;
    Slot& slot = slot_of(key);
    slot.first_update = std::min(slot.first_update, invocation);
    note(slot);
  }
  // An ok read completed at history index `completion`.
  void ok_read(std::uint32_t key, std::uint32_t completion) {
    Slot& slot = slot_of(key);
    slot.last_read = slot.last_read == kNone ? completion : std::max(slot.last_read, completion);
    note(slot);
  }

  bool has_acknowledged_update() const { return acknowledged_; }
  bool has_observing_read() const { return observing_; }

  // "" when there is an acknowledged update, else "nothing to judge: no acknowledged <updates>".
  std::string missing_update(std::string_view updates) const {
    return acknowledged_ ? std::string() : "nothing to judge: no acknowledged " + std::string(updates);
  }
  // missing_update, then "nothing to judge: no ok <read> that could have observed an acknowledged <observed>".
  std::string missing(std::string_view updates, std::string_view read, std::string_view observed) const {
    if (!acknowledged_) return missing_update(updates);
    if (observing_) return {};
    return "nothing to judge: no ok " + std::string(read) + " that could have observed an acknowledged " +
           std::string(observed);
  }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Slot {
    std::uint32_t first_update = kNone;
    std::uint32_t last_read = kNone;
  };
  Slot& slot_of(std::uint32_t key) {
    if (key >= slots_.size()) slots_.resize(std::size_t{key} + 1);
    return slots_[key];
  }
  void note(const Slot& slot) {
    observing_ =
        observing_ || (slot.first_update != kNone && slot.last_read != kNone && slot.last_read > slot.first_update);
  }

  std::vector<Slot> slots_;
  bool acknowledged_ = false;
  bool observing_ = false;
};

}  // namespace chaosbench::checkers
