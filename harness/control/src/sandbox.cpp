#include "chaosbench/harness/control/sandbox.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/faketime.h"
#include "chaosbench/harness/control/process.h"

namespace chaosbench::harness::control {
namespace {

constexpr const char* kSandboxStateDirectory = "/run/chaosbench";

std::string error_text(const std::error_code& error) { return error.message(); }

void create_parent_directories(const std::string& host, const std::filesystem::path& path, const char* action) {
  if (!path.has_parent_path()) return;
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error)
    throw ControlError(fmt::format("{}: cannot {} {}: creating {}: {}", host, action, path.string(),
                                   path.parent_path().string(), error_text(error)));
}

// A node of the sandbox: its own network namespace, the controller's
// filesystem (the mount namespace is shared), the controller's PID namespace.
class SandboxHost final : public Host {
 public:
  SandboxHost(std::string name, std::string address)
      : name_(std::move(name)), address_(std::move(address)), network_namespace_("/run/netns/" + name_) {}

  const std::string& name() const override { return name_; }
  const std::string& address() const override { return address_; }

  CommandResult run(const Command& command) override {
    LocalProcessSpec spec{command.argv, command.environment, command.working_directory, network_namespace_};
    return run_local(spec, command.timeout, name_);
  }

  std::unique_ptr<Daemon> start_daemon(const DaemonSpec& daemon) override {
    LocalProcessSpec spec{daemon.argv, daemon.environment, daemon.working_directory, network_namespace_};
    if (daemon.faketime_file) add_faketime(spec, *daemon.faketime_file);
    return start_local_daemon(spec, daemon.log_file, name_);
  }

  void copy_to(const std::filesystem::path& local_file, const std::filesystem::path& path) override {
    create_parent_directories(name_, path, "copy to");
    std::error_code error;
    std::filesystem::copy_file(local_file, path, std::filesystem::copy_options::overwrite_existing, error);
    if (error)
      throw ControlError(
          fmt::format("{}: cannot copy {} to {}: {}", name_, local_file.string(), path.string(), error_text(error)));
  }

  // Durable when it returns (file and directory entry fsynced), as an
  // installer's files are: a power loss (faultfs) must not take a config file.
  void write_file(const std::filesystem::path& path, std::string_view contents) override {
    create_parent_directories(name_, path, "write");
    std::filesystem::path temporary = path;
    temporary += fmt::format(".tmp-{}", ::getpid());
    {
      const int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (descriptor < 0)
        throw ControlError(fmt::format("{}: cannot write {}: {}", name_, temporary.string(), std::strerror(errno)));
      std::string_view rest = contents;
      bool failed = false;
      while (!rest.empty() && !failed) {
        const ssize_t written = ::write(descriptor, rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) {
          failed = true;
        } else {
          rest.remove_prefix(static_cast<std::size_t>(written));
        }
      }
      if (failed || ::fsync(descriptor) != 0) {
        const int saved = errno;
        ::close(descriptor);
        throw ControlError(fmt::format("{}: cannot write {}: {}", name_, temporary.string(), std::strerror(saved)));
      }
      ::close(descriptor);
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
      std::filesystem::remove(temporary, error);
      throw ControlError(fmt::format("{}: cannot replace {}: {}", name_, path.string(), error_text(error)));
    }
    const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const int directory_descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_descriptor >= 0) {
      const bool synced = ::fsync(directory_descriptor) == 0;
      const int saved = errno;
      ::close(directory_descriptor);
      if (!synced)
        throw ControlError(fmt::format("{}: cannot sync {}: {}", name_, directory.string(), std::strerror(saved)));
    }
  }

  std::string read_file(const std::filesystem::path& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ControlError(fmt::format("{}: cannot read {}: {}", name_, path.string(), std::strerror(errno)));
    std::stringstream content;
    content << in.rdbuf();
    if (in.bad()) throw ControlError(fmt::format("{}: error reading {}", name_, path.string()));
    return content.str();
  }

 private:
  void add_faketime(LocalProcessSpec& spec, const std::filesystem::path& offset_file) {
    std::string search_path =
        spec.environment.count("PATH") ? spec.environment.at("PATH") : (std::getenv("PATH") ? std::getenv("PATH") : "");
    auto executable = resolve_executable(spec.argv.at(0), search_path);
    if (executable && !honours_ld_preload(*executable)) {
      throw ControlError(
          fmt::format("{}: cannot fake the clock of `{}`: {} is statically linked and ignores "
                      "LD_PRELOAD (libfaketime)",
                      name_, format_command(spec.argv), executable->string()));
    }
    std::error_code error;
    if (!std::filesystem::exists(offset_file, error)) write_file(offset_file, "+0\n");
    std::string existing = spec.environment.count("LD_PRELOAD") ? spec.environment.at("LD_PRELOAD") : "";
    for (auto& [key, value] : faketime_environment(find_libfaketime(), offset_file, existing))
      spec.environment[key] = value;
  }

