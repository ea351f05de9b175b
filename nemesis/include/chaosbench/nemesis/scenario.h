// Scripted, state-reactive fault sequences (Jepsen's targeted nemeses): one
// run of a scenario is a whole sequence of kills, pauses, restarts (and, if asked, a partition) that
// follows who leads at each step, to reach states random fault windows rarely
// reach (an orphaned new leader, Raft's figure 8). Acts only through ScenarioActions.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/nemesis/partition.h"

namespace chaosbench::nemesis {

// orphan-leader: kill the leader; as soon as another node leads, pause (SIGSTOP)
// every other node, so the new leader is alone with an epoch/term nobody else
// logged anything of and, seeing no broken connection, goes on taking writes it
// cannot commit; after `hold` kill it and the paused nodes, restart all but it,
// let them elect, then restart the orphan (ZAB's lost acceptedEpoch, a
// follower that must truncate). figure-8: Raft paper figure 8, with pauses
// (SIGSTOP: instant, unlike iptables) as the fast cuts: the leader, with the
// majority paused, takes entries only a minority gets, and is killed; the
// majority elects a leader that is left alone at once (everyone else paused)
// and killed; the first leader comes back, leads again, replicates its old
// entries to a majority and is paused at once; the second comes back (the
// others paused until it is up) and may win and overwrite them.
enum class Scenario { orphan_leader, figure_eight };

std::string_view to_string(Scenario scenario);
std::optional<Scenario> parse_scenario(std::string_view text);

// What a scenario acts through; the Nemesis implements it over its target.
class ScenarioActions {
 public:
  virtual ~ScenarioActions() = default;
  virtual std::vector<std::string> node_names() const = 0;
  virtual std::optional<std::string> leader() = 0;
  virtual void kill(const std::vector<std::string>& nodes) = 0;
  virtual void restart(const std::vector<std::string>& nodes) = 0;
  virtual void pause(const std::vector<std::string>& nodes) = 0;   // SIGSTOP; a later kill ends it
  virtual void resume(const std::vector<std::string>& nodes) = 0;  // SIGCONT
  // Replaces the scenario's partition (an empty grudge heals it).
  virtual void partition(const Grudge& grudge) = 0;
  // Sleeps; false when the run is stopping (the scenario then returns at once).
  virtual bool wait(std::chrono::milliseconds duration) = 0;
};

struct ScenarioTiming {
  std::chrono::milliseconds poll{2};                 // between leader queries while waiting for an election
  std::chrono::milliseconds election_timeout{5000};  // give up waiting for a leader after this
  std::chrono::milliseconds strike{5};               // from seeing a new leader to acting on it
  std::chrono::milliseconds hold{800};               // a lone leader runs this long before it is killed
  std::chrono::milliseconds settle{1000};            // after an election, before the next step
};

// Runs one scenario to its end, or until wait() returns false (then the caller
// heals what is left: killed nodes and the partition). Returns the steps done,
// for the history: [{"at_ms":..,"step":"kill","nodes":[..]}, ...]. Random
// choices (which follower, the leader when none is known) come from `random`.
nlohmann::json run_scenario(Scenario scenario, ScenarioActions& actions, std::mt19937_64& random,
                            const ScenarioTiming& timing = {});

}  // namespace chaosbench::nemesis
