#include "chaosbench/nemesis/scenario.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

namespace chaosbench::nemesis {

using nlohmann::json;

namespace {

std::vector<std::string> without(const std::vector<std::string>& nodes, const std::set<std::string>& excluded) {
  std::vector<std::string> kept;
  for (const auto& node : nodes) {
    if (!excluded.count(node)) kept.push_back(node);
  }
  return kept;
}

class ScenarioRun {
 public:
  ScenarioRun(ScenarioActions& actions, std::mt19937_64& random, const ScenarioTiming& timing)
      : actions_(actions),
        random_(random),
        timing_(timing),
        nodes_(actions.node_names()),
        started_(std::chrono::steady_clock::now()) {}

  json steps() && { return std::move(steps_); }

  void orphan_leader() {
    if (!enough_nodes()) return;
    const std::string first = current_leader();
    kill({first});
    auto orphan = await_leader({first});
    if (!orphan) {
      restart({first});
      return;
    }
    // A new leader announces its epoch/term right after it wins; strike before
    // its first entries reach the followers.
    if (!actions_.wait(timing_.strike)) return;
    const auto others = without(nodes_, {first, *orphan});
    pause(others);
    if (!actions_.wait(timing_.hold)) return;
    kill({*orphan});
    kill(others);
    auto rest = others;
    rest.push_back(first);
    std::sort(rest.begin(), rest.end());
    restart(rest);
    if (!await_leader({*orphan})) return;
    if (!actions_.wait(timing_.settle)) return;
    restart({*orphan});
    actions_.wait(timing_.settle);
  }

  // Kills are the cuts here: a paused (SIGSTOP) node still receives into its
  // socket buffers and takes in, when resumed, whatever was sent meanwhile.
  void figure_eight() {
    if (!enough_nodes()) return;
    const auto initial = poll_logs(nodes_);
    if (initial.empty()) {
      note("skipped", {}, "figure-8 needs each node's status with last_term (raft)");
      return;
    }
    const auto first_leader = leader_among(initial);
    if (!first_leader) {
      note("no-leader", {}, "no node answered as leader");
      return;
    }
    // (a) A majority killed: L1's new entries (term T) reach only its companions.
    const std::string first = *first_leader;
    const std::uint64_t old_term = initial.at(first).term;
    std::vector<std::string> followers = without(nodes_, {first});
    shuffle(followers);
    const std::size_t minority = (nodes_.size() - 1) / 2;
    const std::vector<std::string> companions =
        sorted(std::vector<std::string>(followers.begin(), followers.begin() + (minority - 1)));
    std::set<std::string> holders(companions.begin(), companions.end());
    holders.insert(first);
    const std::vector<std::string> majority_side = without(nodes_, holders);
    kill(majority_side);
    std::vector<std::string> watched = companions;
    watched.push_back(first);
    const auto tail = await_logs(watched, timing_.entry_wait, [&](const LogViews& logs) {
      const auto leader = logs.find(first);
      if (leader == logs.end() || leader->second.role != "leader" || leader->second.term != old_term) return false;
      if (leader->second.last_term != old_term || leader->second.last_index <= leader->second.commit) return false;
      return std::all_of(companions.begin(), companions.end(), [&](const std::string& companion) {
        auto found = logs.find(companion);
        return found != logs.end() && found->second.last_term == old_term &&
               found->second.last_index > leader->second.commit;
      });
    });
    if (!tail) return give_up("no uncommitted entry of the first leader's term reached its companions");
    note_logs("old-entries", *tail);
    // An uncommitted term-T entry every holder has: what L3 must commit.
    std::uint64_t old_entry = tail->at(first).last_index;
    for (const auto& companion : companions) old_entry = std::min(old_entry, tail->at(companion).last_index);
    kill({first});
    // (b) The holders down, the majority elects L2; its followers are killed
    // at once, and L2 is killed once it holds an entry of its own term.
    kill(companions);
    restart(majority_side);
    const auto elected = await_logs(majority_side, timing_.election_timeout,
                                    [&](const LogViews& logs) { return leader_among(logs).has_value(); });
    if (!elected) return give_up("no leader among the majority");
    const std::string second = *leader_among(*elected);
    const auto second_followers = without(majority_side, {second});
    kill(second_followers);
    note_logs("leader", *elected);
    const std::uint64_t second_term = elected->at(second).term;
    const auto own_entry = await_logs({second}, timing_.entry_wait, [&](const LogViews& logs) {
      auto found = logs.find(second);
      return found != logs.end() && found->second.last_term == second_term;
    });
    if (!own_entry) return give_up("the second leader took no entry of its term");
    note_logs("new-entry", *own_entry);
    kill({second});
    // (c) Everyone but L2 back: a holder of the term-T entries must lead
    // again (L3) and replicate them until its commit covers them.
    const auto living = without(nodes_, {second});
    restart(living);
    const auto third_elected = await_logs(living, timing_.election_timeout,
                                          [&](const LogViews& logs) { return leader_among(logs).has_value(); });
    if (!third_elected) return give_up("no third leader");
    const std::string third = *leader_among(*third_elected);
    note_logs("leader", *third_elected);
    if (!holders.count(third)) return give_up("the third leader does not hold the old entries");
    const auto covered = await_logs(living, timing_.election_timeout, [&](const LogViews& logs) {
      auto found = logs.find(third);
      return found != logs.end() && found->second.role == "leader" && found->second.commit >= old_entry;
    });
    if (!covered) return give_up("the third leader did not commit the old entries");
    note_logs("committed", *covered);
    if (!actions_.wait(timing_.observe)) return;
    // (d) The holders killed, L2 restarted: it needs the votes of the rest,
    // whose last term is now T (or newer, if L3's own entries reached them:
    // then L2 loses, as it must).
    kill(sorted(std::vector<std::string>(holders.begin(), holders.end())));
    restart({second});
    const auto voters = without(nodes_, holders);
    const auto fourth_elected = await_logs(voters, timing_.election_timeout,
                                           [&](const LogViews& logs) { return leader_among(logs).has_value(); });
    if (!fourth_elected) return give_up("the second leader did not win again");
    const std::string fourth = *leader_among(*fourth_elected);
    note_logs("leader", *fourth_elected);
    if (fourth == second) {
      // Until its entries replaced the old ones on the voters (or settle passes).
      const auto overwritten = await_logs(voters, timing_.settle, [&](const LogViews& logs) {
        return std::all_of(voters.begin(), voters.end(), [&](const std::string& voter) {
          auto found = logs.find(voter);
          return found != logs.end() && found->second.last_term >= second_term;
        });
      });
      if (overwritten) note_logs("overwritten", *overwritten);
    }
    // Nodes that applied entries now overwritten keep them in their state
    // machines; a restart rebuilds every one from its (repaired) log.
    kill(without(voters, {fourth}));
    restart(without(nodes_, {fourth}));
    actions_.wait(timing_.settle);
  }

