// The scripted nemesis scenarios against model clusters: for orphan-leader, a
// node leads while it is alive and reaches a majority; otherwise the alive node
// with the smallest name that reaches a majority is elected; for figure-8, a
// model of Raft's logs (RaftModelCluster). Checks the order of kills,
// restarts and partitions, that every scenario ends healed with every node up,
// that the same seed gives the same steps, and that a stop ends it at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <thread>

#include "chaosbench/nemesis/fault.h"
#include "chaosbench/nemesis/scenario.h"

namespace chaosbench::nemesis {
namespace {

class ModelCluster : public ScenarioActions {
 public:
  ModelCluster(int count, std::string leader) : leader_(std::move(leader)) {
    for (int index = 1; index <= count; ++index) {
      nodes_.push_back("n" + std::to_string(index));
      alive_.insert(nodes_.back());
    }
  }

  std::vector<std::string> node_names() const override { return nodes_; }

  std::optional<std::string> leader() override {
    ++leader_queries_;
    if (leader_ && reaches_majority(*leader_)) return leader_;
    leader_.reset();
    for (const auto& node : nodes_) {
      if (reaches_majority(node)) {
        leader_ = node;
        return leader_;
      }
    }
    return std::nullopt;
  }

  void kill(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      EXPECT_TRUE(alive_.erase(node)) << node << " killed twice";
      paused_.erase(node);
    }
    log_.push_back("kill " + join(nodes));
  }

  void restart(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      EXPECT_TRUE(alive_.insert(node).second) << node << " restarted while up";
    }
    log_.push_back("restart " + join(nodes));
  }

  void pause(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      EXPECT_TRUE(alive_.count(node)) << node << " paused while down";
      paused_.insert(node);
    }
    log_.push_back("pause " + join(nodes));
  }

  void resume(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      EXPECT_TRUE(paused_.erase(node)) << node << " resumed while not paused";
    }
    log_.push_back("resume " + join(nodes));
  }

  void partition(const Grudge& grudge) override {
    grudge_ = grudge;
    log_.push_back(grudge.empty() ? "heal" : "partition " + describe_grudge(grudge));
  }

  // Holds and settles pass at once; polls really sleep, so the election timeout can pass.
  bool wait(std::chrono::milliseconds duration) override {
    if (duration <= std::chrono::milliseconds(5)) std::this_thread::sleep_for(duration);
    return ++waits_ <= waits_allowed_;
  }

  bool reaches_majority(const std::string& node) const {
    if (!alive_.count(node) || paused_.count(node)) return false;
    std::size_t reached = 0;
    for (const auto& other : nodes_) {
      if (!alive_.count(other) || paused_.count(other)) continue;
      if (other == node || (!drops(node, other) && !drops(other, node))) ++reached;
    }
    return reached > nodes_.size() / 2;
  }

  bool drops(const std::string& receiver, const std::string& sender) const {
    auto found = grudge_.find(receiver);
    return found != grudge_.end() && found->second.count(sender);
  }

  static std::string join(const std::vector<std::string>& nodes) {
    std::string text;
    for (const auto& node : nodes) text += (text.empty() ? "" : ",") + node;
    return text;
  }

  std::vector<std::string> nodes_;
  std::set<std::string> alive_, paused_;
  std::optional<std::string> leader_;
  Grudge grudge_;
  std::vector<std::string> log_;
  int waits_ = 0;
  int waits_allowed_ = 1'000'000;
  int leader_queries_ = 0;
};

ScenarioTiming fast_timing() {
  ScenarioTiming timing;
  timing.election_timeout = std::chrono::milliseconds(200);
  return timing;
}

nlohmann::json without_times(nlohmann::json steps) {
  for (auto& step : steps) step.erase("at_ms");
  return steps;
}

TEST(NemesisScenario, NamesParseAsFaultKinds) {
  EXPECT_EQ(parse_fault_list("orphan-leader,figure-8"),
            (std::vector<FaultKind>{FaultKind::orphan_leader, FaultKind::figure_eight}));
  EXPECT_EQ(to_string(FaultKind::figure_eight), "figure-8");
  EXPECT_THROW(parse_fault_list("figure-9"), std::invalid_argument);
}

