#include "chaosbench/checkers/model.h"

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "flat_map.h"

namespace chaosbench::checkers {

std::optional<ModelKind> parse_model_kind(std::string_view text) {
  if (text == "cas-register" || text == "register") return ModelKind::cas_register;
  if (text == "kv") return ModelKind::kv;
  if (text == "mutex") return ModelKind::mutex;
  return std::nullopt;
}

std::string_view to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::cas_register:
      return "cas-register";
    case ModelKind::kv:
      return "kv";
    case ModelKind::mutex:
      return "mutex";
  }
  return "?";
}

std::optional<NilRead> parse_nil_read(std::string_view text) {
  if (text == "absent") return NilRead::absent;
  if (text == "any") return NilRead::any;
  return std::nullopt;
}

std::string_view to_string(NilRead mode) { return mode == NilRead::absent ? "absent" : "any"; }

namespace {

using Kind = ModelOperation::Kind;

std::optional<Kind> kind_for_function(ModelKind model, std::string_view function) {
  switch (model) {
    case ModelKind::cas_register:
      if (function == "read" || function == "get") return Kind::read;
      if (function == "write" || function == "put") return Kind::write;
      if (function == "delete") return Kind::write;  // of null: the key is absent again
      if (function == "cas") return Kind::cas;
      break;
    case ModelKind::kv:
      if (function == "get" || function == "read") return Kind::read;
      if (function == "put" || function == "write") return Kind::write;
      if (function == "append") return Kind::append;
      break;
    case ModelKind::mutex:
      if (function == "acquire") return Kind::acquire;
      if (function == "release") return Kind::release;
      break;
  }
  return std::nullopt;
}

}  // namespace

OperationDecoder::OperationDecoder(const History& history, ModelKind kind) : history_(history), kind_(kind) {}

Value OperationDecoder::element_id(const nlohmann::json& element) {
  if (auto found = history_.values.find_json(element)) return *found;
  std::string text = element.dump();
  auto [it, inserted] =
      extra_ids_.try_emplace(text, static_cast<std::uint32_t>(history_.values.size() + extra_texts_.size()));
  if (inserted) extra_texts_.push_back(std::move(text));
  return Value{it->second};
}

std::string OperationDecoder::value_text(Value value) const {
  if (value.id < history_.values.size()) return history_.values.to_text(value);
  return extra_texts_[value.id - history_.values.size()];
}

ModelOperation OperationDecoder::decode(const OperationPair& pair) {
  const Operation& invocation = history_.operations[pair.invocation];
  const std::string& function = history_.function_name(invocation);
  auto kind = kind_for_function(kind_, function);
  if (!kind) {
    throw HistoryError(
        fmt::format("op {}: field 'f': model {} has no operation '{}'", pair.invocation, to_string(kind_), function));
  }
  ModelOperation op;
  op.kind = *kind;
  op.outcome_unknown = pair.outcome != OpType::ok;
  op.invocation = pair.invocation;
  op.completion = pair.completion;
  switch (op.kind) {
    case Kind::read:
      // The value read is on the completion; an unknown read carries none.
      if (pair.outcome == OpType::ok) op.argument = history_.operations[pair.completion].value;
      break;
    case Kind::write:
    case Kind::append:
      op.argument = invocation.value;
      break;
    case Kind::cas: {
      auto cached = cas_arguments_.find(invocation.value.id);
      if (cached == cas_arguments_.end()) {
        nlohmann::json pair_value = history_.values.to_json(invocation.value);
        if (!pair_value.is_array() || pair_value.size() != 2) {
          throw HistoryError(fmt::format("op {}: field 'value': cas needs [expected, new], got {}", pair.invocation,
                                         history_.values.to_text(invocation.value)));
        }
        cached =
            cas_arguments_.emplace(invocation.value.id, std::pair{element_id(pair_value[0]), element_id(pair_value[1])})
                .first;
      }
      op.argument = cached->second.first;
      op.second = cached->second.second;
      break;
    }
    case Kind::acquire:
    case Kind::release:
      break;
  }
  if (op.kind == Kind::append && !history_.values.is_string(op.argument)) {
    throw HistoryError(fmt::format("op {}: field 'value': append needs a string, got {}", pair.invocation,
                                   history_.values.to_text(op.argument)));
  }
  return op;
}

