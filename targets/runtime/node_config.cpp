#include "runtime/node_config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace chaosbench::targets {
namespace {

std::uint16_t parse_port(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    if (used != text.size() || value < 1 || value > 65535) throw std::out_of_range(text);
    return static_cast<std::uint16_t>(value);
  } catch (const std::logic_error&) {
    throw ConfigError(fmt::format("{}: '{}' is not a port number (1-65535)", what, text));
  }
}

// "250ms", "10s", "5m" or a bare number of milliseconds.
std::int64_t parse_duration_milliseconds(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const double number = std::stod(text, &used);
    const std::string unit = text.substr(used);
    double factor = 0;
    if (unit.empty() || unit == "ms") factor = 1;
    if (unit == "s") factor = 1000;
    if (unit == "m") factor = 60000;
    if (factor == 0 || number < 0) throw std::invalid_argument(text);
    return static_cast<std::int64_t>(number * factor);
  } catch (const std::logic_error&) {
    throw ConfigError(fmt::format("{}: '{}' is not a duration (e.g. 500ms, 10s, 5m)", what, text));
  }
}

void load_config_file(const std::string& path, NodeConfig& config) {
  std::ifstream input(path);
  if (!input) throw ConfigError(fmt::format("--config: cannot open {}", path));
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(input);
    if (!document.is_object()) throw ConfigError(fmt::format("--config {}: top level must be an object", path));
    for (auto& [key, value] : document.items()) {
      if (key == "protocol")
        config.protocol = value.get<std::string>();
      else if (key == "id")
        config.id = value.get<std::string>();
      else if (key == "peers") {
        if (value.is_string()) {
          config.peers = parse_peer_list(value.get<std::string>());
        } else {
          config.peers.clear();
          for (auto& [peer_id, address] : value.items()) {
            config.peers.push_back(parse_peer_list(peer_id + "=" + address.get<std::string>()).front());
          }
        }
      } else if (key == "client_host")
        config.client_host = value.get<std::string>();
      else if (key == "client_port")
        config.client_port = parse_port(std::to_string(value.get<long>()), "client_port");
      else if (key == "data_dir")
        config.data_dir = value.get<std::string>();
      else if (key == "read_mode")
        config.read_mode = value.get<std::string>();
      else if (key == "bugs")
        config.bugs = value.get<std::set<std::string>>();
      else if (key == "fsync")
        config.fsync = value.get<bool>();
      else if (key == "tick_ms")
        config.tick_milliseconds = value.get<int>();
      else if (key == "election_ticks")
        config.election_ticks = value.get<int>();
      else if (key == "heartbeat_ticks")
        config.heartbeat_ticks = value.get<int>();
      else if (key == "snapshot_every")
        config.snapshot_every = value.get<std::uint64_t>();
      else if (key == "clock_drift_bound_ms")
        config.clock_drift_bound_milliseconds = value.get<std::int64_t>();
      else if (key == "request_timeout_ms")
        config.request_timeout_milliseconds = value.get<int>();
      else if (key == "n")
        config.quorum_n = value.get<int>();
      else if (key == "r")
        config.quorum_r = value.get<int>();
      else if (key == "w")
        config.quorum_w = value.get<int>();
      else if (key == "sloppy")
        config.sloppy_quorum = value.get<bool>();
      else if (key == "conflict")
        config.conflict = value.get<std::string>();
      else if (key == "virtual_nodes")
        config.virtual_nodes = value.get<int>();
      else if (key == "anti_entropy_interval_ms")
        config.anti_entropy_interval_milliseconds = value.get<std::int64_t>();
      else if (key == "tombstone_grace_ms")
        config.tombstone_grace_milliseconds = value.get<std::int64_t>();
      else
        throw ConfigError(fmt::format("--config {}: unknown key '{}'", path, key));
    }
  } catch (const nlohmann::json::exception& error) {
    throw ConfigError(fmt::format("--config {}: {}", path, error.what()));
  }
}

}  // namespace

const PeerAddress& NodeConfig::self() const {
  for (const auto& peer : peers) {
    if (peer.id == id) return peer;
  }
  throw ConfigError(fmt::format("--id {} is not in --peers", id));
}

const std::vector<std::pair<std::string, std::string>>& known_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"no-vote-log-check", "grant votes without checking the candidate's log is up to date"},
      {"commit-previous-term", "commit entries of earlier terms by counting replicas (no election no-op)"},
      {"lease-wall-clock", "measure the leader lease with the wall clock, so clock skew breaks it"},
      {"stale-follower-read", "followers answer reads from their local state"},
      {"skip-truncate", "(zab) a follower ignores TRUNC and keeps uncommitted txns of an old epoch"},
      {"commit-before-quorum", "(zab) the leader commits a proposal on its own ack"},
      {"epoch-not-persisted", "(zab) acceptedEpoch/currentEpoch only in memory, derived from the last zxid on restart"},
      {"no-read-repair", "(quorum) reads never repair stale replicas"},
      {"tombstone-gc-early",
       "(quorum) tombstones are collected at once, ignoring the grace period (deletes come back)"},
      {"ack-before-write", "(quorum) the coordinator acks a write before W replicas confirm it"},
      {"unsupported-add",
       "(raft) answer every add with 'unsupported', as an adapter without the op would: a run that tests nothing"},
  };
  return bugs;
}

