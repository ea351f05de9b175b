#include "chaosbench/nemesis/fault.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "name_list.h"

namespace chaosbench::nemesis {

const std::vector<FaultKind>& all_fault_kinds() {
  static const std::vector<FaultKind> kinds = {
      FaultKind::partition,  FaultKind::kill,       FaultKind::pause,         FaultKind::clock,
      FaultKind::loss,       FaultKind::delay,      FaultKind::orphan_leader, FaultKind::figure_eight,
      FaultKind::failpoint,  FaultKind::power_loss, FaultKind::corrupt,       FaultKind::disk_full,
      FaultKind::disk_error, FaultKind::disk_slow,  FaultKind::bandwidth,     FaultKind::slicer,
      FaultKind::reset_peer, FaultKind::blackhole,  FaultKind::slow_close,    FaultKind::limit_data};
  return kinds;
}

bool is_link_toxic(FaultKind kind) {
  return kind == FaultKind::bandwidth || kind == FaultKind::slicer || kind == FaultKind::reset_peer ||
         kind == FaultKind::blackhole || kind == FaultKind::slow_close || kind == FaultKind::limit_data;
}

bool is_storage_fault(FaultKind kind) {
  return kind == FaultKind::power_loss || kind == FaultKind::corrupt || kind == FaultKind::disk_full ||
         kind == FaultKind::disk_error || kind == FaultKind::disk_slow;
}

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::partition:
      return "partition";
    case FaultKind::kill:
      return "kill";
    case FaultKind::pause:
      return "pause";
    case FaultKind::clock:
      return "clock";
    case FaultKind::loss:
      return "loss";
    case FaultKind::delay:
      return "delay";
    case FaultKind::orphan_leader:
      return "orphan-leader";
    case FaultKind::figure_eight:
      return "figure-8";
    case FaultKind::failpoint:
      return "failpoint";
    case FaultKind::power_loss:
      return "power-loss";
    case FaultKind::corrupt:
      return "corrupt";
    case FaultKind::disk_full:
      return "disk-full";
    case FaultKind::disk_error:
      return "disk-error";
    case FaultKind::disk_slow:
      return "disk-slow";
    case FaultKind::bandwidth:
      return "bandwidth";
    case FaultKind::slicer:
      return "slicer";
    case FaultKind::reset_peer:
      return "reset-peer";
    case FaultKind::blackhole:
      return "blackhole";
    case FaultKind::slow_close:
      return "slow-close";
    case FaultKind::limit_data:
      return "limit-data";
  }
  return "?";
}

std::optional<FaultKind> parse_fault_kind(std::string_view text) {
  for (FaultKind kind : all_fault_kinds()) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::vector<FaultKind> parse_fault_list(std::string_view text) {
  if (text.empty() || text == "none") return {};
  return parse_name_list<FaultKind>(text, parse_fault_kind, [](std::string_view name) {
    throw std::invalid_argument(
        fmt::format("unknown nemesis '{}' (known: partition, kill, pause, clock, loss, delay, orphan-leader, figure-8, "
                    "failpoint, power-loss, corrupt, disk-full, disk-error, disk-slow, bandwidth, slicer, reset-peer, "
                    "blackhole, slow-close, limit-data, or none)",
                    name));
  });
}

std::string_view to_string(KillTargets targets) {
  switch (targets) {
    case KillTargets::mixed:
      return "mixed";
    case KillTargets::one:
      return "one";
    case KillTargets::minority:
      return "minority";
    case KillTargets::majority:
      return "majority";
    case KillTargets::all:
      return "all";
    case KillTargets::leader:
      return "leader";
    case KillTargets::followers:
      return "followers";
  }
  return "?";
}

std::optional<KillTargets> parse_kill_targets(std::string_view text) {
  for (KillTargets targets : {KillTargets::mixed, KillTargets::one, KillTargets::minority, KillTargets::majority,
                              KillTargets::all, KillTargets::leader, KillTargets::followers}) {
    if (to_string(targets) == text) return targets;
  }
  return std::nullopt;
}

std::string_view to_string(PowerLossRestart order) {
  return order == PowerLossRestart::together ? "together" : "leader-last";
}

std::optional<PowerLossRestart> parse_power_loss_restart(std::string_view text) {
  for (PowerLossRestart order : {PowerLossRestart::together, PowerLossRestart::leader_last}) {
    if (to_string(order) == text) return order;
  }
  return std::nullopt;
}

namespace {

std::vector<std::string> shuffled_prefix(std::vector<std::string> nodes, std::size_t count, std::mt19937_64& random) {
  for (std::size_t index = nodes.size(); index > 1; --index) std::swap(nodes[index - 1], nodes[random() % index]);
  nodes.resize(std::min(count, nodes.size()));
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

}  // namespace

std::vector<std::string> choose_kill_targets(KillTargets targets, const std::vector<std::string>& nodes,
                                             const std::optional<std::string>& leader, std::mt19937_64& random) {
  if (nodes.empty()) return {};
  const std::size_t count = nodes.size();
  const std::size_t most_minority = std::max<std::size_t>(1, (count - 1) / 2);
  const std::size_t least_majority = count / 2 + 1;
  switch (targets) {
    case KillTargets::mixed:
      if (random() % 2 == 0 && leader) return {*leader};
      return shuffled_prefix(nodes, 1 + random() % most_minority, random);
    case KillTargets::one:
      return shuffled_prefix(nodes, 1, random);
    case KillTargets::minority:
      return shuffled_prefix(nodes, 1 + random() % most_minority, random);
    case KillTargets::majority:
      return shuffled_prefix(nodes, least_majority + random() % (count - least_majority + 1), random);
    case KillTargets::all:
      return shuffled_prefix(nodes, count, random);
    case KillTargets::leader:
      if (leader && std::find(nodes.begin(), nodes.end(), *leader) != nodes.end()) return {*leader};
      return shuffled_prefix(nodes, 1, random);
    case KillTargets::followers: {
      // Every node but the leader (but a random one when no leader is known).
      std::vector<std::string> others;
      const std::string spared =
          leader && std::find(nodes.begin(), nodes.end(), *leader) != nodes.end() ? *leader : nodes[random() % count];
      for (const auto& node : nodes) {
        if (node != spared) others.push_back(node);
      }
      return others;
    }
  }
  return {};
}

}  // namespace chaosbench::nemesis
