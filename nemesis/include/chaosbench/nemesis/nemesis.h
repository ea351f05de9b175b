// The nemesis executor: runs a schedule (schedule.h) against a NemesisTarget,
// recording each fault's start and stop through a callback (the harness writes
// them as `nemesis` ops: an invoke with the plan, an info with what was done).
// Network faults (partition, loss) are one combined desired state per node,
// re-applied on each change, so stopping one never heals the other. Kill and
// pause hit the leader half the time, otherwise a random minority (kills: as
// NemesisOptions::kill_targets says); clock
// faults move a random subset of clocks, half the time including the leader's.
// orphan-leader and figure-8 are scripted scenarios (scenario.h): one start
// runs the whole sequence (seconds), its own kills, pauses and partition are
// undone by its stop or the final heal. failpoint arms one failpoint on the
// leader or a random minority (crash, sleep or, at send points, dropping
// error); its stop disarms it and restarts the nodes it crashed. Storage faults
// go through each node's faultfs: power-loss kills the chosen nodes (as
// --kill-targets says) and drops every write they had not fsynced, its stop
// restarts them; corrupt stops one node or a minority, damages one file of the
// chosen class (bit flips, a zeroed chunk or a cut tail) and restarts them at
// its stop; disk-full, disk-error and disk-slow hold for the window on one node
// or a minority, and their stop clears them and restarts a node that died of them
// (a power loss's nodes all at once, or with --power-loss-restart leader-last
// the old leader after the others have elected a leader).
// Link toxics (bandwidth, slicer, reset-peer, blackhole, slow-close,
// limit-data, and delay when the target has link proxies) hold for the window
// on every link to and from the leader or a random minority, both ways; like
// the network faults they are one combined state per link, re-applied on each
// change, so overlapping windows add up and stopping one keeps the others.
// run() and heal_all() are called from one thread; request_stop() from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/nemesis/nemesis_target.h"
#include "chaosbench/nemesis/partition.h"
#include "chaosbench/nemesis/scenario.h"
#include "chaosbench/nemesis/schedule.h"

namespace chaosbench::nemesis {

// The refnode failpoints worth arming under load: the WAL and snapshot
// storage points, before-apply, and the vote and ack sends.
std::vector<std::string> default_failpoint_points();
// One draw of the failpoint fault's action for `point`: crash (half the
// time), sleep(100-1000 ms), or at a send point a dropping error of 10-100 %.
std::string draw_failpoint_action(const std::string& point, std::mt19937_64& random);

struct NemesisOptions {
  std::vector<PartitionShape> partition_shapes = two_way_partition_shapes();
  double clock_bump_max_seconds = 10.0;  // bumps are +-[0.5, max] s
  std::chrono::milliseconds strobe_period{100};
  std::chrono::milliseconds delay{100};
  KillTargets kill_targets = KillTargets::mixed;  // which nodes a kill hits (pause always uses mixed)
  ScenarioTiming scenario_timing;                 // orphan-leader and figure-8 (scenario.h)
  // The points the failpoint fault draws from (names of refnode's runtime/failpoints.h).
  std::vector<std::string> failpoint_points = default_failpoint_points();
  // Which files corrupt damages: a glob relative to the data directory (the
  // target's WAL or snapshot files, or "*").
  std::string corrupt_glob = "*";
  // Which nodes corrupt, disk-full, disk-error and disk-slow hit: mixed (the
  // default) is the leader or a random minority, never a majority.
  KillTargets disk_targets = KillTargets::mixed;
  // How a power loss's stop brings its nodes back. together: all at once.
  // leader-last: when the loss took the leader and others, the others first;
  // the old leader only once one of them leads (or after leader_wait), so an
  // entry only the old leader made durable must survive an election without it.
  PowerLossRestart power_loss_restart = PowerLossRestart::together;
  std::chrono::milliseconds leader_wait{5000};
};

class Nemesis {
 public:
  // completion false: the fault's invoke (value = plan); true: its info.
  using Recorder = std::function<void(bool completion, const std::string& function, const nlohmann::json& value)>;
  using Clock = std::chrono::steady_clock;

