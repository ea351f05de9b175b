// The protocols a refnode binary can run: each entry names a protocol, its read
// modes and planted bugs, its own settings (ProtocolOptions: flags, --config
// keys, checks) and a factory for its node. parse_node_config reads the shared
// flags and the chosen protocol's; a flag of another protocol, an unknown key
// or a bad value is a ConfigError with a one-line message.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "runtime/logger.h"
#include "runtime/node_config.h"

namespace chaosbench::targets {

class ProtocolOptions {
 public:
  virtual ~ProtocolOptions() = default;
  // Adds the protocol's flags to refnode's command line.
  virtual void add_flags(CLI::App& app) = 0;
  // Takes one key of a --config file; false when it is not one of the protocol's.
  virtual bool read_config_key(const std::string& key, const nlohmann::json& value) = 0;
  // After the file and the command line are read: flags given win over the
  // file; then checks the settings against the shared ones (throws ConfigError).
  virtual void finish(const NodeConfig& shared) = 0;
};

// A running node: start() binds its ports; it then lives on the io_context.
class NodeProcess {
 public:
  virtual ~NodeProcess() = default;
  virtual void start() = 0;
};

struct ProtocolEntry {
  std::string name;
  std::vector<std::string> read_modes;  // what --read-mode accepts; the first is the default
  std::string read_mode_help;
  std::vector<std::pair<std::string, std::string>> bugs;           // name, one-line description
  std::function<std::unique_ptr<ProtocolOptions>()> make_options;  // empty: no settings of its own
  std::function<std::unique_ptr<NodeProcess>(boost::asio::io_context&, const NodeConfig&, const ProtocolOptions*,
                                             Logger&)>
      make_node;
};

using ProtocolRegistry = std::vector<ProtocolEntry>;

struct ParsedNodeConfig {
  NodeConfig config;
  const ProtocolEntry* protocol = nullptr;
  std::unique_ptr<ProtocolOptions> options;  // null when the protocol has none
};

// Returns the configuration, or throws ConfigError. Prints help and exits 0 for --help.
ParsedNodeConfig parse_node_config(int argc, const char* const* argv, const ProtocolRegistry& registry);

// Starts the configured node on `io_context` (binds its ports).
std::unique_ptr<NodeProcess> start_node(boost::asio::io_context& io_context, const ParsedNodeConfig& parsed,
                                        Logger& logger);

}  // namespace chaosbench::targets