std::string describe_operation(const OperationDecoder& decoder, const ModelOperation& op) {
  const History& history = decoder.history();
  const Operation& invocation = history.operations[op.invocation];
  std::string outcome = op.completion == OperationPair::kNoCompletion
                            ? "no completion"
                            : std::string(to_string(history.operations[op.completion].type));
  std::string text =
      fmt::format("op {}: process {} {}", op.invocation, invocation.process, history.function_name(invocation));
  if (history.has_key(invocation)) text += fmt::format(" key {}", history.key_name(invocation));
  switch (op.kind) {
    case Kind::read:
      text += op.outcome_unknown ? " ?" : " -> " + decoder.value_text(op.argument);
      break;
    case Kind::cas:
      text += fmt::format(" [{}, {}]", decoder.value_text(op.argument), decoder.value_text(op.second));
      break;
    case Kind::write:
    case Kind::append:
      text += " " + decoder.value_text(op.argument);
      break;
    default:
      break;
  }
  return text + " (" + outcome + ")";
}

namespace {

// Register: the state is the value id itself (0 = null / absent).
class RegisterModel final : public Model {
 public:
  RegisterModel(const ModelOptions& options, const OperationDecoder& decoder,
                std::span<const ModelOperation> operations)
      : options_(options), decoder_(decoder), operations_(operations) {}

  std::uint32_t initial_state() override { return options_.nil_read == NilRead::any ? options_.initial.id : kNull.id; }

  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    const ModelOperation& op = operations_[index];
    switch (op.kind) {
      case Kind::read:
        if (op.argument.id == state) return state;
        if (op.argument.is_null() && options_.nil_read == NilRead::any) return state;
        return kImpossible;
      case Kind::write:
        return op.argument.id;
      case Kind::cas:
        if (state == op.argument.id) return op.second.id;
        return op.outcome_unknown ? state : kImpossible;  // an unknown cas may have failed
      default:
        return kImpossible;
    }
  }

  std::string describe_state(std::uint32_t state) const override {
    if (state == kNull.id) return options_.nil_read == NilRead::absent ? "absent" : "nil";
    return decoder_.value_text(Value{state});
  }

 private:
  ModelOptions options_;
  const OperationDecoder& decoder_;
  std::span<const ModelOperation> operations_;
};

// Key-value string register with append. A state is a node of a trie of
// appended values (put v = append v to ""), identified canonically by the
// string's length and polynomial hash, with equality verified on the rare hash
// match between different paths, so no state string is ever built while
// searching. Initial value "" (a null read means "").
class KvModel final : public Model {
 public:
  KvModel(const ModelOptions& options, const OperationDecoder& decoder, std::span<const ModelOperation> operations)
      : options_(options), operations_(operations), argument_texts_(operations.size()) {
    nodes_.push_back(Node{0, {}, 0, 0});  // "" is state 0
    canonical_.insert(canonical_key(0, 0), 0);
    const ValuePool& values = decoder.history().values;
    for (std::size_t index = 0; index < operations.size(); ++index) {
      Value argument = operations[index].argument;
      if (!argument.is_null() && values.is_string(argument)) {
        argument_texts_[index] = Text{values.as_string(argument), true};
      } else {
        argument_texts_[index] = Text{{}, argument.is_null()};  // a non-string read never matches
      }
    }
  }

