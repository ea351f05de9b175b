#include "chaosbench/harness/control/hosts_file.h"

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace chaosbench::harness::control {

namespace {

class HostsFileReader {
 public:
  explicit HostsFileReader(const std::filesystem::path& file) : file_(file) {}

  [[noreturn]] void fail(const toml::node& node, int index, std::string_view key, const std::string& what) const {
    throw HostsFileError(
        fmt::format("{}:{}: host[{}].{}: {}", file_.string(), node.source().begin.line, index, key, what));
  }

  std::string string_of(const toml::node& node, int index, std::string_view key) const {
    const auto* value = node.as_string();
    if (value == nullptr) fail(node, index, key, "expected a string");
    return value->get();
  }

  bool boolean_of(const toml::node& node, int index, std::string_view key) const {
    const auto* value = node.as_boolean();
    if (value == nullptr) fail(node, index, key, "expected true or false");
    return value->get();
  }

  long long integer_of(const toml::node& node, int index, std::string_view key, long long low, long long high) const {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < low || value->get() > high)
      fail(node, index, key, fmt::format("expected an integer in {}..{}", low, high));
    return value->get();
  }

  SshHostOptions host_of(const toml::table& table, int index) const {
    SshHostOptions host;
    for (const auto& [key_node, value] : table) {
      const std::string key(key_node.str());
      if (key == "name") {
        host.name = string_of(value, index, key);
        if (host.name.empty() || host.name.find_first_of("/ \t") != std::string::npos)
          fail(value, index, key, "must be non-empty, without '/' or spaces");
      } else if (key == "address") {
        host.address = string_of(value, index, key);
        if (host.address.empty()) fail(value, index, key, "must not be empty");
      } else if (key == "port") {
        host.port = static_cast<int>(integer_of(value, index, key, 1, 65535));
      } else if (key == "user") {
        host.user = string_of(value, index, key);
        if (host.user.empty()) fail(value, index, key, "must not be empty");
      } else if (key == "key") {
        std::filesystem::path key_file = string_of(value, index, key);
        host.key_file = key_file.is_relative() ? file_.parent_path() / key_file : key_file;
      } else if (key == "password") {
        host.password = string_of(value, index, key);
      } else if (key == "agent") {
        host.use_agent = boolean_of(value, index, key);
      } else if (key == "sudo") {
        host.sudo = boolean_of(value, index, key);
      } else if (key == "connect_timeout_ms") {
        host.connect_timeout = std::chrono::milliseconds(integer_of(value, index, key, 1, 600'000));
      } else {
        fail(value, index, key,
             "unknown key (name, address, port, user, key, password, agent, sudo, connect_timeout_ms)");
      }
    }
    if (host.name.empty()) fail(table, index, "name", "missing: every [[host]] needs a name");
    if (host.address.empty()) fail(table, index, "address", "missing: every [[host]] needs an address");
    return host;
  }

 private:
  std::filesystem::path file_;
};

}  // namespace

std::vector<SshHostOptions> parse_hosts_file(std::string_view text, const std::filesystem::path& file_name) {
  toml::table document;
  try {
    document = toml::parse(text, file_name.string());
  } catch (const toml::parse_error& error) {
    throw HostsFileError(fmt::format("{}:{}: {}", file_name.string(), error.source().begin.line, error.description()));
  }
  for (const auto& [key_node, value] : document) {
    if (key_node.str() != "host")
      throw HostsFileError(fmt::format("{}:{}: key '{}': unknown top-level key (only [[host]] tables)",
                                       file_name.string(), value.source().begin.line, key_node.str()));
  }
  const toml::array* entries = document["host"].as_array();
  if (entries == nullptr || !entries->is_array_of_tables() || entries->empty())
    throw HostsFileError(fmt::format("{}:1: key 'host': expected one or more [[host]] tables", file_name.string()));
  HostsFileReader reader(file_name);
  std::vector<SshHostOptions> hosts;
  std::set<std::string> names, endpoints;
  int index = 0;
  for (const toml::node& node : *entries) {
    const toml::table& table = *node.as_table();
    SshHostOptions host = reader.host_of(table, index);
    if (!names.insert(host.name).second) reader.fail(table, index, "name", "duplicate host name '" + host.name + "'");
    if (!endpoints.insert(fmt::format("{}:{}", host.address, host.port)).second)
      reader.fail(table, index, "address",
                  fmt::format("{}:{} is already used by another host", host.address, host.port));
    hosts.push_back(std::move(host));
    ++index;
  }
  return hosts;
}

std::vector<SshHostOptions> read_hosts_file(const std::filesystem::path& file) {
  std::ifstream input(file);
  if (!input) throw HostsFileError(fmt::format("{}: cannot open the hosts file", file.string()));
  std::ostringstream text;
  text << input.rdbuf();
  return parse_hosts_file(text.str(), file);
}

std::vector<std::shared_ptr<SshHost>> connect_all(const std::vector<SshHostOptions>& hosts) {
  std::vector<std::shared_ptr<SshHost>> connected;
  for (const SshHostOptions& options : hosts) connected.push_back(std::make_shared<SshHost>(options));
  std::vector<std::string> errors(connected.size());
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 0; i < connected.size(); ++i) {
      workers.emplace_back([&, i] {
        try {
          connected[i]->connect();
          CommandResult probe = connected[i]->run(Command{"true"}.with_timeout(std::chrono::seconds(30)));
          if (!probe.succeeded())
            errors[i] = fmt::format("{}: `true` {}{}", connected[i]->label(), probe.status.describe(),
                                    connected[i]->uses_sudo() ? " (is passwordless sudo allowed?)" : "");
        } catch (const std::exception& error) {
          errors[i] = error.what();
        }
      });
    }
  }
  std::string message;
  std::size_t failed = 0;
  for (const std::string& error : errors) {
    if (error.empty()) continue;
    message += (failed++ == 0 ? "" : "; ") + error;
  }
  if (failed > 0) throw ControlError(fmt::format("cannot reach {} of {} hosts: {}", failed, connected.size(), message));
  return connected;
}

}  // namespace chaosbench::harness::control
