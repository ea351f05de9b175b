#include "zab_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace chaosbench::zab::simulation {
namespace {

struct SimulationFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

ZabSimulator::ZabSimulator(SimulationOptions options) : options_(std::move(options)), random_(options_.seed) {
  for (int position = 0; position < options_.node_count; ++position) {
    SimulatedNode node;
    node.id = fmt::format("n{}", position + 1);
    nodes_.push_back(std::move(node));
  }
  for (auto& node : nodes_) start_node(node);
}

void ZabSimulator::start_node(SimulatedNode& node) {
  ZabConfig config;
  config.id = node.id;
  for (const auto& member : nodes_) config.members.push_back(member.id);
  config.random_seed = random_();
  config.bugs = options_.bugs;
  ++node.incarnation;
  node.core = std::make_unique<ZabNode>(config, node.disk);
  node.machine.restore(node.disk.snapshot.data);
  node.applied = node.disk.snapshot.zxid;
  process_ready(node);
}

void ZabSimulator::crash(SimulatedNode& node) {
  node.core.reset();  // everything not yet on its disk is lost
  node.unsynced.clear();
  node.held.clear();
  node.paused_until_tick = 0;
}

ZabSimulator::SimulatedNode& ZabSimulator::node_by_id(const NodeId& id) {
  for (auto& node : nodes_) {
    if (node.id == id) return node;
  }
  throw std::logic_error("unknown node " + id);
}

bool ZabSimulator::connected(const NodeId& from, const NodeId& to) const {
  int from_group = -1;
  int to_group = -2;
  for (const auto& node : nodes_) {
    if (node.id == from) from_group = node.group;
    if (node.id == to) to_group = node.group;
  }
  return from_group == to_group;
}

void ZabSimulator::fail(const std::string& message) {
  std::string states;
  for (const auto& node : nodes_) {
    if (!node.core) {
      states += fmt::format("; {} down", node.id);
      continue;
    }
    const ZabNode& core = *node.core;
    states += fmt::format("; {} {} phase {} leader {} epochs {}/{} session {} last {} commit {} applied {}", node.id,
                          role_name(core.role()), static_cast<int>(core.phase()), core.leader_id(),
                          core.accepted_epoch(), core.current_epoch(), core.session_epoch(),
                          to_string(core.last_zxid()), to_string(core.commit_zxid()), to_string(node.applied));
  }
  throw SimulationFailure(fmt::format("seed {} step {}: {} [nodes{}]", options_.seed, step_, message, states));
}

void ZabSimulator::enqueue(const Message& message) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (chaos_phase_ && unit(random_) < options_.drop_probability) return;
  const std::int64_t delay =
      options_.max_delay_ticks > 0 ? static_cast<std::int64_t>(random_() % (options_.max_delay_ticks + 1)) : 0;
  std::int64_t& link_last = link_last_delivery_[{message.from, message.to}];
  link_last = std::max(link_last, now_ticks_ + delay);
  network_.push(InFlight{link_last, sequence_++, node_by_id(message.to).incarnation, message});
  if (chaos_phase_ && unit(random_) < options_.duplicate_probability) {
    // Same delivery time, next sequence: right behind the original, before
    // anything sent later on this link (FIFO holds, the message comes twice).
    network_.push(InFlight{link_last, sequence_++, node_by_id(message.to).incarnation, message});
  }
}

void ZabSimulator::process_ready(SimulatedNode& node) {
  // Like refnode: a Ready's messages, applies and sync answers wait until its
  // disk write completes (FIFO per node).
  while (node.core) {
    Ready ready = node.core->take_ready();
    if (ready.empty()) break;
    node.unsynced.push_back(std::move(ready));
    if (chaos_phase_) return;
    complete_disk_writes(node);
  }
}