  Nemesis(NemesisTarget& target, NemesisOptions options, Recorder recorder, std::ostream& warnings);
  ~Nemesis();

  // Executes the events at start + event.at until the schedule ends or
  // request_stop(). A failing fault is recorded (info with "error") and warned
  // about once per kind; the run goes on.
  void run(const std::vector<NemesisEvent>& schedule, Clock::time_point start);
  void request_stop();
  // As request_stop(), for a run that is being cut short (a signal, a failure):
  // waits inside a stop (leader-last's wait for a new leader) end at once too.
  void request_interrupt();
  // Stops every active fault (reset clocks, heal network, resume, restart) and
  // records each stop. Throws ControlError naming every step that failed.
  void heal_all();

  // How many fault starts were recorded, per kind.
  const std::map<FaultKind, int>& starts() const { return starts_; }

 private:
  void start_fault(const NemesisEvent& event);
  void stop_fault(FaultKind kind);
  nlohmann::json start_partition(std::mt19937_64& random);
  nlohmann::json start_loss(std::mt19937_64& random);
  nlohmann::json start_process_fault(FaultKind kind, std::mt19937_64& random);
  nlohmann::json start_clock(std::mt19937_64& random);
  nlohmann::json start_delay();
  nlohmann::json start_failpoint(std::mt19937_64& random);
  nlohmann::json start_storage_fault(FaultKind kind, std::mt19937_64& random);
  nlohmann::json stop_storage_fault(FaultKind kind);
  nlohmann::json start_link_toxic(FaultKind kind, std::mt19937_64& random);
  // Sends every proxy the merged toxics of the open windows, per link.
  void apply_links();
  std::vector<std::string> leader_or_random_minority(std::mt19937_64& random);
  // A scripted scenario: records its own start (invoke with the plan, info
  // with the steps done) since it runs for seconds.
  void run_scenario_fault(FaultKind kind, std::mt19937_64& random);
  friend class NemesisScenarioActions;
  void apply_network();
  void stop_strobe();
  std::vector<std::string> random_minority(std::mt19937_64& random);
  void warn_once(FaultKind kind, const std::string& message);

  NemesisTarget& target_;
  NemesisOptions options_;
  Recorder recorder_;
  std::ostream& warnings_;
  std::set<std::string> warned_;

  std::mutex stop_mutex_;
  std::condition_variable stop_changed_;
  bool stop_requested_ = false;
  bool interrupt_requested_ = false;

  std::set<FaultKind> active_;
  std::map<FaultKind, int> starts_;
  Grudge grudge_;
  std::map<std::string, double> loss_;  // node -> drop probability
  std::vector<std::string> killed_, paused_, delayed_;
  Grudge scenario_grudge_;                                       // a scenario's partition, on top of grudge_
  std::vector<std::string> scenario_killed_;                     // nodes a scenario killed and has not restarted
  std::vector<std::string> scenario_paused_;                     // nodes a scenario paused and has not killed
  std::map<std::string, double> clock_offsets_;                  // nodes whose offset is not 0
  std::string armed_failpoint_;                                  // the point the failpoint fault armed
  std::vector<std::string> failpoint_nodes_;                     // on these nodes
  std::map<FaultKind, std::vector<std::string>> storage_nodes_;  // the nodes each storage fault holds
  // Nodes whose files corrupt damaged: with --disk-targets mixed their number
  // never exceeds a minority over the whole run (the damage is permanent).
  std::set<std::string> corrupted_nodes_;
  struct LinkWindow {
    std::vector<std::string> nodes;  // every link to and from these
    nlohmann::json toxics;           // linkproxy toxics
  };
  std::map<FaultKind, LinkWindow> link_windows_;
  std::string power_loss_leader_;  // leader-last: the leader the power loss took, restarted last ("": none)
  std::jthread strobe_;
};

}  // namespace chaosbench::nemesis