  std::uint32_t initial_state() override { return 0; }

  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    const ModelOperation& op = operations_[index];
    switch (op.kind) {
      case Kind::read:
        if (op.argument.is_null() && options_.nil_read == NilRead::any) return state;
        return reads(state, index) ? state : kImpossible;
      case Kind::write:
        return append(0, index);
      case Kind::append:
        return append(state, index);
      default:
        return kImpossible;
    }
  }

  std::string describe_state(std::uint32_t state) const override { return nlohmann::json(materialise(state)).dump(); }
  std::optional<std::string> state_text(std::uint32_t state) const override { return materialise(state); }
  std::optional<bool> state_is_prefix_of(std::uint32_t state, std::string_view text) const override {
    std::size_t end = nodes_[state].length;
    if (end > text.size()) return false;
    for (std::uint32_t current = state; current != 0; current = nodes_[current].parent) {
      const Node& node = nodes_[current];
      end -= node.appended.size();
      if (text.substr(end, node.appended.size()) != node.appended) return false;
    }
    return true;
  }

 private:
  static constexpr std::uint64_t kModulus = (std::uint64_t{1} << 61) - 1;
  static constexpr std::uint64_t kBase = 1'000'003;

  struct Text {
    std::string_view text;
    bool valid = true;
    // Computed on first use (hashed_argument): most reads are ruled out by
    // their length alone, and a search may touch only a few ops.
    bool hashed = false;
    std::uint64_t hash = 0;
    std::uint64_t power = 1;  // kBase ^ size
  };
  struct Node {
    std::uint32_t parent;
    std::string_view appended;
    std::uint64_t length;
    std::uint64_t hash;
  };

  static std::uint64_t multiply(std::uint64_t left, std::uint64_t right) {
    unsigned __int128 product = static_cast<unsigned __int128>(left) * right;
    std::uint64_t folded = static_cast<std::uint64_t>(product & kModulus) + static_cast<std::uint64_t>(product >> 61);
    return folded >= kModulus ? folded - kModulus : folded;
  }
  static std::uint64_t add(std::uint64_t left, std::uint64_t right) {
    std::uint64_t sum = left + right;
    return sum >= kModulus ? sum - kModulus : sum;
  }
  static std::uint64_t polynomial_hash(std::string_view text) {
    std::uint64_t hash = 0;
    for (unsigned char character : text) hash = add(multiply(hash, kBase), character + 1);
    return hash;
  }
  static std::uint64_t power_of_base(std::size_t exponent) {
    std::uint64_t result = 1, base = kBase;
    for (; exponent; exponent >>= 1, base = multiply(base, base)) {
      if (exponent & 1) result = multiply(result, base);
    }
    return result;
  }
  static std::uint64_t canonical_key(std::uint64_t length, std::uint64_t hash) {
    return (hash ^ (length * 0x9E3779B97F4A7C15ULL)) & ~(std::uint64_t{1} << 63);  // never FlatMap64::kEmpty
  }

  // The state after appending op `index`'s text to `state`. The canonical node for
  // the resulting (length, hash) is normally the child of `state` made by this
  // very text, which needs no further check; only a node reached by another path
  // (e.g. "ab"+"c" against "a"+"bc") is compared character by character.
  const Text& hashed_argument(std::uint32_t index) {
    Text& argument = argument_texts_[index];
    if (!argument.hashed) {
      argument.hash = polynomial_hash(argument.text);
      argument.power = power_of_base(argument.text.size());
      argument.hashed = true;
    }
    return argument;
  }

  std::uint32_t append(std::uint32_t state, std::uint32_t index) {
    const Text& argument = hashed_argument(index);
    if (argument.text.empty()) return state;
    const Node& parent = nodes_[state];
    Node node{state, argument.text, parent.length + argument.text.size(),
              add(multiply(parent.hash, argument.power), argument.hash)};
    std::uint64_t key = canonical_key(node.length, node.hash);
    const std::uint32_t* same = canonical_.find(key);
    if (same) {
      const Node& candidate = nodes_[*same];
      if (candidate.parent == state && candidate.appended == argument.text) return *same;
      std::uint64_t memo_key = (static_cast<std::uint64_t>(state) << 32) | index;
      if (const std::uint32_t* found = transitions_.find(memo_key)) return *found;
      std::uint32_t result = *same;
      if (materialise(*same) != materialise(state) + std::string(argument.text)) {
        result = static_cast<std::uint32_t>(nodes_.size());  // a true hash collision: an unshared node
        nodes_.push_back(node);
      }
      transitions_.insert(memo_key, result);
      return result;
    }
    auto result = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(node);
    canonical_.insert(key, result);
    return result;
  }

  bool reads(std::uint32_t state, std::uint32_t index) {
    const Text& argument = argument_texts_[index];
    if (!argument.valid) return false;
    const Node& node = nodes_[state];
    // No hash here: comparing the text from its end (memoised per state and
    // read) is cheaper than hashing every read of the right length.
    if (node.length != argument.text.size()) return false;
    std::uint64_t memo_key = (static_cast<std::uint64_t>(state) << 32) | index;
    if (const std::uint32_t* found = read_results_.find(memo_key)) return *found != 0;
    bool equal = ends_with_state(argument.text, state);
    read_results_.insert(memo_key, equal ? 1 : 0);
    return equal;
  }

  // True when `text` equals the string of `state` (lengths already equal).
  bool ends_with_state(std::string_view text, std::uint32_t state) const {
    std::size_t end = text.size();
    for (std::uint32_t current = state; current != 0 || nodes_[current].length != 0; current = nodes_[current].parent) {
      const Node& node = nodes_[current];
      if (node.appended.size() > end ||
          text.substr(end - node.appended.size(), node.appended.size()) != node.appended) {
        return false;
      }
      end -= node.appended.size();
      if (current == 0) break;
    }
    return end == 0;
  }

  std::string materialise(std::uint32_t state) const {
    std::string text(nodes_[state].length, '\0');
    std::size_t end = text.size();
    for (std::uint32_t current = state; current != 0; current = nodes_[current].parent) {
      const Node& node = nodes_[current];
      end -= node.appended.size();
      text.replace(end, node.appended.size(), node.appended);
    }
    return text;
  }

  ModelOptions options_;
  std::span<const ModelOperation> operations_;
  std::vector<Text> argument_texts_;
  std::vector<Node> nodes_;
  detail::FlatMap64 canonical_;     // (length, hash) -> first node with that string
  detail::FlatMap64 transitions_;   // (state, op) -> state, for appends reaching a string by another path
  detail::FlatMap64 read_results_;  // (state, op) -> 0/1
};

