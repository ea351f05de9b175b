#include "zab_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace chaosbench::zab::simulation {
ZabSimulator::ZabSimulator(SimulationOptions options)
    : options_(std::move(options)),
      random_(options_.seed),
      links_(static_cast<std::size_t>(options_.node_count)),
      network_(random_, options_.network, sim::LinkOrder::fifo, static_cast<std::size_t>(options_.node_count)) {
  for (const auto& id : sim::node_ids(options_.node_count)) nodes_.emplace_back().id = id;
  for (auto& node : nodes_) start_node(node);
}

void ZabSimulator::start_node(SimulatedNode& node) {
  ZabConfig config;
  config.id = node.id;
  for (const auto& member : nodes_) config.members.push_back(member.id);
  config.random_seed = random_();
  config.bugs = options_.bugs;
  // Recovers through the real storage code from what reached the disk; on a
  // flipped bit it must refuse (the node fail-stops), on anything else start.
  try {
    node.storage = std::make_unique<ZabStorage>("/" + node.id, /*fsync_enabled=*/true, storage_logger_, *node.disk);
  } catch (const targets::WalCorruption& error) {
    if (!node.corruption) fail(fmt::format("{} refused an uncorrupted disk: {}", node.id, error.what()));
    node.fail_stopped = true;
    ++result_.fail_stopped;
    return;
  }
  if (node.storage->truncated_tail_bytes() > 0) ++result_.torn_tails_truncated;
  if (node.corruption) {
    fail(fmt::format("{} started on a disk whose {} has bit {} of offset {} flipped: corruption went unnoticed",
                     node.id, node.corruption->path.string(), node.corruption->bit, node.corruption->offset));
  }
  const PersistentState& restored = node.storage->state();
  node.core = std::make_unique<ZabNode>(config, restored);
  network_.restart(index_of(node.id));
  node.machine.restore(restored.snapshot.data);
  node.applied = restored.snapshot.zxid;
  process_ready(node);
}

void ZabSimulator::crash(std::size_t index) {
  SimulatedNode& node = nodes_[index];
  if (!node.core) return;
  node.core.reset();  // everything not yet on its disk is lost
  const bool may_corrupt = corrupted_nodes_ < (options_.node_count - 1) / 2;
  const sim::DiskCrash crash =
      sim::crash_disk(*node.disk, random_, options_.storage, !node.unsynced.empty(), may_corrupt, [&] {
        // Group commit, as refnode's storage thread: every pending
        // Ready staged, then one sync, which the power loss interrupts.
        for (const Ready& ready : node.unsynced) node.storage->stage(ready);
        node.storage->sync();
      });
  if (crash.torn) ++result_.torn_writes;
  if (crash.flip) {
    node.corruption = crash.flip;
    ++corrupted_nodes_;
  }
  node.unsynced.clear();
  node.storage.reset();
  network_.crash(index, /*new_connections=*/true);
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
  throw sim::SimulationFailure(options_.seed, step_, fmt::format("{} [nodes{}]", message, states));
}

void ZabSimulator::enqueue(const Message& message) {
  network_.send(index_of(message.from), index_of(message.to), message, now_ticks_, chaos_phase_);
}

void ZabSimulator::process_ready(SimulatedNode& node) {
  // Like refnode: a Ready's messages (but what sendable_before_persist
  // allows), applies and sync answers wait until its disk write completes
  // (FIFO per node).
  while (node.core) {
    Ready ready = node.core->take_ready();
    if (ready.empty()) break;
    std::vector<Message> after_sync;
    for (auto& message : ready.messages) {
      if (sendable_before_persist(message, options_.bugs)) {
        enqueue(message);
      } else {
        after_sync.push_back(std::move(message));
      }
    }
    ready.messages = std::move(after_sync);
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
    node.storage->stage(ready);  // refnode's storage (WAL, snapshot file), then synced
    node.storage->sync();
    if (ready.snapshot) {
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

void ZabSimulator::inject_faults() { sim::inject_cluster_faults(random_, options_.faults, *this, links_); }

void ZabSimulator::client_activity() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<SimulatedNode*> serving;
  for (std::size_t index = 0; index < nodes_.size(); ++index) {
    SimulatedNode& node = nodes_[index];
    if (node.core && node.core->serving() && !network_.paused(index, now_ticks_)) serving.push_back(&node);
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
  while (auto delivery = network_.next_due(now_ticks_, faulty ? &links_ : nullptr)) {
    const Message& message = delivery->message;
    SimulatedNode& recipient = nodes_[delivery->to];
    if (!recipient.core) continue;
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

// A node whose pause ends gets what arrived meanwhile, in order, before anything new.
void ZabSimulator::resume_if_due(std::size_t index) {
  const std::int64_t until = network_.paused_until(index);
  if (until == 0 || until > now_ticks_) return;
  SimulatedNode& node = nodes_[index];
  for (const auto& delivery : network_.resume(index)) {
    if (!node.core) break;
    node.core->step(delivery.message);
    process_ready(node);
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
      for (std::size_t index = 0; index < nodes_.size(); ++index) resume_if_due(index);
      inject_faults();
      client_activity();
      for (std::size_t index = 0; index < nodes_.size(); ++index) {
        SimulatedNode& node = nodes_[index];
        if (!node.core || network_.paused(index, now_ticks_)) continue;
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(true);
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      for (std::size_t index = 0; index < nodes_.size(); ++index) {
        if (!network_.paused(index, now_ticks_) && unit(random_) < options_.disk_completion_probability) {
          complete_disk_writes(nodes_[index]);
        }
      }
      check_invariants();
    }
    // Heal everything, then demand that a new update is delivered on every node.
    chaos_phase_ = false;
    links_.heal();
    for (std::size_t index = 0; index < nodes_.size(); ++index) {
      SimulatedNode& node = nodes_[index];
      if (can_restart(node)) start_node(node);
      if (!node.core) continue;  // fail-stopped
      for (const auto& delivery : network_.resume(index)) node.core->step(delivery.message);
      complete_disk_writes(node);
    }
    std::string marker;
    std::uint64_t marker_epoch = 0;
    for (int heal_step = 0; heal_step < options_.heal_steps; ++heal_step, ++step_) {
      ++now_ticks_;
      for (auto& node : nodes_) {
        if (marker.empty() && node.core && node.core->role() == Role::leading && node.core->serving()) {
          marker = nlohmann::json{{"op", "write"}, {"key", "heal"}, {"value", step_}}.dump();
          submitted_commands_.insert(marker);
          node.core->submit(marker, next_context_++);
          marker_epoch = node.core->session_epoch();
          process_ready(node);
        }
      }
      for (auto& node : nodes_) {
        if (!node.core) continue;  // fail-stopped
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(false);
      check_invariants();
      if (!marker.empty()) {
        bool everywhere = true;
        for (const auto& node : nodes_) {
          if (node.fail_stopped) continue;
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
          leader_serving = leader_serving || (node.core && node.core->role() == Role::leading && node.core->serving() &&
                                              node.core->session_epoch() == marker_epoch);
        }
        if (!leader_serving) marker.clear();
      }
    }
    fail(fmt::format("liveness: no update delivered on every node within {} ticks after healing", options_.heal_steps));
  } catch (const sim::SimulationFailure& failure) {
    result_.ok = false;
    result_.failure = failure.what();
  }
  return result_;
}

}  // namespace chaosbench::zab::simulation
