#include "raft_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace chaosbench::raft::simulation {
namespace {

constexpr std::int64_t kTickNanoseconds = 10'000'000;

}  // namespace

RaftSimulator::RaftSimulator(SimulationOptions options)
    : options_(std::move(options)),
      random_(options_.seed),
      links_(static_cast<std::size_t>(options_.node_count)),
      network_(random_, options_.network, sim::LinkOrder::reorder, static_cast<std::size_t>(options_.node_count)) {
  for (const auto& id : sim::node_ids(options_.node_count)) nodes_.emplace_back().id = id;
  for (auto& node : nodes_) start_node(node);
}

void RaftSimulator::start_node(SimulatedNode& node) {
  RaftConfig config;
  config.id = node.id;
  for (const auto& member : nodes_) config.members.push_back(member.id);
  config.election_ticks = 10;
  config.heartbeat_ticks = 2;
  config.tick_nanoseconds = kTickNanoseconds;
  config.clock_drift_bound_nanoseconds = kTickNanoseconds;
  config.max_entries_per_message = options_.max_entries_per_message;
  config.random_seed = random_();
  config.bugs = options_.bugs;
  const targets::Clock& lease_clock =
      options_.lease_wall_clock ? static_cast<const targets::Clock&>(*node.wall_clock) : clock_;
  // Recovers through the real storage code from what reached the disk; on a
  // flipped bit it must refuse (the node fail-stops), on anything else start.
  try {
    node.storage = std::make_unique<RaftStorage>("/" + node.id, /*fsync_enabled=*/true, storage_logger_, *node.disk);
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
  node.core = std::make_unique<RaftNode>(config, restored, lease_clock);
  network_.restart(index_of(node.id));
  node.machine.restore(restored.snapshot.data);
  node.applied_index = restored.snapshot.index;
}

void RaftSimulator::crash(std::size_t index) {
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
  network_.crash(index, /*new_connections=*/false);
}

void RaftSimulator::fail(const std::string& message) { throw sim::SimulationFailure(options_.seed, step_, message); }

void RaftSimulator::enqueue(const Message& message, bool faulty) {
  network_.send(index_of(message.from), index_of(message.to), message, now_ticks_, faulty);
}

void RaftSimulator::process_ready(SimulatedNode& node) {
  // Like refnode: what sendable_before_persist allows (a leader's
  // AppendEntries) leaves at once, everything else of a Ready waits until its
  // disk write completes (FIFO).
  while (node.core) {
    Ready ready = node.core->take_ready();
    if (ready.empty()) break;
    std::vector<Message> after_sync;
    const bool leader = node.core->role() == Role::leader;
    bool unsynced_hard_state = false;
    for (const auto& pending : node.unsynced)
      unsynced_hard_state = unsynced_hard_state || pending.hard_state.has_value();
    for (auto& message : ready.messages) {
      if (sendable_before_persist(message, node.core->role(), node.core->term(),
                                  ready.hard_state.has_value() || unsynced_hard_state, options_.bugs)) {
        enqueue(message, true);
      } else {
        after_sync.push_back(std::move(message));
      }
    }
    ready.messages = std::move(after_sync);
    node.unsynced.push_back(std::move(ready));
    if (leader) {
      auto [position, inserted] = leader_of_term_.emplace(node.core->term(), node.id);
      if (inserted) ++result_.leaders_elected;
      if (position->second != node.id) {
        fail(fmt::format("election safety: {} and {} both leaders of term {}", position->second, node.id,
                         node.core->term()));
      }
    }
    if (!chaos_phase_ || !options_.asynchronous_disk) {
      complete_disk_writes(node);
    } else {
      return;
    }
  }
}

void RaftSimulator::complete_disk_writes(SimulatedNode& node) {
  while (node.core && !node.unsynced.empty()) {
    Ready ready = std::move(node.unsynced.front());
    node.unsynced.pop_front();
    // 1. Persist through refnode's storage (WAL, snapshot file) and sync.
    node.storage->save(ready);
    if (ready.snapshot && ready.restore_state_machine) {
      node.machine.restore(ready.snapshot->data);
      node.applied_index = ready.snapshot->index;
      ++result_.snapshots_installed;
    }
    if (!ready.entries.empty()) {
      node.core->acknowledge_persisted(ready.entries.back().index, ready.entries.back().term);
    }
    // 2. Send.
    for (const auto& message : ready.messages) enqueue(message, true);
    // 3. Apply, checking state machine safety entry by entry.
    for (const auto& entry : ready.committed_entries) {
      if (entry.index != node.applied_index + 1) {
        fail(fmt::format("{} applies index {} after {}", node.id, entry.index, node.applied_index));
      }
      auto found = committed_.find(entry.index);
      if (found == committed_.end()) {
        committed_.emplace(entry.index, CommittedEntry{entry.term, entry.command, node.core->term()});
        ++result_.committed_entries;
      } else if (found->second.term != entry.term || found->second.command != entry.command) {
        fail(fmt::format("state machine safety: {} applies index {} term {} but term {} was committed there", node.id,
                         entry.index, entry.term, found->second.term));
      }
      if (entry.kind == EntryKind::command) node.machine.apply(nlohmann::json::parse(entry.command));
      node.applied_index = entry.index;
      acknowledged_index_ = std::max(acknowledged_index_, entry.index);
    }
    // 4. Reads: a served read must reflect every write acknowledged before it began.
    for (const auto& read : ready.reads) {
      auto required = read_required_index_.find(read.context);
      if (required == read_required_index_.end()) fail(fmt::format("unknown read context {}", read.context));
      if (read.index < required->second || node.applied_index < required->second) {
        fail(fmt::format("stale read on {}: read index {}, applied {}, but index {} was acknowledged before it",
                         node.id, read.index, node.applied_index, required->second));
      }
      read_required_index_.erase(required);
      ++result_.reads_served;
    }
    for (auto context : ready.failed_reads) read_required_index_.erase(context);
  }
  if (!node.core) return;
  // 5. Compact.
  if (node.applied_index >= node.core->snapshot_index() + options_.compact_every) {
    node.core->compact(node.applied_index, node.machine.snapshot());
  }
  process_ready(node);  // persisting may have advanced the commit index
}

void RaftSimulator::inject_faults() {
  sim::inject_cluster_faults(random_, options_.faults, *this, links_, [&] {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    if (unit(random_) < options_.clock_bump_probability) {
      auto& skewed = nodes_[random_() % nodes_.size()];
      // Up to three election timeouts either way.
      const std::int64_t range = 3 * 10 * kTickNanoseconds;
      skewed.wall_offset_nanoseconds = static_cast<std::int64_t>(random_() % (2 * range + 1)) - range;
    }
  });
}

void RaftSimulator::client_activity(bool faulty) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<SimulatedNode*> leaders;
  for (std::size_t index = 0; index < nodes_.size(); ++index) {
    SimulatedNode& node = nodes_[index];
    if (node.core && node.core->role() == Role::leader && !network_.paused(index, now_ticks_)) {
      leaders.push_back(&node);
    }
  }
  if (leaders.empty()) return;
  SimulatedNode& leader = *leaders[random_() % leaders.size()];
  if (!faulty || unit(random_) < options_.propose_probability) {
    nlohmann::json command{{"op", "append"}, {"key", fmt::format("k{}", random_() % 4)}, {"value", next_command_++}};
    leader.core->propose(command.dump());
  }
  if (unit(random_) < options_.read_probability) {
    const std::uint64_t context = next_read_context_++;
    read_required_index_[context] = acknowledged_index_;
    const ReadMode mode = unit(random_) < 0.5 ? ReadMode::read_index : ReadMode::lease;
    if (!leader.core->request_read(context, mode)) read_required_index_.erase(context);
  }
  process_ready(leader);
}

