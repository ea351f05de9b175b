#include "chaosbench/checkers/model.h"

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"

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
    throw HistoryError(fmt::format("op {}: field 'f': model {} has no operation '{}'", pair.invocation,
                                   to_string(kind_), function));
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
          throw HistoryError(fmt::format("op {}: field 'value': cas needs [expected, new], got {}",
                                         pair.invocation, history_.values.to_text(invocation.value)));
        }
        cached = cas_arguments_.emplace(invocation.value.id,
                                        std::pair{element_id(pair_value[0]), element_id(pair_value[1])}).first;
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
  std::string outcome =
      op.completion == OperationPair::kNoCompletion
          ? "no completion"
          : std::string(to_string(history.operations[op.completion].type));
  std::string text = fmt::format("op {}: process {} {}", op.invocation, invocation.process,
                                 history.function_name(invocation));
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

  std::uint32_t initial_state() override {
    return options_.nil_read == NilRead::any ? options_.initial.id : kNull.id;
  }

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

// Key-value string register with append; state = id of the whole string in a
// table owned by the model. Initial value "" (a null read means "").
class KvModel final : public Model {
 public:
  KvModel(const ModelOptions& options, const OperationDecoder& decoder, std::span<const ModelOperation> operations)
      : options_(options), operations_(operations), argument_ids_(operations.size()) {
    intern("");
    const ValuePool& values = decoder.history().values;
    for (std::size_t index = 0; index < operations.size(); ++index) {
      Value argument = operations[index].argument;
      if (argument.is_null() || !values.is_string(argument)) {
        argument_ids_[index] = argument.is_null() ? 0 : kImpossible;  // a non-string read never matches
      } else {
        argument_ids_[index] = intern(values.as_string(argument));
      }
    }
  }

  std::uint32_t initial_state() override { return 0; }

  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    const ModelOperation& op = operations_[index];
    std::uint32_t argument = argument_ids_[index];
    switch (op.kind) {
      case Kind::read:
        if (argument == state) return state;
        if (op.argument.is_null() && options_.nil_read == NilRead::any) return state;
        return kImpossible;
      case Kind::write:
        return argument;
      case Kind::append: {
        std::uint64_t memo_key = (static_cast<std::uint64_t>(state) << 32) | argument;
        auto found = appended_.find(memo_key);
        if (found != appended_.end()) return found->second;
        std::uint32_t result = intern(strings_[state] + strings_[argument]);
        appended_.emplace(memo_key, result);
        return result;
      }
      default:
        return kImpossible;
    }
  }

  std::string describe_state(std::uint32_t state) const override { return nlohmann::json(strings_[state]).dump(); }

 private:
  std::uint32_t intern(const std::string& text) {
    auto [it, inserted] = ids_.try_emplace(text, static_cast<std::uint32_t>(strings_.size()));
    if (inserted) strings_.push_back(text);
    return it->second;
  }

  ModelOptions options_;
  std::span<const ModelOperation> operations_;
  std::vector<std::uint32_t> argument_ids_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::unordered_map<std::uint64_t, std::uint32_t> appended_;
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

// Several keys in one state: a tuple of per-key states, interned. Used when the
// history is not partitioned by key, so one search covers every key at once.
class MultiKeyModel final : public Model {
 public:
  MultiKeyModel(const ModelOptions& options, const OperationDecoder& decoder,
                std::span<const ModelOperation> operations, std::uint32_t key_count)
      : operations_(operations) {
    for (std::uint32_t key = 0; key < key_count; ++key) {
      per_key_.push_back(make_single_key_model(options, decoder, operations));
    }
  }

  std::uint32_t initial_state() override {
    std::u32string tuple;
    for (auto& model : per_key_) tuple.push_back(model->initial_state());
    return intern(std::move(tuple));
  }

  std::uint32_t step(std::uint32_t state, std::uint32_t index) override {
    std::uint32_t slot = operations_[index].key_slot;
    std::uint32_t next = per_key_[slot]->step(tuples_[state][slot], index);
    if (next == kImpossible) return kImpossible;
    if (next == tuples_[state][slot]) return state;
    std::u32string tuple = tuples_[state];
    tuple[slot] = next;
    return intern(std::move(tuple));
  }

  std::string describe_state(std::uint32_t state) const override {
    std::string text = "{";
    for (std::size_t slot = 0; slot < per_key_.size(); ++slot) {
      if (slot) text += ", ";
      text += fmt::format("#{}: {}", slot, per_key_[slot]->describe_state(tuples_[state][slot]));
    }
    return text + "}";
  }

 private:
  std::uint32_t intern(std::u32string tuple) {
    auto [it, inserted] = ids_.try_emplace(tuple, static_cast<std::uint32_t>(tuples_.size()));
    if (inserted) tuples_.push_back(std::move(tuple));
    return it->second;
  }

  std::span<const ModelOperation> operations_;
  std::vector<std::unique_ptr<Model>> per_key_;
  std::vector<std::u32string> tuples_;
  std::unordered_map<std::u32string, std::uint32_t> ids_;
};

}  // namespace

std::unique_ptr<Model> make_model(const ModelOptions& options, const OperationDecoder& decoder,
                                  std::span<const ModelOperation> operations, std::uint32_t key_count) {
  if (key_count > 1) return std::make_unique<MultiKeyModel>(options, decoder, operations, key_count);
  return make_single_key_model(options, decoder, operations);
}

}  // namespace chaosbench::checkers
