#include "chaosbench/harness/cluster.h"

#include <unistd.h>

#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/ssh_host.h"
#include "chaosbench/targets/adapters/target_registry.h"
#include "chaosbench/targets/protocol/blocking_client.h"

namespace chaosbench::harness {

using targets::protocol::query_status;
using json = nlohmann::json;

namespace {
// Raft says "leader", ZAB "leading" (DESIGN.md's status roles).
bool is_leader_role(const std::string& role) { return role == "leader" || role == "leading"; }
}  // namespace

namespace {
constexpr std::chrono::milliseconds kStatusTimeout{300};

// The first word of `sha256sum FILE`'s output, or "" when it failed.
std::string first_word(const control::CommandResult& result) {
  if (!result.succeeded()) return "";
  return result.out.substr(0, result.out.find_first_of(" \t\n"));
}

std::string local_sha256(const std::filesystem::path& file) {
  auto result = control::run_local({{"sha256sum", file.string()}, {}, {}, {}}, std::chrono::seconds(60), "controller");
  const std::string hash = first_word(result);
  if (hash.empty()) {
    throw control::ControlError(
        fmt::format("controller: cannot hash {}: {}", file.string(), control::one_line(result.err)));
  }
  return hash;
}
}  // namespace

Cluster::Cluster(std::vector<std::shared_ptr<control::Host>> hosts,
                 std::shared_ptr<const targets::adapters::Target> target, ClusterOptions options)
    : target_(std::move(target)), options_(std::move(options)) {
  std::vector<targets::adapters::NodeAddress> addresses;
  for (const auto& host : hosts) addresses.push_back({host->name(), host->address()});
  const std::optional<std::uint16_t> peer_port = target_->peer_port();
  link_proxies_ = !options_.linkproxy.empty() && peer_port.has_value();
  for (std::size_t index = 0; index < hosts.size(); ++index) {
    auto node = std::make_unique<Node>();
    node->host = hosts[index];
    targets::adapters::NodeContext context;
    context.index = static_cast<int>(index);
    context.nodes = addresses;
    if (remote()) {
      context.node_directory = options_.remote_nodes_directory / node->host->name();
      context.refnode = options_.remote_refnode;
      node->host->run_checked({"mkdir", "-p", context.data_directory().string()});
    } else {
      context.node_directory = options_.nodes_directory / node->host->name();
      context.refnode = options_.refnode;
      std::filesystem::create_directories(context.data_directory());
    }
    if (link_proxies_) context.link_proxy_base_port = kLinkProxyBasePort;
    node->node_directory = context.node_directory;
    node->data_directory = context.data_directory();
    if (link_proxies_) {
      // Unix socket paths are limited to 107 bytes.
      node->link_proxy_socket = context.node_directory / "linkproxy.sock";
      if (node->link_proxy_socket.string().size() > 100)
        node->link_proxy_socket = fmt::format("/tmp/chaosbench-linkproxy-{}-{}.sock", ::getpid(), node->host->name());
      control::DaemonSpec& spec = node->link_proxy_spec;
      spec.argv = {(remote() ? options_.remote_linkproxy : options_.linkproxy).string(),
                   "serve",
                   "--control",
                   node->link_proxy_socket.string(),
                   "--seed",
                   std::to_string(options_.faultfs_seed + index)};
      for (std::size_t peer = 0; peer < addresses.size(); ++peer) {
        if (peer == index) continue;
        spec.argv.push_back("--route");
        spec.argv.push_back(fmt::format("{},127.0.0.1:{},{}:{}", addresses[peer].name, kLinkProxyBasePort + peer,
                                        addresses[peer].address, *peer_port));
      }
      spec.log_file = context.node_directory / "linkproxy.log";
    }
    node->launch = target_->launch(context);
    node->spec.argv = node->launch.argv;
    node->spec.environment = node->launch.environment;
    node->spec.log_file = context.node_directory / "log";
    if (options_.faketime) node->spec.faketime_file = context.node_directory / "clock-offset";
    for (const auto& companion : node->launch.companions) {
      control::DaemonSpec spec = node->spec;
      spec.argv = companion.argv;
      spec.environment = companion.environment;
      spec.log_file = context.node_directory / (companion.name + ".log");
      node->companion_specs.push_back(std::move(spec));
    }
    node->gateway = target_->open_gateway(context, options_.gateway_address);
    node->endpoint = node->gateway ? NodeEndpoint{node->host->name(), node->gateway->address(), node->gateway->port()}
                                   : NodeEndpoint{node->host->name(), node->host->address(), target_->client_port()};
    nodes_.push_back(std::move(node));
  }
}

Cluster::~Cluster() {
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    node->daemon.reset();  // SIGKILL and reap
    node->companions.clear();
    node->link_proxy.reset();
    node->faultfs.reset();  // last: nothing uses the mount any more
  }
}

