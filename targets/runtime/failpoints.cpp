#include "runtime/failpoints.h"

#include "runtime/write_ahead_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

#include "runtime/logger.h"

namespace chaosbench::targets {

using nlohmann::json;

const std::vector<FailpointPoint>& failpoint_points() {
  static const std::vector<FailpointPoint> points = {
      {"before-wal-append", "records are about to be written to the WAL file", true},
      {"after-wal-append", "records are in the WAL file (the page cache), not yet fsynced", true},
      {"before-fsync", "the WAL is about to be fsynced (only with --fsync on)", true},
      {"after-fsync", "the WAL is durable; no reply or message has been sent for it", true},
      {"before-snapshot-save", "a snapshot is about to replace snapshot.bin", true},
      {"after-snapshot-save", "snapshot.bin is replaced; the WAL does not yet refer to it", true},
      {"before-snapshot-install", "a snapshot from the leader is about to replace the state machine", false},
      {"after-snapshot-install", "the state machine holds a snapshot from the leader", false},
      {"before-apply", "a committed command is about to be applied (raft, zab)", false},
      {"before-vote-send", "a vote is about to be sent (Raft vote reply, ZAB notification); error drops it", true},
      {"before-ack-send",
       "an acknowledgement is about to be sent (Raft append reply, ZAB ack, quorum replica reply); error drops it",
       true},
  };
  return points;
}

namespace {

const FailpointPoint* find_point(std::string_view name) {
  for (const auto& point : failpoint_points()) {
    if (point.name == name) return &point;
  }
  return nullptr;
}

int parse_bounded(std::string_view text, int low, int high, std::string_view point, std::string_view what) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw std::invalid_argument(
        fmt::format("failpoint {}: {} '{}' is not a number from {} to {}", point, what, text, low, high));
  }
  return value;
}

double parse_percent(std::string_view text, std::string_view point) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value > 0 && value <= 100)) {
    throw std::invalid_argument(
        fmt::format("failpoint {}: probability '{}%' is not a percentage above 0 and at most 100", point, text));
  }
  return value;
}

std::string point_list() {
  std::string names;
  for (const auto& point : failpoint_points()) names += (names.empty() ? "" : ", ") + point.name;
  return names;
}

// The disk with the storage points on its way.
class FailpointStorageEnv final : public StorageEnv {
 public:
  FailpointStorageEnv(StorageEnv& base, Failpoints& failpoints) : base_(base), failpoints_(failpoints) {}

  std::optional<std::string> read_file(const std::filesystem::path& path) override { return base_.read_file(path); }
  std::unique_ptr<AppendableFile> open_appendable(const std::filesystem::path& path) override {
    return std::make_unique<File>(base_.open_appendable(path), failpoints_);
  }
  void truncate_file(const std::filesystem::path& path, std::uint64_t size, bool sync) override {
    base_.truncate_file(path, size, sync);
  }
  void replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) override {
    const bool snapshot = path.filename() == "snapshot.bin";
    // A log created (or emptied by a snapshot) holds its header only: no record is written.
    if (!snapshot && contents.size() <= WriteAheadLog::kFileHeaderBytes) {
      base_.replace_file(path, contents, sync);
      return;
    }
    failpoints_.hit_storage(snapshot ? "before-snapshot-save" : "before-wal-append");
    if (!snapshot && sync) failpoints_.hit_storage("before-fsync");
    base_.replace_file(path, contents, sync);
    if (!snapshot && sync) failpoints_.hit_storage("after-fsync");
    failpoints_.hit_storage(snapshot ? "after-snapshot-save" : "after-wal-append");
  }
  void create_directories(const std::filesystem::path& path) override { base_.create_directories(path); }

 private:
  class File final : public AppendableFile {
   public:
    File(std::unique_ptr<AppendableFile> base, Failpoints& failpoints)
        : base_(std::move(base)), failpoints_(failpoints) {}
    void append(std::string_view bytes) override {
      failpoints_.hit_storage("before-wal-append");
      base_->append(bytes);
      failpoints_.hit_storage("after-wal-append");
    }
    void write_at(std::uint64_t offset, std::string_view bytes) override { base_->write_at(offset, bytes); }
    void sync() override {
      failpoints_.hit_storage("before-fsync");
      base_->sync();
      failpoints_.hit_storage("after-fsync");
    }

   private:
    std::unique_ptr<AppendableFile> base_;
    Failpoints& failpoints_;
  };

  StorageEnv& base_;
  Failpoints& failpoints_;
};

}  // namespace

std::string FailpointAction::text() const {
  std::string prefix = percent == 100 ? "" : fmt::format("{:g}%", percent);
  switch (kind) {
    case Kind::crash:
      return prefix + "crash";
    case Kind::sleep:
      return prefix + fmt::format("sleep({})", sleep_milliseconds);
    case Kind::error:
      return prefix + "error";
  }
  return prefix;
}