  std::string name_;
  std::string address_;
  std::filesystem::path network_namespace_;
};

// Runs a setup command in the controller's namespace; throws on failure.
void run_setup(const std::vector<std::string>& argv) {
  CommandResult result = run_local(LocalProcessSpec{argv, {}, {}, {}}, std::chrono::seconds(30), "sandbox");
  if (!result.succeeded()) {
    throw ControlError(fmt::format("sandbox: `{}` {}: {}", format_command(argv), result.status.describe(),
                                   one_line(result.err.empty() ? result.out : result.err)));
  }
}

}  // namespace

Sandbox::Sandbox(const SandboxSession&, SandboxOptions options) : options_(std::move(options)) {
  if (options_.nodes < 1 || options_.nodes > 250)
    throw ControlError(fmt::format("sandbox: {} nodes requested; the sandbox holds 1 to 250", options_.nodes));
  if (!std::regex_match(options_.subnet, std::regex(R"((\d{1,3})\.(\d{1,3})\.(\d{1,3}))")))
    throw ControlError(fmt::format("sandbox: subnet '{}' is not of the form A.B.C (a /24)", options_.subnet));
  controller_address_ = options_.subnet + ".254";
  try {
    run_setup({"ip", "link", "set", "lo", "up"});
    run_setup({"ip", "link", "add", options_.bridge, "type", "bridge"});
    bridge_created_ = true;
    run_setup({"ip", "addr", "add", controller_address_ + "/24", "dev", options_.bridge});
    run_setup({"ip", "link", "set", options_.bridge, "up"});
    for (int index = 1; index <= options_.nodes; ++index) {
      std::string name = fmt::format("n{}", index);
      std::string address = fmt::format("{}.{}", options_.subnet, index);
      std::string outside = fmt::format("cbv-{}", name);
      run_setup({"ip", "netns", "add", name});
      ++namespaces_created_;
      run_setup({"ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", name});
      run_setup({"ip", "link", "set", outside, "master", options_.bridge, "up"});
      run_setup({"ip", "-n", name, "addr", "add", address + "/24", "dev", "eth0"});
      run_setup({"ip", "-n", name, "link", "set", "eth0", "up"});
      run_setup({"ip", "-n", name, "link", "set", "lo", "up"});
      hosts_.push_back(std::make_shared<SandboxHost>(name, address));
    }

    // Names for configs of real systems: n1..nN and controller resolve in the sandbox.
    std::string hosts_text;
    {
      std::ifstream original("/etc/hosts");
      std::stringstream content;
      content << original.rdbuf();
      hosts_text = content.str();
    }
    if (!hosts_text.empty() && hosts_text.back() != '\n') hosts_text += '\n';
    hosts_text += "# chaosbench sandbox\n";
    hosts_text += fmt::format("{} controller\n", controller_address_);
    for (const auto& host : hosts_) hosts_text += fmt::format("{} {}\n", host->address(), host->name());
    std::filesystem::path hosts_file = std::filesystem::path(kSandboxStateDirectory) / "hosts";
    std::filesystem::create_directories(kSandboxStateDirectory);
    {
      std::ofstream out(hosts_file);
      out << hosts_text;
      if (!out) throw ControlError(fmt::format("sandbox: cannot write {}", hosts_file.string()));
    }
    if (::mount(hosts_file.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0)
      throw ControlError(
          fmt::format("sandbox: cannot bind-mount {} on /etc/hosts: {}", hosts_file.string(), std::strerror(errno)));
    hosts_file_mounted_ = true;
  } catch (...) {
    try {
      teardown();
    } catch (const ControlError& cleanup_error) {
      std::fprintf(stderr, "sandbox: cleanup after a failed setup also failed: %s\n", cleanup_error.what());
    }
    throw;
  }
}

Sandbox::~Sandbox() {
  try {
    teardown();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
  }
}

std::shared_ptr<Host> Sandbox::host(std::string_view name) const {
  for (const auto& host : hosts_) {
    if (host->name() == name) return host;
  }
  throw UnknownHost(fmt::format("unknown host '{}': the sandbox has n1..n{}", name, options_.nodes));
}

void Sandbox::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  std::vector<std::string> failures;
  auto attempt = [&failures](const std::vector<std::string>& argv) {
    try {
      run_setup(argv);
    } catch (const ControlError& error) {
      failures.push_back(error.what());
    }
  };
  if (hosts_file_mounted_ && ::umount2("/etc/hosts", MNT_DETACH) != 0)
    failures.push_back(fmt::format("umount /etc/hosts: {}", std::strerror(errno)));
  for (int index = 1; index <= namespaces_created_; ++index)
    attempt({"ip", "netns", "delete", fmt::format("n{}", index)});
  if (bridge_created_) attempt({"ip", "link", "delete", options_.bridge});
  hosts_.clear();
  if (!failures.empty()) {
    std::string message = "sandbox teardown:";
    for (const auto& failure : failures) message += " " + failure + ";";
    throw ControlError(message);
  }
}

}  // namespace chaosbench::harness::control