std::shared_ptr<control::Host> Cluster::shared_host(const std::string& name) const { return node(name).host; }

Cluster::Node& Cluster::node(const std::string& name) const {
  for (const auto& node : nodes_) {
    if (node->host->name() == name) return *node;
  }
  throw control::UnknownHost(fmt::format("no node named {} in the cluster", name));
}

void Cluster::start_locked(Node& node) {
  for (const auto& file : node.launch.files) {
    if (!file.written_once || !node.started_once) node.host->write_file(file.path, file.contents);
  }
  // Mounted after the first files are written: what the controller put there
  // is on the disk (durable) before the node runs, as an installer's would be.
  if (!options_.faultfs.empty() && !node.faultfs) mount_faultfs_locked(node);
  if (link_proxies_ && !node.link_proxy) {
    node.link_proxy = start_controlled_locked(node, node.link_proxy_spec, node.link_proxy_spec.argv.front(),
                                              node.link_proxy_socket, "linkproxy", "linkproxy did not start");
  }
  if (remote() && node.faultfs) {
    // The mount exists only in faultfs's namespaces: the node runs in them.
    control::DaemonSpec joined = node.spec;
    joined.argv = {"sh", "-c",
                   R"sh(exec nsenter --target "$(cat "$0")" --user --mount --preserve-credentials -- "$@")sh",
                   faultfs_pid_file(node).string()};
    joined.argv.insert(joined.argv.end(), node.spec.argv.begin(), node.spec.argv.end());
    node.daemon = node.host->start_daemon(joined);
  } else {
    node.daemon = node.host->start_daemon(node.spec);
  }
  node.started_once = true;
  node.paused = false;
}

std::uint64_t Cluster::node_index(const Node& node) const {
  for (std::size_t index = 0; index < nodes_.size(); ++index) {
    if (nodes_[index].get() == &node) return index;
  }
  return 0;
}

void Cluster::mount_faultfs_locked(Node& node) {
  const std::string name = node.host->name();
  // Unix socket paths are limited to 107 bytes.
  node.faultfs_socket = node.node_directory / "faultfs.sock";
  if (node.faultfs_socket.string().size() > 100)
    node.faultfs_socket = fmt::format("/tmp/chaosbench-faultfs-{}-{}.sock", ::getpid(), name);
  control::DaemonSpec spec;
  if (remote()) {
    // A namespace of its own (unshare execs faultfs in place, so the PID
    // written is faultfs's): the mount goes when faultfs goes, and nothing else
    // on the host sees it.
    spec.argv = {"sh", "-c", R"sh(echo $$ > "$0" && exec unshare --user --map-root-user --mount -- "$@")sh",
                 faultfs_pid_file(node).string()};
  }
  spec.argv.insert(
      spec.argv.end(),
      {faultfs_program().string(), "mount", node.data_directory.string(), "--state",
       (node.node_directory / "faultfs-state").string(), "--control", node.faultfs_socket.string(), "--seed",
       std::to_string(options_.faultfs_seed + node_index(node)), "--metadata", options_.faultfs_metadata});
  spec.log_file = node.node_directory / "faultfs.log";
  node.faultfs = start_controlled_locked(node, spec, faultfs_program(), node.faultfs_socket, "faultfs",
                                         fmt::format("faultfs did not mount over {}", node.data_directory.string()));
}

