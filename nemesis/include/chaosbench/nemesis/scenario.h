// Scripted, state-reactive fault sequences (Jepsen's targeted nemeses): one
// run of a scenario is a whole sequence of kills, pauses, restarts (and, if asked, a partition) that
// follows who leads (figure-8: each node's log) at each step, to reach states random fault windows rarely
// reach (an orphaned new leader, Raft's figure 8). Acts only through ScenarioActions.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/nemesis/partition.h"

namespace chaosbench::nemesis {

// orphan-leader: kill the leader; as soon as another node leads, pause (SIGSTOP)
// every other node, so the new leader is alone with an epoch/term nobody else
// logged anything of and, seeing no broken connection, goes on taking writes it
// cannot commit; after `hold` kill it and the paused nodes, restart all but it,
// let them elect, then restart the orphan (ZAB's lost acceptedEpoch, a
// follower that must truncate).
// figure-8: the Raft paper's figure 8, steered by each node's log as `status`
// reports it (term, commit, last_index, last_term; a target whose status lacks
// last_term is skipped), with kills as the cuts (a paused node still receives
// into its socket buffers and takes in what was sent meanwhile once resumed):
// (a) a majority killed, the leader L1 takes entries of its term T that only
// its companion gets; L1 and the companion are killed; (b) the majority comes
// back and elects L2 (term > T), whose followers are killed at once; once L2
// holds an entry of its own term (on it alone) it is killed; (c) everyone but
// L2 back: a holder of the term-T entries must win (L3) and replicate them;
// once L3's commit covers them (by counting replicas of an earlier term, or
// with an entry of its own term on a majority, which keeps L2 out) it runs
// `observe` longer (clients read them); (d) the holders killed, L2 restarted:
// with its term on top it can win the votes of the others and overwrite the
// term-T entries. Then every node but the winner is killed and restarted
// (none keeps a state machine that applied overwritten entries). A step that
// does not come about ends the run early (the steps say why).
// Named on the command line as the fault kinds orphan-leader and figure-8 (fault.h).
enum class Scenario { orphan_leader, figure_eight };

// What a scenario acts through; the Nemesis implements it over its target.
class ScenarioActions {
 public:
  virtual ~ScenarioActions() = default;
  virtual std::vector<std::string> node_names() const = 0;
  virtual std::optional<std::string> leader() = 0;
  // The node's `status` value, nullopt when it does not answer (figure-8 only).
  virtual std::optional<nlohmann::json> status(const std::string& /*node*/) { return std::nullopt; }
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
  std::chrono::milliseconds entry_wait{2000};        // figure-8: for a leader's first entry of its own term
  std::chrono::milliseconds observe{20};             // figure-8: L3 runs this long after committing the old entries
};

// Runs one scenario to its end, or until wait() returns false (then the caller
// heals what is left: killed nodes and the partition). Returns the steps done,
// for the history: [{"at_ms":..,"step":"kill","nodes":[..]}, ...]. Random
// choices (which follower, the leader when none is known) come from `random`.
nlohmann::json run_scenario(Scenario scenario, ScenarioActions& actions, std::mt19937_64& random,
                            const ScenarioTiming& timing = {});

}  // namespace chaosbench::nemesis