TEST(NemesisScenario, OrphanLeaderLeavesTheNewLeaderAloneThenRestartsItLast) {
  ModelCluster cluster(3, "n2");
  std::mt19937_64 random(7);
  const auto steps = run_scenario(Scenario::orphan_leader, cluster, random, fast_timing());
  // n2 leads and is killed; n1 wins; n3 (its follower) is paused at once; then
  // n1 and n3 are killed; n2 and n3 come back and elect n2; n1 (the orphan)
  // comes back last.
  EXPECT_EQ(cluster.log_,
            (std::vector<std::string>{"kill n2", "pause n3", "kill n1", "kill n3", "restart n2,n3", "restart n1"}));
  EXPECT_TRUE(cluster.paused_.empty());
  EXPECT_EQ(cluster.alive_.size(), 3u);
  EXPECT_TRUE(cluster.grudge_.empty());
  std::vector<std::string> leaders;
  for (const auto& step : steps) {
    if (step["step"] == "leader") leaders.push_back(step["nodes"][0]);
  }
  EXPECT_EQ(leaders, (std::vector<std::string>{"n2", "n1", "n2"}));
}

TEST(NemesisScenario, OrphanLeaderOnFiveNodesKillsEveryFollower) {
  ModelCluster cluster(5, "n1");
  std::mt19937_64 random(1);
  run_scenario(Scenario::orphan_leader, cluster, random, fast_timing());
  ASSERT_GE(cluster.log_.size(), 2u);
  EXPECT_EQ(cluster.log_[0], "kill n1");
  EXPECT_EQ(cluster.log_[1], "pause n3,n4,n5");  // n2 leads next; everyone else stops
  EXPECT_EQ(cluster.log_[3], "kill n3,n4,n5");
  EXPECT_EQ(cluster.log_.back(), "restart n2");
  EXPECT_EQ(cluster.alive_.size(), 5u);
}

// Raft's logs, for figure-8 (which steers by `status`): each node's log is the
// list of its entries' terms. When the leader is down or paused, the live
// nodes (a majority of them) elect the most up-to-date log (smallest name on a
// tie) in a new term; a correct leader appends its no-op at once. Every third
// status query of the leader brings it one client write. A leader copies its
// log to every live node at once and commits what a majority holds: only up to
// an entry of its own term, or anything with commit_previous_term. An entry
// once committed and later replaced on any node is recorded as lost.
class RaftModelCluster : public ScenarioActions {
 public:
  RaftModelCluster(int count, const std::string& leader, bool commit_previous_term)
      : commit_previous_term_(commit_previous_term) {
    for (int index = 1; index <= count; ++index) {
      const std::string name = "n" + std::to_string(index);
      names_.push_back(name);
      nodes_[name] = ModelNode{true, false, 1, {1, 1}, 2};
    }
    leader_ = leader;
    committed_ = {1, 1};
  }

  std::vector<std::string> node_names() const override { return names_; }
  std::optional<std::string> leader() override { return leader_; }

  std::optional<nlohmann::json> status(const std::string& name) override {
    const ModelNode& node = nodes_.at(name);
    if (!node.alive || node.paused) return std::nullopt;
    step();
    if (leader_ == name && ++leader_queries_ % 3 == 0) {
      nodes_.at(name).log.push_back(nodes_.at(name).term);
      replicate();
    }
    const ModelNode& now = nodes_.at(name);
    return nlohmann::json{{"node", name},
                          {"role", leader_ == name ? "leader" : "follower"},
                          {"term", now.term},
                          {"commit", now.commit},
                          {"last_index", now.log.size()},
                          {"last_term", now.log.empty() ? 0 : now.log.back()}};
  }

  void kill(const std::vector<std::string>& names) override {
    for (const auto& name : names) {
      EXPECT_TRUE(nodes_.at(name).alive) << name << " killed twice";
      nodes_.at(name).alive = false;
      nodes_.at(name).paused = false;
      if (leader_ == name) leader_.reset();
    }
    log_.push_back("kill " + ModelCluster::join(names));
  }

  void restart(const std::vector<std::string>& names) override {
    for (const auto& name : names) {
      EXPECT_FALSE(nodes_.at(name).alive) << name << " restarted while up";
      nodes_.at(name).alive = true;
    }
    log_.push_back("restart " + ModelCluster::join(names));
  }

  void pause(const std::vector<std::string>& names) override {
    for (const auto& name : names) {
      nodes_.at(name).paused = true;
      if (leader_ == name) leader_.reset();
    }
    log_.push_back("pause " + ModelCluster::join(names));
  }

  void resume(const std::vector<std::string>& names) override {
    for (const auto& name : names) nodes_.at(name).paused = false;
    log_.push_back("resume " + ModelCluster::join(names));
  }

  void partition(const Grudge&) override { ADD_FAILURE() << "figure-8 partitions nothing"; }
  bool wait(std::chrono::milliseconds duration) override {
    if (duration <= std::chrono::milliseconds(5)) std::this_thread::sleep_for(duration);
    return true;
  }

  bool all_up() const {
    return std::all_of(nodes_.begin(), nodes_.end(),
                       [](const auto& entry) { return entry.second.alive && !entry.second.paused; });
  }