std::unique_ptr<control::Daemon> Cluster::start_controlled_locked(Node& node, const control::DaemonSpec& spec,
                                                                  const std::filesystem::path& program,
                                                                  const std::filesystem::path& socket,
                                                                  const std::string& what, const std::string& failure) {
  auto daemon = node.host->start_daemon(spec);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    try {
      ask_control(node, program, socket, json{{"op", "status"}}, what, std::chrono::seconds(5));
      return daemon;
    } catch (const control::ControlError& error) {
      if (daemon->alive() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      std::string log;
      try {
        log = control::one_line(node.host->read_file(spec.log_file));
      } catch (const control::ControlError& read_error) {
        log = fmt::format("(its log cannot be read: {})", read_error.what());
      }
      throw control::ControlError(
          fmt::format("{}: {}: {}", node.host->name(), failure, log.empty() ? error.what() : log));
    }
  }
}

void Cluster::stop_helpers(std::unique_ptr<control::Daemon> Node::*helper) {
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    auto& daemon = (*node).*helper;
    if (!daemon) continue;
    daemon->signal(control::Signal::term);  // faultfs unmounts and exits, linkproxy closes its links
    if (!daemon->wait_for(std::chrono::seconds(5))) daemon->signal(control::Signal::kill);
    daemon.reset();
  }
}

json Cluster::link_toxics(const std::string& name, const json& request) {
  Node& target = node(name);
  {
    std::lock_guard lock(target.mutex);
    if (!target.link_proxy)
      throw control::ControlError(fmt::format("{}: runs without a link proxy (no link toxic was asked for)", name));
  }
  return ask_control(target, target.link_proxy_spec.argv.front(), target.link_proxy_socket, request, "linkproxy");
}

json Cluster::ask_control(Node& node, const std::filesystem::path& program, const std::filesystem::path& socket,
                          const json& request, const std::string& what, std::chrono::milliseconds timeout) {
  const auto result = node.host->run(
      control::Command({program.string(), "control", socket.string(), request.dump()}).with_timeout(timeout));
  const auto reply = json::parse(result.out, nullptr, false);
  if (!result.succeeded() || !reply.is_object() || !reply.value("ok", false)) {
    const std::string reason = reply.is_object() && reply.contains("error") ? reply["error"].get<std::string>()
                                                                            : control::one_line(result.err);
    throw control::ControlError(
        fmt::format("{}: {} {}: {}", node.host->name(), what, request.value("op", "?"), reason));
  }
  return reply.value("value", json());
}

nlohmann::json Cluster::storage_fault(const std::string& name, const nlohmann::json& request) {
  Node& target = node(name);
  std::filesystem::path socket;
  {
    std::lock_guard lock(target.mutex);
    if (!target.faultfs)
      throw control::ControlError(fmt::format("{}: runs without faultfs (no storage fault was asked for)", name));
    socket = target.faultfs_socket;
  }
  return ask_control(target, faultfs_program(), socket, request, "faultfs");
}

void Cluster::start_all() {
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    start_locked(*node);
    if (!node->companions.empty()) continue;  // companions start once and run for the whole run
    for (std::size_t index = 0; index < node->companion_specs.size(); ++index) {
      for (const auto& file : node->launch.companions[index].files) node->host->write_file(file.path, file.contents);
      node->companions.push_back(node->host->start_daemon(node->companion_specs[index]));
    }
  }
}

std::string Cluster::install_refnode() {
  if (!remote()) return "";
  return install_executable(options_.refnode, options_.remote_refnode);
}