std::vector<PeerAddress> parse_peer_list(const std::string& text) {
  std::vector<PeerAddress> peers;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const std::size_t equals = item.find('=');
    const std::size_t colon = item.rfind(':');
    if (equals == std::string::npos || colon == std::string::npos || colon < equals || equals == 0) {
      throw ConfigError(fmt::format("--peers: '{}' is not id=host:port", item));
    }
    PeerAddress peer;
    peer.id = item.substr(0, equals);
    peer.host = item.substr(equals + 1, colon - equals - 1);
    peer.port = parse_port(item.substr(colon + 1), "--peers");
    if (peer.host.empty()) throw ConfigError(fmt::format("--peers: '{}' has no host", item));
    for (const auto& existing : peers) {
      if (existing.id == peer.id) throw ConfigError(fmt::format("--peers: {} listed twice", peer.id));
    }
    peers.push_back(std::move(peer));
    start = end + 1;
  }
  return peers;
}

void validate_node_config(const NodeConfig& config) {
  if (config.protocol.empty()) throw ConfigError("--protocol is required (raft, zab or quorum)");
  if (config.protocol != "raft" && config.protocol != "zab" && config.protocol != "quorum") {
    throw ConfigError(fmt::format("--protocol {}: unknown protocol (available: raft, zab, quorum)", config.protocol));
  }
  if (config.id.empty()) throw ConfigError("--id is required");
  if (config.peers.empty()) throw ConfigError("--peers is required");
  config.self();
  if (config.client_port == 0) throw ConfigError("--client-port is required");
  if (config.data_dir.empty()) throw ConfigError("--data-dir is required");
  if (config.protocol == "zab") {
    // ZAB: local (replica state) or sync (sync through the leader, then read);
    // the shared default read-index means local there.
    if (config.read_mode != "read-index" && config.read_mode != "local" && config.read_mode != "sync") {
      throw ConfigError(fmt::format("--read-mode {}: expected local or sync for zab", config.read_mode));
    }
  } else if (config.read_mode != "read-index" && config.read_mode != "lease" && config.read_mode != "local") {
    throw ConfigError(fmt::format("--read-mode {}: expected read-index, lease or local", config.read_mode));
  }
  for (const auto& bug : config.bugs) {
    bool known = false;
    std::string bug_protocol = "raft";
    for (const auto& [name, description] : known_bugs()) {
      if (name != bug) continue;
      known = true;
      if (description.rfind("(zab)", 0) == 0) bug_protocol = "zab";
      if (description.rfind("(quorum)", 0) == 0) bug_protocol = "quorum";
    }
    if (!known) throw ConfigError(fmt::format("--bug {}: unknown (see --help)", bug));
    if (bug_protocol != config.protocol) {
      throw ConfigError(fmt::format("--bug {}: not a bug of protocol {} (see --help)", bug, config.protocol));
    }
  }
  if (config.tick_milliseconds <= 0 || config.election_ticks <= 0 || config.heartbeat_ticks <= 0 ||
      config.heartbeat_ticks >= config.election_ticks) {
    throw ConfigError("timing: need tick_ms > 0 and 0 < heartbeat_ticks < election_ticks");
  }
  const int members = static_cast<int>(config.peers.size());
  if (config.quorum_n < 0 || config.quorum_n > members) {
    throw ConfigError(fmt::format("--n {}: must be between 1 and the {} peers", config.quorum_n, members));
  }
  const int replicas = config.quorum_n > 0 ? config.quorum_n : std::min(3, members);
  if (config.quorum_r < 0 || config.quorum_r > replicas || config.quorum_w < 0 || config.quorum_w > replicas) {
    throw ConfigError(
        fmt::format("--r {} / --w {}: must be between 1 and N={}", config.quorum_r, config.quorum_w, replicas));
  }
  if (config.conflict != "vector-clocks" && config.conflict != "lww") {
    throw ConfigError(fmt::format("--conflict {}: expected vector-clocks or lww", config.conflict));
  }
  if (config.virtual_nodes < 1 || config.virtual_nodes > 4096) throw ConfigError("--virtual-nodes: must be 1..4096");
  if (config.anti_entropy_interval_milliseconds < 0 || config.tombstone_grace_milliseconds < 0) {
    throw ConfigError("--anti-entropy-interval and --tombstone-grace must not be negative");
  }
  if (config.clock_drift_bound_milliseconds < 0 ||
      config.clock_drift_bound_milliseconds >= config.election_ticks * config.tick_milliseconds) {
    throw ConfigError("clock drift bound must be below the minimum election timeout");
  }
}