  struct ModelNode {
    bool alive = true, paused = false;
    std::uint64_t term = 1;
    std::vector<std::uint64_t> log;  // the term of each entry
    std::uint64_t commit = 0;
  };

  std::vector<std::string> live() const {
    std::vector<std::string> names;
    for (const auto& name : names_) {
      if (nodes_.at(name).alive && !nodes_.at(name).paused) names.push_back(name);
    }
    return names;
  }

  static bool at_least_as_up_to_date(const ModelNode& candidate, const ModelNode& voter) {
    const std::uint64_t candidate_term = candidate.log.empty() ? 0 : candidate.log.back();
    const std::uint64_t voter_term = voter.log.empty() ? 0 : voter.log.back();
    return candidate_term > voter_term || (candidate_term == voter_term && candidate.log.size() >= voter.log.size());
  }

  void step() {
    if (leader_) return;
    const auto voters = live();
    if (voters.size() <= names_.size() / 2) return;
    std::uint64_t term = 0;
    for (const auto& name : voters) term = std::max(term, nodes_.at(name).term);
    for (const auto& candidate : voters) {
      std::size_t votes = 0;
      for (const auto& voter : voters) votes += at_least_as_up_to_date(nodes_.at(candidate), nodes_.at(voter));
      bool best = true;
      for (const auto& other : voters) {
        if (!at_least_as_up_to_date(nodes_.at(candidate), nodes_.at(other))) best = false;
      }
      if (!best || votes <= names_.size() / 2) continue;
      leader_ = candidate;
      leader_queries_ = 0;
      for (const auto& name : voters) nodes_.at(name).term = term + 1;
      if (!commit_previous_term_) nodes_.at(candidate).log.push_back(term + 1);  // the no-op
      replicate();
      return;
    }
  }

  void replicate() {
    ModelNode& leader = nodes_.at(*leader_);
    const auto followers = live();
    for (const auto& name : followers) {
      ModelNode& node = nodes_.at(name);
      node.log = leader.log;
      for (std::size_t index = 0; index < committed_.size(); ++index) {
        if (index >= node.log.size() || node.log[index] != committed_[index]) lost_ = true;
      }
    }
    if (followers.size() > names_.size() / 2 &&
        (commit_previous_term_ || (!leader.log.empty() && leader.log.back() == leader.term))) {
      leader.commit = leader.log.size();
      committed_ = leader.log;
    }
    for (const auto& name : followers) nodes_.at(name).commit = leader.commit;
  }

  bool commit_previous_term_;
  std::vector<std::string> names_;
  std::map<std::string, ModelNode> nodes_;
  std::optional<std::string> leader_;
  int leader_queries_ = 0;
  std::vector<std::uint64_t> committed_;  // the longest committed log
  bool lost_ = false;
  std::vector<std::string> log_;
};

std::vector<std::string> steps_named(const nlohmann::json& steps) {
  std::vector<std::string> names;
  for (const auto& step : steps) names.push_back(step["step"]);
  return names;
}

TEST(NemesisScenario, FigureEightForcesThePapersInterleavingWhenOldTermsCommitByCounting) {
  RaftModelCluster cluster(5, "n3", /*commit_previous_term=*/true);
  std::mt19937_64 random(11);
  const auto steps = run_scenario(Scenario::figure_eight, cluster, random, fast_timing());
  ASSERT_GE(cluster.log_.size(), 8u) << steps.dump();
  // (a) the majority killed: n3 and its companion hold a term-1 entry nobody else has.
  ASSERT_EQ(cluster.log_[0].rfind("kill ", 0), 0u);
  const std::string majority = cluster.log_[0].substr(5);
  EXPECT_EQ(majority.size(), 8u) << majority;  // three names
  EXPECT_EQ(majority.find("n3"), std::string::npos);
  EXPECT_EQ(cluster.log_[1], "kill n3");
  const std::string companion = cluster.log_[2].substr(5);
  EXPECT_EQ(majority.find(companion), std::string::npos);
  // (b) the majority back; its leader's followers killed at once, so its
  // term-2 entry stays on it; then it is killed.
  EXPECT_EQ(cluster.log_[3], "restart " + majority);
  ASSERT_EQ(cluster.log_[5].rfind("kill ", 0), 0u);
  const std::string second = cluster.log_[5].substr(5);
  EXPECT_EQ(cluster.log_[4].find(second), std::string::npos);
  // (c) all but the second back; a holder (n3 or the companion) leads in
  // term 3 and commits the term-1 entry by counting; (d) the holders killed,
  // the second restarted, it wins and overwrites that committed entry.
  EXPECT_EQ(cluster.log_[7].rfind("kill ", 0), 0u);
  EXPECT_NE(cluster.log_[7].find("n3"), std::string::npos);
  EXPECT_EQ(cluster.log_[8], "restart " + second);
  EXPECT_EQ(steps_named(steps),
            (std::vector<std::string>{"kill", "old-entries", "kill", "kill", "restart", "kill", "leader", "new-entry",
                                      "kill", "restart", "leader", "committed", "kill", "restart", "leader",
                                      "overwritten", "kill", "restart"}))
      << steps.dump();
  EXPECT_EQ(steps[14]["nodes"][0], second);
  EXPECT_TRUE(cluster.lost_) << "a committed entry was overwritten (figure 8)";
  EXPECT_TRUE(cluster.all_up());
}