namespace {

// The programs that hosts files may name: every real system's, by file name.
std::set<std::string> nameable_programs() {
  std::set<std::string> names;
  for (const std::string& target : targets::adapters::target_names()) {
    for (const auto& required : targets::adapters::make_target(target, {})->required_programs({})) {
      if (!required.debian_package.empty()) names.insert(required.program.filename().string());
    }
  }
  return names;
}

bool program_is_there(control::Host& host, const std::filesystem::path& program) {
  // A .jar is run by java: it needs to be readable, not executable.
  const std::string test = program.extension() == ".jar" ? "-r" : "-x";
  return host.run(control::Command({"test", test, program.string()})).succeeded();
}

// apt-get install, idempotent; once more after `apt-get update` when it fails
// (a fresh machine's package lists may be empty); then, on a host booted with
// systemd, the services the packages started are stopped and disabled. Returns
// "" or apt's (or systemctl's) last error line.
std::string install_packages(control::Host& host, const std::set<std::string>& packages,
                             const std::set<std::string>& services) {
  std::string names, service_names;
  for (const auto& package : packages) names += " " + control::shell_quote(package);
  for (const auto& service : services) service_names += " " + control::shell_quote(service);
  const std::string install = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends" + names;
  std::string script = "command -v apt-get >/dev/null || { echo 'there is no apt-get' >&2; exit 1; }; { " + install +
                       " || { DEBIAN_FRONTEND=noninteractive apt-get update && " + install + "; }; }";
  if (!service_names.empty())
    script += " && if [ -d /run/systemd/system ]; then systemctl disable --now" + service_names + "; fi";
  const auto result =
      host.run(control::Command({"sh", "-c", script + " || exit 1"}).with_timeout(std::chrono::minutes(15)));
  if (result.succeeded()) return "";
  std::string error_line, last_line;
  std::istringstream lines(result.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    last_line = line;
    if (line.rfind("E: ", 0) == 0) error_line = line;
  }
  if (!error_line.empty()) return error_line;
  return last_line.empty() ? fmt::format("exit {}", result.status.exit_code) : last_line;
}

// Replaces every occurrence of `from` (a program's usual path) in argv's words with `to`.
void replace_program(std::vector<std::string>& argv, const std::string& from, const std::string& to) {
  for (std::string& word : argv) {
    for (std::size_t at = word.find(from); at != std::string::npos; at = word.find(from, at + to.size()))
      word.replace(at, from.size(), to);
  }
}

}  // namespace

void Cluster::check_programs(std::ostream& out) {
  if (!remote()) return;
  const auto required_programs = target_->required_programs(options_.refnode);
  const std::set<std::string> nameable = nameable_programs();
  std::map<std::string, std::set<std::string>> packages_to_install, services_to_stop;  // node -> names
  std::vector<std::string> named;                                                      // "n1 etcd=/opt/etcd"
  for (const auto& node : nodes_) {
    const control::HostSoftware software = node->host->software();
    const std::string& host = node->host->name();
    for (const auto& [name, path] : software.program_paths) {
      if (!nameable.count(name))
        throw control::ControlError(
            fmt::format("{}: programs.{} in the hosts file is not a program of any target (they are: {})", host, name,
                        fmt::join(nameable, ", ")));
    }
    for (const auto& required : required_programs) {
      const std::string name = required.program.filename().string();
      const auto given = software.program_paths.find(name);
      if (given != software.program_paths.end() && !required.debian_package.empty()) {
        if (!program_is_there(*node->host, given->second))
          throw control::ControlError(fmt::format("{}: {} (programs.{} in the hosts file) is not there or not {}", host,
                                                  given->second.string(), name,
                                                  given->second.extension() == ".jar" ? "readable" : "executable"));
        replace_program(node->spec.argv, required.program.string(), given->second.string());
        for (auto& companion : node->companion_specs)
          replace_program(companion.argv, required.program.string(), given->second.string());
        named.push_back(fmt::format("{} {}={}", host, name, given->second.string()));
        continue;
      }
      if (program_is_there(*node->host, required.program)) continue;
      if (required.debian_package.empty() || !software.install_packages)
        throw control::ControlError(fmt::format(
            "{}: {} is not installed there{}", host, required.program.string(),
            required.debian_package.empty()
                ? ""
                : fmt::format(" (Debian package {}; install_packages = false in the hosts file: install it, or give "
                              "its path as programs.{})",
                              required.debian_package, name)));
      packages_to_install[host].insert(required.debian_package);
      if (!required.debian_service.empty()) services_to_stop[host].insert(required.debian_service);
    }
  }
  if (!named.empty())
    out << fmt::format("harness: programs from the hosts file: {}\n", fmt::join(named, ", ")) << std::flush;
  if (packages_to_install.empty()) return;

  std::vector<std::string> installing;
  for (const auto& [host, packages] : packages_to_install)
    installing.push_back(fmt::format("{} ({})", host, fmt::join(packages, ", ")));
  out << fmt::format("harness: installing with apt-get: {}\n", fmt::join(installing, "; ")) << std::flush;
  // In parallel: on five fresh machines a JVM takes a minute each.
  std::map<std::string, std::string> failures;
  std::mutex failures_mutex;
  {
    std::vector<std::jthread> installers;
    for (const auto& [host, packages] : packages_to_install) {
      installers.emplace_back([&, host = host, packages = packages, services = services_to_stop[host]] {
        std::string failure;
        try {
          failure = install_packages(*node(host).host, packages, services);
        } catch (const control::ControlError& error) {
          failure = error.what();
        }
        std::lock_guard lock(failures_mutex);
        if (!failure.empty()) failures[host] = failure;
      });
    }
  }
  if (!failures.empty()) {  // the first host in name order
    const auto& [host, failure] = *failures.begin();
    throw control::ControlError(
        fmt::format("{}: apt-get install {} failed there: {} (install it, or give its path in the hosts file's "
                    "programs)",
                    host, fmt::join(packages_to_install[host], " "), failure));
  }
  for (const auto& [host, packages] : packages_to_install) {
    for (const auto& required : required_programs) {
      if (!required.debian_package.empty() && packages.count(required.debian_package) &&
          !program_is_there(*node(host).host, required.program))
        throw control::ControlError(fmt::format("{}: apt-get installed {} but {} is still missing there", host,
                                                required.debian_package, required.program.string()));
    }
  }
}

