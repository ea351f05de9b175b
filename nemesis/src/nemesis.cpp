#include "chaosbench/nemesis/nemesis.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/faketime.h"
#include "chaosbench/harness/control/network_faults.h"

namespace chaosbench::nemesis {
namespace control = harness::control;
using nlohmann::json;

namespace {

// A fraction in [low, high] with 1/1000 resolution, drawn portably.
double draw_fraction(std::mt19937_64& random, double low, double high) {
  return low + (high - low) * static_cast<double>(random() % 1001) / 1000.0;
}

std::vector<std::string> random_subset(std::vector<std::string> nodes, std::size_t count, std::mt19937_64& random) {
  for (std::size_t index = nodes.size(); index > 1; --index) std::swap(nodes[index - 1], nodes[random() % index]);
  nodes.resize(std::min(count, nodes.size()));
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

double round_to_millis(double seconds) { return static_cast<double>(static_cast<long long>(seconds * 1000)) / 1000; }

// Every step that failed, as one ControlError ("prefix first; second; ...").
void throw_if_any(const std::vector<std::string>& failures, const std::string& prefix = "") {
  if (failures.empty()) return;
  std::string message = prefix + failures.front();
  for (std::size_t index = 1; index < failures.size(); ++index) message += "; " + failures[index];
  throw control::ControlError(message);
}

}  // namespace

// The scenario's view of the cluster: the target's processes and leader, this
// nemesis's network state, and its stop flag.
class NemesisScenarioActions : public ScenarioActions {
 public:
  explicit NemesisScenarioActions(Nemesis& nemesis) : nemesis_(nemesis) {}
  std::vector<std::string> node_names() const override { return nemesis_.target_.node_names(); }
  std::optional<std::string> leader() override { return nemesis_.target_.leader(); }
  std::optional<nlohmann::json> status(const std::string& node) override { return nemesis_.target_.status(node); }
  void kill(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      nemesis_.target_.kill(node);
      std::erase(nemesis_.scenario_paused_, node);
      auto& killed = nemesis_.scenario_killed_;
      if (std::find(killed.begin(), killed.end(), node) == killed.end()) killed.push_back(node);
    }
  }
  void restart(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      nemesis_.target_.restart(node);
      std::erase(nemesis_.scenario_killed_, node);
    }
  }
  void pause(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      nemesis_.target_.pause(node);
      auto& paused = nemesis_.scenario_paused_;
      if (std::find(paused.begin(), paused.end(), node) == paused.end()) paused.push_back(node);
    }
  }
  void resume(const std::vector<std::string>& nodes) override {
    for (const auto& node : nodes) {
      nemesis_.target_.resume(node);
      std::erase(nemesis_.scenario_paused_, node);
    }
  }
  void partition(const Grudge& grudge) override {
    nemesis_.scenario_grudge_ = grudge;
    nemesis_.apply_network();
  }
  bool wait(std::chrono::milliseconds duration) override {
    std::unique_lock lock(nemesis_.stop_mutex_);
    return !nemesis_.stop_changed_.wait_for(lock, duration, [this] { return nemesis_.stop_requested_; });
  }

 private:
  Nemesis& nemesis_;
};

Nemesis::Nemesis(NemesisTarget& target, NemesisOptions options, Recorder recorder, std::ostream& warnings)
    : target_(target), options_(std::move(options)), recorder_(std::move(recorder)), warnings_(warnings) {
  if (options_.partition_shapes.empty()) options_.partition_shapes = two_way_partition_shapes();
}

Nemesis::~Nemesis() { stop_strobe(); }

void Nemesis::request_stop() {
  std::lock_guard lock(stop_mutex_);
  stop_requested_ = true;
  stop_changed_.notify_all();
}

void Nemesis::request_interrupt() {
  std::lock_guard lock(stop_mutex_);
  stop_requested_ = true;
  interrupt_requested_ = true;
  stop_changed_.notify_all();
}

