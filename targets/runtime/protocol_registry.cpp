#include "runtime/protocol_registry.h"

#include <algorithm>

#include "runtime/failpoints.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

namespace chaosbench::targets {
namespace {

using nlohmann::json;

std::string names_of(const ProtocolRegistry& registry) {
  std::string names;
  for (const auto& entry : registry) names += (names.empty() ? "" : ", ") + entry.name;
  return names;
}

// Reads the shared keys of a --config file into `config`; returns the others
// (the protocol's, or unknown), in file order.
std::vector<std::pair<std::string, json>> load_config_file(const std::string& path, NodeConfig& config) {
  std::ifstream input(path);
  if (!input) throw ConfigError(fmt::format("--config: cannot open {}", path));
  std::vector<std::pair<std::string, json>> others;
  try {
    const json document = json::parse(input);
    if (!document.is_object()) throw ConfigError(fmt::format("--config {}: top level must be an object", path));
    for (const auto& [key, value] : document.items()) {
      if (key == "protocol") {
        config.protocol = value.get<std::string>();
      } else if (key == "id") {
        config.id = value.get<std::string>();
      } else if (key == "peers") {
        if (value.is_string()) {
          config.peers = parse_peer_list(value.get<std::string>());
        } else {
          config.peers.clear();
          for (const auto& [peer_id, address] : value.items()) {
            config.peers.push_back(parse_peer_list(peer_id + "=" + address.get<std::string>()).front());
          }
        }
      } else if (key == "client_host") {
        config.client_host = value.get<std::string>();
      } else if (key == "client_port") {
        config.client_port = parse_port(std::to_string(value.get<long>()), "client_port");
      } else if (key == "data_dir") {
        config.data_dir = value.get<std::string>();
      } else if (key == "read_mode") {
        config.read_mode = value.get<std::string>();
      } else if (key == "bugs") {
        config.bugs = value.get<std::set<std::string>>();
      } else if (key == "failpoints") {
        config.failpoints = value.get<std::vector<std::string>>();
      } else if (key == "fsync") {
        config.fsync = value.get<bool>();
      } else if (key == "tick_ms") {
        config.tick_milliseconds = value.get<int>();
      } else if (key == "election_ticks") {
        config.election_ticks = value.get<int>();
      } else if (key == "heartbeat_ticks") {
        config.heartbeat_ticks = value.get<int>();
      } else if (key == "snapshot_every") {
        config.snapshot_every = value.get<std::uint64_t>();
      } else if (key == "request_timeout_ms") {
        config.request_timeout_milliseconds = value.get<int>();
      } else {
        others.emplace_back(key, value);
      }
    }
  } catch (const json::exception& error) {
    throw ConfigError(fmt::format("--config {}: {}", path, error.what()));
  }
  return others;
}

void validate_shared(const NodeConfig& config, const ProtocolEntry& protocol) {
  if (config.id.empty()) throw ConfigError("--id is required");
  if (config.peers.empty()) throw ConfigError("--peers is required");
  config.self();
  if (config.client_port == 0) throw ConfigError("--client-port is required");
  if (config.data_dir.empty()) throw ConfigError("--data-dir is required");
  bool known_mode = false;
  std::string modes;
  for (const auto& mode : protocol.read_modes) {
    known_mode = known_mode || mode == config.read_mode;
    modes += (modes.empty() ? "" : ", ") + mode;
  }
  if (!known_mode) {
    throw ConfigError(fmt::format("--read-mode {}: expected {} for {}", config.read_mode, modes, protocol.name));
  }
  if (config.tick_milliseconds <= 0 || config.election_ticks <= 0 || config.heartbeat_ticks <= 0 ||
      config.heartbeat_ticks >= config.election_ticks) {
    throw ConfigError("timing: need tick_ms > 0 and 0 < heartbeat_ticks < election_ticks");
  }
}

// A bug name may be planted in several protocols (ack-before-fsync): it must
// be one of the chosen protocol's.
void validate_bugs(const NodeConfig& config, const ProtocolEntry& protocol, const ProtocolRegistry& registry) {
  auto has_bug = [](const ProtocolEntry& entry, const std::string& bug) {
    return std::any_of(entry.bugs.begin(), entry.bugs.end(), [&](const auto& named) { return named.first == bug; });
  };
  for (const auto& bug : config.bugs) {
    if (has_bug(protocol, bug)) continue;
    const bool known =
        std::any_of(registry.begin(), registry.end(), [&](const ProtocolEntry& entry) { return has_bug(entry, bug); });
    if (!known) throw ConfigError(fmt::format("--bug {}: unknown (see --help)", bug));
    throw ConfigError(fmt::format("--bug {}: not a bug of protocol {} (see --help)", bug, protocol.name));
  }
}

}  // namespace

ParsedNodeConfig parse_node_config(int argc, const char* const* argv, const ProtocolRegistry& registry) {
  std::string bug_help = "inject a known bug (repeatable):";
  std::string read_mode_help;
  for (const auto& entry : registry) {
    for (const auto& [name, description] : entry.bugs) {
      bug_help += fmt::format("\n  {}: ({}) {}", name, entry.name, description);
    }
    read_mode_help += fmt::format("{}{}: {}", read_mode_help.empty() ? "" : "; ", entry.name, entry.read_mode_help);
  }

  CLI::App app{"refnode: a reference protocol node for chaosbench (client protocol: DESIGN.md)", "refnode"};
  std::string config_path, protocol, id, peers, data_dir, read_mode, fsync, client_host;
  int client_port = 0;
  std::vector<std::string> bugs, failpoints;
  int tick_milliseconds = 0, election_ticks = 0, heartbeat_ticks = 0;
  std::uint64_t snapshot_every = 0;
  app.add_option("--config", config_path, "JSON config file (keys: protocol, id, peers, client_port, data_dir, ...)");
  app.add_option("--protocol", protocol, "protocol to run: " + names_of(registry));
  app.add_option("--id", id, "this node's id, one of --peers");
  app.add_option("--peers", peers, "every member: n1=host:port,n2=host:port,... (peer ports)");
  app.add_option("--client-host", client_host, "address the client port binds (default 0.0.0.0)");
  app.add_option("--client-port", client_port, "TCP port of the newline-delimited JSON client protocol");
  app.add_option("--data-dir", data_dir, "directory for the WAL and snapshots");
  app.add_option("--read-mode", read_mode, read_mode_help);
  app.add_option("--bug", bugs, bug_help);
  app.add_option("--fsync", fsync, "on (default) | off");
  std::string failpoint_help = "arm a failpoint NAME=ACTION (repeatable; ACTION [P%]crash|[P%]sleep(MS)|[P%]error):";
  for (const auto& point : failpoint_points()) failpoint_help += fmt::format("\n  {}: {}", point.name, point.where);
  app.add_option("--failpoint", failpoints, failpoint_help);
  app.add_option("--tick-ms", tick_milliseconds, "tick length in ms (default 10)");
  app.add_option("--election-ticks", election_ticks, "minimum election timeout in ticks (default 30)");
  app.add_option("--heartbeat-ticks", heartbeat_ticks, "heartbeat interval in ticks (default 5)");
  app.add_option("--snapshot-every", snapshot_every, "applied entries between snapshots (default 10000)");
  // Every protocol's flags, so --help lists them all; only the chosen one's may be given.
  std::map<const ProtocolEntry*, std::unique_ptr<ProtocolOptions>> options;
  std::map<const ProtocolEntry*, std::vector<const CLI::Option*>> flags_of;
  for (const auto& entry : registry) {
    if (!entry.make_options) continue;
    const std::size_t before = app.get_options().size();
    options[&entry] = entry.make_options();
    options[&entry]->add_flags(app);
    const auto all = app.get_options();
    flags_of[&entry].assign(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& error) {
    throw ConfigError(error.what());
  }

  ParsedNodeConfig parsed;
  NodeConfig& config = parsed.config;
  std::vector<std::pair<std::string, json>> file_keys;
  if (!config_path.empty()) file_keys = load_config_file(config_path, config);
  if (!protocol.empty()) config.protocol = protocol;
  if (config.protocol.empty()) throw ConfigError(fmt::format("--protocol is required ({})", names_of(registry)));
  for (const auto& entry : registry) {
    if (entry.name == config.protocol) parsed.protocol = &entry;
  }
  if (parsed.protocol == nullptr) {
    throw ConfigError(
        fmt::format("--protocol {}: unknown protocol (available: {})", config.protocol, names_of(registry)));
  }
  for (const auto& [entry, flags] : flags_of) {
    if (entry == parsed.protocol) continue;
    for (const CLI::Option* flag : flags) {
      if (flag->count() > 0) {
        throw ConfigError(
            fmt::format("{}: a flag of protocol {}, not of {}", flag->get_name(), entry->name, parsed.protocol->name));
      }
    }
  }
  if (auto found = options.find(parsed.protocol); found != options.end()) parsed.options = std::move(found->second);
  for (const auto& [key, value] : file_keys) {
    bool taken = false;
    try {
      taken = parsed.options && parsed.options->read_config_key(key, value);
    } catch (const json::exception& error) {
      throw ConfigError(fmt::format("--config {}: {}: {}", config_path, key, error.what()));
    }
    if (!taken)
      throw ConfigError(fmt::format("--config {}: unknown key '{}' for {}", config_path, key, config.protocol));
  }
  if (!id.empty()) config.id = id;
  if (!peers.empty()) config.peers = parse_peer_list(peers);
  if (!client_host.empty()) config.client_host = client_host;
  if (app.count("--client-port")) config.client_port = parse_port(std::to_string(client_port), "--client-port");
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!read_mode.empty()) config.read_mode = read_mode;
  if (config.read_mode.empty()) config.read_mode = parsed.protocol->read_modes.front();
  for (const auto& bug : bugs) config.bugs.insert(bug);
  for (const auto& failpoint : failpoints) config.failpoints.push_back(failpoint);
  if (!fsync.empty()) {
    if (fsync != "on" && fsync != "off") throw ConfigError(fmt::format("--fsync {}: expected on or off", fsync));
    config.fsync = fsync == "on";
  }
  if (app.count("--tick-ms")) config.tick_milliseconds = tick_milliseconds;
  if (app.count("--election-ticks")) config.election_ticks = election_ticks;
  if (app.count("--heartbeat-ticks")) config.heartbeat_ticks = heartbeat_ticks;
  if (app.count("--snapshot-every")) config.snapshot_every = snapshot_every;
  validate_shared(config, *parsed.protocol);
  validate_bugs(config, *parsed.protocol, registry);
  try {
    for (const auto& spec : config.failpoints) parse_failpoint_spec(spec);
  } catch (const std::invalid_argument& error) {
    throw ConfigError(error.what());
  }
  if (parsed.options) parsed.options->finish(config);
  return parsed;
}

std::unique_ptr<NodeProcess> start_node(boost::asio::io_context& io_context, const ParsedNodeConfig& parsed,
                                        Logger& logger) {
  auto node = parsed.protocol->make_node(io_context, parsed.config, parsed.options.get(), logger);
  node->start();
  return node;
}

}  // namespace chaosbench::targets
