#include "partitions.h"

#include <algorithm>
#include <map>
#include <thread>
#include <unordered_set>

namespace chaosbench::checkers {

void drop_unobserved_unknown_writes(std::vector<ModelOperation>& operations) {
  using Kind = ModelOperation::Kind;
  auto slot_value = [](const ModelOperation& op, Value value) {
    return (static_cast<std::uint64_t>(op.key_slot) << 32) | value.id;
  };
  while (true) {
    std::unordered_set<std::uint64_t> observed;
    for (const ModelOperation& op : operations) {
      if (op.kind == Kind::read) observed.insert(slot_value(op, op.argument));  // null too: a delete's value
      if (op.kind == Kind::cas) observed.insert(slot_value(op, op.argument));
    }
    std::size_t before = operations.size();
    std::erase_if(operations, [&](const ModelOperation& op) {
      if (!op.outcome_unknown) return false;
      if (op.kind == Kind::write) return !observed.contains(slot_value(op, op.argument));
      if (op.kind == Kind::cas) return !observed.contains(slot_value(op, op.second));
      return false;
    });
    if (operations.size() == before) return;
  }
}

std::vector<Partition> build_partitions(const History& history, const std::vector<OperationPair>& pairs,
                                        OperationDecoder& decoder, bool partition_by_key, ModelKind kind,
                                        const std::function<bool(std::uint32_t)>& include, JudgeFloor* floor) {
  std::vector<Partition> partitions;
  std::map<std::uint32_t, std::size_t> partition_of_key;  // key id -> partition
  std::map<std::uint32_t, std::uint32_t> slot_of_key;     // unpartitioned: key id -> slot
  if (!partition_by_key) partitions.emplace_back();
  for (const OperationPair& pair : pairs) {
    if (pair.outcome == OpType::fail) continue;  // definitely did not happen
    std::uint32_t key = history.operations[pair.invocation].key;
    if (include && !include(key)) continue;
    ModelOperation op = decoder.decode(pair);
    if (op.outcome_unknown && is_read_only(op)) continue;  // constrains nothing
    if (floor && is_read_only(op)) {
      floor->ok_read(key, op.completion);
    } else if (floor && op.kind != ModelOperation::Kind::release) {
      floor->update(key, op.invocation, !op.outcome_unknown);
    }
    if (partition_by_key) {
      auto [it, inserted] = partition_of_key.try_emplace(key, partitions.size());
      if (inserted) {
        partitions.emplace_back();
        partitions.back().key = history.keys.name(key);
      }
      partitions[it->second].operations.push_back(op);
    } else {
      auto [it, inserted] = slot_of_key.try_emplace(key, static_cast<std::uint32_t>(slot_of_key.size()));
      op.key_slot = it->second;
      partitions[0].operations.push_back(op);
    }
  }
  if (!partition_by_key) partitions[0].key_count = std::max<std::uint32_t>(1, slot_of_key.size());
  if (kind == ModelKind::cas_register) {
    for (Partition& partition : partitions) drop_unobserved_unknown_writes(partition.operations);
  }
  return partitions;
}

void run_workers(unsigned threads, std::size_t partition_count, const std::function<void()>& worker) {
  unsigned thread_count = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  thread_count = static_cast<unsigned>(std::min<std::size_t>(thread_count, partition_count));
  if (thread_count <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned index = 0; index < thread_count; ++index) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
}

}  // namespace chaosbench::checkers