std::string Cluster::install_faultfs() {
  if (!remote() || options_.faultfs.empty()) return "";
  const std::string summary = install_executable(options_.faultfs, options_.remote_faultfs);
  const std::string program = control::shell_quote(options_.remote_faultfs.string());
  struct Requirement {
    std::string check, missing;
  };
  const Requirement requirements[] = {
      {"test -c /dev/fuse && test -r /dev/fuse && test -w /dev/fuse",
       "/dev/fuse is missing or not usable: storage faults need FUSE (Debian packages fuse3 and libfuse3-3, and the "
       "fuse kernel module)"},
      {program + " --help", "faultfs cannot run there (it needs the Debian package libfuse3-3)"},
      {"unshare --user --map-root-user --mount true && nsenter --version",
       "cannot make a user and mount namespace for faultfs (unshare and nsenter of util-linux; user namespaces "
       "enabled)"},
  };
  for (const auto& node : nodes_) {
    for (const auto& requirement : requirements) {
      const control::CommandResult result =
          // `|| exit 1`: a missing library's 127 is the answer here, not "cannot start".
          node->host->run(control::Command({"sh", "-c", "(" + requirement.check + ") || exit 1"})
                              .with_timeout(std::chrono::seconds(30)));
      if (!result.succeeded()) {
        const std::string detail = control::one_line(result.err);
        throw control::ControlError(
            fmt::format("{}: {}{}", node->host->name(), requirement.missing, detail.empty() ? "" : ": " + detail));
      }
    }
  }
  return summary;
}

std::string Cluster::install_linkproxy() {
  if (!remote() || !link_proxies_) return "";
  return install_executable(options_.linkproxy, options_.remote_linkproxy);
}

std::string Cluster::install_executable(const std::filesystem::path& local, const std::filesystem::path& remote_path) {
  const std::string hash = local_sha256(local);
  const std::string path = remote_path.string();
  std::string uploaded, present;
  // One host after the other: hosts sharing a filesystem then upload once.
  for (const auto& node : nodes_) {
    control::Host& host = *node->host;
    std::string& list = first_word(host.run({"sha256sum", path})) == hash ? present : uploaded;
    if (&list == &uploaded) {
      host.copy_to(local, remote_path);
      const control::CommandResult check = host.run({"sha256sum", path});
      if (!check.succeeded()) {
        throw control::ControlError(fmt::format("{}: cannot check the upload of {}: sha256sum {}: {}", host.name(),
                                                path, check.status.describe(), control::one_line(check.err)));
      }
      if (first_word(check) != hash) {
        throw control::ControlError(
            fmt::format("{}: {} differs from {} after the upload", host.name(), path, local.string()));
      }
    }
    list += (list.empty() ? "" : ", ") + host.name();
  }
  if (uploaded.empty()) return fmt::format("{}: identical copy already on {}", path, present);
  if (present.empty()) return fmt::format("{}: uploaded to {}", path, uploaded);
  return fmt::format("{}: uploaded to {}; identical copy already on {}", path, uploaded, present);
}