class MutexModel final : public Model {
 public:
  explicit MutexModel(std::span<const ModelOperation> operations) : operations_(operations) {}
  std::uint32_t initial_state() override { return 0; }
  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    switch (operations_[index].kind) {
      case Kind::acquire:
        return state == 0 ? 1 : kImpossible;
      case Kind::release:
        return state == 1 ? 0 : kImpossible;
      default:
        return kImpossible;
    }
  }
  std::string describe_state(std::uint32_t state) const override { return state == 0 ? "free" : "held"; }

 private:
  std::span<const ModelOperation> operations_;
};

std::unique_ptr<Model> make_single_key_model(const ModelOptions& options, const OperationDecoder& decoder,
                                             std::span<const ModelOperation> operations) {
  switch (options.kind) {
    case ModelKind::cas_register:
      return std::make_unique<RegisterModel>(options, decoder, operations);
    case ModelKind::kv:
      return std::make_unique<KvModel>(options, decoder, operations);
    case ModelKind::mutex:
      return std::make_unique<MutexModel>(operations);
  }
  return nullptr;
}

// Several keys in one state: a tuple of per-key states, interned by a hash that
// is updated per slot (no tuple is hashed whole) and verified slot by slot. Used
// when the history is not partitioned by key, so one search covers every key.
class MultiKeyModel final : public Model {
 public:
  MultiKeyModel(const ModelOptions& options, const OperationDecoder& decoder,
                std::span<const ModelOperation> operations, std::uint32_t key_count)
      : operations_(operations), key_count_(key_count) {
    for (std::uint32_t key = 0; key < key_count; ++key) {
      per_key_.push_back(make_single_key_model(options, decoder, operations));
    }
  }