void ZabSimulator::deliver(SimulatedNode& node, const Txn& txn) {
  // Primary order (per node): strictly increasing zxids.
  if (txn.zxid <= node.applied) {
    fail(fmt::format("primary order: {} delivers {} after {}", node.id, to_string(txn.zxid), to_string(node.applied)));
  }
  // Integrity: only txns some client submitted.
  if (submitted_commands_.count(txn.command) == 0) {
    fail(fmt::format("integrity: {} delivers {} never submitted: {}", node.id, to_string(txn.zxid), txn.command));
  }
  // Total order and agreement: every node delivers a prefix of one sequence.
  auto next = delivered_.upper_bound(node.applied);
  if (next != delivered_.end()) {
    if (next->first != txn.zxid || next->second != txn.command) {
      fail(fmt::format("agreement: {} delivers {} ({}) after {}, but {} ({}) was delivered there elsewhere", node.id,
                       to_string(txn.zxid), txn.command, to_string(node.applied), to_string(next->first),
                       next->second));
    }
  } else {
    // Integrity: a client's update is delivered once, even if a message
    // carrying it (a forward) was duplicated.
    if (!delivered_commands_.insert(txn.command).second) {
      fail(fmt::format("integrity: {} delivers {} ({}), a command already delivered at another zxid", node.id,
                       to_string(txn.zxid), txn.command));
    }
    delivered_.emplace(txn.zxid, txn.command);
    ++result_.delivered_txns;
  }
  node.machine.apply(nlohmann::json::parse(txn.command));
  node.applied = txn.zxid;
  if (txn.origin == node.id && txn.context != 0) {
    acknowledged_ = std::max(acknowledged_, txn.zxid);  // the origin answers its client now
    if (node.core->role() == Role::following) ++result_.forwarded_updates_applied;
  }
}

void ZabSimulator::complete_disk_writes(SimulatedNode& node) {
  while (node.core && !node.unsynced.empty()) {
    Ready ready = std::move(node.unsynced.front());
    node.unsynced.pop_front();
    if (ready.snapshot) {
      persist_snapshot(node.disk, *ready.snapshot);
      if (ready.restore_state_machine) {
        // A SNAP sync: the snapshot must be a point of the delivered sequence.
        if (ready.snapshot->zxid != Zxid{} && delivered_.count(ready.snapshot->zxid) == 0) {
          fail(fmt::format("agreement: {} installs a snapshot at undelivered {}", node.id,
                           to_string(ready.snapshot->zxid)));
        }
        node.machine.restore(ready.snapshot->data);
        node.applied = ready.snapshot->zxid;
        ++result_.snapshot_syncs;
      }
    }
    if (ready.truncate_after) persist_txns(node.disk, *ready.truncate_after, ready.txns);
    if (ready.epochs) node.disk.epochs = *ready.epochs;
    if (!ready.txns.empty()) node.core->acknowledge_persisted(ready.txns.back().zxid);
    for (const auto& message : ready.messages) enqueue(message);
    for (const auto& txn : ready.committed) deliver(node, txn);
    result_.syncs_released += ready.released_syncs.size();
    for (auto context : ready.released_syncs) {
      auto required = sync_required_.find(context);
      if (required == sync_required_.end()) fail(fmt::format("{} releases unknown sync {}", node.id, context));
      if (options_.check_sync_freshness && node.applied < required->second) {
        fail(fmt::format("stale sync on {}: applied {} but {} was acknowledged before the sync began", node.id,
                         to_string(node.applied), to_string(required->second)));
      }
      sync_required_.erase(required);
    }
    for (auto context : ready.failed_syncs) sync_required_.erase(context);
  }
  if (!node.core) return;
  std::uint64_t applied_since_snapshot = 0;
  for (const auto& txn : node.core->log()) applied_since_snapshot += txn.zxid <= node.applied ? 1 : 0;
  if (applied_since_snapshot >= options_.compact_every) node.core->compact(node.applied, node.machine.snapshot());
  process_ready(node);
}