std::vector<std::string> Cluster::collect_logs() {
  std::vector<std::string> failures;
  if (!remote()) return failures;
  for (const auto& node : nodes_) {
    const std::string& name = node->host->name();
    const std::filesystem::path local_directory = options_.nodes_directory / name;
    const auto keep = [&](const std::string& file_name, const std::string& text) {
      std::filesystem::create_directories(local_directory);
      std::ofstream output(local_directory / file_name, std::ios::binary);
      output << text;
      if (!output) throw control::ControlError(fmt::format("cannot write {}", (local_directory / file_name).string()));
    };
    // The node's log, its companions' (Redis Sentinels), its helpers' and the
    // host's supervisor's, under the names they have on the host.
    std::vector<std::filesystem::path> logs = {node->spec.log_file};
    for (const auto& spec : node->companion_specs) logs.push_back(spec.log_file);
    if (!options_.faultfs.empty()) logs.push_back(node->node_directory / "faultfs.log");
    if (link_proxies_) logs.push_back(node->link_proxy_spec.log_file);
    logs.push_back(node->node_directory / "supervisor.log");
    for (const auto& log : logs) {
      try {
        keep(log.filename().string(), node->host->read_file(log));
      } catch (const std::exception& error) {
        if (log.filename() == "supervisor.log") continue;  // only runs with a lease have one
        failures.push_back(fmt::format("{}: {} not copied: {}", name, log.filename().string(), error.what()));
      }
    }
    // What the data directory held at the end (size, time, path), as a listing.
    try {
      const auto listing = node->host->run(control::Command(
          {"find", node->data_directory.string(), "-printf", "%M %10s %TY-%Tm-%Td %TH:%TM:%.2TS %P\\n"}));
      if (listing.succeeded())
        keep("data-listing", listing.out);
      else
        failures.push_back(fmt::format("{}: data listing not made: {}", name, control::one_line(listing.err)));
    } catch (const std::exception& error) {
      failures.push_back(fmt::format("{}: data listing not made: {}", name, error.what()));
    }
  }
  return failures;
}

std::vector<std::string> Cluster::remove_node_directories() {
  std::vector<std::string> failures;
  if (!remote()) return failures;
  for (const auto& node : nodes_) {
    const std::string directory = (options_.remote_nodes_directory / node->host->name()).string();
    try {
      auto result = node->host->run({"rm", "-rf", directory});
      if (!result.succeeded()) {
        failures.push_back(
            fmt::format("{}: cannot remove {}: {}", node->host->name(), directory, control::one_line(result.err)));
      }
      // Empty once every node of this host is gone; left alone otherwise.
      node->host->run({"rmdir", options_.remote_nodes_directory.string()});
    } catch (const std::exception& error) {
      failures.push_back(fmt::format("{}: cannot remove {}: {}", node->host->name(), directory, error.what()));
    }
  }
  return failures;
}

// The node's link proxy and faultfs stay too: it reaches its peers through
// the one and sees its data only through the other.
void Cluster::leave_running() {
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    for (std::unique_ptr<control::Daemon>* daemon : {&node->daemon, &node->link_proxy, &node->faultfs}) {
      if (!*daemon) continue;
      if (!(*daemon)->detach()) {
        throw control::ControlError(fmt::format("{}: cannot leave {} running: this host ends with the controller",
                                                node->host->name(), (*daemon)->describe()));
      }
      daemon->reset();
    }
  }
}

