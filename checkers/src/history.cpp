#include "chaosbench/checkers/history.h"

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"

namespace chaosbench::checkers {

std::string_view to_string(OpType type) {
  switch (type) {
    case OpType::invoke:
      return "invoke";
    case OpType::ok:
      return "ok";
    case OpType::fail:
      return "fail";
    case OpType::info:
      return "info";
  }
  return "?";
}

std::optional<OpType> parse_op_type(std::string_view text) {
  if (text == "invoke") return OpType::invoke;
  if (text == "ok") return OpType::ok;
  if (text == "fail") return OpType::fail;
  if (text == "info") return OpType::info;
  return std::nullopt;
}

std::uint32_t SymbolTable::intern(std::string_view name) {
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

std::optional<std::uint32_t> SymbolTable::find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<OperationPair> pair_operations(const History& history) {
  constexpr std::size_t kNotPending = static_cast<std::size_t>(-1);
  std::vector<OperationPair> pairs;
  pairs.reserve(history.operations.size() / 2 + 1);
  // process -> index in pairs of its pending op, or kNotPending. Entries are
  // never erased: a process's next op reuses its slot without allocating.
  std::unordered_map<std::int64_t, std::size_t> pending;
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    const Operation& op = history.operations[index];
    if (op.process == kNemesisProcess) continue;
    std::size_t& slot = pending.try_emplace(op.process, kNotPending).first->second;
    if (op.type == OpType::invoke) {
      if (slot != kNotPending) {
        throw HistoryError(fmt::format("op {}: field 'type': process {} invokes again while its op {} is still pending",
                                       index, op.process, pairs[slot].invocation));
      }
      slot = pairs.size();
      pairs.push_back(OperationPair{static_cast<std::uint32_t>(index)});
      continue;
    }
    if (slot == kNotPending) {
      throw HistoryError(fmt::format("op {}: field 'type': process {} completes ({}) without an invocation", index,
                                     op.process, to_string(op.type)));
    }
    OperationPair& pair = pairs[slot];
    pair.completion = static_cast<std::uint32_t>(index);
    pair.outcome = op.type;
    slot = kNotPending;
  }
  return pairs;
}

}  // namespace chaosbench::checkers
