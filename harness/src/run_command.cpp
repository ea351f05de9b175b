#include "chaosbench/harness/run_command.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ctime>
#include <functional>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/harness/checker_selection.h"
#include "chaosbench/harness/client_pool.h"
#include "chaosbench/harness/cluster.h"
#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/faketime.h"
#include "chaosbench/harness/control/network_faults.h"
#include "chaosbench/harness/control/sandbox.h"
#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/history_recorder.h"
#include "chaosbench/harness/host_lease.h"
#include "chaosbench/harness/liveness.h"
#include "chaosbench/harness/online_checker.h"
#include "chaosbench/harness/progress_line.h"
#include "chaosbench/harness/run_results.h"
#include "chaosbench/harness/run_store.h"
#include "chaosbench/harness/swarm.h"
#include "chaosbench/nemesis/nemesis.h"
#include "chaosbench/nemesis/schedule.h"
#include "chaosbench/reports/run_report.h"
#include "chaosbench/targets/adapters/target_registry.h"

#ifndef CHAOSBENCH_VERSION
#define CHAOSBENCH_VERSION "unknown"
#endif

namespace chaosbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The target runs our own refnode (the reference nodes), not a system from its Debian package.
bool runs_refnode(const targets::adapters::Target& target, const fs::path& refnode) {
  const auto programs = target.required_programs(refnode);
  return std::any_of(programs.begin(), programs.end(),
                     [](const targets::adapters::RequiredProgram& program) { return program.debian_package.empty(); });
}

std::chrono::milliseconds flag_duration(const std::string& flag, const std::string& text) {
  try {
    return parse_duration(text);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(fmt::format("{}: {}", flag, error.what()));
  }
}

// Blocks SIGINT, SIGTERM and SIGHUP for the whole process (call before any
// thread starts) and turns them into one callback on a watcher thread.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&signals_);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals_, signal);
    if (int error = pthread_sigmask(SIG_BLOCK, &signals_, nullptr); error != 0) {
      throw std::system_error(error, std::generic_category(), "pthread_sigmask");
    }
    std::signal(SIGPIPE, SIG_IGN);
    thread_ = std::jthread([this](std::stop_token stop) {
      const timespec poll{0, 100'000'000};
      while (!stop.stop_requested()) {
        const int signal = sigtimedwait(&signals_, nullptr, &poll);
        if (signal <= 0) continue;
        std::lock_guard lock(mutex_);
        received_ = signal;
        if (handler_ && !handled_) {
          handled_ = ever_handled_ = true;
          handler_(signal);
        }
      }
    });
  }
  // Runs handler once, at the next signal (at once if one came before any
  // handler was set). Replacing the handler re-arms it.
  void set_handler(std::function<void(int)> handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
    handled_ = false;
    if (received_ && !ever_handled_) {
      handled_ = ever_handled_ = true;
      handler_(received_);
    }
  }
  int received() const { return received_; }

 private:
  sigset_t signals_;
  std::mutex mutex_;
  std::function<void(int)> handler_;
  bool handled_ = false;
  bool ever_handled_ = false;
  std::atomic<int> received_{0};
  std::jthread thread_;
};

std::string iso_time(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &local);
  return text;
}

// --log-pattern as given, or the defaults.
const std::vector<std::string>& log_pattern_texts(const RunOptions& options) {
  return options.log_patterns.empty() ? default_log_patterns() : options.log_patterns;
}

json options_json(const RunPlan& plan) {
  const RunOptions& options = plan.options;
  return {
      {"target", options.target},
      {"nodes", options.nodes},
      {"workload", options.workload},
      {"nemesis", options.nemesis},
      {"nemesis_interval", options.nemesis_interval},
      {"partition_shapes", options.partition_shapes},
      {"kill_targets", options.kill_targets},
      {"swarm", plan.swarm_flags.empty() ? json(nullptr) : json(plan.swarm_flags)},
      {"corrupt_files", options.corrupt_files},
      {"disk_targets", options.disk_targets},
      {"power_loss_restart", options.power_loss_restart},
      {"storage_metadata", options.storage_metadata},
      {"clock_bump_max_seconds", options.clock_bump_max_seconds},
      {"concurrency", options.concurrency},
      {"rate", options.rate},
      {"time_limit", options.time_limit},
      {"seed", plan.seed},
      {"target_arguments", options.target_arguments},
      {"store", options.store},
      {"test_name", plan.test_name},
      {"ops_per_key", options.ops_per_key},
      {"read_fraction", options.read_fraction},
      {"key_distribution", workloads::to_string(plan.txn_keys.distribution)},
      {"key_count", plan.txn_keys.key_count},
      {"max_writes_per_key", plan.txn_keys.max_writes_per_key},
      {"group_size", plan.long_fork_group_size},
      {"client_routing", options.client_routing},
      {"operation_timeout", options.operation_timeout},
      {"recovery_time", options.recovery_time},
      {"recovery_limit", options.recovery_limit},
      {"log_patterns", log_pattern_texts(options)},
      {"check_time_limit", options.check_time_limit},
      {"checkers", plan.checker_names},
      {"consistency_model", plan.consistency_model ? std::string(checkers::to_string(*plan.consistency_model)) : ""},
      {"refnode", plan.refnode.string()},
      {"hosts_file", options.hosts_file},
      {"remote_directory", options.hosts_file.empty() ? "" : options.remote_directory},
      {"leave_db_running", options.leave_db_running},
      {"host_lease", options.hosts_file.empty() ? "" : options.host_lease},
      {"check_online", options.check_online || options.stop_on_invalid},
      {"stop_on_invalid", options.stop_on_invalid}};
}