std::string Cluster::log_tail(const std::string& name, std::size_t lines) const {
  Node& target = node(name);
  std::istringstream input;
  if (remote()) {
    try {
      input.str(target.host->read_file(target.spec.log_file));
    } catch (const std::exception& error) {
      return fmt::format("\n    (cannot read the log: {})", error.what());
    }
  } else {
    std::ifstream file(target.spec.log_file);
    std::ostringstream text;
    text << file.rdbuf();
    input.str(text.str());
  }
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(input, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string text;
  for (const auto& kept : tail) text += "\n    " + kept;
  return text.empty() ? "\n    (log is empty)" : text;
}

void Cluster::wait_until_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> silent;
  while (true) {
    silent.clear();
    bool leader_seen = false;
    for (auto& node : nodes_) {
      {
        std::lock_guard lock(node->mutex);
        if (!node->daemon->alive()) {
          auto status = node->daemon->wait_for(std::chrono::milliseconds(0));
          throw control::ControlError(fmt::format("{} exited during startup ({}); its log:{}", node->host->name(),
                                                  status ? status->describe() : "unknown status",
                                                  log_tail(node->host->name())));
        }
        for (std::size_t index = 0; index < node->companions.size(); ++index) {
          if (node->companions[index]->alive()) continue;
          auto status = node->companions[index]->wait_for(std::chrono::milliseconds(0));
          throw control::ControlError(fmt::format("{}: {} exited during startup ({}); its log is {}",
                                                  node->host->name(), node->companions[index]->describe(),
                                                  status ? status->describe() : "unknown status",
                                                  node->companion_specs[index].log_file.string()));
        }
      }
      auto status = query_status(node->endpoint.address, node->endpoint.port, kStatusTimeout);
      if (!status) {
        silent.push_back(node->host->name());
      } else if (is_leader_role(status->value("role", ""))) {
        leader_seen = true;
      }
    }
    if (silent.empty() && (leader_seen || !target_->elects_leader())) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string message = silent.empty() ? fmt::format("the cluster elected no leader within {} ms", timeout.count())
                                       : fmt::format("nodes did not answer status within {} ms:", timeout.count());
  const auto& culprits = silent.empty() ? node_names() : silent;
  for (const auto& name : culprits) message += fmt::format("\n  {} log tail:{}", name, log_tail(name));
  throw control::ControlError(message);
}

bool Cluster::wait_for_leader(std::chrono::milliseconds timeout) {
  if (!target_->elects_leader()) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (leader()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void Cluster::stop_all(std::chrono::milliseconds grace) {
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    for (auto& companion : node->companions) companion->signal(control::Signal::term);
    if (!node->daemon) continue;
    if (node->paused) node->daemon->signal(control::Signal::cont);
    node->daemon->signal(control::Signal::term);
  }
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    for (auto& companion : node->companions) {
      if (!companion->wait_for(grace)) companion->signal(control::Signal::kill);
    }
    node->companions.clear();
    if (!node->daemon) continue;
    if (!node->daemon->wait_for(grace)) {
      node->daemon->signal(control::Signal::kill);
      // Gone before its directory is removed (SSH hosts: rm -rf at the end).
      node->daemon->wait_for(std::chrono::seconds(5));
    }
    node->daemon.reset();
  }
  stop_helpers(&Node::link_proxy);
  stop_helpers(&Node::faultfs);  // last: the data directories hold their files again
}

std::vector<NodeEndpoint> Cluster::endpoints() const {
  std::vector<NodeEndpoint> endpoints;
  for (const auto& node : nodes_) endpoints.push_back(node->endpoint);
  return endpoints;
}

nlohmann::json Cluster::layout() const {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : nodes_) {
    nodes.push_back({{"name", node->host->name()},
                     {"address", node->host->address()},
                     {"target", target_->name()},
                     {"client_address", node->endpoint.address},
                     {"client_port", node->endpoint.port},
                     {"command", node->spec.argv},
                     {"faketime", node->spec.faketime_file.has_value()}});
  }
  return nodes;
}

std::vector<std::string> Cluster::node_names() const {
  std::vector<std::string> names;
  for (const auto& node : nodes_) names.push_back(node->host->name());
  return names;
}

control::Host& Cluster::host(const std::string& name) { return *node(name).host; }