void ZabSimulator::inject_faults() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (unit(random_) < options_.crash_probability) crash(nodes_[random_() % nodes_.size()]);
  if (unit(random_) < options_.leader_fault_probability) {
    for (auto& node : nodes_) {
      if (!node.core || node.core->role() != Role::leading) continue;
      const auto fault = random_() % 3;
      if (fault == 0) {
        crash(node);
      } else if (fault == 1) {
        node.paused_until_tick = now_ticks_ + 1 + static_cast<std::int64_t>(random_() % options_.max_pause_ticks);
      } else {
        for (auto& other : nodes_) other.group = 0;
        node.group = 1;  // isolate the leader
      }
      break;
    }
  }
  for (auto& node : nodes_) {
    if (!node.core && unit(random_) < options_.restart_probability) start_node(node);
  }
  if (unit(random_) < options_.partition_probability) {
    for (auto& node : nodes_) node.group = static_cast<int>(random_() % 2);
  }
  if (unit(random_) < options_.heal_probability) {
    for (auto& node : nodes_) node.group = 0;
  }
}

void ZabSimulator::client_activity() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<SimulatedNode*> serving;
  for (auto& node : nodes_) {
    if (node.core && node.core->serving() && node.paused_until_tick <= now_ticks_) serving.push_back(&node);
  }
  if (serving.empty()) return;
  SimulatedNode& node = *serving[random_() % serving.size()];
  if (unit(random_) < options_.submit_probability) {
    nlohmann::json command{{"op", "append"}, {"key", fmt::format("k{}", random_() % 4)}, {"value", next_value_++}};
    submitted_commands_.insert(command.dump());
    node.core->submit(command.dump(), next_context_++);
  }
  if (unit(random_) < options_.sync_probability) {
    const std::uint64_t context = next_context_++;
    if (node.core->request_sync(context)) sync_required_[context] = acknowledged_;
  }
  process_ready(node);
}

void ZabSimulator::deliver_due_messages(bool faulty) {
  while (!network_.empty() && network_.top().deliver_at <= now_ticks_) {
    InFlight in_flight = network_.top();
    network_.pop();
    const Message& message = in_flight.message;
    if (faulty && !connected(message.from, message.to)) continue;
    SimulatedNode& recipient = node_by_id(message.to);
    if (!recipient.core || recipient.incarnation != in_flight.recipient_incarnation) continue;
    if (recipient.paused_until_tick > now_ticks_) {
      recipient.held.push_back(message);
      continue;
    }
    if (std::getenv("ZAB_TRACE") != nullptr) {
      std::string txns;
      for (const auto& txn : message.txns) txns += to_string(txn.zxid);
      std::fprintf(stderr, "t%lld %s->%s %s e%llu z%s prev%s trunc%s mode%d commit%s txns%s\n",
                   static_cast<long long>(now_ticks_), message.from.c_str(), message.to.c_str(),
                   message_type_name(message.type), static_cast<unsigned long long>(message.epoch),
                   to_string(message.zxid).c_str(), to_string(message.previous_zxid).c_str(),
                   to_string(message.truncate_to).c_str(), static_cast<int>(message.mode),
                   to_string(message.commit).c_str(), txns.c_str());
    }
    recipient.core->step(message);
    process_ready(recipient);
  }
}

