// Sequential specifications the linearizability and sequential checkers search
// against: cas-register, kv (get/put/append on strings) and mutex. A Model is
// built for one partition of a history; states are dense 32-bit ids it interns,
// and step(state, op) gives the next state or kImpossible. Not thread-safe: one
// Model per partition, per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

enum class ModelKind { cas_register, kv, mutex };
std::optional<ModelKind> parse_model_kind(std::string_view text);  // "cas-register", "register", "kv", "mutex"
std::string_view to_string(ModelKind kind);

// How an ok read whose value is null is interpreted.
//  absent: null means "the key does not exist" (etcd, Porcupine); initial state is absent.
//  any:    null matches every state (Knossos); initial state is ModelOptions::initial.
enum class NilRead { absent, any };
std::optional<NilRead> parse_nil_read(std::string_view text);
std::string_view to_string(NilRead mode);

struct ModelOptions {
  ModelKind kind = ModelKind::cas_register;
  NilRead nil_read = NilRead::absent;
  Value initial;  // initial register value (kv: ignored, initial is "" unless absent); null = absent
};

// One client operation as the model sees it: decoded once from the history.
struct ModelOperation {
  enum class Kind : std::uint8_t { read, write, cas, append, acquire, release };
  Kind kind = Kind::read;
  bool outcome_unknown = false;  // info: may take effect at any later point, or never
  std::uint32_t key_slot = 0;    // position of the op's key among the partition's keys
  Value argument;                // read: value read; write/append: value written; cas: expected
  Value second;                  // cas: new value
  std::uint32_t invocation = 0;  // history index of the invocation
  std::uint32_t completion = OperationPair::kNoCompletion;
};

// Decodes history operations into ModelOperations for one model kind. Values
// that only occur inside another value (the elements of a cas [old, new]) get
// ids above the history's ValuePool, so every value the model compares is one id.
// Single-threaded; once decoding is done, value_text() is safe from any thread.
class OperationDecoder {
 public:
  OperationDecoder(const History& history, ModelKind kind);
  // Throws HistoryError naming the op index and field when the function is not
  // one of the model's or the value has the wrong shape.
  ModelOperation decode(const OperationPair& pair);
  std::string value_text(Value value) const;
  const History& history() const { return history_; }
  ModelKind kind() const { return kind_; }

 private:
  Value element_id(const nlohmann::json& element);
  const History& history_;
  ModelKind kind_;
  std::unordered_map<std::uint32_t, std::pair<Value, Value>> cas_arguments_;
  std::unordered_map<std::string, std::uint32_t> extra_ids_;
  std::vector<std::string> extra_texts_;
};

// True when the operation cannot change the state (a read): such ops with an
// unknown outcome constrain nothing and are dropped before searching.
inline bool is_read_only(const ModelOperation& op) { return op.kind == ModelOperation::Kind::read; }

class Model {
 public:
  static constexpr std::uint32_t kImpossible = 0xffffffffu;
  virtual ~Model() = default;
  virtual std::uint32_t initial_state() = 0;
  // Next state after `op` (an index into the operations the model was built with).
  virtual std::uint32_t step(std::uint32_t state, std::uint32_t op) = 0;
  virtual std::string describe_state(std::uint32_t state) const = 0;
  // The state as plain text, for models whose state is a string (kv); nullopt
  // for the others. Cheaper than parsing describe_state().
  virtual std::optional<std::string> state_text(std::uint32_t) const { return std::nullopt; }
  // Whether the state's text is a prefix of `text` (kv), without building the
  // state's text; nullopt for models whose state is not a string.
  virtual std::optional<bool> state_is_prefix_of(std::uint32_t, std::string_view) const { return std::nullopt; }
};

// Builds a model for one partition. `key_count` > 1 composes per-key models into a
// map state (used when partitioning by key is turned off).
std::unique_ptr<Model> make_model(const ModelOptions& options, const OperationDecoder& decoder,
                                  std::span<const ModelOperation> operations, std::uint32_t key_count);

// Human-readable op, e.g. "process 3 cas [1,2] -> ok" (for evidence).
std::string describe_operation(const OperationDecoder& decoder, const ModelOperation& op);

}  // namespace chaosbench::checkers
