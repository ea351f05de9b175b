// The in-memory history: operations in file order (index = position), each an
// invoke or a completion (ok / fail / info), with interned function names, keys,
// nodes and values. 32 bytes per operation plus the distinct values.
// Built once by a reader or a recorder, then read-only (safe to share across threads).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chaosbench/checkers/value.h"

namespace chaosbench::checkers {

enum class OpType : std::uint8_t { invoke, ok, fail, info };

std::string_view to_string(OpType type);
std::optional<OpType> parse_op_type(std::string_view text);

// Process numbers are non-negative integers; the nemesis is kNemesisProcess.
inline constexpr std::int64_t kNemesisProcess = -1;

// Interns small strings (function names, keys, node names) to dense ids.
// Id 0 is reserved for "absent".
class SymbolTable {
 public:
  SymbolTable() { names_.emplace_back(); }
  std::uint32_t intern(std::string_view name);
  std::optional<std::uint32_t> find(std::string_view name) const;
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t> ids_;
};

struct Operation {
  std::int64_t time = 0;     // ns since run start (monotonic); 0 if unknown
  std::int64_t process = 0;  // kNemesisProcess for the nemesis
  Value value;
  std::uint32_t function = 0;  // SymbolTable id in History::functions
  std::uint32_t key = 0;       // SymbolTable id in History::keys, 0 = no key
  std::uint16_t node = 0;      // SymbolTable id in History::nodes, 0 = none
  OpType type = OpType::invoke;
};

class History {
 public:
  std::vector<Operation> operations;
  ValuePool values;
  SymbolTable functions;
  SymbolTable keys;
  SymbolTable nodes;
  // Why a fail or info completion ended as it did ("unavailable", "timeout", ...), as
  // the client recorded it (the optional "error" field); kept apart from Operation
  // because few operations have one. Informational: no checker reads it.
  SymbolTable errors;
  std::unordered_map<std::uint32_t, std::uint32_t> error_of_operation;  // operation index -> errors id

  // The index each operation had in its file (Jepsen's :index), when some
  // differs from its position; empty otherwise (index = position).
  std::vector<std::int64_t> file_index;
  std::size_t size() const { return operations.size(); }
  // The recorded error of operation `index`, or nullptr.
  const std::string* error(std::size_t index) const {
    auto found = error_of_operation.find(static_cast<std::uint32_t>(index));
    return found == error_of_operation.end() ? nullptr : &errors.name(found->second);
  }
  void set_error(std::size_t index, std::string_view text) {
    error_of_operation[static_cast<std::uint32_t>(index)] = errors.intern(text);
  }
  const std::string& function_name(const Operation& op) const { return functions.name(op.function); }
  const std::string& key_name(const Operation& op) const { return keys.name(op.key); }
  bool has_key(const Operation& op) const { return op.key != 0; }
};

// An invocation with its completion. `completion` is kNoCompletion when the
// history ended first (the op counts as info: still running when the run ended).
struct OperationPair {
  static constexpr std::uint32_t kNoCompletion = 0xffffffffu;
  std::uint32_t invocation = 0;
  std::uint32_t completion = kNoCompletion;
  // Outcome: type of the completion, or info when there is none.
  OpType outcome = OpType::info;
};

// Pairs every client invocation with the next completion of the same process.
// Throws HistoryError (naming the op index) on a completion without an
// invocation or on a second invocation while one is pending for that process.
// Nemesis operations are skipped.
std::vector<OperationPair> pair_operations(const History& history);

}  // namespace chaosbench::checkers