void Nemesis::run(const std::vector<NemesisEvent>& schedule, Clock::time_point start) {
  for (const NemesisEvent& event : schedule) {
    {
      std::unique_lock lock(stop_mutex_);
      if (stop_changed_.wait_until(lock, start + event.at, [this] { return stop_requested_; })) return;
    }
    if (event.start) {
      if (!active_.count(event.fault)) start_fault(event);
    } else if (active_.count(event.fault)) {
      try {
        stop_fault(event.fault);
      } catch (const control::ControlError& error) {
        warn_once(event.fault, error.what());  // also recorded in the history by stop_fault
      }
    }
  }
}

void Nemesis::warn_once(FaultKind kind, const std::string& message) {
  const std::string key = fmt::format("{}: {}", to_string(kind), message);
  if (warned_.insert(key).second) warnings_ << "harness: warning: nemesis " << key << "\n";
}

void Nemesis::start_fault(const NemesisEvent& event) {
  std::mt19937_64 random(event.seed);
  if (event.fault == FaultKind::orphan_leader || event.fault == FaultKind::figure_eight) {
    run_scenario_fault(event.fault, random);
    return;
  }
  const std::string function = fmt::format("start-{}", to_string(event.fault));
  try {
    json done;
    switch (event.fault) {
      case FaultKind::partition:
        done = start_partition(random);
        break;
      case FaultKind::loss:
        done = start_loss(random);
        break;
      case FaultKind::kill:
      case FaultKind::pause:
        done = start_process_fault(event.fault, random);
        break;
      case FaultKind::clock:
        done = start_clock(random);
        break;
      case FaultKind::delay:
        done = target_.has_link_proxies() ? start_link_toxic(event.fault, random) : start_delay();
        break;
      case FaultKind::failpoint:
        done = start_failpoint(random);
        break;
      case FaultKind::bandwidth:
      case FaultKind::slicer:
      case FaultKind::reset_peer:
      case FaultKind::blackhole:
      case FaultKind::slow_close:
      case FaultKind::limit_data:
        done = start_link_toxic(event.fault, random);
        break;
      case FaultKind::power_loss:
      case FaultKind::corrupt:
      case FaultKind::disk_full:
      case FaultKind::disk_error:
      case FaultKind::disk_slow:
        done = start_storage_fault(event.fault, random);
        break;
      case FaultKind::orphan_leader:
      case FaultKind::figure_eight:
        return;  // run_scenario_fault above
    }
    recorder_(true, function, done);
    if (!done.is_object() || !done.contains("error")) {
      active_.insert(event.fault);
      ++starts_[event.fault];
    }
  } catch (const control::ControlError& error) {
    // Partly applied: keep it active so the stop (or the final heal) undoes it.
    active_.insert(event.fault);
    ++starts_[event.fault];
    recorder_(true, function, json{{"error", error.what()}});
    warn_once(event.fault, error.what());
  }
}

void Nemesis::run_scenario_fault(FaultKind kind, std::mt19937_64& random) {
  const Scenario scenario = kind == FaultKind::orphan_leader ? Scenario::orphan_leader : Scenario::figure_eight;
  const std::string function = fmt::format("start-{}", to_string(kind));
  active_.insert(kind);  // whatever happens, the stop (or the final heal) restarts and heals what is left
  ++starts_[kind];
  recorder_(false, function, json{{"scenario", to_string(kind)}});
  NemesisScenarioActions actions(*this);
  try {
    json steps = run_scenario(scenario, actions, random, options_.scenario_timing);
    recorder_(true, function, json{{"scenario", to_string(kind)}, {"steps", std::move(steps)}});
  } catch (const control::ControlError& error) {
    recorder_(true, function, json{{"error", error.what()}});
    warn_once(kind, error.what());
  }
}