 private:
  struct LogView {
    std::string role;
    std::uint64_t term = 0, commit = 0, last_index = 0, last_term = 0;
  };
  using LogViews = std::map<std::string, LogView>;

  // The status of each listed node that is up and not paused (by this scenario)
  // and reports last_term.
  LogViews poll_logs(const std::vector<std::string>& nodes) {
    LogViews logs;
    for (const auto& node : nodes) {
      if (paused_.count(node) || killed_.count(node)) continue;
      const auto status = actions_.status(node);
      if (!status || !status->is_object() || !status->contains("last_term")) continue;
      LogView view;
      view.role = status->value("role", "");
      view.term = status->value("term", std::uint64_t{0});
      view.commit = status->value("commit", std::uint64_t{0});
      view.last_index = status->value("last_index", std::uint64_t{0});
      view.last_term = status->value("last_term", std::uint64_t{0});
      logs.emplace(node, view);
    }
    return logs;
  }

  // The node answering as leader with the highest term.
  static std::optional<std::string> leader_among(const LogViews& logs) {
    std::optional<std::string> leader;
    std::uint64_t best = 0;
    for (const auto& [node, view] : logs) {
      if (view.role == "leader" && (!leader || view.term > best)) {
        leader = node;
        best = view.term;
      }
    }
    return leader;
  }

  // Polls the nodes until `done` holds for their logs; nullopt after `limit` or when stopping.
  template <typename Predicate>
  std::optional<LogViews> await_logs(const std::vector<std::string>& nodes, std::chrono::milliseconds limit,
                                     Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      auto logs = poll_logs(nodes);
      if (done(logs)) return logs;
      if (std::chrono::steady_clock::now() >= deadline || !actions_.wait(timing_.poll)) return std::nullopt;
    }
  }

  void note_logs(const std::string& step, const LogViews& logs) {
    json entry = {{"at_ms", elapsed_ms()}, {"step", step}, {"logs", json::object()}};
    if (auto leader = leader_among(logs)) entry["nodes"] = {*leader};
    for (const auto& [node, view] : logs) {
      entry["logs"][node] = {{"role", view.role},
                             {"term", view.term},
                             {"commit", view.commit},
                             {"last_index", view.last_index},
                             {"last_term", view.last_term}};
    }
    steps_.push_back(std::move(entry));
  }