void Cluster::kill(const std::string& name) {
  Node& target = node(name);
  std::lock_guard lock(target.mutex);
  if (!target.daemon) return;
  target.daemon->signal(control::Signal::kill);
  if (!target.daemon->wait_for(std::chrono::seconds(10))) {
    throw control::ControlError(fmt::format("{} survived SIGKILL for 10 s", target.daemon->describe()));
  }
  target.daemon.reset();
  target.paused = false;
}

std::vector<NodeExit> Cluster::collect_exits() {
  std::vector<NodeExit> exits;
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    if (!node->daemon) continue;
    if (auto status = node->daemon->wait_for(std::chrono::milliseconds(0))) {
      exits.push_back({node->host->name(), *status, ""});
      node->daemon.reset();
      node->paused = false;
    }
  }
  // Companions start once and are never stopped before the end: any exit is theirs.
  for (auto& node : nodes_) {
    std::lock_guard lock(node->mutex);
    node->companion_exit_reported.resize(node->companions.size(), false);
    for (std::size_t index = 0; index < node->companions.size(); ++index) {
      if (node->companion_exit_reported[index]) continue;
      if (auto status = node->companions[index]->wait_for(std::chrono::milliseconds(0))) {
        exits.push_back({node->host->name(), *status, node->launch.companions[index].name});
        node->companion_exit_reported[index] = true;
      }
    }
  }
  return exits;
}

void Cluster::restart(const std::string& name) {
  Node& target = node(name);
  std::lock_guard lock(target.mutex);
  if (target.daemon && target.daemon->alive()) return;
  target.daemon.reset();
  start_locked(target);
}

void Cluster::pause(const std::string& name) {
  Node& target = node(name);
  std::lock_guard lock(target.mutex);
  if (target.daemon && target.daemon->signal(control::Signal::stop)) target.paused = true;
}

void Cluster::resume(const std::string& name) {
  Node& target = node(name);
  std::lock_guard lock(target.mutex);
  if (target.daemon && target.paused) target.daemon->signal(control::Signal::cont);
  target.paused = false;
}

std::optional<std::string> Cluster::leader() {
  std::optional<std::string> best;
  std::int64_t best_term = -1;
  for (const auto& node : nodes_) {
    auto status = this->status(node->host->name());  // a paused node is skipped, not waited for
    if (!status || !is_leader_role(status->value("role", ""))) continue;
    const std::int64_t term = status->value("term", std::int64_t{0});
    if (term > best_term) {
      best_term = term;
      best = node->host->name();
    }
  }
  return best;
}

std::optional<nlohmann::json> Cluster::status(const std::string& name) {
  Node& target = node(name);
  NodeEndpoint endpoint;
  {
    std::lock_guard lock(target.mutex);
    if (target.paused) return std::nullopt;  // a stopped process would only run out the timeout
    endpoint = target.endpoint;
  }
  return query_status(endpoint.address, endpoint.port, kStatusTimeout);
}

void Cluster::set_failpoint(const std::string& name, const std::string& point, const std::string& action) {
  if (!target_->has_failpoints()) {
    throw control::ControlError(fmt::format("{}: target {} has no failpoints", name, target_->name()));
  }
  Node& target = node(name);
  NodeEndpoint endpoint;
  {
    std::lock_guard lock(target.mutex);
    if (target.paused) throw control::ControlError(fmt::format("{}: paused, cannot set failpoint {}", name, point));
    endpoint = target.endpoint;
  }
  nlohmann::json reply;
  try {
    targets::protocol::BlockingClient client(endpoint.port, kStatusTimeout, endpoint.address, /*retry_refused=*/false);
    reply = client.call({{"id", 1}, {"op", "failpoint"}, {"name", point}, {"action", action}}, std::chrono::seconds(2));
  } catch (const std::runtime_error& error) {
    throw control::ControlError(fmt::format("{}: failpoint {}={}: {}", name, point, action, error.what()));
  }
  if (!reply.value("ok", false)) {
    throw control::ControlError(fmt::format("{}: failpoint {}={} refused: {}", name, point, action, reply.dump()));
  }
}

std::optional<std::filesystem::path> Cluster::clock_file(const std::string& name) const {
  return node(name).spec.faketime_file;
}

}  // namespace chaosbench::harness
