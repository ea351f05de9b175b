// Membership: the static member list, gossiped heartbeat counters (push-pull)
// and a timeout failure detector. A peer is "up" while this node has heard
// from it directly within the failure timeout (Dynamo's local notion of
// failure); the heartbeat table says who is known alive through gossip.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chaosbench::quorum {

class Membership {
 public:
  // Every peer starts as up, as if heard from at `now_nanoseconds`.
  Membership(std::string self, const std::vector<std::string>& members, std::int64_t failure_timeout_nanoseconds,
             std::int64_t now_nanoseconds);

  // Increments this node's own heartbeat counter.
  void beat() { ++table_[self_].heartbeat; }
  // {"n1":17,"n2":4,...}: the heartbeat table sent in a gossip message.
  nlohmann::json heartbeats() const;
  // Takes the larger counter for every member; ignores unknown ids.
  void merge_heartbeats(const nlohmann::json& heartbeats, std::int64_t now_nanoseconds);
  // Any message received directly from `peer`.
  void heard_from(const std::string& peer, std::int64_t now_nanoseconds);
  bool up(const std::string& member, std::int64_t now_nanoseconds) const;
  std::vector<std::string> peers() const;
  // {"n2":{"up":true,"heartbeat":12,"last_heard_ms":40}, ...} for status.
  nlohmann::json view(std::int64_t now_nanoseconds) const;

 private:
  struct Entry {
    std::uint64_t heartbeat = 0;
    std::int64_t heartbeat_changed = 0;  // when the gossiped counter last grew
    std::int64_t last_heard = 0;         // last direct message
  };
  std::string self_;
  std::int64_t failure_timeout_;
  std::map<std::string, Entry> table_;
};

}  // namespace chaosbench::quorum