void ZabSimulator::check_invariants() {
  for (const auto& node : nodes_) {
    if (!node.core) continue;
    const ZabNode& core = *node.core;
    if (core.current_epoch() > core.accepted_epoch()) {
      fail(fmt::format("{} current epoch {} above accepted epoch {}", node.id, core.current_epoch(),
                       core.accepted_epoch()));
    }
    if (core.commit_zxid() > core.last_zxid()) {
      fail(fmt::format("agreement: {} committed {} but its log now ends at {} (a committed txn was truncated)", node.id,
                       to_string(core.commit_zxid()), to_string(core.last_zxid())));
    }
    if (core.role() != Role::leading || !core.serving()) continue;
    // One primary per epoch.
    auto [primary, inserted] = primary_of_epoch_.emplace(core.session_epoch(), node.id);
    if (inserted) ++result_.epochs_established;
    if (primary->second != node.id) {
      fail(fmt::format("primary order: {} and {} both established epoch {}", primary->second, node.id,
                       core.session_epoch()));
    }
    // Primary integrity: a serving primary holds every txn of earlier epochs
    // delivered anywhere (so it delivers them before its own).
    for (auto it = delivered_.upper_bound(core.snapshot_zxid()); it != delivered_.end(); ++it) {
      if (it->first.epoch >= core.session_epoch()) break;
      auto found = std::lower_bound(core.log().begin(), core.log().end(), it->first,
                                    [](const Txn& txn, const Zxid& value) { return txn.zxid < value; });
      if (found == core.log().end() || found->zxid != it->first || found->command != it->second) {
        fail(fmt::format("primary integrity: primary {} of epoch {} lacks delivered {} ({})", node.id,
                         core.session_epoch(), to_string(it->first), it->second));
      }
    }
  }
}

SimulationResult ZabSimulator::run() {
  try {
    for (step_ = 0; step_ < options_.chaos_steps; ++step_) {
      ++now_ticks_;
      for (auto& node : nodes_) {
        if (node.paused_until_tick != 0 && node.paused_until_tick <= now_ticks_) {
          node.paused_until_tick = 0;
          std::vector<Message> held = std::move(node.held);
          node.held.clear();
          for (const auto& message : held) {
            if (!node.core) break;
            node.core->step(message);
            process_ready(node);
          }
        }
      }
      inject_faults();
      client_activity();
      for (auto& node : nodes_) {
        if (!node.core || node.paused_until_tick > now_ticks_) continue;
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(true);
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      for (auto& node : nodes_) {
        if (node.paused_until_tick <= now_ticks_ && unit(random_) < options_.disk_completion_probability) {
          complete_disk_writes(node);
        }
      }
      check_invariants();
    }
    // Heal everything, then demand that a new update is delivered on every node.
    chaos_phase_ = false;
    for (auto& node : nodes_) {
      node.group = 0;
      node.paused_until_tick = 0;
      if (!node.core) start_node(node);
      for (const auto& message : node.held) node.core->step(message);
      node.held.clear();
      complete_disk_writes(node);
    }
    std::string marker;
    std::uint64_t marker_epoch = 0;
    for (int heal_step = 0; heal_step < options_.heal_steps; ++heal_step, ++step_) {
      ++now_ticks_;
      for (auto& node : nodes_) {
        if (marker.empty() && node.core->role() == Role::leading && node.core->serving()) {
          marker = nlohmann::json{{"op", "write"}, {"key", "heal"}, {"value", step_}}.dump();
          submitted_commands_.insert(marker);
          node.core->submit(marker, next_context_++);
          marker_epoch = node.core->session_epoch();
          process_ready(node);
        }
      }
      for (auto& node : nodes_) {
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(false);
      check_invariants();
      if (!marker.empty()) {
        bool everywhere = true;
        for (const auto& node : nodes_) {
          bool has = false;
          for (auto it = delivered_.begin(); it != delivered_.end(); ++it) {
            if (it->second == marker && node.applied >= it->first) has = true;
          }
          everywhere = everywhere && has;
        }
        if (everywhere) return result_;
        // The leader that took the marker may have lost its session: try again.
        bool leader_serving = false;
        for (const auto& node : nodes_) {
          leader_serving = leader_serving || (node.core->role() == Role::leading && node.core->serving() &&
                                              node.core->session_epoch() == marker_epoch);
        }
        if (!leader_serving) marker.clear();
      }
    }
    fail(fmt::format("liveness: no update delivered on every node within {} ticks after healing", options_.heal_steps));
  } catch (const SimulationFailure& failure) {
    result_.ok = false;
    result_.failure = failure.what();
  }
  return result_;
}

}  // namespace chaosbench::zab::simulation
