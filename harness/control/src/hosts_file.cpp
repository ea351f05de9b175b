#include "chaosbench/harness/control/hosts_file.h"

#include <fstream>
#include <map>
#include <optional>
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

  // "strict", "accept-new" or "off"; where is "host[i].host_key" or "host_key".
  static std::optional<HostKeyPolicy> parse_policy(const std::string& text) {
    for (HostKeyPolicy policy : {HostKeyPolicy::strict, HostKeyPolicy::accept_new, HostKeyPolicy::off}) {
      if (text == to_string(policy)) return policy;
    }
    return std::nullopt;
  }

  // A `programs` table: program name (the usual path's file name) -> absolute path on the host.
  // where is "host[i].programs" or "programs"; merged over (replacing) `paths`.
  void programs_of(const toml::node& node, const std::string& where,
                   std::map<std::string, std::filesystem::path>& paths) const {
    const auto line = [&](const toml::node& at) { return at.source().begin.line; };
    const auto* table = node.as_table();
    if (table == nullptr)
      throw HostsFileError(fmt::format("{}:{}: {}: expected a table of program = \"/path/on/the/host\"", file_.string(),
                                       line(node), where));
    for (const auto& [name_node, value] : *table) {
      const std::string name(name_node.str());
      const auto* path = value.as_string();
      if (name.empty() || name.find('/') != std::string::npos)
        throw HostsFileError(fmt::format("{}:{}: {}.{}: a program's name is its usual file name, without '/'",
                                         file_.string(), line(value), where, name));
      if (path == nullptr || !std::filesystem::path(path->get()).is_absolute())
        throw HostsFileError(fmt::format("{}:{}: {}.{}: expected an absolute path on the host", file_.string(),
                                         line(value), where, name));
      paths[name] = path->get();
    }
  }

  std::filesystem::path path_of(const std::string& text) const {
    std::filesystem::path path = text;
    return path.is_relative() ? file_.parent_path() / path : path;
  }

  // `defaults` carries the top-level host_key, known_hosts, install_packages and programs.
  SshHostOptions host_of(const toml::table& table, int index, const SshHostOptions& defaults) const {
    SshHostOptions host;
    host.host_key = defaults.host_key;
    host.known_hosts = defaults.known_hosts;
    host.software = defaults.software;
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
        host.key_file = path_of(string_of(value, index, key));
      } else if (key == "password") {
        host.password = string_of(value, index, key);
      } else if (key == "agent") {
        host.use_agent = boolean_of(value, index, key);
      } else if (key == "sudo") {
        host.sudo = boolean_of(value, index, key);
      } else if (key == "connect_timeout_ms") {
        host.connect_timeout = std::chrono::milliseconds(integer_of(value, index, key, 1, 600'000));
      } else if (key == "host_key") {
        const auto policy = parse_policy(string_of(value, index, key));
        if (!policy) fail(value, index, key, "expected \"strict\", \"accept-new\" or \"off\"");
        host.host_key = *policy;
      } else if (key == "known_hosts") {
        host.known_hosts = path_of(string_of(value, index, key));
      } else if (key == "install_packages") {
        host.software.install_packages = boolean_of(value, index, key);
      } else if (key == "programs") {
        programs_of(value, fmt::format("host[{}].programs", index), host.software.program_paths);
      } else {
        fail(value, index, key,
             "unknown key (name, address, port, user, key, password, agent, sudo, connect_timeout_ms, host_key, "
             "known_hosts, install_packages, programs)");
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
  HostsFileReader reader(file_name);
  SshHostOptions defaults;
  for (const auto& [key_node, value] : document) {
    const auto line = value.source().begin.line;
    if (key_node.str() == "host") continue;
    if (key_node.str() == "host_key" && value.is_string()) {
      const auto policy = HostsFileReader::parse_policy(value.as_string()->get());
      if (!policy)
        throw HostsFileError(
            fmt::format("{}:{}: host_key: expected \"strict\", \"accept-new\" or \"off\"", file_name.string(), line));
      defaults.host_key = *policy;
    } else if (key_node.str() == "known_hosts" && value.is_string()) {
      defaults.known_hosts = reader.path_of(value.as_string()->get());
    } else if (key_node.str() == "install_packages") {
      if (!value.is_boolean())
        throw HostsFileError(fmt::format("{}:{}: install_packages: expected true or false", file_name.string(), line));
      defaults.software.install_packages = value.as_boolean()->get();
    } else if (key_node.str() == "programs") {
      reader.programs_of(value, "programs", defaults.software.program_paths);
    } else {
      throw HostsFileError(fmt::format(
          "{}:{}: key '{}': unknown top-level key (only host_key, known_hosts, install_packages, [programs] and "
          "[[host]] tables)",
          file_name.string(), line, key_node.str()));
    }
  }
  const toml::array* entries = document["host"].as_array();
  if (entries == nullptr || !entries->is_array_of_tables() || entries->empty())
    throw HostsFileError(fmt::format("{}:1: key 'host': expected one or more [[host]] tables", file_name.string()));
  std::vector<SshHostOptions> hosts;
  std::set<std::string> names, endpoints;
  int index = 0;
  for (const toml::node& node : *entries) {
    const toml::table& table = *node.as_table();
    SshHostOptions host = reader.host_of(table, index, defaults);
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

std::string describe_host_keys(const std::vector<std::shared_ptr<SshHost>>& hosts) {
  std::vector<std::string> order;
  std::map<std::string, std::string> names, files;
  for (const auto& host : hosts) {
    const std::string outcome = host->host_key_outcome().empty() ? "not connected" : host->host_key_outcome();
    if (!names.count(outcome)) {
      order.push_back(outcome);
      const auto& known_hosts = host->options().known_hosts;
      files[outcome] = known_hosts.empty() ? "~/.ssh/known_hosts" : known_hosts.string();
    }
    names[outcome] += (names[outcome].empty() ? "" : ", ") + host->name();
  }
  std::string line;
  for (const std::string& outcome : order) {
    if (!line.empty()) line += "; ";
    if (outcome == "recorded") {
      line += fmt::format("recorded for {} in {} (accept-new, first contact)", names[outcome], files[outcome]);
    } else if (outcome == "not connected") {
      line += fmt::format("not connected yet for {}", names[outcome]);
    } else if (outcome == "not verified") {
      line += fmt::format("not verified for {} (host_key = \"off\")", names[outcome]);
    } else {
      line += fmt::format("{} for {} ({})", outcome, names[outcome], files[outcome]);
    }
  }
  return line;
}

}  // namespace chaosbench::harness::control
