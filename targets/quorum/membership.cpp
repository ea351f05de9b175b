#include "quorum/membership.h"

namespace chaosbench::quorum {

Membership::Membership(std::string self, const std::vector<std::string>& members,
                       std::int64_t failure_timeout_nanoseconds, std::int64_t now_nanoseconds)
    : self_(std::move(self)), failure_timeout_(failure_timeout_nanoseconds) {
  for (const auto& member : members) table_[member] = Entry{0, now_nanoseconds, now_nanoseconds};
}

nlohmann::json Membership::heartbeats() const {
  nlohmann::json value = nlohmann::json::object();
  for (const auto& [member, entry] : table_) value[member] = entry.heartbeat;
  return value;
}

void Membership::merge_heartbeats(const nlohmann::json& heartbeats, std::int64_t now_nanoseconds) {
  if (!heartbeats.is_object()) return;
  for (const auto& [member, counter] : heartbeats.items()) {
    auto found = table_.find(member);
    if (found == table_.end() || member == self_ || !counter.is_number_unsigned()) continue;
    const auto value = counter.get<std::uint64_t>();
    if (value > found->second.heartbeat) {
      found->second.heartbeat = value;
      found->second.heartbeat_changed = now_nanoseconds;
    }
  }
}

void Membership::heard_from(const std::string& peer, std::int64_t now_nanoseconds) {
  auto found = table_.find(peer);
  if (found != table_.end()) found->second.last_heard = now_nanoseconds;
}

bool Membership::up(const std::string& member, std::int64_t now_nanoseconds) const {
  if (member == self_) return true;
  auto found = table_.find(member);
  return found != table_.end() && now_nanoseconds - found->second.last_heard < failure_timeout_;
}

std::vector<std::string> Membership::peers() const {
  std::vector<std::string> result;
  for (const auto& [member, entry] : table_) {
    if (member != self_) result.push_back(member);
  }
  return result;
}

nlohmann::json Membership::view(std::int64_t now_nanoseconds) const {
  nlohmann::json value = nlohmann::json::object();
  for (const auto& [member, entry] : table_) {
    if (member == self_) continue;
    value[member] = {{"up", up(member, now_nanoseconds)},
                     {"heartbeat", entry.heartbeat},
                     {"heartbeat_age_ms", (now_nanoseconds - entry.heartbeat_changed) / 1000000},
                     {"last_heard_ms", (now_nanoseconds - entry.last_heard) / 1000000}};
  }
  return value;
}

}  // namespace chaosbench::quorum