std::optional<FailpointAction> parse_failpoint_action(std::string_view point, std::string_view action) {
  const FailpointPoint* known = find_point(point);
  if (known == nullptr)
    throw std::invalid_argument(fmt::format("failpoint {}: unknown (one of {})", point, point_list()));
  if (action == "off") return std::nullopt;
  FailpointAction parsed;
  std::string_view rest = action;
  if (const auto percent_sign = rest.find('%'); percent_sign != std::string_view::npos) {
    parsed.percent = parse_percent(rest.substr(0, percent_sign), point);
    rest.remove_prefix(percent_sign + 1);
  }
  if (rest == "crash") {
    parsed.kind = FailpointAction::Kind::crash;
  } else if (rest == "error") {
    if (!known->error_allowed) {
      throw std::invalid_argument(fmt::format("failpoint {}: error has no meaning here (crash or sleep(MS))", point));
    }
    parsed.kind = FailpointAction::Kind::error;
  } else if (rest.starts_with("sleep(") && rest.ends_with(")")) {
    parsed.kind = FailpointAction::Kind::sleep;
    parsed.sleep_milliseconds = parse_bounded(rest.substr(6, rest.size() - 7), 0, 600000, point, "sleep");
  } else {
    throw std::invalid_argument(
        fmt::format("failpoint {}: action '{}' is not one of [P%]crash, [P%]sleep(MS), [P%]error, off", point, action));
  }
  return parsed;
}

std::pair<std::string, std::optional<FailpointAction>> parse_failpoint_spec(std::string_view spec) {
  const auto equals = spec.find('=');
  if (equals == std::string_view::npos) {
    throw std::invalid_argument(fmt::format("--failpoint {}: expected NAME=ACTION", spec));
  }
  std::string point(spec.substr(0, equals));
  auto action = parse_failpoint_action(point, spec.substr(equals + 1));
  return {std::move(point), action};
}

Failpoints::Failpoints(std::string node_id, const std::vector<std::string>& specs, StorageEnv& base)
    : node_id_(std::move(node_id)),
      random_(std::hash<std::string>{}(node_id_) ^ 0x6661696c706f696eULL),
      storage_env_(std::make_unique<FailpointStorageEnv>(base, *this)) {
  for (const auto& spec : specs) {
    auto [point, action] = parse_failpoint_spec(spec);
    arm(point, action);
  }
}

Failpoints::~Failpoints() = default;

void Failpoints::arm(const std::string& point, std::optional<FailpointAction> action) {
  std::lock_guard lock(mutex_);
  if (action) {
    armed_[point] = *action;
  } else {
    armed_.erase(point);
  }
}

bool Failpoints::hit(std::string_view point) {
  FailpointAction action;
  std::uint64_t fired = 0;
  {
    std::lock_guard lock(mutex_);
    if (armed_.empty()) return false;  // the common case: one uncontended lock
    const auto found = armed_.find(point);
    if (found == armed_.end()) return false;
    ++hits_[std::string(point)];
    action = found->second;
    if (action.percent < 100 && std::uniform_real_distribution<double>(0, 100)(random_) >= action.percent) return false;
    fired = ++fired_[std::string(point)];
  }
  const bool loud = fired == 1 || fired % 1000 == 0;  // a sleep or drop on every message must not flood the log
  switch (action.kind) {
    case FailpointAction::Kind::crash:
      say(point, "crash (SIGKILL)");
      std::raise(SIGKILL);
      _exit(137);  // not reached
    case FailpointAction::Kind::sleep:
      if (loud) say(point, fmt::format("sleep {} ms (fired {} times)", action.sleep_milliseconds, fired));
      std::this_thread::sleep_for(std::chrono::milliseconds(action.sleep_milliseconds));
      return false;
    case FailpointAction::Kind::error:
      if (loud) say(point, fmt::format("error (fired {} times)", fired));
      return true;
  }
  return false;
}

void Failpoints::hit_storage(std::string_view point) {
  if (hit(point)) throw FailpointError(fmt::format("failpoint {}: injected I/O error", point));
}

void Failpoints::say(std::string_view point, std::string_view what) const {
  // Not the node's Logger: storage points are passed on the storage thread.
  Logger logger(node_id_);
  logger.set_state("-", 0);  // the io thread's role and term are not this thread's to read
  logger.write(fmt::format("failpoint {}: {}", point, what));
}

json Failpoints::describe() const {
  std::lock_guard lock(mutex_);
  json armed = json::object();
  for (const auto& [point, action] : armed_) armed[point] = action.text();
  return json{{"armed", armed}, {"hits", hits_}, {"fired", fired_}};
}

json Failpoints::handle_request(const json& request) {
  const auto name = request.find("name");
  if (name == request.end()) {
    json value = describe();
    json points = json::array();
    for (const auto& point : failpoint_points()) points.push_back({{"name", point.name}, {"where", point.where}});
    value["points"] = std::move(points);
    return value;
  }
  const auto action = request.find("action");
  if (!name->is_string() || action == request.end() || !action->is_string()) {
    throw std::invalid_argument("failpoint needs a string name and a string action");
  }
  const std::string point = name->get<std::string>();
  arm(point, parse_failpoint_action(point, action->get<std::string>()));
  return describe();
}

}  // namespace chaosbench::targets