std::vector<std::string> Nemesis::random_minority(std::mt19937_64& random) {
  const auto nodes = target_.node_names();
  const std::size_t most = std::max<std::size_t>(1, (nodes.size() - 1) / 2);
  return random_subset(nodes, 1 + random() % most, random);
}

json Nemesis::start_partition(std::mt19937_64& random) {
  const PartitionShape shape = options_.partition_shapes[random() % options_.partition_shapes.size()];
  const bool about_the_leader = shape == PartitionShape::isolate_leader ||
                                shape == PartitionShape::one_way_from_leader ||
                                shape == PartitionShape::one_way_to_leader;
  std::optional<std::string> leader;
  if (about_the_leader) leader = target_.leader();
  grudge_ = partition_grudge(shape, target_.node_names(), random, leader);
  json plan = json::parse(describe_grudge(grudge_));
  recorder_(false, "start-partition", plan);
  apply_network();
  json done = {{"shape", to_string(shape)}, {"grudge", plan}};
  if (about_the_leader) done["leader"] = leader ? json(*leader) : json(nullptr);
  if (is_one_way(shape)) done["one_way"] = true;
  return done;
}

json Nemesis::start_loss(std::mt19937_64& random) {
  const auto nodes = target_.node_names();
  const auto chosen = random_subset(nodes, 1 + random() % nodes.size(), random);
  const double probability = round_to_millis(draw_fraction(random, 0.1, 0.5));
  json plan = json::object();
  for (const auto& node : chosen) {
    loss_[node] = probability;
    plan[node] = probability;
  }
  recorder_(false, "start-loss", plan);
  apply_network();
  return plan;
}

// Half the time the leader (the node whose loss matters most), else a random minority.
std::vector<std::string> Nemesis::leader_or_random_minority(std::mt19937_64& random) {
  if (random() % 2 == 0) {
    if (auto leader = target_.leader()) return {*leader};
  }
  return random_minority(random);
}

json Nemesis::start_process_fault(FaultKind kind, std::mt19937_64& random) {
  // Kills follow --kill-targets when it is not "mixed".
  const std::vector<std::string> chosen =
      kind == FaultKind::kill && options_.kill_targets != KillTargets::mixed
          ? choose_kill_targets(options_.kill_targets, target_.node_names(), target_.leader(), random)
          : leader_or_random_minority(random);
  recorder_(false, fmt::format("start-{}", to_string(kind)), chosen);
  for (const auto& node : chosen) {
    if (kind == FaultKind::kill) {
      target_.kill(node);
      killed_.push_back(node);
    } else {
      target_.pause(node);
      paused_.push_back(node);
    }
  }
  return chosen;
}

json Nemesis::start_clock(std::mt19937_64& random) {
  const auto nodes = target_.node_names();
  for (const auto& node : nodes) {
    if (!target_.clock_file(node)) {
      recorder_(false, "start-clock", nullptr);
      return json{{"error", fmt::format("{} runs without libfaketime: clock faults are off", node)}};
    }
  }
  const bool strobe = random() % 3 == 0;
  auto chosen = random_subset(nodes, 1 + random() % nodes.size(), random);
  if (random() % 2 == 0) {
    // Half the time the leader's clock moves for sure: leases live there.
    if (auto leader = target_.leader(); leader && std::find(chosen.begin(), chosen.end(), *leader) == chosen.end()) {
      chosen.push_back(*leader);
      std::sort(chosen.begin(), chosen.end());
    }
  }
  std::map<std::string, double> offsets;
  json plan = {{"mode", strobe ? "strobe" : "bump"}, {"offsets", json::object()}};
  for (const auto& node : chosen) {
    const double magnitude = draw_fraction(random, 0.5, options_.clock_bump_max_seconds);
    const double offset = round_to_millis(random() % 2 == 0 ? -magnitude : magnitude);
    offsets[node] = offset;
    plan["offsets"][node] = offset;
  }
  if (strobe) plan["period_ms"] = options_.strobe_period.count();
  recorder_(false, "start-clock", plan);
  for (const auto& [node, offset] : offsets) {
    control::set_clock_offset(target_.host(node), *target_.clock_file(node), offset);
    clock_offsets_[node] = offset;
  }
  if (strobe) {
    std::vector<std::pair<std::string, double>> strobed(offsets.begin(), offsets.end());
    std::vector<std::pair<control::Host*, std::filesystem::path>> files;
    for (const auto& [node, offset] : strobed) files.emplace_back(&target_.host(node), *target_.clock_file(node));
    strobe_ = std::jthread([this, strobed, files](std::stop_token stop) {
      bool shifted = true;
      std::mutex mutex;
      std::condition_variable_any wake;
      while (!stop.stop_requested()) {
        {
          std::unique_lock lock(mutex);
          if (wake.wait_for(lock, stop, options_.strobe_period, [] { return false; })) break;
        }
        if (stop.stop_requested()) break;
        shifted = !shifted;
        for (std::size_t index = 0; index < strobed.size(); ++index) {
          try {
            control::set_clock_offset(*files[index].first, files[index].second, shifted ? strobed[index].second : 0.0);
          } catch (const control::ControlError& error) {
            warnings_ << "harness: warning: nemesis clock strobe: " << error.what() << "\n";
            return;
          }
        }
      }
    });
  }
  return plan;
}

