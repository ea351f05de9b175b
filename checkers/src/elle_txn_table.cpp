// Decoding txn values (canonical JSON text in the ValuePool) into micro-ops with
// a small hand-written parser: a million txns decode in well under a second.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/checkers/errors.h"
#include "elle_internal.h"

namespace chaosbench::checkers::elle {
namespace {

class TextCursor {
 public:
  TextCursor(std::string_view text, std::uint32_t op_index) : text_(text), op_index_(op_index) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw HistoryError(fmt::format("op {}: field 'value': {} (in {})", op_index_, what, shortened()));
  }
  void skip_blanks() {
    while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                        text_[position_] == '\t' || text_[position_] == '\r')) {
      ++position_;
    }
  }
  char peek() {
    skip_blanks();
    return position_ < text_.size() ? text_[position_] : '\0';
  }
  void expect(char wanted, std::string_view what) {
    if (peek() != wanted) fail(fmt::format("expected '{}' {}", wanted, what));
    ++position_;
  }
  bool consume_if(char wanted) {
    if (peek() != wanted) return false;
    ++position_;
    return true;
  }
  bool at_end() { return peek() == '\0'; }

  // A JSON string token; `raw` receives the token with its quotes.
  std::string read_string(std::string_view* raw = nullptr) {
    std::size_t start = position_;
    if (peek() != '"') fail("expected a string");
    std::size_t index = position_ + 1;
    bool escaped = false;
    while (index < text_.size() && text_[index] != '"') {
      if (text_[index] == '\\') {
        escaped = true;
        ++index;
      }
      ++index;
    }
    if (index >= text_.size()) fail("unterminated string");
    position_ = index + 1;
    std::string_view token = text_.substr(start, position_ - start);
    if (raw) *raw = token;
    if (!escaped) return std::string(token.substr(1, token.size() - 2));
    return nlohmann::json::parse(token).get<std::string>();
  }
  // An integer token; fails on fractions and overflow.
  std::int64_t read_integer(std::string_view* raw = nullptr) {
    skip_blanks();
    std::size_t start = position_;
    std::int64_t number = 0;
    auto [end, error] = std::from_chars(text_.data() + position_, text_.data() + text_.size(), number);
    if (error != std::errc()) fail("expected an integer");
    position_ = static_cast<std::size_t>(end - text_.data());
    if (position_ < text_.size() && (text_[position_] == '.' || text_[position_] == 'e' || text_[position_] == 'E')) {
      fail("expected an integer, got a fraction");
    }
    if (raw) *raw = text_.substr(start, position_ - start);
    return number;
  }
  bool consume_null() {
    skip_blanks();
    if (text_.substr(position_, 4) == "null") {
      position_ += 4;
      return true;
    }
    return false;
  }

 private:
  std::string shortened() const {
    return text_.size() <= 80 ? std::string(text_) : std::string(text_.substr(0, 77)) + "...";
  }
  std::string_view text_;
  std::size_t position_ = 0;
  std::uint32_t op_index_;
};

}  // namespace

TxnTable::TxnTable(const History& history, TxnWorkload workload) {
  std::vector<OperationPair> pairs = pair_operations(history);
  txns.reserve(pairs.size());
  mops.reserve(pairs.size() * 3);
  std::string text;
  for (const OperationPair& pair : pairs) {
    const Operation& invocation = history.operations[pair.invocation];
    const std::string& function = history.function_name(invocation);
    if (function != "txn") {
      throw HistoryError(fmt::format("op {}: field 'f': expected txn, got '{}'", pair.invocation, function));
    }
    Txn txn;
    txn.invocation = pair.invocation;
    txn.completion = pair.completion;
    txn.process = invocation.process;
    txn.outcome = pair.outcome;
    txn.mop_begin = static_cast<std::uint32_t>(mops.size());
    bool ok = pair.outcome == OpType::ok;
    std::uint32_t source = ok ? pair.completion : pair.invocation;
    Value value = history.operations[source].value;
    if (ok && value.is_null()) value = invocation.value;  // some clients echo nothing: reads stay unknown
    text = history.values.to_text(value);
    parse(text, source, ok && !history.operations[source].value.is_null(), workload);
    txn.mop_end = static_cast<std::uint32_t>(mops.size());
    if (ok) {
      bool writes = false, reads = false;
      for (std::uint32_t mop = txn.mop_begin; mop < txn.mop_end; ++mop) {
        writes = writes || mops[mop].kind != MicroKind::read;
        reads = reads || (mops[mop].kind == MicroKind::read && mops[mop].read_known);
      }
      committed_writing += writes;
      committed_reading += reads;
    }
    txns.push_back(txn);
  }
}

std::uint32_t TxnTable::intern_key(std::string_view text) {
  auto found = key_ids_.find(text);
  if (found != key_ids_.end()) return found->second;
  auto id = static_cast<std::uint32_t>(key_names_.size());
  std::string name(text);
  if (name.size() >= 2 && name.front() == '"') name = nlohmann::json::parse(name).get<std::string>();
  key_names_.push_back(std::move(name));
  key_ids_.emplace(std::string(text), id);
  return id;
}

Element TxnTable::intern_string(std::string_view text) {
  auto found = string_ids_.find(text);
  if (found != string_ids_.end()) return kStringBase + found->second;
  auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.emplace_back(text);
  string_ids_.emplace(std::string(text), id);
  return kStringBase + id;
}

