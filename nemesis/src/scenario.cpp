#include "chaosbench/nemesis/scenario.h"

#include <algorithm>
#include <set>

namespace chaosbench::nemesis {

using nlohmann::json;

std::string_view to_string(Scenario scenario) {
  switch (scenario) {
    case Scenario::orphan_leader: return "orphan-leader";
    case Scenario::figure_eight: return "figure-8";
  }
  return "?";
}

std::optional<Scenario> parse_scenario(std::string_view text) {
  for (Scenario scenario : {Scenario::orphan_leader, Scenario::figure_eight}) {
    if (to_string(scenario) == text) return scenario;
  }
  return std::nullopt;
}

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
      : actions_(actions), random_(random), timing_(timing), nodes_(actions.node_names()),
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

  void figure_eight() {
    if (!enough_nodes()) return;
    // (a) The leader, with the majority paused, takes entries only the
    // followers of a minority get; then it is killed.
    const std::string first = current_leader();
    std::vector<std::string> followers = without(nodes_, {first});
    shuffle(followers);
    const std::size_t minority = (nodes_.size() - 1) / 2;
    const std::vector<std::string> companions(followers.begin(), followers.begin() + (minority - 1));
    std::set<std::string> minority_set(companions.begin(), companions.end());
    minority_set.insert(first);
    const std::vector<std::string> majority_side = without(nodes_, minority_set);
    pause(majority_side);
    if (!actions_.wait(timing_.hold)) return;
    kill({first});
    // (b) The majority (without those entries) elects; at once everyone else
    // is paused, so the new leader's own entries stay on it alone; it is killed.
    pause(sorted(companions));
    resume(majority_side);
    auto second = await_leader(minority_set);
    if (!second) return finish({first});
    if (!actions_.wait(timing_.strike)) return;
    pause(without(majority_side, {*second}));
    if (!actions_.wait(timing_.hold)) return;
    kill({*second});
    // (c) The first leader comes back and (having the longest log of the
    // older term) leads again, replicating its old entries; it is paused
    // before entries of its new term reach a majority.
    resume(without(nodes_, {first, *second}));
    restart({first});
    auto third = await_leader({*second});
    if (!third) return finish({*second});
    if (!actions_.wait(timing_.strike)) return;
    pause({*third});
    // (d) The second leader comes back first (the others paused, so none of
    // them is elected before it is up): its newer-term entries can win the
    // election and overwrite what the third replicated.
    const auto others = without(nodes_, {*second, *third});
    pause(others);
    restart({*second});
    if (!actions_.wait(timing_.hold / 2)) return;
    resume(others);
    auto fourth = await_leader({*third});
    if (!actions_.wait(timing_.settle)) return;
    resume({*third});
    actions_.wait(timing_.settle);
    (void)fourth;
  }

 private:
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
    for (const auto& node : nodes) paused_.erase(node);
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
  bool partitioned_ = false;
};

}  // namespace

json run_scenario(Scenario scenario, ScenarioActions& actions, std::mt19937_64& random, const ScenarioTiming& timing) {
  ScenarioRun run(actions, random, timing);
  switch (scenario) {
    case Scenario::orphan_leader: run.orphan_leader(); break;
    case Scenario::figure_eight: run.figure_eight(); break;
  }
  return std::move(run).steps();
}

}  // namespace chaosbench::nemesis