NodeConfig parse_node_config(int argc, const char* const* argv) {
  std::string bug_help = "inject a known bug (repeatable):";
  for (const auto& [name, description] : known_bugs()) bug_help += fmt::format("\n  {}: {}", name, description);

  CLI::App app{"refnode: a reference protocol node for chaosbench (client protocol: DESIGN.md)", "refnode"};
  std::string config_path, protocol, id, peers, data_dir, read_mode, fsync, client_host;
  int client_port = 0;
  std::vector<std::string> bugs;
  int tick_milliseconds = 0, election_ticks = 0, heartbeat_ticks = 0;
  std::uint64_t snapshot_every = 0;
  app.add_option("--config", config_path, "JSON config file (keys: protocol, id, peers, client_port, data_dir, ...)");
  app.add_option("--protocol", protocol, "protocol to run: raft, zab or quorum");
  app.add_option("--id", id, "this node's id, one of --peers");
  app.add_option("--peers", peers, "every member: n1=host:port,n2=host:port,... (peer ports)");
  app.add_option("--client-host", client_host, "address the client port binds (default 0.0.0.0)");
  app.add_option("--client-port", client_port, "TCP port of the newline-delimited JSON client protocol");
  app.add_option("--data-dir", data_dir, "directory for the WAL and snapshots");
  app.add_option(
      "--read-mode", read_mode,
      "raft: read-index (default, linearizable) | lease | local (stale by design); zab: local (default) | sync");
  app.add_option("--bug", bugs, bug_help);
  app.add_option("--fsync", fsync, "on (default) | off");
  app.add_option("--tick-ms", tick_milliseconds, "tick length in ms (default 10)");
  app.add_option("--election-ticks", election_ticks, "minimum election timeout in ticks (default 30)");
  app.add_option("--heartbeat-ticks", heartbeat_ticks, "heartbeat interval in ticks (default 5)");
  app.add_option("--snapshot-every", snapshot_every, "applied entries between snapshots (default 10000)");
  int quorum_n = 0, quorum_r = 0, quorum_w = 0, virtual_nodes = 0;
  bool sloppy = false;
  std::string conflict, anti_entropy_interval, tombstone_grace;
  app.add_option("--n", quorum_n, "(quorum) replicas per key, N (default min(3, members))");
  app.add_option("--r", quorum_r, "(quorum) replies a read waits for, R (default a majority of N)");
  app.add_option("--w", quorum_w, "(quorum) durable acks a write waits for, W (default a majority of N)");
  app.add_flag("--sloppy", sloppy, "(quorum) sloppy quorum with hinted handoff");
  app.add_option("--conflict", conflict, "(quorum) vector-clocks (default, siblings) | lww (wall-clock timestamps)");
  app.add_option("--virtual-nodes", virtual_nodes, "(quorum) ring tokens per node (default 64)");
  app.add_option("--anti-entropy-interval", anti_entropy_interval,
                 "(quorum) Merkle-tree exchange period, e.g. 10s (default); 0 disables");
  app.add_option("--tombstone-grace", tombstone_grace, "(quorum) age before a tombstone is collected (default 10m)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& error) {
    throw ConfigError(error.what());
  }

  NodeConfig config;
  if (!config_path.empty()) load_config_file(config_path, config);
  if (!protocol.empty()) config.protocol = protocol;
  if (!id.empty()) config.id = id;
  if (!peers.empty()) config.peers = parse_peer_list(peers);
  if (!client_host.empty()) config.client_host = client_host;
  if (app.count("--client-port")) config.client_port = parse_port(std::to_string(client_port), "--client-port");
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!read_mode.empty()) config.read_mode = read_mode;
  for (const auto& bug : bugs) config.bugs.insert(bug);
  if (!fsync.empty()) {
    if (fsync != "on" && fsync != "off") throw ConfigError(fmt::format("--fsync {}: expected on or off", fsync));
    config.fsync = fsync == "on";
  }
  if (app.count("--tick-ms")) config.tick_milliseconds = tick_milliseconds;
  if (app.count("--election-ticks")) config.election_ticks = election_ticks;
  if (app.count("--heartbeat-ticks")) config.heartbeat_ticks = heartbeat_ticks;
  if (app.count("--snapshot-every")) config.snapshot_every = snapshot_every;
  if (app.count("--n")) config.quorum_n = quorum_n;
  if (app.count("--r")) config.quorum_r = quorum_r;
  if (app.count("--w")) config.quorum_w = quorum_w;
  if (sloppy) config.sloppy_quorum = true;
  if (!conflict.empty()) config.conflict = conflict;
  if (app.count("--virtual-nodes")) config.virtual_nodes = virtual_nodes;
  if (!anti_entropy_interval.empty()) {
    config.anti_entropy_interval_milliseconds =
        parse_duration_milliseconds(anti_entropy_interval, "--anti-entropy-interval");
  }
  if (!tombstone_grace.empty())
    config.tombstone_grace_milliseconds = parse_duration_milliseconds(tombstone_grace, "--tombstone-grace");
  validate_node_config(config);
  return config;
}

}  // namespace chaosbench::targets
