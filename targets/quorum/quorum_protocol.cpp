#include "quorum/quorum_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "quorum/quorum_server.h"

namespace chaosbench::quorum {

void QuorumOptions::add_flags(CLI::App& app) {
  flags_.app = &app;
  app.add_option("--n", flags_.replicas, "(quorum) replicas per key, N (default min(3, members))");
  app.add_option("--r", flags_.read_quorum, "(quorum) replies a read waits for, R (default a majority of N)");
  app.add_option("--w", flags_.write_quorum, "(quorum) durable acks a write waits for, W (default a majority of N)");
  app.add_flag("--sloppy", flags_.sloppy, "(quorum) sloppy quorum with hinted handoff");
  app.add_option("--conflict", flags_.conflict,
                 "(quorum) vector-clocks (default, siblings) | lww (wall-clock timestamps)");
  app.add_option("--virtual-nodes", flags_.virtual_nodes, "(quorum) ring tokens per node (default 64)");
  app.add_option("--anti-entropy-interval", flags_.anti_entropy_interval,
                 "(quorum) Merkle-tree exchange period, e.g. 10s (default); 0 disables");
  app.add_option("--tombstone-grace", flags_.tombstone_grace,
                 "(quorum) age before a tombstone is collected (default 10m)");
}

bool QuorumOptions::read_config_key(const std::string& key, const nlohmann::json& value) {
  if (key == "n") {
    replicas = value.get<int>();
  } else if (key == "r") {
    read_quorum = value.get<int>();
  } else if (key == "w") {
    write_quorum = value.get<int>();
  } else if (key == "sloppy") {
    sloppy = value.get<bool>();
  } else if (key == "conflict") {
    conflict = value.get<std::string>();
  } else if (key == "virtual_nodes") {
    virtual_nodes = value.get<int>();
  } else if (key == "anti_entropy_interval_ms") {
    anti_entropy_interval_milliseconds = value.get<std::int64_t>();
  } else if (key == "tombstone_grace_ms") {
    tombstone_grace_milliseconds = value.get<std::int64_t>();
  } else {
    return false;
  }
  return true;
}

void QuorumOptions::finish(const targets::NodeConfig& shared) {
  using targets::ConfigError;
  if (flags_.app != nullptr) {
    const CLI::App& app = *flags_.app;
    if (app.count("--n")) replicas = flags_.replicas;
    if (app.count("--r")) read_quorum = flags_.read_quorum;
    if (app.count("--w")) write_quorum = flags_.write_quorum;
    if (flags_.sloppy) sloppy = true;
    if (!flags_.conflict.empty()) conflict = flags_.conflict;
    if (app.count("--virtual-nodes")) virtual_nodes = flags_.virtual_nodes;
    if (!flags_.anti_entropy_interval.empty()) {
      anti_entropy_interval_milliseconds =
          targets::parse_duration_milliseconds(flags_.anti_entropy_interval, "--anti-entropy-interval");
    }
    if (!flags_.tombstone_grace.empty()) {
      tombstone_grace_milliseconds = targets::parse_duration_milliseconds(flags_.tombstone_grace, "--tombstone-grace");
    }
  }
  const int members = static_cast<int>(shared.peers.size());
  if (replicas < 0 || replicas > members) {
    throw ConfigError(fmt::format("--n {}: must be between 1 and the {} peers", replicas, members));
  }
  const int effective_replicas = replicas > 0 ? replicas : std::min(3, members);
  if (read_quorum < 0 || read_quorum > effective_replicas || write_quorum < 0 || write_quorum > effective_replicas) {
    throw ConfigError(
        fmt::format("--r {} / --w {}: must be between 1 and N={}", read_quorum, write_quorum, effective_replicas));
  }
  if (conflict != "vector-clocks" && conflict != "lww") {
    throw ConfigError(fmt::format("--conflict {}: expected vector-clocks or lww", conflict));
  }
  if (virtual_nodes < 1 || virtual_nodes > 4096) throw ConfigError("--virtual-nodes: must be 1..4096");
  if (anti_entropy_interval_milliseconds < 0 || tombstone_grace_milliseconds < 0) {
    throw ConfigError("--anti-entropy-interval and --tombstone-grace must not be negative");
  }
}

QuorumConfig make_quorum_config(const targets::NodeConfig& config, const QuorumOptions& options) {
  constexpr std::int64_t kMillisecond = 1'000'000;
  QuorumConfig quorum;
  quorum.id = config.id;
  for (const auto& peer : config.peers) quorum.members.push_back(peer.id);
  quorum.replicas = options.replicas > 0 ? options.replicas : std::min<int>(3, static_cast<int>(config.peers.size()));
  quorum.read_quorum = options.read_quorum > 0 ? options.read_quorum : quorum.replicas / 2 + 1;
  quorum.write_quorum = options.write_quorum > 0 ? options.write_quorum : quorum.replicas / 2 + 1;
  quorum.sloppy = options.sloppy;
  quorum.conflict = options.conflict == "lww" ? ConflictMode::last_write_wins : ConflictMode::vector_clocks;
  quorum.virtual_nodes = options.virtual_nodes;
  quorum.gossip_interval_nanoseconds = std::int64_t{config.heartbeat_ticks} * config.tick_milliseconds * kMillisecond;
  quorum.failure_timeout_nanoseconds =
      4 * std::int64_t{config.election_ticks} * config.tick_milliseconds * kMillisecond;
  quorum.request_timeout_nanoseconds = std::int64_t{config.request_timeout_milliseconds} * kMillisecond;
  quorum.anti_entropy_interval_nanoseconds = options.anti_entropy_interval_milliseconds * kMillisecond;
  quorum.tombstone_grace_nanoseconds = options.tombstone_grace_milliseconds * kMillisecond;
  quorum.random_seed = std::random_device{}();
  quorum.bugs.no_read_repair = config.has_bug("no-read-repair");
  quorum.bugs.tombstone_gc_early = config.has_bug("tombstone-gc-early");
  quorum.bugs.ack_before_write = config.has_bug("ack-before-write");
  quorum.bugs.wal_no_fsync = config.has_bug("wal-no-fsync");
  return quorum;
}

targets::ProtocolEntry quorum_protocol() {
  targets::ProtocolEntry entry;
  entry.name = "quorum";
  entry.read_modes = {"quorum"};
  entry.read_mode_help = "quorum (R replies; the only mode)";
  entry.bugs = {
      {"no-read-repair", "reads never repair stale replicas"},
      {"tombstone-gc-early", "tombstones are collected at once, ignoring the grace period (deletes come back)"},
      {"ack-before-write", "the coordinator acks a write before W replicas confirm it"},
      {"wal-no-fsync",
       "replicas acknowledge writes their WAL holds only in the page cache (never fsynced): a power loss loses them"},
  };
  entry.make_options = [] { return std::make_unique<QuorumOptions>(); };
  entry.make_node = [](boost::asio::io_context& io_context, const targets::NodeConfig& config,
                       const targets::ProtocolOptions* options, targets::Logger& logger) {
    return std::make_unique<QuorumServer>(io_context, config, dynamic_cast<const QuorumOptions&>(*options), logger);
  };
  return entry;
}

}  // namespace chaosbench::quorum