void RaftSimulator::deliver_due_messages(bool faulty) {
  while (auto delivery = network_.next_due(now_ticks_, faulty ? &links_ : nullptr)) {
    SimulatedNode& recipient = nodes_[delivery->to];
    if (!recipient.core) continue;
    recipient.core->step(delivery->message);
    process_ready(recipient);
  }
}

void RaftSimulator::check_invariants() {
  std::vector<const SimulatedNode*> live;
  for (const auto& node : nodes_) {
    if (node.core) live.push_back(&node);
  }
  for (const SimulatedNode* node : live) {
    const RaftNode& core = *node->core;
    if (core.commit_index() > core.last_index()) {
      fail(fmt::format("{} commit {} beyond last index {}", node->id, core.commit_index(), core.last_index()));
    }
    // Committed prefixes agree with what was committed anywhere.
    for (std::uint64_t index = core.snapshot_index() + 1; index <= core.commit_index(); ++index) {
      const LogEntry* entry = core.entry_at(index);
      auto found = committed_.find(index);
      if (found == committed_.end()) {
        committed_.emplace(index, CommittedEntry{entry->term, entry->command, core.term()});
        ++result_.committed_entries;
      } else if (found->second.term != entry->term || found->second.command != entry->command) {
        fail(fmt::format("state machine safety: {} has committed index {} with term {}, expected term {}", node->id,
                         index, entry->term, found->second.term));
      }
    }
    // Leader completeness: a leader holds every entry committed in an earlier term.
    if (core.role() == Role::leader) {
      for (auto it = committed_.upper_bound(core.snapshot_index()); it != committed_.end(); ++it) {
        if (it->second.commit_term >= core.term()) continue;
        const LogEntry* entry = core.entry_at(it->first);
        if (entry == nullptr || entry->term != it->second.term) {
          fail(fmt::format("leader completeness: leader {} of term {} lacks index {} (term {}) committed in term {}",
                           node->id, core.term(), it->first, it->second.term, it->second.commit_term));
        }
      }
    }
  }
  // Log matching: equal (index, term) implies equal prefixes.
  for (std::size_t first = 0; first < live.size(); ++first) {
    for (std::size_t second = first + 1; second < live.size(); ++second) {
      const RaftNode& a = *live[first]->core;
      const RaftNode& b = *live[second]->core;
      const std::uint64_t low = std::max(a.snapshot_index(), b.snapshot_index()) + 1;
      const std::uint64_t high = std::min(a.last_index(), b.last_index());
      std::uint64_t matching = 0;
      for (std::uint64_t index = high; index >= low && index > 0; --index) {
        if (a.entry_at(index)->term == b.entry_at(index)->term) {
          matching = index;
          break;
        }
      }
      for (std::uint64_t index = low; index <= matching; ++index) {
        if (!(*a.entry_at(index) == *b.entry_at(index))) {
          fail(fmt::format("log matching: {} and {} agree at index {} but differ at {}", live[first]->id,
                           live[second]->id, matching, index));
        }
      }
    }
  }
}

