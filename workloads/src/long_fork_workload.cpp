#include "chaosbench/workloads/long_fork_workload.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace chaosbench::workloads {

using nlohmann::json;

LongForkWorkload::LongForkWorkload(std::uint64_t seed, double read_fraction, std::size_t group_size)
    : random_(seed),
      reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)),
      group_size_(group_size) {
  if (group_size_ == 0) throw std::invalid_argument("--group-size 0: a group has at least one key");
}

std::vector<std::uint64_t> LongForkWorkload::group_of(std::uint64_t key) const {
  const std::uint64_t first = key - key % group_size_;
  std::vector<std::uint64_t> keys;
  for (std::uint64_t member = first; member < first + group_size_; ++member) keys.push_back(member);
  return keys;
}

ClientOperation LongForkWorkload::read_txn(const std::vector<std::uint64_t>& keys) {
  json value = json::array();
  for (std::uint64_t key : keys) value.push_back(json::array({"r", fmt::format("x{}", key), nullptr}));
  return ClientOperation{"txn", "", std::move(value)};
}

ClientOperation LongForkWorkload::next() {
  if (!recent_.empty() && random_() % 1000 < reads_per_thousand_) {
    std::vector<std::uint64_t> keys = group_of(recent_[random_() % recent_.size()]);
    // Shuffled as Jepsen's, by Fisher-Yates with the workload's own draws (std::shuffle's are the library's).
    for (std::size_t index = keys.size(); index > 1; --index) std::swap(keys[index - 1], keys[random_() % index]);
    return read_txn(keys);
  }
  const std::uint64_t key = next_key_++;
  recent_.push_back(key);
  if (recent_.size() > kRecentKeys) recent_.pop_front();
  return ClientOperation{"txn", "", json::array({json::array({"w", fmt::format("x{}", key), 1})})};
}

std::vector<ClientOperation> LongForkWorkload::final_reads() const {
  std::vector<std::vector<std::uint64_t>> groups;
  for (std::uint64_t key : recent_) {
    std::vector<std::uint64_t> group = group_of(key);
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(std::move(group));
  }
  std::vector<ClientOperation> reads;
  for (const auto& group : groups) reads.push_back(read_txn(group));
  return reads;
}

json LongForkWorkload::request(const ClientOperation& operation) const {
  return {{"op", "txn"}, {"value", operation.value}};
}

json LongForkWorkload::completion_value(const ClientOperation& /*operation*/, const json& reply_value) const {
  return reply_value;  // the node echoes every micro-op with reads filled in
}

CheckerSettings LongForkWorkload::checker_settings() const {
  CheckerSettings settings = Workload::checker_settings();
  settings.long_fork_group_size = group_size_;
  return settings;
}

}  // namespace chaosbench::workloads