  // Restarts what this scenario killed, resumes what it paused, then settles.
  void give_up(const std::string& why) {
    note("gave-up", {}, why);
    finish(std::vector<std::string>(killed_.begin(), killed_.end()));
    actions_.wait(timing_.settle);
  }

  bool enough_nodes() {
    if (nodes_.size() >= 3) return true;
    note("skipped", {}, "needs at least 3 nodes");
    return false;
  }

  // Resumes, heals and restarts what a scenario that could not go on left behind.
  void finish(const std::vector<std::string>& dead) {
    if (!paused_.empty()) resume(std::vector<std::string>(paused_.begin(), paused_.end()));
    if (partitioned_) partition({});
    if (!dead.empty()) restart(dead);
  }

  static std::vector<std::string> sorted(std::vector<std::string> nodes) {
    std::sort(nodes.begin(), nodes.end());
    return nodes;
  }

  std::string current_leader() {
    if (auto leader = actions_.leader()) {
      note("leader", {*leader});
      return *leader;
    }
    const std::string chosen = nodes_[random_() % nodes_.size()];
    note("leader", {chosen}, "no leader answered: a random node plays it");
    return chosen;
  }

  // Polls until a node outside `excluded` leads; nullopt after the timeout or when stopping.
  std::optional<std::string> await_leader(const std::set<std::string>& excluded) {
    const auto deadline = std::chrono::steady_clock::now() + timing_.election_timeout;
    while (true) {
      auto leader = actions_.leader();
      if (leader && !excluded.count(*leader)) {
        note("leader", {*leader});
        return leader;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        note("no-leader", {}, "no new leader within the election timeout");
        return std::nullopt;
      }
      if (!actions_.wait(timing_.poll)) return std::nullopt;
    }
  }

  void kill(const std::vector<std::string>& nodes) {
    if (nodes.empty()) return;
    actions_.kill(nodes);
    for (const auto& node : nodes) {
      paused_.erase(node);
      killed_.insert(node);
    }
    note("kill", nodes);
  }

  void pause(const std::vector<std::string>& nodes) {
    if (nodes.empty()) return;
    actions_.pause(nodes);
    paused_.insert(nodes.begin(), nodes.end());
    note("pause", nodes);
  }

  void resume(const std::vector<std::string>& nodes) {
    if (nodes.empty()) return;
    actions_.resume(nodes);
    for (const auto& node : nodes) paused_.erase(node);
    note("resume", nodes);
  }

  void restart(const std::vector<std::string>& nodes) {
    if (nodes.empty()) return;
    actions_.restart(nodes);
    for (const auto& node : nodes) killed_.erase(node);
    note("restart", nodes);
  }

  void partition(const Grudge& grudge) {
    actions_.partition(grudge);
    partitioned_ = !grudge.empty();
    json step = {{"at_ms", elapsed_ms()}, {"step", grudge.empty() ? "heal" : "partition"}};
    if (!grudge.empty()) step["grudge"] = json::parse(describe_grudge(grudge));
    steps_.push_back(std::move(step));
  }

  void note(const std::string& step, const std::vector<std::string>& nodes, const std::string& why = "") {
    json entry = {{"at_ms", elapsed_ms()}, {"step", step}, {"nodes", nodes}};
    if (!why.empty()) entry["note"] = why;
    steps_.push_back(std::move(entry));
  }

  void shuffle(std::vector<std::string>& nodes) {
    for (std::size_t index = nodes.size(); index > 1; --index) std::swap(nodes[index - 1], nodes[random_() % index]);
  }

  long long elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  }

  ScenarioActions& actions_;
  std::mt19937_64& random_;
  ScenarioTiming timing_;
  std::vector<std::string> nodes_;
  std::chrono::steady_clock::time_point started_;
  json steps_ = json::array();
  std::set<std::string> paused_;
  std::set<std::string> killed_;
  bool partitioned_ = false;
};

}  // namespace

json run_scenario(Scenario scenario, ScenarioActions& actions, std::mt19937_64& random, const ScenarioTiming& timing) {
  ScenarioRun run(actions, random, timing);
  switch (scenario) {
    case Scenario::orphan_leader:
      run.orphan_leader();
      break;
    case Scenario::figure_eight:
      run.figure_eight();
      break;
  }
  return std::move(run).steps();
}

}  // namespace chaosbench::nemesis