json Nemesis::start_link_toxic(FaultKind kind, std::mt19937_64& random) {
  const std::vector<std::string> nodes = leader_or_random_minority(random);
  json toxics;
  switch (kind) {
    case FaultKind::delay:
      toxics = {{"latency_ms", options_.delay.count()}, {"jitter_ms", options_.delay.count() / 2}};
      break;
    case FaultKind::bandwidth: {
      static const std::uint64_t rates[] = {8'000, 32'000, 128'000};  // bytes/s
      toxics = {{"bytes_per_second", rates[random() % 3]}};
      break;
    }
    case FaultKind::slicer:
      toxics = {{"slice_bytes", 1 + random() % 32}, {"slice_delay_us", random() % 2000}};
      break;
    case FaultKind::reset_peer:
      toxics = {{"reset", true}};
      break;
    case FaultKind::blackhole:
      toxics = {{"blackhole", true}};
      break;
    case FaultKind::slow_close:
      toxics = {{"slow_close_ms", 500 + random() % 2501}};
      break;
    case FaultKind::limit_data:
      toxics = {{"limit_bytes", 512 + random() % 65536}};
      break;
    default:
      throw control::ControlError(fmt::format("{} is not a link toxic", to_string(kind)));
  }
  recorder_(false, fmt::format("start-{}", to_string(kind)), json{{"nodes", nodes}, {"toxics", toxics}});
  link_windows_[kind] = LinkWindow{nodes, toxics};
  apply_links();
  return json{{"nodes", nodes}, {"toxics", toxics}, {"direction", "both"}};
}

// Numbers: the largest of the windows' (the strongest), flags: any.
void Nemesis::apply_links() {
  const std::vector<std::string> nodes = target_.node_names();
  std::vector<std::string> failures;
  for (const auto& proxy : nodes) {
    std::map<json, std::vector<std::string>> links_by_toxics;  // merged toxics -> links
    for (const auto& peer : nodes) {
      if (peer == proxy) continue;
      json merged = json::object();
      for (const auto& [kind, window] : link_windows_) {
        const bool touches = std::find(window.nodes.begin(), window.nodes.end(), proxy) != window.nodes.end() ||
                             std::find(window.nodes.begin(), window.nodes.end(), peer) != window.nodes.end();
        if (!touches) continue;
        for (const auto& [key, value] : window.toxics.items()) {
          if (value.is_boolean()) {
            merged[key] = merged.value(key, false) || value.get<bool>();
          } else {
            merged[key] = std::max(merged.value(key, std::uint64_t{0}), value.get<std::uint64_t>());
          }
        }
      }
      links_by_toxics[merged].push_back(peer);
    }
    for (const auto& [toxics, links] : links_by_toxics) {
      try {
        target_.link_toxics(proxy, json{{"op", "set"}, {"links", links}, {"direction", "both"}, {"toxics", toxics}});
      } catch (const control::ControlError& error) {
        failures.push_back(error.what());
      }
    }
  }
  throw_if_any(failures, "");
}

json Nemesis::start_delay() {
  recorder_(false, "start-delay", json{{"delay_ms", options_.delay.count()}});
  json done = {{"delay_ms", options_.delay.count()}, {"nodes", json::array()}};
  for (const auto& node : target_.node_names()) {
    try {
      control::delay_traffic(target_.host(node), options_.delay);
    } catch (const control::FaultUnsupported& error) {
      warn_once(FaultKind::delay,
                fmt::format("unsupported on this kernel ({}); the run goes on without delays", error.what()));
      return json{{"error", "unsupported on this kernel"}, {"detail", error.what()}};
    }
    delayed_.push_back(node);
    done["nodes"].push_back(node);
  }
  return done;
}

std::vector<std::string> default_failpoint_points() {
  return {"before-wal-append",   "after-wal-append", "before-fsync",     "after-fsync",    "before-snapshot-save",
          "after-snapshot-save", "before-apply",     "before-vote-send", "before-ack-send"};
}

std::string draw_failpoint_action(const std::string& point, std::mt19937_64& random) {
  const bool send_point = point.ends_with("-send");
  const auto draw = random() % 10;
  if (draw < 5) return "crash";
  if (draw < 8 || !send_point) return fmt::format("sleep({})", 100 + 10 * (random() % 91));
  static const int percents[] = {10, 50, 100};
  return fmt::format("{}%error", percents[random() % 3]);
}

json Nemesis::start_failpoint(std::mt19937_64& random) {
  if (options_.failpoint_points.empty()) throw control::ControlError("no failpoints to choose from");
  const std::string point = options_.failpoint_points[random() % options_.failpoint_points.size()];
  const std::string action = draw_failpoint_action(point, random);
  const std::vector<std::string> chosen = leader_or_random_minority(random);
  json plan = {{"point", point}, {"action", action}, {"nodes", chosen}};
  recorder_(false, "start-failpoint", plan);
  armed_failpoint_ = point;
  failpoint_nodes_ = chosen;  // before arming: a partial arm is still undone by the stop
  for (const auto& node : chosen) target_.set_failpoint(node, point, action);
  return plan;
}

json Nemesis::start_storage_fault(FaultKind kind, std::mt19937_64& random) {
  const std::string function = fmt::format("start-{}", to_string(kind));
  // A power loss hits whom --kill-targets says, the others whom --disk-targets
  // says: by default one node or a minority, never a majority (as Jepsen's
  // file-corruption nemesis).
  const KillTargets targets = kind == FaultKind::power_loss ? options_.kill_targets : options_.disk_targets;
  const bool leader_last =
      kind == FaultKind::power_loss && options_.power_loss_restart == PowerLossRestart::leader_last;
  const std::optional<std::string> leader =
      targets != KillTargets::mixed || leader_last ? target_.leader() : std::nullopt;
  std::vector<std::string> chosen = targets != KillTargets::mixed
                                        ? choose_kill_targets(targets, target_.node_names(), leader, random)
                                        : leader_or_random_minority(random);
  bool kept_to_damaged = false;
  if (kind == FaultKind::corrupt && targets == KillTargets::mixed) {
    // A node refuses to start on corrupted synced data, and nothing repairs it:
    // damage that reached a majority over several windows would leave no quorum,
    // which no protocol survives. So once a minority is damaged, only those nodes
    // are hit again.
    const std::size_t minority = std::max<std::size_t>(1, (target_.node_names().size() - 1) / 2);
    std::set<std::string> damaged = corrupted_nodes_;
    damaged.insert(chosen.begin(), chosen.end());
    if (damaged.size() > minority) {
      const std::vector<std::string> before(corrupted_nodes_.begin(), corrupted_nodes_.end());
      chosen = random_subset(before, 1 + random() % before.size(), random);
      kept_to_damaged = true;
    }
    corrupted_nodes_.insert(chosen.begin(), chosen.end());
  }
  json request;
  switch (kind) {
    case FaultKind::power_loss:
      // Half the time the disk had written a prefix of each file's unsynced tail.
      request = {{"op", "lose-unsynced"}, {"torn_tails", random() % 2 == 0}};
      break;
    case FaultKind::corrupt: {
      static const char* modes[] = {"bitflip", "zero", "truncate"};
      const std::string mode = modes[random() % 3];
      const std::uint64_t count = mode == "bitflip" ? 1 + random() % 8 : mode == "zero" ? 512 : 1 + random() % 256;
      request = {{"op", "corrupt"}, {"glob", options_.corrupt_glob}, {"mode", mode}, {"count", count}};
      break;
    }
    case FaultKind::disk_full:
      request = {{"op", "full"}, {"space_left", random() % 2 == 0 ? 0 : random() % 65536}};
      break;
    case FaultKind::disk_error: {
      static const char* operations[] = {"write", "fsync", "read", "all"};
      static const double probabilities[] = {0.01, 0.1, 1.0};
      request = {
          {"op", "error"}, {"operations", operations[random() % 4]}, {"probability", probabilities[random() % 3]}};
      break;
    }
    case FaultKind::disk_slow:
      request = {
          {"op", "slow"}, {"operations", random() % 2 == 0 ? "fsync" : "all"}, {"delay_ms", 10 + random() % 191}};
      break;
    default:
      throw control::ControlError(fmt::format("{} is not a storage fault", to_string(kind)));
  }
  json plan{{"nodes", chosen}, {"request", request}};
  if (kept_to_damaged) plan["only_already_damaged"] = true;
  if (kind == FaultKind::power_loss) {
    // The old leader comes back last only if some other node comes back to lead without it.
    power_loss_leader_ =
        leader_last && leader && chosen.size() > 1 && std::find(chosen.begin(), chosen.end(), *leader) != chosen.end()
            ? *leader
            : "";
    if (!power_loss_leader_.empty()) plan["restart_last"] = power_loss_leader_;
  }
  recorder_(false, function, plan);
  storage_nodes_[kind] = chosen;  // before acting: a partial start is still undone by the stop
  json done = {{"nodes", chosen}, {"request", request}, {"effects", json::object()}};
  // The processes die first, all of them before any disk is touched: a power
  // cut of several nodes is one instant (a node killed later could still
  // fsync what an earlier one sent it), and a file is not corrupted under the
  // feet of the process that has it open.
  if (kind == FaultKind::power_loss || kind == FaultKind::corrupt) {
    for (const auto& node : chosen) target_.kill(node);
  }
  for (const auto& node : chosen) done["effects"][node] = target_.storage_fault(node, request);
  return done;
}

json Nemesis::stop_storage_fault(FaultKind kind) {
  json done = {{"nodes", storage_nodes_[kind]}};
  std::vector<std::string> failures;
  const std::string last = kind == FaultKind::power_loss ? std::exchange(power_loss_leader_, "") : "";
  auto restart = [&](const std::string& node) {
    try {
      if (kind != FaultKind::power_loss && kind != FaultKind::corrupt) target_.storage_fault(node, {{"op", "clear"}});
      // power-loss and corrupt stopped the node; a disk fault may have made it fail stop.
      target_.restart(node);
    } catch (const control::ControlError& error) {
      failures.push_back(error.what());
    }
  };
  for (const auto& node : storage_nodes_[kind]) {
    if (node != last) restart(node);
  }
  if (!last.empty()) {
    // leader-last: wait for one of the others to lead, then bring the old leader back.
    const auto began = Clock::now();
    std::optional<std::string> elected;
    while (Clock::now() - began < options_.leader_wait) {
      elected = target_.leader();
      if (elected && *elected != last) break;
      elected.reset();
      std::unique_lock lock(stop_mutex_);
      if (stop_changed_.wait_for(lock, std::chrono::milliseconds(20), [this] { return interrupt_requested_; })) break;
    }
    restart(last);
    done["restarted_last"] = last;
    done["leader_before_it"] = elected ? json(*elected) : json(nullptr);
    done["waited_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  }
  storage_nodes_[kind].clear();
  throw_if_any(failures);
  return done;
}

void Nemesis::stop_strobe() {
  if (strobe_.joinable()) {
    strobe_.request_stop();
    strobe_.join();
  }
}

void Nemesis::apply_network() {
  // The random partition's grudge and a scenario's, as one.
  Grudge merged = grudge_;
  for (const auto& [node, dropped] : scenario_grudge_) merged[node].insert(dropped.begin(), dropped.end());
  auto drops = [&merged](const std::string& node, const std::string& other) {
    auto found = merged.find(node);
    return found != merged.end() && found->second.count(other) > 0;
  };
  std::vector<std::string> failures;
  for (const auto& node : target_.node_names()) {
    try {
      control::Host& host = target_.host(node);
      control::heal_network(host);
      // A node whose grudge the other side does not hold still hears it on the
      // connections it opened itself: a one-way cut.
      std::vector<std::string> both_ways, one_way;
      if (auto found = merged.find(node); found != merged.end()) {
        for (const auto& other : found->second)
          (drops(other, node) ? both_ways : one_way).push_back(target_.host(other).address());
      }
      if (!both_ways.empty()) control::drop_traffic_from(host, both_ways);
      if (!one_way.empty()) control::drop_connections_opened_by(host, one_way);
      auto loss = loss_.find(node);
      if (loss != loss_.end()) control::drop_random_traffic(host, loss->second);
    } catch (const control::ControlError& error) {
      failures.push_back(error.what());
    }
  }
  throw_if_any(failures);
}

void Nemesis::stop_fault(FaultKind kind) {
  const std::string function = fmt::format("stop-{}", to_string(kind));
  active_.erase(kind);
  json plan;
  switch (kind) {
    case FaultKind::partition:
      plan = describe_grudge(grudge_);
      break;
    case FaultKind::loss:
      plan = json(loss_);
      break;
    case FaultKind::kill:
      plan = killed_;
      break;
    case FaultKind::pause:
      plan = paused_;
      break;
    case FaultKind::clock:
      plan = json(clock_offsets_);
      break;
    case FaultKind::delay:
      plan = link_windows_.count(kind) ? json(link_windows_[kind].nodes) : json(delayed_);
      break;
    case FaultKind::bandwidth:
    case FaultKind::slicer:
    case FaultKind::reset_peer:
    case FaultKind::blackhole:
    case FaultKind::slow_close:
    case FaultKind::limit_data:
      plan = link_windows_[kind].nodes;
      break;
    case FaultKind::orphan_leader:
    case FaultKind::figure_eight:
      plan = {{"killed", scenario_killed_}, {"paused", scenario_paused_}, {"partitioned", !scenario_grudge_.empty()}};
      break;
    case FaultKind::failpoint:
      plan = {{"point", armed_failpoint_}, {"nodes", failpoint_nodes_}};
      break;
    case FaultKind::power_loss:
    case FaultKind::corrupt:
    case FaultKind::disk_full:
    case FaultKind::disk_error:
    case FaultKind::disk_slow:
      plan = storage_nodes_[kind];
      break;
  }
  if (kind == FaultKind::partition) plan = json::parse(plan.get<std::string>());
  recorder_(false, function, plan);
  try {
    switch (kind) {
      case FaultKind::partition:
        grudge_.clear();
        apply_network();
        break;
      case FaultKind::loss:
        loss_.clear();
        apply_network();
        break;
      case FaultKind::kill:
        for (const auto& node : killed_) target_.restart(node);
        killed_.clear();
        break;
      case FaultKind::pause:
        for (const auto& node : paused_) target_.resume(node);
        paused_.clear();
        break;
      case FaultKind::clock:
        stop_strobe();
        for (const auto& node : target_.node_names()) {
          if (auto file = target_.clock_file(node)) control::set_clock_offset(target_.host(node), *file, 0.0);
        }
        clock_offsets_.clear();
        break;
      case FaultKind::delay:
        for (const auto& node : delayed_) control::clear_delay(target_.host(node));
        delayed_.clear();
        if (link_windows_.erase(kind) > 0) apply_links();
        break;
      case FaultKind::bandwidth:
      case FaultKind::slicer:
      case FaultKind::reset_peer:
      case FaultKind::blackhole:
      case FaultKind::slow_close:
      case FaultKind::limit_data:
        link_windows_.erase(kind);
        apply_links();
        break;
      case FaultKind::orphan_leader:
      case FaultKind::figure_eight:
        if (!scenario_grudge_.empty()) {
          scenario_grudge_.clear();
          apply_network();
        }
        for (const auto& node : std::vector<std::string>(scenario_paused_)) {
          target_.resume(node);
          std::erase(scenario_paused_, node);
        }
        for (const auto& node : std::vector<std::string>(scenario_killed_)) {
          target_.restart(node);
          std::erase(scenario_killed_, node);
        }
        break;
      case FaultKind::failpoint: {
        // A node that does not answer was crashed by it (or is paused, or
        // stopped on an injected I/O error): restart() brings back the dead ones.
        json disarmed = json::array(), unanswered = json::array();
        for (const auto& node : failpoint_nodes_) {
          try {
            target_.set_failpoint(node, armed_failpoint_, "off");
            disarmed.push_back(node);
          } catch (const control::ControlError&) {
            unanswered.push_back(node);
          }
        }
        for (const auto& node : failpoint_nodes_) target_.restart(node);
        failpoint_nodes_.clear();
        plan["disarmed"] = std::move(disarmed);
        plan["unanswered"] = std::move(unanswered);
        break;
      }
      case FaultKind::power_loss:
      case FaultKind::corrupt:
      case FaultKind::disk_full:
      case FaultKind::disk_error:
      case FaultKind::disk_slow:
        plan = stop_storage_fault(kind);
        break;
    }
    recorder_(true, function, plan);
  } catch (const control::ControlError& error) {
    recorder_(true, function, json{{"error", error.what()}});
    throw;
  }
}

void Nemesis::heal_all() {
  std::vector<std::string> failures;
  // Paused nodes resume before the failpoints are disarmed, so that they answer.
  // Disk faults are cleared before the nodes they killed are restarted.
  for (FaultKind kind :
       {FaultKind::orphan_leader, FaultKind::figure_eight, FaultKind::clock,      FaultKind::partition,
        FaultKind::loss,          FaultKind::delay,        FaultKind::bandwidth,  FaultKind::slicer,
        FaultKind::reset_peer,    FaultKind::blackhole,    FaultKind::slow_close, FaultKind::limit_data,
        FaultKind::pause,         FaultKind::failpoint,    FaultKind::disk_full,  FaultKind::disk_error,
        FaultKind::disk_slow,     FaultKind::corrupt,      FaultKind::power_loss, FaultKind::kill}) {
    if (!active_.count(kind)) continue;
    try {
      stop_fault(kind);
    } catch (const control::ControlError& error) {
      failures.push_back(fmt::format("{}: {}", to_string(kind), error.what()));
    }
  }
  throw_if_any(failures, "healing failed: ");
}

}  // namespace chaosbench::nemesis