// The workload's setup operations (e.g. the bank's opening balances), each
// until it is ok, by one client process before any other starts: a definite
// failure (e.g. no leader yet) is retried; an unknown outcome or repeated
// failure is a harness failure (std::runtime_error), since the workload's
// checkers assume the setup happened.
void run_setup_operations(workloads::Workload& workload, const std::vector<NodeEndpoint>& endpoints,
                          std::chrono::milliseconds operation_timeout, HistoryRecorder& recorder, std::ostream& out) {
  const std::vector<workloads::ClientOperation> setup = workload.setup_operations();
  if (setup.empty()) return;
  ClientPoolOptions setup_options;
  setup_options.endpoints = endpoints;
  setup_options.concurrency = 1;
  setup_options.operation_timeout = operation_timeout;
  ClientPool setup_pool(setup_options, workload, recorder);
  constexpr int kAttempts = 10;
  for (const workloads::ClientOperation& operation : setup) {
    for (int attempt = 1;; ++attempt) {
      setup_pool.run_final_reads({operation});
      const checkers::OpType outcome = recorder.history().operations.back().type;
      if (outcome == checkers::OpType::ok) break;
      if (outcome == checkers::OpType::info || attempt == kAttempts) {
        throw std::runtime_error(fmt::format(
            "workload setup: '{}' {} ended {}; the {} workload cannot start", operation.function,
            operation.value.dump(), outcome == checkers::OpType::info ? "unknown (info)" : "failed", workload.name()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  out << fmt::format("harness: workload setup done ({} op{})\n", setup.size(), setup.size() == 1 ? "" : "s")
      << std::flush;
}

// --key-dist, --key-count, --max-writes-per-key: only for the workloads with a
// KeyPool; the key count resolved to the distribution's default when not given.
workloads::KeyPoolOptions plan_key_pool(const RunOptions& options) {
  workloads::KeyPoolOptions keys;
  const bool given =
      !options.key_distribution.empty() || !options.key_count.empty() || !options.max_writes_per_key.empty();
  if (given && !workloads::uses_key_pool(options.workload)) {
    const char* flag = !options.key_distribution.empty() ? "--key-dist"
                       : !options.key_count.empty()      ? "--key-count"
                                                         : "--max-writes-per-key";
    throw std::invalid_argument(
        fmt::format("{}: applies to the list-append and rw-register workloads only, not {}", flag, options.workload));
  }
  if (!options.key_distribution.empty())
    keys.distribution = workloads::parse_key_distribution(options.key_distribution);
  keys.key_count = options.key_count.empty()
                       ? workloads::default_key_count(keys.distribution)
                       : workloads::parse_pool_count("--key-count", options.key_count, workloads::kMostActiveKeys);
  if (!options.max_writes_per_key.empty()) {
    keys.max_writes_per_key =
        workloads::parse_pool_count("--max-writes-per-key", options.max_writes_per_key, workloads::kMostWritesPerKey);
  }
  return keys;
}

long peak_rss_kilobytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

const std::vector<std::string>& known_targets() { return targets::adapters::target_names(); }

std::optional<std::string> workload_not_served(const std::string& target, const std::string& workload) {
  const auto& workloads = workloads::workload_names();
  if (std::find(workloads.begin(), workloads.end(), workload) == workloads.end()) {
    throw std::invalid_argument(
        fmt::format("--workload: unknown workload '{}' (known: {})", workload, workloads::known_workloads_text()));
  }
  const std::set<std::string> supported = targets::adapters::make_target(target, {})->supported_operations();
  std::vector<std::string> missing;
  for (const std::string& operation : workloads::make_workload(workload, 0, {}, 0.5)->client_operations()) {
    if (supported.count(operation) == 0) missing.push_back(operation);
  }
  if (missing.empty()) return std::nullopt;
  return fmt::format(
      "target {} cannot serve workload {}: it has no '{}' op (the target x workload table: "
      "docs/real-systems.md)",
      target, workload, fmt::join(missing, "', '"));
}

RunPlan plan_run(const RunOptions& given, const fs::path& harness_executable) {
  RunPlan plan;
  plan.seed = given.seed ? *given.seed : std::random_device{}() % 1'000'000;
  RunOptions drawn = given;
  const auto target = targets::adapters::make_target(given.target, given.target_arguments);  // checks the name
  if (given.nemesis == "random") {
    // Swarm testing: the seed draws the fault configuration (swarm.h), replacing these four flags.
    const SwarmDraw draw = draw_swarm(plan.seed, target->has_failpoints(), target->peer_port().has_value());
    drawn.nemesis = draw.nemesis;
    drawn.kill_targets = draw.kill_targets;
    drawn.partition_shapes = draw.partition_shapes;
    drawn.nemesis_interval = draw.nemesis_interval;
    plan.swarm_flags = draw.flags();
  }
  const RunOptions& options = drawn;
  plan.options = options;
  if (options.nodes < 1 || options.nodes > 250) {
    throw std::invalid_argument(fmt::format("--nodes: {} is out of range (1-250)", options.nodes));
  }
  if (auto problem = workload_not_served(options.target, options.workload)) {
    throw std::invalid_argument(fmt::format("--workload: {}", *problem));
  }
  for (const std::string& name : options.checker_names) {
    if (!is_known_checker(name)) {
      throw std::invalid_argument(
          fmt::format("--checker: unknown checker '{}' (known: {})", name, known_checkers_text()));
    }
  }
  plan.checker_names = options.checker_names.empty()
                           ? workloads::make_workload(options.workload, 0, {}, 0.5)->default_checkers()
                           : options.checker_names;
  if (!options.consistency_model.empty()) {
    plan.consistency_model = checkers::parse_consistency_model(options.consistency_model);
    if (!plan.consistency_model) {
      throw std::invalid_argument(fmt::format(
          "--consistency-model: unknown model '{}' (known: read-uncommitted, read-committed, monotonic-atomic-view, "
          "consistent-view, snapshot-isolation, repeatable-read, serializable, strong-session-serializable, "
          "strict-serializable)",
          options.consistency_model));
    }
  }
  if (options.wfr_keys || options.sequential_keys || options.linearizable_keys) {
    const bool judged_as_rw_register =
        std::any_of(plan.checker_names.begin(), plan.checker_names.end(),
                    [](const std::string& name) { return name == "elle-rw-register" || name == "rw-register"; });
    if (!judged_as_rw_register) {
      throw std::invalid_argument(
          fmt::format("{}: applies to the elle-rw-register checker only, which this run does not use (workload {})",
                      options.wfr_keys          ? "--wfr-keys"
                      : options.sequential_keys ? "--sequential-keys"
                                                : "--linearizable-keys",
                      options.workload));
    }
  }
  try {
    plan.faults = nemesis::parse_fault_list(options.nemesis);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(fmt::format("--nemesis: {}", error.what()));
  }
  if (options.corrupt_files != "wal" && options.corrupt_files != "snapshot" && options.corrupt_files != "any") {
    throw std::invalid_argument(
        fmt::format("--corrupt-files: unknown class '{}' (known: wal, snapshot, any)", options.corrupt_files));
  }
  plan.corrupt_glob = target->storage_glob(options.corrupt_files);
  if (options.storage_metadata != "strict" && options.storage_metadata != "journaled") {
    throw std::invalid_argument(
        fmt::format("--storage-metadata: unknown '{}' (known: strict, journaled)", options.storage_metadata));
  }
  if (std::find(plan.faults.begin(), plan.faults.end(), nemesis::FaultKind::failpoint) != plan.faults.end() &&
      !target->has_failpoints()) {
    throw std::invalid_argument(
        fmt::format("--nemesis failpoint: target {} has no failpoints (the reference nodes raft, zab and quorum have)",
                    options.target));
  }
  plan.partition_shapes = nemesis::parse_partition_shapes(options.partition_shapes);
  auto targets_flag = [](const char* flag, const std::string& text) {
    if (auto targets = nemesis::parse_kill_targets(text)) return *targets;
    throw std::invalid_argument(
        fmt::format("{}: unknown '{}' (known: mixed, one, minority, majority, all, leader, followers)", flag, text));
  };
  plan.kill_targets = targets_flag("--kill-targets", options.kill_targets);
  plan.disk_targets = targets_flag("--disk-targets", options.disk_targets);
  if (auto order = nemesis::parse_power_loss_restart(options.power_loss_restart)) {
    plan.power_loss_restart = *order;
  } else {
    throw std::invalid_argument(fmt::format("--power-loss-restart: unknown order '{}' (known: together, leader-last)",
                                            options.power_loss_restart));
  }
  plan.nemesis_interval = flag_duration("--nemesis-interval", options.nemesis_interval);
  plan.time_limit = flag_duration("--time-limit", options.time_limit);
  plan.operation_timeout = flag_duration("--op-timeout", options.operation_timeout);
  plan.recovery_time = flag_duration("--recovery-time", options.recovery_time);
  plan.recovery_limit = flag_duration("--recovery-limit", options.recovery_limit);
  plan.log_patterns = compile_log_patterns(log_pattern_texts(options));
  plan.check_time_limit = flag_duration("--check-time-limit", options.check_time_limit);
  plan.host_lease = flag_duration("--host-lease", options.host_lease);
  if (plan.host_lease < std::chrono::seconds(1))
    throw std::invalid_argument(fmt::format("--host-lease: {} is less than 1s", options.host_lease));
  if (plan.time_limit.count() <= 0) throw std::invalid_argument("--time-limit: must be more than 0");
  if (plan.nemesis_interval.count() <= 0 && !plan.faults.empty()) {
    throw std::invalid_argument("--nemesis-interval: must be more than 0");
  }
  if (plan.operation_timeout.count() <= 0) throw std::invalid_argument("--op-timeout: must be more than 0");
  if (options.concurrency < 1 || options.concurrency > 10000) {
    throw std::invalid_argument(fmt::format("--concurrency: {} is out of range (1-10000)", options.concurrency));
  }
  if (!(options.rate >= 0) || options.rate > 1e7) {
    throw std::invalid_argument(fmt::format("--rate: {} is out of range (0 = closed loop, up to 1e7)", options.rate));
  }
  if (options.client_routing != "sticky" && options.client_routing != "any") {
    throw std::invalid_argument(
        fmt::format("--client-routing: unknown routing '{}' (known: sticky, any)", options.client_routing));
  }
  if (!(options.read_fraction >= 0 && options.read_fraction <= 1)) {
    throw std::invalid_argument(fmt::format("--read-fraction: {} is not between 0 and 1", options.read_fraction));
  }
  plan.txn_keys = plan_key_pool(options);
  if (!options.group_size.empty()) {
    if (options.workload != "long-fork") {
      throw std::invalid_argument(
          fmt::format("--group-size: applies to the long-fork workload only, not {}", options.workload));
    }
    plan.long_fork_group_size = workloads::parse_pool_count("--group-size", options.group_size, kMostLongForkGroupSize);
  }
  if (!(options.clock_bump_max_seconds >= 0.5)) throw std::invalid_argument("--clock-bump: must be at least 0.5 s");
  try {
    plan.rotation = workloads::parse_key_rotation(options.ops_per_key);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(error.what());
  }
  plan.test_name = options.test_name.empty() ? options.target + "-" + options.workload : options.test_name;
  if (plan.test_name.find('/') != std::string::npos || plan.test_name == "." || plan.test_name == ".." ||
      plan.test_name == "latest") {
    throw std::invalid_argument(fmt::format("--test-name: '{}' is not a plain directory name", plan.test_name));
  }
  plan.refnode = options.refnode.empty() ? harness_executable.parent_path() / "refnode" : fs::path(options.refnode);
  // Over SSH the system's own programs are looked for on the hosts (Cluster::check_programs).
  if (options.hosts_file.empty() || runs_refnode(*target, plan.refnode))
    targets::adapters::check_required_programs(*target, plan.refnode);  // names the missing binary and its package
  plan.refnode = fs::absolute(plan.refnode);
  const auto storage_fault = std::find_if(plan.faults.begin(), plan.faults.end(), nemesis::is_storage_fault);
  if (storage_fault != plan.faults.end()) {
    const std::string flag = fmt::format("--nemesis {}", nemesis::to_string(*storage_fault));
    plan.faultfs = options.faultfs.empty() ? harness_executable.parent_path() / "faultfs" : fs::path(options.faultfs);
    if (::access(plan.faultfs.c_str(), X_OK) != 0) {
      throw std::invalid_argument(
          fmt::format("{}: faultfs not found at {} (it is built with the project; or give --faultfs PATH)", flag,
                      plan.faultfs.string()));
    }
    plan.faultfs = fs::absolute(plan.faultfs);
    // SSH hosts are checked when faultfs is installed on them (Cluster::install_faultfs).
    if (options.hosts_file.empty() && ::access("/dev/fuse", R_OK | W_OK) != 0) {
      throw std::invalid_argument(fmt::format(
          "{}: /dev/fuse is missing or not usable here: storage faults need FUSE (Debian packages fuse3 and "
          "libfuse3-3, and the fuse kernel module)",
          flag));
    }
  }
  const auto link_toxic = std::find_if(plan.faults.begin(), plan.faults.end(), nemesis::is_link_toxic);
  const bool delay = std::find(plan.faults.begin(), plan.faults.end(), nemesis::FaultKind::delay) != plan.faults.end();
  if (link_toxic != plan.faults.end() && !target->peer_port()) {
    throw std::invalid_argument(fmt::format(
        "--nemesis {}: needs link proxies between the nodes, which only the reference nodes (raft, zab, quorum) have "
        "so far, not {}",
        nemesis::to_string(*link_toxic), options.target));
  }
  if ((link_toxic != plan.faults.end() || delay) && target->peer_port()) {
    const std::string flag = fmt::format(
        "--nemesis {}", nemesis::to_string(link_toxic != plan.faults.end() ? *link_toxic : nemesis::FaultKind::delay));
    plan.linkproxy =
        options.linkproxy.empty() ? harness_executable.parent_path() / "linkproxy" : fs::path(options.linkproxy);
    if (::access(plan.linkproxy.c_str(), X_OK) != 0) {
      throw std::invalid_argument(
          fmt::format("{}: linkproxy not found at {} (it is built with the project; or give --linkproxy PATH)", flag,
                      plan.linkproxy.string()));
    }
    plan.linkproxy = fs::absolute(plan.linkproxy);
  }
  if (!options.hosts_file.empty()) {
    try {
      plan.hosts = control::read_hosts_file(options.hosts_file);
    } catch (const control::ControlError& error) {
      throw std::invalid_argument(fmt::format("--hosts: {}", error.what()));
    }
    if (plan.hosts.empty())
      throw std::invalid_argument(fmt::format("--hosts: {} lists no [[host]]", options.hosts_file));
    if (options.nodes_from_hosts) {
      plan.options.nodes = static_cast<int>(plan.hosts.size());
    } else if (static_cast<std::size_t>(options.nodes) != plan.hosts.size()) {
      throw std::invalid_argument(
          fmt::format("--nodes: {} does not match the {} host{} of {} (leave --nodes out to use them all)",
                      options.nodes, plan.hosts.size(), plan.hosts.size() == 1 ? "" : "s", options.hosts_file));
    }
    check_remote_directory(options.remote_directory);
  } else if (options.leave_db_running) {
    throw std::invalid_argument("--leave-db-running: only with --hosts (the local sandbox ends with the run)");
  }
  return plan;
}

namespace {

// One `harness run` (the body of both run_test()s), in named phases: prepare,
// deploy, drive, heal, final reads, teardown, check, results. Exactly one of
// session (sandbox) and ssh_hosts is set. Members are declared in the order
// they are made, so an exception unwinds them in reverse: the nemesis thread
// is told to stop and joined, then every fault is healed (HealGuard) before the
// cluster and the sandbox go: no iptables rule or stopped process outlives a
// failed run on an SSH host.
class TestRun {
 public:
  TestRun(const RunPlan& plan, const control::SandboxSession* session,
          const std::vector<std::shared_ptr<control::SshHost>>* ssh_hosts, std::ostream& out, std::ostream& errors)
      : plan_(plan), options_(plan.options), session_(session), ssh_hosts_(ssh_hosts), out_(out), errors_(errors) {}

  int run() {
    prepare();
    deploy();
    drive();
    heal();
    final_reads();
    teardown();
    return check_and_report();
  }

 private:
  // Heals every fault the nemesis still holds when it goes out of scope
  // unless heal() already did: the exit paths that skip heal() are exceptions.
  class HealGuard {
   public:
    HealGuard(nemesis::Nemesis& nemesis, std::ostream& errors) : nemesis_(nemesis), errors_(errors) {}
    ~HealGuard() {
      if (!armed_) return;
      try {
        nemesis_.request_interrupt();
        nemesis_.heal_all();
      } catch (const std::exception& error) {
        errors_ << "harness: while unwinding a failed run: " << error.what() << "\n";
      }
    }
    HealGuard(const HealGuard&) = delete;
    HealGuard& operator=(const HealGuard&) = delete;
    void disarm() { armed_ = false; }

   private:
    nemesis::Nemesis& nemesis_;
    std::ostream& errors_;
    bool armed_ = true;
  };

  // The run directory, the fault schedule, whether clock faults can be applied, the banner.
  void prepare() {
    started_at_ = std::chrono::system_clock::now();
    run_directory_ = fs::absolute(create_run_directory(options_.store, plan_.test_name, started_at_));
    schedule_ = nemesis::build_schedule(plan_.faults, plan_.nemesis_interval, plan_.time_limit, plan_.seed);
    std::string fault_names;
    for (auto kind : plan_.faults) {
      fault_names += (fault_names.empty() ? "" : ",") + std::string(nemesis::to_string(kind));
    }
    out_ << fmt::format("harness: {} seed {}: {} x {} node{}, {} workload, nemesis {} every {} ms, {} ms\n",
                        plan_.test_name, plan_.seed, options_.target, options_.nodes, options_.nodes == 1 ? "" : "s",
                        options_.workload, fault_names.empty() ? "none" : fault_names, plan_.nemesis_interval.count(),
                        plan_.time_limit.count());
    if (!plan_.swarm_flags.empty()) {
      out_ << fmt::format("harness: --nemesis random drew (seed {}): {}\n", plan_.seed, plan_.swarm_flags);
    }
    out_ << fmt::format("harness: store {}\n", run_directory_.string()) << std::flush;

    const bool clock_faults =
        std::find(plan_.faults.begin(), plan_.faults.end(), nemesis::FaultKind::clock) != plan_.faults.end();
    faketime_ = clock_faults;
    if (clock_faults) {
      // SSH hosts: each host's libfaketime is looked for when a node starts there.
      if (session_) control::find_libfaketime();  // throws (naming the package) when it is missing
      const auto target = targets::adapters::make_target(options_.target, options_.target_arguments);
      const fs::path daemon_program = target->required_programs(plan_.refnode).front().program;
      if (!control::honours_ld_preload(daemon_program)) {
        errors_ << fmt::format(
            "harness: warning: {} is statically linked, so LD_PRELOAD (libfaketime) has no effect on it: clock "
            "faults will be recorded as errors and not applied\n",
            daemon_program.string());
        faketime_ = false;
      }
    }
  }

  // Hosts (a fresh sandbox, or the SSH hosts), the cluster, test.json; the
  // nodes started and serving.
  void deploy() {
    std::vector<std::shared_ptr<control::Host>> hosts;
    if (session_) {
      sandbox_ = std::make_unique<control::Sandbox>(*session_, control::SandboxOptions{options_.nodes});
      hosts = sandbox_->hosts();
      cluster_options_.gateway_address = sandbox_->controller_address();
    } else {
      hosts.assign(ssh_hosts_->begin(), ssh_hosts_->end());
      const fs::path remote = options_.remote_directory;
      cluster_options_.remote_nodes_directory = remote / plan_.test_name / run_directory_.filename();
      cluster_options_.remote_refnode = remote / "bin" / "refnode";
      cluster_options_.remote_faultfs = remote / "bin" / "faultfs";
      cluster_options_.remote_linkproxy = remote / "bin" / "linkproxy";
      for (const auto& host : hosts)
        host->set_firewall_chain(
            control::run_chain_name((cluster_options_.remote_nodes_directory / host->name()).string()));
    }
    cluster_options_.refnode = plan_.refnode;
    cluster_options_.nodes_directory = run_directory_ / "nodes";
    cluster_options_.faketime = faketime_;
    cluster_options_.faultfs = plan_.faultfs;
    cluster_options_.faultfs_seed = plan_.seed;
    cluster_options_.faultfs_metadata = options_.storage_metadata;
    cluster_options_.linkproxy = plan_.linkproxy;
    cluster_ = std::make_unique<Cluster>(
        hosts, targets::adapters::make_target(options_.target, options_.target_arguments), cluster_options_);

    json schedule_json = json::array();
    for (const auto& event : schedule_) {
      schedule_json.push_back({{"at_ms", event.at.count()},
                               {"fault", nemesis::to_string(event.fault)},
                               {"action", event.start ? "start" : "stop"}});
    }
    json test = {{"test", plan_.test_name},
                 {"version", fmt::format("chaosbench {}", CHAOSBENCH_VERSION)},
                 {"command_line", options_.command_line},
                 {"started_at", iso_time(started_at_)},
                 {"seed", plan_.seed},
                 {"options", options_json(plan_)},
                 {"controller_address", sandbox_ ? sandbox_->controller_address() : ""},
                 {"nodes", cluster_->layout()},
                 {"nemesis_schedule", schedule_json}};
    write_json_file(run_directory_ / "test.json", test);

    if (!session_) {
      std::vector<LeasedNode> leased;
      for (const std::string& node : cluster_->node_names())
        leased.push_back({cluster_->shared_host(node), cluster_options_.remote_nodes_directory / node});
      host_lease_ = std::make_unique<HostLease>(std::move(leased), plan_.host_lease);
      if (runs_refnode(cluster_->target(), plan_.refnode)) {
        out_ << fmt::format("harness: refnode {}\n", cluster_->install_refnode()) << std::flush;
      } else {
        cluster_->check_programs(out_);
      }
      if (!plan_.faultfs.empty())
        out_ << fmt::format("harness: faultfs {}\n", cluster_->install_faultfs()) << std::flush;
      if (!plan_.linkproxy.empty())
        out_ << fmt::format("harness: linkproxy {}\n", cluster_->install_linkproxy()) << std::flush;
    }
    try {
      // One-way cuts need the kernel to know who opened each connection, from
      // before the nodes connect (network_faults.h).
      const bool cuts_one_way =
          std::find(plan_.faults.begin(), plan_.faults.end(), nemesis::FaultKind::partition) != plan_.faults.end() &&
          std::any_of(plan_.partition_shapes.begin(), plan_.partition_shapes.end(), nemesis::is_one_way);
      if (cuts_one_way) {
        for (const std::string& node : cluster_->node_names()) control::track_connections(cluster_->host(node));
      }
      cluster_->start_all();
      cluster_->wait_until_ready(std::chrono::seconds(30));
    } catch (const control::ControlError&) {
      // SSH hosts: keep what the nodes said (their directories stay for a look).
      if (!session_) {
        cluster_->stop_all();
        for (const std::string& failure : cluster_->collect_logs()) errors_ << "harness: warning: " << failure << "\n";
      }
      throw;
    }
    out_ << fmt::format("harness: cluster up ({} node{}, leader {})\n", options_.nodes, options_.nodes == 1 ? "" : "s",
                        cluster_->leader().value_or("unknown"))
         << std::flush;
  }

  // The workload's setup operations, then clients and the nemesis for the time
  // limit (or until a signal); every operation goes to history.jsonl.
  void drive() {
    workload_ = workloads::make_workload(options_.workload, plan_.seed, plan_.rotation, options_.read_fraction,
                                         plan_.txn_keys, plan_.long_fork_group_size);
    recorder_ = std::make_unique<HistoryRecorder>(run_directory_ / "history.jsonl", std::chrono::steady_clock::now());
    start_online_check();
    run_setup_operations(*workload_, cluster_->endpoints(), plan_.operation_timeout, *recorder_, out_);
    const bool show_progress =
        options_.progress == "always" || (options_.progress == "auto" && standard_output_is_terminal());
    progress_ = std::make_unique<ProgressLine>(
        out_, show_progress, plan_.time_limit, [recorder = recorder_.get()] { return recorder->counts(); },
        terminal_columns());
    nemesis::NemesisOptions nemesis_options;
    nemesis_options.partition_shapes = plan_.partition_shapes;
    nemesis_options.kill_targets = plan_.kill_targets;
    nemesis_options.corrupt_glob = plan_.corrupt_glob;
    nemesis_options.disk_targets = plan_.disk_targets;
    nemesis_options.power_loss_restart = plan_.power_loss_restart;
    nemesis_options.clock_bump_max_seconds = options_.clock_bump_max_seconds;
    nemesis_ = std::make_unique<nemesis::Nemesis>(
        *cluster_, nemesis_options,
        [recorder = recorder_.get(), progress = progress_.get()](bool completion, const std::string& function,
                                                                 const json& value) {
          recorder->record(completion ? checkers::OpType::info : checkers::OpType::invoke, checkers::kNemesisProcess,
                           function, "", value, "");
          progress->note_nemesis(completion, function);
        },
        errors_);
    heal_guard_ = std::make_unique<HealGuard>(*nemesis_, errors_);
    ClientPoolOptions pool_options;
    pool_options.endpoints = cluster_->endpoints();
    pool_options.concurrency = options_.concurrency;
    pool_options.rate = options_.rate;
    pool_options.operation_timeout = plan_.operation_timeout;
    pool_options.sticky_nodes = options_.client_routing == "sticky";
    pool_options.routing_seed = plan_.seed;
    pool_ = std::make_unique<ClientPool>(pool_options, *workload_, *recorder_);
    {
      std::lock_guard lock(early_stop_mutex_);
      early_stop_ready_ = true;
      if (online_found_anomaly_ && options_.stop_on_invalid) stop_early();
    }

    signals_.set_handler([this](int signal) {
      interrupted_ = true;
      errors_ << fmt::format("\nharness: {} received: stopping, healing, checking what was recorded\n",
                             signal == SIGINT    ? "SIGINT"
                             : signal == SIGTERM ? "SIGTERM"
                                                 : "SIGHUP");
      pool_->request_stop();
      nemesis_->request_interrupt();
    });

    start_exit_monitor();
    workload_start_ = recorder_->start();
    progress_->start(workload_start_);
    {
      std::jthread nemesis_thread([this] { nemesis_->run(schedule_, workload_start_); });
      // Declared after the thread, so it runs first: the join below must not
      // wait out the rest of the schedule when the pool throws.
      struct StopNemesisFirst {
        nemesis::Nemesis& nemesis;
        ~StopNemesisFirst() { nemesis.request_stop(); }
      } stop_nemesis_first{*nemesis_};
      pool_->run(plan_.time_limit);
    }
    progress_->stop();
    workload_end_ = std::chrono::steady_clock::now();
    if (online_checker_ && online_found_anomaly_) {
      const OnlineCheckResult found = online_checker_->result();
      out_ << fmt::format("harness: online check ({}): invalid after {:.1f} s: {}{}\n", found.checker,
                          static_cast<double>(found.time_to_detection_ms) / 1000, found.reason,
                          options_.stop_on_invalid ? "; run stopped early (--stop-on-invalid)" : "")
           << std::flush;
    }
  }

  // --check-online: the per-key checkers read the history as it is recorded.
  void start_online_check() {
    if (!options_.check_online && !options_.stop_on_invalid) return;
    OnlineCheckOptions online;
    for (const std::string& name : plan_.checker_names) {
      if (can_check_online(name)) online.checker_names.push_back(name);
    }
    if (online.checker_names.empty()) {
      out_ << fmt::format(
          "harness: --check-online: none of the checkers ({}) can check online ({} can); checking after the run "
          "only\n",
          fmt::join(plan_.checker_names, ", "), online_checkers_text());
      return;
    }
    online.configuration = checker_configuration();
    online.on_invalid = [this] {
      std::lock_guard lock(early_stop_mutex_);
      online_found_anomaly_ = true;
      if (early_stop_ready_ && options_.stop_on_invalid) stop_early();
    };
    online_checker_ = std::make_unique<OnlineChecker>(std::move(online), recorder_->start());
    recorder_->set_listener(
        [checker = online_checker_.get()](const RecordedOperation& operation) { checker->observe(operation); });
  }

  void stop_early() {
    stopped_early_ = true;
    pool_->request_stop();
    nemesis_->request_stop();
  }

  CheckerConfiguration checker_configuration() const {
    const workloads::CheckerSettings settings = workload_->checker_settings();
    CheckerConfiguration configuration;
    configuration.model.kind = settings.model;
    configuration.model.nil_read = checkers::NilRead::absent;
    configuration.time_limit = plan_.check_time_limit;
    configuration.consistency_model = plan_.consistency_model.value_or(settings.consistency_model);
    configuration.bank = settings.bank;
    configuration.long_fork_group_size = settings.long_fork_group_size;
    configuration.wfr_keys = settings.wfr_keys || plan_.options.wfr_keys;
    configuration.sequential_keys = plan_.options.sequential_keys;
    configuration.linearizable_keys = plan_.options.linearizable_keys;
    return configuration;
  }

  void heal() {
    heal_guard_->disarm();
    try {
      nemesis_->heal_all();
    } catch (const control::ControlError& error) {
      errors_ << "harness: " << error.what() << "\n";
      harness_failed_ = true;
    }
    healed_at_ = std::chrono::steady_clock::now();
  }

  // A node that exits by itself (no kill here ended it: a crash, a fail-stop,
  // a failpoint's crash) is a finding: recorded as a nemesis `node-exited`
  // info op (an event on the report's timeline) and listed in results.json.
  void start_exit_monitor() {
    const auto period =
        session_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);  // SSH: a round trip each
    exit_monitor_ = std::jthread([this, period](std::stop_token stop) {
      while (!stop.stop_requested()) {
        try {
          for (const NodeExit& exit : cluster_->collect_exits()) {
            json value = {{"node", exit.node},
                          {"status", exit.status.describe()},
                          {"exit_code", exit.status.exit_code},
                          {"signal", exit.status.signal}};
            if (!exit.companion.empty()) value["companion"] = exit.companion;
            const std::int64_t time = recorder_->record(checkers::OpType::info, checkers::kNemesisProcess,
                                                        "node-exited", "", value, exit.node);
            std::lock_guard lock(node_exits_mutex_);
            json entry = {{"node", exit.node},
                          {"time_seconds", static_cast<double>(time) / 1e9},
                          {"status", exit.status.describe()}};
            if (!exit.companion.empty()) entry["companion"] = exit.companion;
            node_exits_.push_back(std::move(entry));
          }
        } catch (const std::exception& error) {
          std::lock_guard lock(node_exits_mutex_);
          exit_monitor_error_ = error.what();
          return;
        }
        for (auto slept = std::chrono::milliseconds(0); slept < period && !stop.stop_requested();
             slept += std::chrono::milliseconds(20)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }

  void stop_exit_monitor() {
    if (!exit_monitor_.joinable()) return;
    exit_monitor_.request_stop();
    exit_monitor_.join();
    if (!exit_monitor_error_.empty()) {
      errors_ << "harness: warning: watching the nodes for exits stopped: " << exit_monitor_error_ << "\n";
    }
  }

  // After the final heal the cluster must serve again: every client sends one
  // read to its node, round after round, until one is ok or --recovery-limit
  // has passed since the heal (judged by judge_recovery, liveness.h).
  void probe_recovery() {
    if (plan_.recovery_limit.count() == 0) return;
    const std::vector<workloads::ClientOperation> reads = workload_->final_reads();
    if (reads.empty()) return;
    const std::vector<workloads::ClientOperation> probe{reads.front()};
    const std::size_t first_probe = recorder_->size();
    const std::uint64_t ok_before = recorder_->counts().ok;
    const auto deadline = healed_at_ + plan_.recovery_limit;
    while (!interrupted_) {
      pool_->run_final_reads(probe);
      const auto now = std::chrono::steady_clock::now();
      if (recorder_->counts().ok > ok_before || now >= deadline) break;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100), deadline - now));
    }
    if (interrupted_) return;
    const auto history_time = [&](std::chrono::steady_clock::time_point at) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(at - recorder_->start()).count();
    };
    recovery_ = judge_recovery(recorder_->history(), first_probe, history_time(healed_at_),
                               history_time(std::chrono::steady_clock::now()), plan_.recovery_limit);
  }

  // After --recovery-time of quiet, each key read once more (not after a signal).
  void final_reads() {
    if (!interrupted_) {
      probe_recovery();
      const bool recovered = !recovery_ || recovery_->verdict != checkers::Verdict::invalid;
      if (recovered && !cluster_->wait_for_leader(std::max(plan_.recovery_time, std::chrono::milliseconds(10'000)))) {
        errors_ << "harness: warning: no leader after healing; final reads will likely fail\n";
      }
      // The quiet period: --recovery-time from the heal (the leader wait counts).
      std::this_thread::sleep_until(healed_at_ + plan_.recovery_time);
      // Marks where the final reads begin, so the convergence checker reads
      // exactly them (reads after the last nemesis op); not a fault window.
      for (auto type : {checkers::OpType::invoke, checkers::OpType::info}) {
        recorder_->record(type, checkers::kNemesisProcess, "final-reads", "", nullptr, "");
      }
      pool_->run_final_reads(workload_->final_reads());
    }
    stop_exit_monitor();  // it records into the history
    recorder_->close();
    if (online_checker_) online_checker_->finish();  // its last pass sees what the offline check will
  }

  // A host whose supervisor found the controller's lease lapsed has lost the
  // run's processes there: the run cannot be judged.
  void report_lapses() {
    if (!host_lease_) return;
    for (const std::string& lapse : host_lease_->take_lapses()) {
      errors_ << "harness: " << lapse << "\n";
      harness_failed_ = true;
    }
  }

  // Nodes stopped (or left running), logs collected, the sandbox torn down.
  void teardown() {
    signals_.set_handler([this](int) {
      // Everything is on disk except results.json; the check cannot be interrupted.
      errors_ << fmt::format("\nharness: interrupted during the check; the history is in {}\n",
                             (run_directory_ / "history.jsonl").string());
      std::_Exit(kExitHarnessFailed);
    });
    report_lapses();
    if (options_.leave_db_running) {
      if (host_lease_) host_lease_->end();  // the user keeps what runs
      cluster_->leave_running();
      out_ << fmt::format("harness: nodes left running (--leave-db-running) under {}\n",
                          cluster_options_.remote_nodes_directory.string());
    } else {
      cluster_->stop_all();
      if (host_lease_) host_lease_->end();
    }
    if (!session_) {
      for (const std::string& failure : cluster_->collect_logs()) errors_ << "harness: warning: " << failure << "\n";
      if (!options_.leave_db_running) {
        // This run's own chains, emptied by the heal (a shared host keeps no trace of it).
        for (const std::string& node : cluster_->node_names()) {
          try {
            control::remove_chains(cluster_->host(node));
          } catch (const control::ControlError& error) {
            errors_ << "harness: warning: " << error.what() << "\n";
          }
        }
        for (const std::string& failure : cluster_->remove_node_directories()) {
          errors_ << "harness: warning: " << failure << "\n";
        }
      }
    }
    if (sandbox_) {
      try {
        sandbox_->teardown();
      } catch (const control::ControlError& error) {
        errors_ << "harness: " << error.what() << "\n";
        harness_failed_ = true;
      }
    }
  }

  // Every selected checker on the history; a checker that cannot read it is a
  // harness failure, the others still run.
  std::vector<CheckerOutcome> check() {
    const checkers::History& history = recorder_->history();
    const CheckerConfiguration configuration = checker_configuration();
    std::vector<CheckerOutcome> outcomes;
    for (const std::string& name : plan_.checker_names) {
      CheckerOutcome outcome;
      outcome.name = name;
      try {
        outcome = run_checker(name, history, configuration);
        checker_results_[name] = outcome.json;
      } catch (const std::exception& error) {
        outcome.verdict = checkers::Verdict::unknown;
        outcome.reason = fmt::format("error: {}", error.what());
        checker_results_[name] = {{"verdict", "unknown"}, {"reason", outcome.reason}, {"error", error.what()}};
        errors_ << fmt::format("harness: checker {}: {}\n", name, error.what());
        harness_failed_ = true;
      }
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  }

  // The check, results.json, the summary on out, the report; the exit code.
  int check_and_report() {
    const long peak_rss_before_check = peak_rss_kilobytes();
    const std::vector<CheckerOutcome> outcomes = check();
    checkers::Verdict verdict = overall_verdict(outcomes);
    // Liveness joins the verdict like a checker (unless it could not be judged).
    const bool liveness_judged = recovery_ && recovery_->verdict != checkers::Verdict::unknown;
    if (recovery_) checker_results_["liveness"] = to_json(*recovery_);
    if (liveness_judged) verdict = checkers::combine(verdict, recovery_->verdict);
    // The node logs, for lines that betray a crash bug (log_patterns.h).
    const LogScan log_scan = scan_node_logs(cluster_options_.nodes_directory, plan_.log_patterns);
    checker_results_["log-patterns"] = to_json(log_scan);
    const bool logs_matched = log_scan.verdict == checkers::Verdict::invalid;
    if (logs_matched) verdict = checkers::combine(verdict, log_scan.verdict);
    const bool liveness_valid = !liveness_judged || recovery_->verdict == checkers::Verdict::valid;
    const checkers::History& history = recorder_->history();
    const OutcomeCounts counts = count_outcomes(history);
    // A run whose operations the target did not serve tested nothing: its verdict
    // would be vacuous, so it is a harness failure.
    const UnservedOperations unserved = find_unserved_operations(history);
    std::string harness_failure_reason;
    if (unserved.makes_run_vacuous(counts.invoked)) {
      harness_failure_reason = fmt::format(
          "{} of {} operations were not served ({}){}: the target or its adapter does not serve this workload, so "
          "the run tested nothing",
          unserved.unserved, counts.invoked, describe_errors(unserved.by_error),
          unserved.functions_never_served.empty()
              ? ""
              : fmt::format("; no '{}' op was served", fmt::join(unserved.functions_never_served, "', '")));
      errors_ << "harness: " << harness_failure_reason << "\n";
      harness_failed_ = true;
    }
    json online_json = nullptr;
    std::int64_t time_to_detection_ms = -1;
    if (online_checker_) {
      const OnlineCheckResult online = online_checker_->result();
      time_to_detection_ms = online.time_to_detection_ms;
      online_json = to_json(online);
      // Online and offline must not contradict each other on the same checker.
      bool disagreed = false;
      for (const CheckerOutcome& outcome : outcomes) {
        const auto online_verdict = online.verdict_by_checker.find(outcome.name);
        if (online_verdict == online.verdict_by_checker.end()) continue;
        const bool online_invalid = online_verdict->second == checkers::Verdict::invalid;
        // A per-key checker that dropped a key and then saw it again left that key to the offline check.
        const bool online_saw_all =
            online_mode(outcome.name) == OnlineMode::whole_history || online.keys_reused_after_drop == 0;
        const bool contradicts = (online_invalid && outcome.verdict == checkers::Verdict::valid) ||
                                 (online_verdict->second == checkers::Verdict::valid && online_saw_all &&
                                  outcome.verdict == checkers::Verdict::invalid);
        if (!contradicts) continue;
        const std::string disagreement =
            fmt::format("the online and offline {} checks disagree (online {}, offline {}: {})", outcome.name,
                        online_invalid ? "invalid" : "valid", checkers::to_string(outcome.verdict), outcome.reason);
        errors_ << "harness: " << disagreement << "\n";
        harness_failure_reason += (harness_failure_reason.empty() ? "" : "; ") + disagreement;
        harness_failed_ = true;
        disagreed = true;
      }
      online_json["agrees_with_offline"] = !disagreed;
    }
    const LatencySummary latency = summarize_latencies(pool_->statistics().ok_latencies_nanoseconds);
    const auto availability = availability_by_fault(history, pool_->statistics().completions);
    // A run that never saw the system work tested nothing: valid would be vacuous.
    const Availability without_faults = availability_without_faults(availability);
    const std::string not_a_test_reason = not_a_valid_test_reason(without_faults);
    if (!not_a_test_reason.empty() && verdict == checkers::Verdict::valid) verdict = checkers::Verdict::unknown;
    const double workload_seconds = std::chrono::duration<double>(workload_end_ - workload_start_).count();
    json starts = json::object();
    for (const auto& [kind, count] : nemesis_->starts()) starts[std::string(nemesis::to_string(kind))] = count;
    json results = {
        {"test", plan_.test_name},
        {"seed", plan_.seed},
        {"verdict", checkers::to_string(verdict)},
        {"interrupted", interrupted_.load()},
        {"harness_failed", harness_failed_},
        {"harness_failure_reason", harness_failure_reason},
        {"unserved_operations", to_json(unserved)},
        {"node_exits", node_exits_},
        {"checker", checker_results_},
        {"operations", to_json(counts)},
        {"throughput_ok_per_second", workload_seconds > 0 ? static_cast<double>(counts.ok) / workload_seconds : 0},
        {"workload_seconds", workload_seconds},
        {"latency_from_intended_send", to_json(latency)},
        {"availability", to_json(availability)},
        {"valid_test",
         {{"valid", not_a_test_reason.empty()},
          {"ok_without_faults", without_faults.ok},
          {"completed_without_faults", without_faults.completed},
          {"reason", not_a_test_reason}}},
        {"faults_started", starts},
        {"client_redirects", pool_->statistics().redirects},
        {"intended_not_sent", pool_->statistics().intended_not_sent},
        {"controller_peak_rss_bytes_before_check", peak_rss_before_check * 1024},
        {"controller_peak_rss_bytes", peak_rss_kilobytes() * 1024}};
    if (online_checker_) {
      results["online_check"] = online_json;
      results["time_to_detection_ms"] = time_to_detection_ms < 0 ? json(nullptr) : json(time_to_detection_ms);
      results["stopped_early"] = stopped_early_.load();
    }
    write_json_file(run_directory_ / "results.json", results);

    std::string fault_summary;
    for (const auto& [kind, count] : nemesis_->starts()) {
      fault_summary += fmt::format("{}{} {}", fault_summary.empty() ? "" : ", ", nemesis::to_string(kind), count);
    }
    out_ << fmt::format("\n{} ops: {} ok, {} fail, {} info  ({:.0f} ok/s over {:.1f} s{})\n", counts.invoked, counts.ok,
                        counts.fail, counts.info, workload_seconds > 0 ? counts.ok / workload_seconds : 0.0,
                        workload_seconds, interrupted_ ? ", interrupted" : "");
    if (!counts.fail_errors.empty() || !counts.info_errors.empty()) {
      const std::string fail_text = describe_errors(counts.fail_errors),
                        info_text = describe_errors(counts.info_errors);
      out_ << fmt::format("  why: {}{}{}\n", fail_text.empty() ? "" : "fail: " + fail_text,
                          !fail_text.empty() && !info_text.empty() ? "; " : "",
                          info_text.empty() ? "" : "info: " + info_text);
    }
    out_ << fmt::format("latency (ok ops, from intended send): p50 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n",
                        latency.p50_ms, latency.p99_ms, latency.max_ms);
    std::string availability_text;
    for (const auto& [fault, entry] : availability) {
      availability_text += fmt::format("{}{} {:.0f}%", availability_text.empty() ? "" : ", ",
                                       fault == "none" ? "no fault" : fault, 100 * entry.ratio());
    }
    out_ << fmt::format("faults: {}; availability: {}\n", fault_summary.empty() ? "none" : fault_summary,
                        availability_text.empty() ? "n/a" : availability_text);
    if (!node_exits_.empty()) {
      std::string exits_text;
      for (const json& exit : node_exits_) {
        const std::string who =
            exit["node"].get<std::string>() +
            (exit.contains("companion") ? fmt::format("'s {}", exit["companion"].get<std::string>()) : std::string());
        exits_text += fmt::format("{}{} at {:.1f} s ({})", exits_text.empty() ? "" : ", ", who,
                                  exit["time_seconds"].get<double>(), exit["status"].get<std::string>());
      }
      out_ << fmt::format(
          "node exits without a kill from the harness (crashes, fail-stops, failpoint crashes): {}; logs in {}\n",
          exits_text, (run_directory_ / "nodes").string());
    }
    // One line per checker (with the evidence under a non-valid one), then the
    // overall verdict when there are several or something else changed it.
    const bool overall_line = outcomes.size() > 1 || !liveness_valid || logs_matched || !not_a_test_reason.empty();
    auto print_evidence = [this](const std::string& evidence) {  // indented, at most 20 lines
      std::size_t lines = 0, position = 0;
      while (position < evidence.size() && lines < 20) {
        const std::size_t end = std::min(evidence.find('\n', position), evidence.size());
        out_ << "  " << evidence.substr(position, end - position) << "\n";
        position = end + 1;
        ++lines;
      }
    };
    for (const CheckerOutcome& outcome : outcomes) {
      const std::string label = overall_line ? fmt::format("checker {}", outcome.name) : "verdict";
      out_ << fmt::format("{}: {} ({})\n", label, checkers::to_string(outcome.verdict), outcome.reason);
      if (outcome.verdict != checkers::Verdict::valid) print_evidence(outcome.evidence);
    }
    if (recovery_)
      out_ << fmt::format("liveness: {} ({})\n", checkers::to_string(recovery_->verdict), recovery_->reason);
    if (logs_matched) {
      out_ << fmt::format("log patterns: invalid ({})\n", log_scan.reason);
      print_evidence(describe_matches(log_scan));
    }
    if (!not_a_test_reason.empty()) out_ << fmt::format("not a valid test: {}\n", not_a_test_reason);
    if (overall_line) out_ << fmt::format("verdict: {}\n", checkers::to_string(verdict));
    // The report is a view of what is already on disk: failing to write it is
    // harness failure (exit 3), but the history and results stay where they are.
    try {
      reports::write_run_report(run_directory_);
      reports::write_store_index(plan_.options.store);
      out_ << fmt::format("report: {}\n", (run_directory_ / "report.html").string());
    } catch (const std::exception& error) {
      out_ << fmt::format("harness: report not written: {}\n", error.what());
      harness_failed_ = true;
    }
    out_ << fmt::format("store: {} (test.json, history.jsonl, results.json, report.html, junit.xml, nodes/)\n",
                        run_directory_.string());
    if (options_.progress != "never" && standard_output_is_terminal()) {
      out_ << fmt::format("open the report: xdg-open {} (one self-contained file; copy it anywhere)\n",
                          (run_directory_ / "report.html").string());
    }
    out_ << fmt::format("rerun this test: {}\n", rerun_command(options_.command_line, plan_.seed));
    if (harness_failed_) return kExitHarnessFailed;
    return exit_code_for(verdict);
  }

  SignalWatcher signals_;  // first: every later thread inherits the blocked signals
  const RunPlan& plan_;
  const RunOptions& options_;
  const control::SandboxSession* session_;
  const std::vector<std::shared_ptr<control::SshHost>>* ssh_hosts_;
  std::ostream& out_;
  std::ostream& errors_;

  std::chrono::system_clock::time_point started_at_;
  fs::path run_directory_;
  std::vector<nemesis::NemesisEvent> schedule_;
  bool faketime_ = false;
  std::unique_ptr<control::Sandbox> sandbox_;
  ClusterOptions cluster_options_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<HostLease> host_lease_;  // SSH hosts; after the cluster: ended before it goes
  std::unique_ptr<workloads::Workload> workload_;
  std::unique_ptr<HistoryRecorder> recorder_;
  std::unique_ptr<OnlineChecker> online_checker_;  // after the recorder, whose listener it is
  std::mutex early_stop_mutex_;
  bool early_stop_ready_ = false;  // the pool and the nemesis exist
  bool online_found_anomaly_ = false;
  std::atomic<bool> stopped_early_{false};
  std::unique_ptr<ProgressLine> progress_;  // before the nemesis, which tells it the active faults
  std::unique_ptr<nemesis::Nemesis> nemesis_;
  std::unique_ptr<HealGuard> heal_guard_;  // after the nemesis: destroyed, so healing, before it
  std::unique_ptr<ClientPool> pool_;
  std::atomic<bool> interrupted_{false};
  bool harness_failed_ = false;
  json checker_results_ = json::object();
  std::optional<RecoveryJudgement> recovery_;  // set by probe_recovery()
  std::mutex node_exits_mutex_;
  json node_exits_ = json::array();  // {node, time_seconds, status} per exit the monitor saw
  std::string exit_monitor_error_;
  std::jthread exit_monitor_;  // last: stopped and joined before everything it uses
  std::chrono::steady_clock::time_point workload_start_, workload_end_, healed_at_;
};

}  // namespace

int run_test(const RunPlan& plan, const control::SandboxSession& session, std::ostream& out, std::ostream& errors) {
  return TestRun(plan, &session, nullptr, out, errors).run();
}

int run_test(const RunPlan& plan, const std::vector<std::shared_ptr<control::SshHost>>& hosts, std::ostream& out,
             std::ostream& errors) {
  return TestRun(plan, nullptr, &hosts, out, errors).run();
}

std::string rerun_command(const std::vector<std::string>& command_line, std::uint64_t seed) {
  auto quoted = [](const std::string& argument) {
    const bool plain = !argument.empty() && argument.find_first_not_of(
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                                "_./=:,+-@%") == std::string::npos;
    if (plain) return argument;
    std::string text = "'";
    for (char character : argument) text += character == '\'' ? std::string("'\\''") : std::string(1, character);
    return text + "'";
  };
  std::string command;
  for (std::size_t index = 0; index < command_line.size(); ++index) {
    const std::string& argument = command_line[index];
    if (argument == "--seed") {
      ++index;  // and its value
      continue;
    }
    if (argument.rfind("--seed=", 0) == 0) continue;
    command += (command.empty() ? "" : " ") + quoted(argument);
  }
  return fmt::format("{}{}--seed {}", command, command.empty() ? "" : " ", seed);
}

void check_remote_directory(const std::string& directory) {
  if (!fs::path(directory).is_absolute() || directory == "/")
    throw std::invalid_argument(
        fmt::format("--remote-dir: '{}' must be an absolute directory other than /", directory));
}

CLI::App* add_run_command(CLI::App& app, RunOptions& run, std::uint64_t& seed) {
  CLI::App* run_app = app.add_subcommand("run",
                                         "Deploy a cluster in a local sandbox (or on SSH hosts: --hosts), run a "
                                         "workload under faults, check the history. Exit codes: 0 valid, "
                                         "1 invalid, 2 unknown, 3 the harness failed");
  run_app
      ->add_option("--target", run.target,
                   fmt::format("What runs on the nodes: {} (raft, zab and quorum are the reference nodes, refnode; the "
                               "others are real systems from their Debian packages, docs/real-systems.md)",
                               chaosbench::targets::adapters::known_targets_text()))
      ->capture_default_str();
  run_app->add_option("--nodes", run.nodes, "Number of nodes (1-250)")->capture_default_str();
  run_app
      ->add_option("--workload", run.workload,
                   "register (read/write/cas), unique-register (unique writes, no cas), register-delete (unique "
                   "writes and deletes), kv (get/put/append), set, counter, bank (guarded transfers), "
                   "list-append or rw-register (txns), long-fork (single-write txns, reads of key groups)")
      ->capture_default_str();
  run_app
      ->add_option("--nemesis", run.nemesis,
                   "Faults, comma-separated: partition, kill, pause, clock, loss, delay (and the kinds below); or "
                   "none. Scripted "
                   "leader-reactive scenarios: orphan-leader (kill the leader, pause the new leader's followers "
                   "the moment it leads, kill it, restart it last), figure-8 (Raft paper figure 8, steered by each "
                   "node's log terms, kills as cuts; "
                   "refnode raft only). failpoint (reference nodes): arms one refnode failpoint on the leader or "
                   "a random minority (crash, sleep or a dropping error at a WAL, fsync, snapshot, apply, vote or "
                   "ack point; docs/architecture.md), disarmed and crashed nodes restarted at its stop. Storage "
                   "faults (faultfs, a FUSE file system mounted over each node's data directory, only when one is "
                   "asked for): power-loss (kill the --kill-targets nodes and lose every write they had not "
                   "fsynced, restart at the stop), corrupt (stop one node or a minority, flip bits in, zero a chunk "
                   "of or cut the tail of one --corrupt-files file, restart at the stop), disk-full (ENOSPC), "
                   "disk-error (EIO on write, fsync or read, 1-100 %), disk-slow (10-200 ms per operation); "
                   "docs/storage-faults.md. Link toxics (linkproxy, a user-space proxy beside each reference node "
                   "that its connections to its peers go through; no netem needed): delay (100 ms +- 50 ms each "
                   "way; without link proxies, tc netem), bandwidth (8-128 kB/s), slicer (1-32-byte segments), "
                   "reset-peer (every connection reset), blackhole (all data swallowed, connections open), "
                   "slow-close (closes 0.5-3 s late), limit-data (connections cut after 0.5-64 kB), on every link "
                   "to and from the leader or a random minority; docs/linkproxy.md. random: swarm testing, the seed "
                   "draws the kinds (of partition, kill, "
                   "pause, clock, loss, delay, failpoint), --kill-targets, --partition-shapes and "
                   "--nemesis-interval, printed and in test.json; --seed replays the draw")
      ->capture_default_str();
  run_app
      ->add_option("--nemesis-interval", run.nemesis_interval,
                   "Typical time between a fault kind's windows; each window lasts 0.5-1 interval")
      ->capture_default_str();
  run_app
      ->add_option("--partition-shapes", run.partition_shapes,
                   "Partition shapes to draw from: halves, random-halves, isolate-one, isolate-leader, "
                   "majorities-ring, bridge (the group two-way); one-way-halves, one-way-from-leader, "
                   "one-way-to-leader (one-way: a node stops hearing another, which still hears it); or all")
      ->capture_default_str();
  run_app
      ->add_option("--kill-targets", run.kill_targets,
                   "Nodes a kill or power-loss hits: mixed (leader or a random minority), one, minority, majority, "
                   "all, leader, followers (all but the leader)")
      ->capture_default_str();
  run_app
      ->add_option("--disk-targets", run.disk_targets,
                   "Nodes corrupt, disk-full, disk-error and disk-slow hit, as --kill-targets (mixed: the leader or "
                   "a random minority, never a majority)")
      ->capture_default_str();
  run_app
      ->add_option("--power-loss-restart", run.power_loss_restart,
                   "How a power loss's nodes come back: together, or leader-last (when it took the leader and "
                   "others: the others first, the old leader once one of them leads, at most 5 s later)")
      ->capture_default_str();
  run_app
      ->add_option("--corrupt-files", run.corrupt_files,
                   "Files the corrupt fault damages: wal, snapshot or any (each target names its own)")
      ->capture_default_str();
  run_app->add_option("--faultfs", run.faultfs, "The faultfs executable (default: faultfs next to harness)");
  run_app->add_option("--linkproxy", run.linkproxy, "The linkproxy executable (default: linkproxy next to harness)");
  run_app
      ->add_option("--storage-metadata", run.storage_metadata,
                   "Storage faults: when a directory entry (create, rename, unlink) survives a power loss: strict "
                   "(once its directory is fsynced, as POSIX promises) or journaled (once anything is fsynced, as "
                   "ext4's journal does)")
      ->capture_default_str();
  run_app->add_option("--clock-bump", run.clock_bump_max_seconds, "Largest clock offset in seconds (bump and strobe)")
      ->capture_default_str();
  run_app->add_option("--concurrency", run.concurrency, "Logical client processes")->capture_default_str();
  run_app->add_option("--rate", run.rate, "Intended operations per second, open loop; 0 = closed loop")
      ->capture_default_str();
  run_app->add_option("--time-limit", run.time_limit, "How long the workload runs (90, 90s, 2m, 500ms)")
      ->capture_default_str();
  run_app->add_option("--seed", seed, "Seed of the operation mix and the fault schedule (default: random, printed)");
  run_app
      ->add_option("--target-arg", run.target_arguments,
                   "Extra flag for every node, repeatable: --target-arg=--read-mode=lease "
                   "--target-arg=--bug=lease-wall-clock")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  run_app->add_option("--store", run.store, "Store directory; the run goes to STORE/<test>/<timestamp>/")
      ->capture_default_str();
  run_app->add_option("--test-name", run.test_name, "Test name in the store (default: <target>-<workload>)");
  run_app->add_option("--ops-per-key", run.ops_per_key, "Operations per key before moving to a fresh key (N or A-B)")
      ->capture_default_str();
  run_app
      ->add_option("--client-routing", run.client_routing,
                   "sticky: each client process talks to one node; any: each operation goes to a random node "
                   "(a client behind a load balancer)")
      ->capture_default_str();
  run_app
      ->add_option("--read-fraction", run.read_fraction,
                   "Share of reads (register) or gets (kv); the rest are writes/cas or appends/puts")
      ->capture_default_str();
  run_app->add_option("--key-dist", run.key_distribution,
                      "list-append, rw-register: how a micro-op picks among the active keys: zipf (rank i with "
                      "weight 1/(i+1)^1.0001, as Jepsen) or uniform (default: zipf)");
  run_app->add_option("--key-count", run.key_count,
                      "list-append, rw-register: active keys at any time (default as Elle: 10 with zipf, 3 with "
                      "uniform)");
  run_app->add_option("--max-writes-per-key", run.max_writes_per_key,
                      "list-append, rw-register: writes after which a key retires and a fresh key takes its place "
                      "(default 32, as Elle)");
  run_app->add_option("--group-size", run.group_size,
                      "long-fork: keys per group, each read txn reads one whole group (default 2, as Jepsen)");
  run_app
      ->add_option("--op-timeout", run.operation_timeout,
                   "Client timeout per operation; a timed-out op is info and its process is replaced")
      ->capture_default_str();
  run_app->add_option("--log-pattern", run.log_patterns,
                      "Scan the node logs after the run for lines matching this ECMAScript regex (repeatable; any "
                      "match makes the run invalid); default: refnode's and the sanitizers' fatal errors, Go panics, "
                      "uncaught Java errors, Redis crash reports; none: no scan");
  run_app
      ->add_option("--recovery-limit", run.recovery_limit,
                   "Liveness: after the final heal the cluster must serve an ok operation within this, or the run is "
                   "invalid (0s: not checked)")
      ->capture_default_str();
  run_app->add_option("--recovery-time", run.recovery_time, "Quiet period from the heal to the final reads")
      ->capture_default_str();
  run_app->add_option("--check-time-limit", run.check_time_limit, "Time limit of each checker's search (then: unknown)")
      ->capture_default_str();
  run_app->add_option("--refnode", run.refnode, "The node executable (default: refnode next to harness)");
  run_app->add_option("--hosts", run.hosts_file,
                      "Run on the SSH hosts of this TOML file (one [[host]] per node, docs/ssh.md) instead of the "
                      "local sandbox; every host is connected to before anything starts");
  run_app
      ->add_option("--remote-dir", run.remote_directory,
                   "With --hosts: directory on each host for bin/refnode and <test>/<timestamp>/<node>/{data,log}")
      ->capture_default_str();
  run_app
      ->add_option("--progress", run.progress,
                   "The live progress line (elapsed, ops ok/fail/info, ok/s, active faults, time left): auto shows "
                   "it when standard output is a terminal")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  run_app->add_flag("--check-online", run.check_online,
                    "Check while the run goes (" + online_checkers_text() +
                        "; the other checkers only after the run): the first anomaly is reported with its time since "
                        "the start; the check after the run still runs and must agree");
  run_app->add_flag("--stop-on-invalid", run.stop_on_invalid,
                    "With the online check (implies --check-online): end the run at the first anomaly it proves, "
                    "then heal, tear down and check as usual");
  run_app->add_flag("--leave-db-running", run.leave_db_running,
                    "With --hosts: leave the nodes running and their directories on the hosts after the run");
  run_app
      ->add_option("--host-lease", run.host_lease,
                   "With --hosts: a supervisor on each host ends the run's processes, iptables chains and mounts "
                   "there when the controller has not renewed its lease for this long (it died or lost the host)")
      ->capture_default_str();
  run_app
      ->add_option("--checker", run.checker_names,
                   "Checker to run on the history, repeatable (default: the workload's: linearizable for register "
                   "and kv, set, counter, bank, elle-list-append, elle-rw-register); any of: " +
                       known_checkers_text())
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  run_app->add_option("--consistency-model", run.consistency_model,
                      "Model for the elle-* checkers (default: strict-serializable): read-committed, "
                      "snapshot-isolation, serializable, strict-serializable, ...");
  run_app->add_flag("--wfr-keys", run.wfr_keys,
                    "elle-rw-register: a txn's write of a key follows its read of it (Elle's :wfr-keys?; on for the "
                    "rw-register workload)");
  run_app->add_flag("--sequential-keys", run.sequential_keys,
                    "elle-rw-register: order each key's versions by process order (Elle's :sequential-keys?)");
  run_app->add_flag("--linearizable-keys", run.linearizable_keys,
                    "elle-rw-register: order each key's versions by real-time order (Elle's :linearizable-keys?)");
  return run_app;
}

}  // namespace chaosbench::harness
