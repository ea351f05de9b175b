// Directed tests of single Raft rules, delivering messages by hand.
#include "raft/raft_node.h"

#include <gtest/gtest.h>

namespace chaosbench::raft {
namespace {

RaftConfig config_for(const std::string& id, RaftBugs bugs = {}) {
  RaftConfig config;
  config.id = id;
  config.members = {"n1", "n2", "n3"};
  config.election_ticks = 10;
  config.heartbeat_ticks = 2;
  config.bugs = bugs;
  return config;
}

Message vote_request(std::uint64_t term, std::uint64_t last_index, std::uint64_t last_term) {
  Message message;
  message.type = MessageType::vote;
  message.from = "n2";
  message.to = "n1";
  message.term = term;
  message.last_log_index = last_index;
  message.last_log_term = last_term;
  return message;
}

PersistentState state_with_log(std::uint64_t term, std::vector<std::uint64_t> entry_terms) {
  PersistentState state;
  state.hard_state.term = term;
  for (std::size_t position = 0; position < entry_terms.size(); ++position) {
    state.entries.push_back(LogEntry{entry_terms[position], position + 1, EntryKind::command, "c"});
  }
  return state;
}

TEST(RaftNode, RefusesVoteToCandidateWithStaleLog) {
  targets::ManualClock clock;
  RaftNode node(config_for("n1"), state_with_log(3, {1, 3}), clock);
  // Past the start-up stickiness, before the earliest election timeout ends.
  for (int tick = 0; tick < 10; ++tick) node.tick();
  node.take_ready();
  node.step(vote_request(4, 5, 2));  // longer log, older last term
  Ready ready = node.take_ready();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_FALSE(ready.messages[0].granted);
  EXPECT_EQ(node.term(), 4u);
}

TEST(RaftNode, BugGrantsVoteToCandidateWithStaleLog) {
  targets::ManualClock clock;
  RaftBugs bugs;
  bugs.no_vote_log_check = true;
  RaftNode node(config_for("n1", bugs), state_with_log(3, {1, 3}), clock);
  for (int tick = 0; tick < 10; ++tick) node.tick();
  node.take_ready();
  node.step(vote_request(4, 5, 2));
  Ready ready = node.take_ready();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_TRUE(ready.messages[0].granted);
  ASSERT_TRUE(ready.hard_state.has_value());  // the vote must be persisted with the reply
  EXPECT_EQ(ready.hard_state->voted_for, "n2");
}

TEST(RaftNode, FollowerTruncatesConflictAndReportsConflictTerm) {
  targets::ManualClock clock;
  RaftNode node(config_for("n1"), state_with_log(2, {1, 2, 2, 2}), clock);
  Message append;
  append.type = MessageType::append_entries;
  append.from = "n2";
  append.to = "n1";
  append.term = 3;
  append.previous_log_index = 3;
  append.previous_log_term = 3;  // we have term 2 there
  node.step(append);
  Ready ready = node.take_ready();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_FALSE(ready.messages[0].success);
  EXPECT_EQ(ready.messages[0].conflict_term, 2u);
  EXPECT_EQ(ready.messages[0].conflict_index, 2u);  // first index of term 2
  append.previous_log_index = 1;
  append.previous_log_term = 1;
  append.entries = {LogEntry{3, 2, EntryKind::command, "new"}};
  append.leader_commit = 2;
  node.step(append);
  ready = node.take_ready();
  EXPECT_EQ(node.last_index(), 2u);
  EXPECT_EQ(node.entry_at(2)->command, "new");
  ASSERT_EQ(ready.entries.size(), 1u);
  EXPECT_EQ(ready.entries[0].index, 2u);
  EXPECT_EQ(ready.committed_entries.size(), 2u);
}

TEST(RaftNode, SingleNodeElectsItselfAndCommits) {
  targets::ManualClock clock;
  RaftConfig config = config_for("n1");
  config.members = {"n1"};
  RaftNode node(config, PersistentState{}, clock);
  for (int tick = 0; tick < 25 && node.role() != Role::leader; ++tick) node.tick();
  ASSERT_EQ(node.role(), Role::leader);
  auto proposed = node.propose("x");
  ASSERT_TRUE(proposed.has_value());
  ASSERT_TRUE(node.request_read(7, ReadMode::read_index));
  Ready ready = node.take_ready();
  // Not committed until the leader's own disk has it.
  EXPECT_LT(node.commit_index(), proposed->first);
  EXPECT_TRUE(ready.reads.empty());
  ASSERT_FALSE(ready.entries.empty());
  node.acknowledge_persisted(ready.entries.back().index, ready.entries.back().term);
  EXPECT_EQ(node.commit_index(), proposed->first);
  ready = node.take_ready();
  ASSERT_EQ(ready.reads.size(), 1u);
  EXPECT_EQ(ready.reads[0].context, 7u);
  EXPECT_EQ(ready.committed_entries.back().index, proposed->first);
}

// Regression: refnode sends AppendEntries before the leader's own fsync, so a
// follower's acknowledgement plus the leader's unsynced copy is not a majority
// of durable copies. (The simulator found this as a leader completeness
// violation once it modelled asynchronous disks.)
TEST(RaftNode, LeaderCountsItsOwnLogOnlyOnceDurable) {
  targets::ManualClock clock;
  RaftNode node(config_for("n1"), PersistentState{}, clock);
  for (int tick = 0; tick < 25 && node.role() == Role::follower; ++tick) node.tick();
  ASSERT_EQ(node.role(), Role::pre_candidate);
  Message pre_vote;
  pre_vote.type = MessageType::pre_vote_response;
  pre_vote.from = "n2";
  pre_vote.to = "n1";
  pre_vote.term = 1;
  pre_vote.granted = true;
  node.step(pre_vote);
  ASSERT_EQ(node.role(), Role::candidate);
  Message vote = pre_vote;
  vote.type = MessageType::vote_response;
  node.step(vote);
  ASSERT_EQ(node.role(), Role::leader);
  node.take_ready();
  auto proposed = node.propose("x");
  ASSERT_TRUE(proposed.has_value());
  node.take_ready();
  Message acknowledgement;
  acknowledgement.type = MessageType::append_entries_response;
  acknowledgement.from = "n2";
  acknowledgement.to = "n1";
  acknowledgement.term = 1;
  acknowledgement.success = true;
  acknowledgement.match_index = proposed->first;
  node.step(acknowledgement);
  EXPECT_EQ(node.commit_index(), 0u) << "committed with one durable copy out of three";
  node.acknowledge_persisted(proposed->first, proposed->second);
  EXPECT_EQ(node.commit_index(), proposed->first);
}

}  // namespace
}  // namespace chaosbench::raft