std::string TxnTable::element_text(Element element) const {
  if (element == kNilElement) return "nil";
  if (element < -kIntegerLimit) return nlohmann::json(strings_[static_cast<std::size_t>(element - kStringBase)]).dump();
  return std::to_string(element);
}

std::string TxnTable::list_text(std::uint32_t offset, std::uint32_t length, std::size_t tail) const {
  std::string text = "[";
  std::size_t first = 0;
  if (length > tail) {
    first = length - tail;
    text += fmt::format("... {} more, ", first);
  }
  for (std::size_t index = first; index < length; ++index) {
    if (index > first) text += ' ';
    text += element_text(read_elements[offset + index]);
  }
  return text + "]";
}

void TxnTable::parse(std::string_view text, std::uint32_t op_index, bool reads_known, TxnWorkload workload) {
  TextCursor cursor(text, op_index);
  auto read_element = [&](std::string_view what) -> Element {
    char next = cursor.peek();
    if (next == '"') return intern_string(cursor.read_string());
    if (next == '-' || (next >= '0' && next <= '9')) {
      std::int64_t number = cursor.read_integer();
      if (number >= kIntegerLimit || number < -kIntegerLimit)
        cursor.fail(fmt::format("{} {} is out of range (|v| < 2^62)", what, number));
      return number;
    }
    cursor.fail(fmt::format("{} must be an integer or a string", what));
  };
  cursor.expect('[', "(a txn is a list of [f, key, value] micro-ops)");
  if (cursor.consume_if(']')) return;
  do {
    MicroOp mop;
    cursor.expect('[', "to open a micro-op [f, key, value]");
    std::string function = cursor.read_string();
    cursor.expect(',', "after the micro-op's function");
    std::string_view key_token;
    if (cursor.peek() == '"') {
      cursor.read_string(&key_token);
    } else {
      cursor.read_integer(&key_token);
    }
    mop.key = intern_key(key_token);
    cursor.expect(',', "after the micro-op's key");
    if (function == "r") {
      mop.kind = MicroKind::read;
      if (workload == TxnWorkload::list_append) {
        if (cursor.consume_null()) {
          // As in Elle (and as the reference nodes answer for a key never
          // written): a committed read of nil is the empty list.
          mop.read_offset = static_cast<std::uint32_t>(read_elements.size());
          mop.read_length = 0;
          mop.read_known = reads_known;
        } else {
          cursor.expect('[', "(a list-append read is a list or null)");
          mop.read_offset = static_cast<std::uint32_t>(read_elements.size());
          if (!cursor.consume_if(']')) {
            do {
              read_elements.push_back(read_element("a read element"));
            } while (cursor.consume_if(','));
            cursor.expect(']', "to close the read list");
          }
          mop.read_length = static_cast<std::uint32_t>(read_elements.size() - mop.read_offset);
          mop.read_known = reads_known;
          if (!reads_known) {  // an info/fail txn's reads tell nothing
            read_elements.resize(mop.read_offset);
            mop.read_length = 0;
          }
        }
      } else {
        mop.element = cursor.consume_null() ? kNilElement : read_element("a read value");
        mop.read_known = reads_known;
      }
    } else if (function == "append" && workload == TxnWorkload::list_append) {
      mop.kind = MicroKind::append;
      mop.element = read_element("an appended value");
    } else if (function == "w" && workload == TxnWorkload::rw_register) {
      mop.kind = MicroKind::write;
      mop.element = read_element("a written value");
    } else {
      cursor.fail(fmt::format("micro-op '{}' is not one of {}", function,
                              workload == TxnWorkload::list_append ? "append, r" : "w, r"));
    }
    cursor.expect(']', "to close a micro-op (exactly [f, key, value])");
    mops.push_back(mop);
  } while (cursor.consume_if(','));
  cursor.expect(']', "to close the txn");
  if (!cursor.at_end()) cursor.fail("trailing text after the txn");
}

std::uint64_t ElementMap::hash(std::uint32_t key, Element element) {
  std::uint64_t value =
      static_cast<std::uint64_t>(element) * 0x9E3779B97F4A7C15ULL ^ (std::uint64_t{key} * 0xC2B2AE3D27D4EB4FULL);
  value ^= value >> 32;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 29;
  return value;
}

std::uint32_t ElementMap::find(std::uint32_t key, Element element) const {
  std::size_t mask = slots_.size() - 1;
  for (std::size_t index = hash(key, element) & mask;; index = (index + 1) & mask) {
    const Slot& slot = slots_[index];
    if (slot.value == kMissing) return kMissing;
    if (slot.key == key && slot.element == element) return slot.value;
  }
}

std::uint32_t ElementMap::insert(std::uint32_t key, Element element, std::uint32_t value) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  std::size_t mask = slots_.size() - 1;
  for (std::size_t index = hash(key, element) & mask;; index = (index + 1) & mask) {
    Slot& slot = slots_[index];
    if (slot.value == kMissing) {
      slot = Slot{element, key, value};
      ++count_;
      return value;
    }
    if (slot.key == key && slot.element == element) return slot.value;
  }
}

void ElementMap::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  count_ = 0;
  for (const Slot& slot : old) {
    if (slot.value != kMissing) insert(slot.key, slot.element, slot.value);
  }
}

}  // namespace chaosbench::checkers::elle