TEST(NemesisScenario, FigureEightOnACorrectRaftGivesUpWhenTheOldEntriesCannotWin) {
  // The second leader's no-op reached its followers before they were killed:
  // a follower (newer last term) leads third, so the scenario stops there.
  RaftModelCluster cluster(5, "n3", /*commit_previous_term=*/false);
  std::mt19937_64 random(11);
  const auto steps = run_scenario(Scenario::figure_eight, cluster, random, fast_timing());
  const auto names = steps_named(steps);
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[names.size() - 2], "gave-up") << steps.dump();
  EXPECT_EQ(steps[steps.size() - 2]["note"], "the third leader does not hold the old entries");
  EXPECT_FALSE(cluster.lost_);
  EXPECT_TRUE(cluster.all_up());
}

TEST(NemesisScenario, FigureEightSkipsATargetWithoutLastTerm) {
  ModelCluster cluster(5, "n1");  // answers no status
  std::mt19937_64 random(3);
  const auto steps = run_scenario(Scenario::figure_eight, cluster, random, fast_timing());
  EXPECT_TRUE(cluster.log_.empty());
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0]["step"], "skipped");
}

TEST(NemesisScenario, SameSeedSameSteps) {
  ModelCluster one(5, "n2"), two(5, "n2"), other(5, "n2");
  std::mt19937_64 random_one(5), random_two(5), random_other(6);
  const auto a = without_times(run_scenario(Scenario::orphan_leader, one, random_one, fast_timing()));
  const auto b = without_times(run_scenario(Scenario::orphan_leader, two, random_two, fast_timing()));
  EXPECT_EQ(a, b);
  EXPECT_EQ(one.log_, two.log_);
  run_scenario(Scenario::orphan_leader, other, random_other, fast_timing());
  EXPECT_EQ(other.alive_.size(), 5u);

  RaftModelCluster raft_one(5, "n2", true), raft_two(5, "n2", true), raft_other(5, "n2", true);
  const auto c = without_times(run_scenario(Scenario::figure_eight, raft_one, random_one, fast_timing()));
  const auto d = without_times(run_scenario(Scenario::figure_eight, raft_two, random_two, fast_timing()));
  EXPECT_EQ(c, d);
  EXPECT_EQ(raft_one.log_, raft_two.log_);
  run_scenario(Scenario::figure_eight, raft_other, random_other, fast_timing());
  EXPECT_TRUE(raft_other.all_up());
}

TEST(NemesisScenario, AStopEndsTheScenarioAtOnce) {
  ModelCluster cluster(3, "n1");
  cluster.waits_allowed_ = 0;  // the run is stopping
  std::mt19937_64 random(3);
  run_scenario(Scenario::orphan_leader, cluster, random, fast_timing());
  // The first kill happened; the scenario returned at its first wait, leaving
  // the healing (restart n1) to the caller.
  EXPECT_EQ(cluster.log_, (std::vector<std::string>{"kill n1"}));
  EXPECT_EQ(cluster.waits_, 1);
}

TEST(NemesisScenario, NoNewLeaderGivesUpAndRestartsWhatItKilled) {
  ModelCluster cluster(3, "n1");
  cluster.partition(Grudge{{"n2", {"n3"}}, {"n3", {"n2"}}});  // n2 and n3 cannot elect without n1
  cluster.log_.clear();
  std::mt19937_64 random(3);
  const auto steps = run_scenario(Scenario::orphan_leader, cluster, random, fast_timing());
  EXPECT_EQ(cluster.log_, (std::vector<std::string>{"kill n1", "restart n1"}));
  EXPECT_EQ(steps[steps.size() - 2]["step"], "no-leader");
}

TEST(NemesisScenario, TooFewNodesIsSkipped) {
  ModelCluster cluster(2, "n1");
  std::mt19937_64 random(3);
  const auto steps = run_scenario(Scenario::figure_eight, cluster, random, fast_timing());
  EXPECT_TRUE(cluster.log_.empty());
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0]["step"], "skipped");
}

}  // namespace
}  // namespace chaosbench::nemesis
