#include "quorum_simulator.h"

#include <algorithm>
#include <stdexcept>

namespace chaosbench::quorum::testing {

using nlohmann::json;

QuorumSimulator::QuorumSimulator(int nodes, std::uint64_t seed, std::function<void(QuorumConfig&)> adjust)
    : seed_(seed),
      adjust_(std::move(adjust)),
      random_(seed),
      links_(static_cast<std::size_t>(nodes)),
      network_(random_, sim::NetworkFaults{.min_delay = 1, .max_delay = 3, .delay_unit = kMillisecond},
               sim::LinkOrder::reorder, static_cast<std::size_t>(nodes)) {
  clock_.set(1'000 * kSecond);
  nodes_.resize(static_cast<std::size_t>(nodes));
  for (int index = 0; index < nodes; ++index) {
    nodes_[index].wall = std::make_unique<OffsetClock>(clock_, 1'700'000'000 * kSecond);
    start(index);
  }
}

void QuorumSimulator::start(int index) {
  QuorumConfig config;
  config.id = id(index);
  for (int other = 0; other < size(); ++other) config.members.push_back(id(other));
  config.replicas = std::min(3, size());
  config.read_quorum = config.replicas / 2 + 1;
  config.write_quorum = config.replicas / 2 + 1;
  config.random_seed = seed_ * 1000 + static_cast<std::uint64_t>(index) + 1;
  if (adjust_) adjust_(config);
  // Recovers through the real storage code from what reached the disk.
  auto& node = nodes_[index];
  node.storage =
      std::make_unique<QuorumStorage>("/" + config.id, /*fsync_enabled=*/!config.bugs.wal_no_fsync, *node.disk);
  if (node.storage->truncated_tail_bytes() > 0) ++torn_tails_truncated_;
  RecoveredState recovered{node.storage->recovered()};
  node.storage->release_recovered();
  node.core = std::make_unique<QuorumNode>(config, clock_, *node.wall, recovered);
  network_.restart(static_cast<std::size_t>(index));
  drain(index);
}

void QuorumSimulator::partition(const std::vector<int>& side_a, const std::vector<int>& side_b) {
  links_.cut(std::vector<std::size_t>(side_a.begin(), side_a.end()),
             std::vector<std::size_t>(side_b.begin(), side_b.end()));
}

void QuorumSimulator::isolate(int index) { links_.isolate(static_cast<std::size_t>(index)); }

void QuorumSimulator::crash(int index) {
  auto& node = nodes_.at(index);
  node.core.reset();
  node.storage.reset();
  node.disk->crash();  // nothing is unsynced between steps: drain() syncs every Ready
  network_.crash(static_cast<std::size_t>(index), /*new_connections=*/true);
}

void QuorumSimulator::kill(int index) {
  auto& node = nodes_.at(index);
  node.core.reset();
  node.storage.reset();  // the disk keeps every byte written: the kernel has it
  network_.crash(static_cast<std::size_t>(index), /*new_connections=*/true);
}

std::optional<sim::SimulatedDisk::BitFlip> QuorumSimulator::flip_synced_bit(int index) {
  if (running(index)) throw std::logic_error("bit flip on a running node " + id(index));
  return nodes_.at(index).disk->flip_synced_bit(random_);
}

void QuorumSimulator::restart(int index) {
  if (running(index)) throw std::logic_error("restart of a running node " + id(index));
  start(index);
}

void QuorumSimulator::wipe(int index) {
  if (running(index)) throw std::logic_error("wipe of a running node " + id(index));
  nodes_.at(index).disk = std::make_unique<sim::SimulatedDisk>();
}

void QuorumSimulator::drain(int index) {
  auto& simulated = nodes_[index];
  Ready ready = simulated.core->take_ready();
  // Durable first, then messages and replies leave (the server's order).
  try {
    if (ready.rewrite) {
      simulated.storage->rewrite(*ready.rewrite);
    } else {
      simulated.storage->append(ready.records);
    }
    simulated.storage->sync();
  } catch (const sim::PowerLoss&) {
    ++torn_writes_;
    simulated.core.reset();
    simulated.storage.reset();
    simulated.disk->crash_tearing(random_);
    network_.crash(static_cast<std::size_t>(index), /*new_connections=*/true);
    return;
  }
  for (const auto& message : ready.messages) {
    std::string bytes = encode_message(message);
    bytes_[message.type] += bytes.size();
    messages_[message.type] += 1;
    const auto to = static_cast<std::size_t>(std::stoi(message.to.substr(1)) - 1);
    if (!links_.connected(static_cast<std::size_t>(index), to)) continue;
    network_.send(static_cast<std::size_t>(index), to, std::move(bytes), now(), /*faulty=*/false);
  }
  for (const auto& answer : ready.replies) {
    replies_[answer.request_id] = answer.body;
    if (on_reply) on_reply(index, answer.request_id, answer.body);
  }
}

std::uint64_t QuorumSimulator::submit(int index, json request) {
  if (!running(index)) throw std::logic_error("request to a crashed node " + id(index));
  const std::uint64_t request_id = next_request_++;
  request_node_[request_id] = index;
  nodes_[index].core->client_request(request_id, request);
  drain(index);
  return request_id;
}

std::optional<json> QuorumSimulator::reply(std::uint64_t request_id) const {
  auto found = replies_.find(request_id);
  if (found == replies_.end()) return std::nullopt;
  return found->second;
}

json QuorumSimulator::call(int index, json request, std::int64_t limit) {
  const std::uint64_t request_id = submit(index, request);
  const std::int64_t deadline = now() + limit;
  while (!reply(request_id)) {
    if (now() >= deadline) throw std::runtime_error("no reply in time to " + request.dump() + " at " + id(index));
    step();
  }
  return *reply(request_id);
}

void QuorumSimulator::step() {
  clock_.advance(kMillisecond);
  // Only what was due when the step began: a reply sent now waits for the next step.
  std::vector<sim::SimulatedNetwork<std::string>::Delivery> due;
  while (auto delivery = network_.next_due(now(), &links_))
    due.push_back(std::move(*delivery));  // cut in flight: dropped
  for (const auto& delivery : due) {
    const int to = static_cast<int>(delivery.to);
    if (!running(to)) continue;
    nodes_[to].core->receive(decode_message(delivery.message));
    drain(to);
  }
  for (int index = 0; index < size(); ++index) {
    if (!running(index)) continue;
    nodes_[index].core->tick();
    drain(index);
  }
}

void QuorumSimulator::run_for(std::int64_t nanoseconds) {
  const std::int64_t until = now() + nanoseconds;
  while (now() < until) step();
}

std::uint64_t QuorumSimulator::bytes_sent(MessageType type) const {
  auto found = bytes_.find(type);
  return found == bytes_.end() ? 0 : found->second;
}

std::uint64_t QuorumSimulator::messages_sent(MessageType type) const {
  auto found = messages_.find(type);
  return found == messages_.end() ? 0 : found->second;
}

void QuorumSimulator::reset_counters() {
  bytes_.clear();
  messages_.clear();
}

}  // namespace chaosbench::quorum::testing
