// The kinds of fault the nemesis injects and how they are named on the command
// line (--nemesis partition,kill,pause,clock,loss,delay,orphan-leader,figure-8,
// failpoint,power-loss,corrupt,disk-full,disk-error,disk-slow,bandwidth,slicer,
// reset-peer,blackhole,slow-close,limit-data; "none" for no faults). Each has a
// start and a stop, recorded in the history as start-<kind> and stop-<kind>;
// orphan-leader and figure-8 are scripted scenarios (scenario.h); failpoint
// arms reference nodes' failpoints; power-loss to disk-slow are storage faults
// through faultfs (is_storage_fault); bandwidth to limit-data are toxics of the
// link proxies between the nodes (is_link_toxic), as delay is when the run has them.
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::nemesis {

enum class FaultKind {
  partition,
  kill,
  pause,
  clock,
  loss,
  delay,
  orphan_leader,
  figure_eight,
  failpoint,
  power_loss,
  corrupt,
  disk_full,
  disk_error,
  disk_slow,
  bandwidth,
  slicer,
  reset_peer,
  blackhole,
  slow_close,
  limit_data
};

// The kinds that need faultfs under the nodes' data directories.
bool is_storage_fault(FaultKind kind);
// The kinds that need link proxies between the nodes (delay uses them when present).
bool is_link_toxic(FaultKind kind);

std::string_view to_string(FaultKind kind);
std::optional<FaultKind> parse_fault_kind(std::string_view text);
// Comma-separated names, duplicates ignored, order kept; "none" or "" = no faults.
// Throws std::invalid_argument (one line, listing the known names) for an unknown one.
std::vector<FaultKind> parse_fault_list(std::string_view text);
const std::vector<FaultKind>& all_fault_kinds();

// Which nodes a kill (or pause) hits, Jepsen's :targets. mixed (the default):
// the leader half the time, else a random minority; one: a random node;
// minority / majority: a random minority / majority (sizes drawn, a majority is
// more than half); all: every node at once; leader: the leader (a random node
// when the leader is unknown); followers: every node but the leader (but a
// random one when the leader is unknown).
enum class KillTargets { mixed, one, minority, majority, all, leader, followers };

std::string_view to_string(KillTargets targets);
std::optional<KillTargets> parse_kill_targets(std::string_view text);
// The chosen nodes, sorted. Pure: `leader` is the current leader if known.
std::vector<std::string> choose_kill_targets(KillTargets targets, const std::vector<std::string>& nodes,
                                             const std::optional<std::string>& leader, std::mt19937_64& random);

// How a power loss's stop restarts its nodes (NemesisOptions::power_loss_restart).
enum class PowerLossRestart { together, leader_last };
std::string_view to_string(PowerLossRestart order);
std::optional<PowerLossRestart> parse_power_loss_restart(std::string_view text);

}  // namespace chaosbench::nemesis