  std::uint32_t initial_state() override {
    if (!tuples_.empty()) return 0;
    std::uint64_t hash = 0;
    for (std::uint32_t slot = 0; slot < key_count_; ++slot) {
      std::uint32_t initial = per_key_[slot]->initial_state();
      tuples_.push_back(initial);
      hash += slot_term(slot, initial);
    }
    hashes_.push_back(hash);
    canonical_.insert(hash & kHashMask, 0);
    return 0;
  }

  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    std::uint32_t slot = operations_[index].key_slot;
    std::uint32_t current = tuples_[std::size_t{state} * key_count_ + slot];
    std::uint32_t next = per_key_[slot]->step(current, index);
    if (next == kImpossible) return kImpossible;
    if (next == current) return state;
    std::uint64_t hash = hashes_[state] - slot_term(slot, current) + slot_term(slot, next);
    // Probe successive keys from the hash until the same tuple or a free key.
    for (std::uint64_t probe = hash & kHashMask;; probe = (probe + 1) & kHashMask) {
      const std::uint32_t* candidate = canonical_.find(probe);
      if (!candidate) {
        auto result = static_cast<std::uint32_t>(hashes_.size());
        tuples_.insert(tuples_.end(), tuples_.begin() + std::size_t{state} * key_count_,
                       tuples_.begin() + std::size_t{state + 1} * key_count_);
        tuples_[std::size_t{result} * key_count_ + slot] = next;
        hashes_.push_back(hash);
        canonical_.insert(probe, result);
        return result;
      }
      if (same_tuple_except(*candidate, state, slot, next)) return *candidate;
    }
  }

  std::string describe_state(std::uint32_t state) const override {
    std::string text = "{";
    for (std::uint32_t slot = 0; slot < key_count_; ++slot) {
      if (slot) text += ", ";
      text +=
          fmt::format("#{}: {}", slot, per_key_[slot]->describe_state(tuples_[std::size_t{state} * key_count_ + slot]));
    }
    return text + "}";
  }

 private:
  static constexpr std::uint64_t kHashMask = ~(std::uint64_t{1} << 63);  // never FlatMap64::kEmpty

  static std::uint64_t slot_term(std::uint32_t slot, std::uint32_t value) {
    std::uint64_t mixed = (static_cast<std::uint64_t>(slot) << 32 | value) * 0x9E3779B97F4A7C15ULL;
    mixed ^= mixed >> 29;
    return mixed * 0xBF58476D1CE4E5B9ULL;
  }

  // Is tuple `candidate` equal to tuple `state` with `slot` set to `value`?
  bool same_tuple_except(std::uint32_t candidate, std::uint32_t state, std::uint32_t slot, std::uint32_t value) const {
    const std::uint32_t* left = &tuples_[std::size_t{candidate} * key_count_];
    const std::uint32_t* right = &tuples_[std::size_t{state} * key_count_];
    for (std::uint32_t index = 0; index < key_count_; ++index) {
      if (left[index] != (index == slot ? value : right[index])) return false;
    }
    return true;
  }

  std::span<const ModelOperation> operations_;
  std::uint32_t key_count_;
  std::vector<std::unique_ptr<Model>> per_key_;
  std::vector<std::uint32_t> tuples_;  // key_count_ entries per state
  std::vector<std::uint64_t> hashes_;
  detail::FlatMap64 canonical_;  // hash (then successive probes) -> state
};

}  // namespace

std::unique_ptr<Model> make_model(const ModelOptions& options, const OperationDecoder& decoder,
                                  std::span<const ModelOperation> operations, std::uint32_t key_count) {
  if (key_count > 1) return std::make_unique<MultiKeyModel>(options, decoder, operations, key_count);
  return make_single_key_model(options, decoder, operations);
}

}  // namespace chaosbench::checkers