SimulationResult RaftSimulator::run() {
  try {
    for (step_ = 0; step_ < options_.chaos_steps; ++step_) {
      ++now_ticks_;
      clock_.set(now_ticks_ * kTickNanoseconds);
      for (auto& node : nodes_) node.wall_clock->set(clock_.now_nanoseconds() + node.wall_offset_nanoseconds);
      for (std::size_t index = 0; index < nodes_.size(); ++index) {
        const std::int64_t until = network_.paused_until(index);
        if (until != 0 && until <= now_ticks_) network_.requeue(network_.resume(index), now_ticks_);
      }
      inject_faults();
      client_activity(true);
      for (std::size_t index = 0; index < nodes_.size(); ++index) {
        SimulatedNode& node = nodes_[index];
        if (!node.core || network_.paused(index, now_ticks_)) continue;
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(true);
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      for (auto& node : nodes_) {
        if (unit(random_) < options_.disk_completion_probability) complete_disk_writes(node);
      }
      check_invariants();
    }
    // Heal everything, then demand a leader and progress on every node.
    chaos_phase_ = false;
    links_.heal();
    for (std::size_t index = 0; index < nodes_.size(); ++index) {
      SimulatedNode& node = nodes_[index];
      network_.requeue(network_.resume(index), now_ticks_);
      if (can_restart(node)) start_node(node);
      complete_disk_writes(node);
    }
    std::optional<std::uint64_t> marker_index;
    std::uint64_t marker_term = 0;
    for (int heal_step = 0; heal_step < options_.heal_steps; ++heal_step, ++step_) {
      ++now_ticks_;
      clock_.set(now_ticks_ * kTickNanoseconds);
      for (auto& node : nodes_) node.wall_clock->set(clock_.now_nanoseconds() + node.wall_offset_nanoseconds);
      for (auto& node : nodes_) {
        if (node.core && node.core->role() == Role::leader && node.core->term() != marker_term) {
          marker_index =
              node.core->propose(nlohmann::json{{"op", "write"}, {"key", "heal"}, {"value", step_}}.dump())->first;
          marker_term = node.core->term();
        }
      }
      for (auto& node : nodes_) {
        if (!node.core) continue;  // fail-stopped
        node.core->tick();
        process_ready(node);
      }
      deliver_due_messages(false);
      check_invariants();
      if (marker_index) {
        auto committed = committed_.find(*marker_index);
        bool everywhere = committed != committed_.end() && committed->second.term == marker_term;
        for (const auto& node : nodes_)
          everywhere = everywhere && (node.fail_stopped || node.applied_index >= *marker_index);
        if (everywhere) return result_;
      }
    }
    fail(fmt::format("liveness: no write committed on every node within {} ticks after healing", options_.heal_steps));
  } catch (const sim::SimulationFailure& failure) {
    result_.ok = false;
    result_.failure = failure.what();
  }
  return result_;
}

SimulationResult run_seeds(SimulationOptions options, std::uint64_t first_seed, int seed_count) {
  return sim::run_seeds(first_seed, seed_count, [&](std::uint64_t seed) {
    options.seed = seed;
    return RaftSimulator(options).run();
  });
}

}  // namespace chaosbench::raft::simulation
