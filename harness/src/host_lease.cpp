#include "chaosbench/harness/host_lease.h"

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/network_faults.h"
#include "chaosbench/harness/remote_shell_functions.h"

namespace chaosbench::harness {

namespace {

constexpr std::chrono::milliseconds kTick{200};  // how often a supervisor reads its lease

// Run by dash as well as bash, after remote_shell_functions.h's functions. The
// lease is judged by change, not by time stamps: a clock that jumps on the
// host (or the controller) cannot end it. A process is killed only if its
// command line names the directory (its daemon wrapper writes <log>.exit
// there): a recycled PID is left alone.
constexpr const char* kSupervisorScript = R"sh(
dir="$1"; ticks="$2"; tick_ms="$3"; shift 3
printf '%s\n' "$@" > "$dir/chains"
last=""; quiet=0
while [ "$quiet" -lt "$ticks" ]; do
  # The lease is gone: the run removed the directory and has nothing left here.
  [ -e "$dir/lease" ] || { echo "the lease file is gone: the run has ended here"; exit 0; }
  read -r now 2>/dev/null < "$dir/lease" || now=""
  if [ "$now" != "$last" ]; then last="$now"; quiet=0; else quiet=$((quiet + 1)); fi
  sleep "$(printf '%d.%03d' $((tick_ms / 1000)) $((tick_ms % 1000)))"
done
killed=0
for pidfile in "$dir"/*.pid; do
  [ -f "$pidfile" ] && [ "$pidfile" != "$dir/supervisor.log.pid" ] && kill_pid_file "$pidfile" "$dir/" &&
    killed=$((killed + 1))
done
for chain in "$@"; do remove_chain "$chain"; done
unmounted=0
for mount in $(awk -v dir="$dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo); do
  if fusermount3 -u -z "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null; then unmounted=$((unmounted + 1)); fi
done
echo "no renewal for $ticks ticks of $tick_ms ms: killed $killed process group(s), removed chain(s)${removed_chains:- none}, unmounted $unmounted" > "$dir/lapsed"
cat "$dir/lapsed"
)sh";

// Replaces the lease with a new number (whole: a reader never sees it empty);
// exits 1 when the supervisor has found it lapsed.
constexpr const char* kRenewScript =
    R"sh(echo "$1" > "$2/lease.new" && mv -f "$2/lease.new" "$2/lease" && [ ! -e "$2/lapsed" ])sh";

}  // namespace

HostLease::HostLease(std::vector<LeasedNode> nodes, std::chrono::milliseconds lease) : lease_(lease) {
  const long long ticks = std::max<long long>(1, (lease.count() + kTick.count() - 1) / kTick.count());
  try {
    for (LeasedNode& node : nodes) {
      auto supervised = std::make_unique<Supervised>();
      supervised->node = std::move(node);
      control::Host& host = *supervised->node.host;
      const std::string directory = supervised->node.directory.string();
      host.run_checked(control::Command({"sh", "-c", kRenewScript, "renew", "0", directory}));
      control::DaemonSpec spec;
      spec.argv = {"sh",
                   "-c",
                   with_remote_shell_functions(kSupervisorScript),
                   "supervisor",
                   directory,
                   std::to_string(ticks),
                   std::to_string(kTick.count()),
                   host.firewall_chain(),
                   control::tracking_chain(host)};
      spec.log_file = supervised->node.directory / "supervisor.log";
      supervised->supervisor = host.start_daemon(spec);
      supervised_.push_back(std::move(supervised));
    }
  } catch (...) {
    end();
    throw;
  }
  for (auto& supervised : supervised_) {
    supervised->renewer = std::jthread([this, raw = supervised.get()](std::stop_token stop) { renew(*raw, stop); });
  }
}

HostLease::~HostLease() { end(); }

void HostLease::renew(Supervised& supervised, std::stop_token stop) {
  const auto period = std::max(lease_ / 5, std::chrono::milliseconds(100));
  for (long long renewal = 1; !stop.stop_requested(); ++renewal) {
    const auto next = std::chrono::steady_clock::now() + period;
    try {
      const control::CommandResult result =
          supervised.node.host->run(control::Command({"sh", "-c", kRenewScript, "renew", std::to_string(renewal),
                                                      supervised.node.directory.string()})
                                        .with_timeout(lease_));
      if (result.status.exit_code == 1 && !stop.stop_requested()) {
        std::string why;
        try {
          why = control::one_line(supervised.node.host->read_file(supervised.node.directory / "lapsed"));
        } catch (const control::ControlError& error) {
          why = error.what();
        }
        std::lock_guard lock(mutex_);
        lapses_.push_back(
            fmt::format("{}: the controller's lease lapsed and the host's supervisor ended the run there: {}",
                        supervised.node.host->name(), why));
        return;
      }
    } catch (const control::ControlError&) {
      // Not renewed this time (the host did not answer): the next try may be in
      // time; if none is, the supervisor ends the run there, as it should.
    }
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

void HostLease::end() {
  for (auto& supervised : supervised_) supervised->supervisor.reset();  // SIGKILL to its group, reaped
  for (auto& supervised : supervised_) {
    if (supervised->renewer.joinable()) {
      supervised->renewer.request_stop();
      supervised->renewer.join();
    }
  }
}

std::vector<std::string> HostLease::take_lapses() {
  std::lock_guard lock(mutex_);
  return std::exchange(lapses_, {});
}

}  // namespace chaosbench::harness
