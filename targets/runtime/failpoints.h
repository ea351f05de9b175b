// Failpoints: named places in a node's code where a fault is armed, at start
// (refnode --failpoint NAME=ACTION) or at run time (the `failpoint` client
// request), as etcd's gofail. ACTION is [P%]crash | [P%]sleep(MS) | [P%]error
// | off: crash is SIGKILL at that instant, sleep blocks the thread that hit
// it, error is an injected I/O error at a storage point (the node fails stop)
// and a dropped message at a send point. Thread-safe; seeded per node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/storage_env.h"

namespace chaosbench::targets {

struct FailpointPoint {
  std::string name;
  std::string where;   // one line for --help and the `failpoint` listing
  bool error_allowed;  // false: `error` has no meaning there and is refused
};

// Every point a refnode has, in the order a write passes them.
const std::vector<FailpointPoint>& failpoint_points();

struct FailpointAction {
  enum class Kind { crash, sleep, error };
  Kind kind = Kind::crash;
  double percent = 100;  // chance that a hit fires, above 0 and at most 100 (0.1 is one hit in 1,000)
  int sleep_milliseconds = 0;

  std::string text() const;  // the ACTION form it was parsed from, normalised
};

// Parses "crash", "25%sleep(200)", "0.5%error"; "off" is nullopt. A bad action,
// an unknown point or `error` where it is refused throws std::invalid_argument
// with a one-line message naming the point.
std::optional<FailpointAction> parse_failpoint_action(std::string_view point, std::string_view action);

// Parses one "NAME=ACTION" of refnode --failpoint: the point and its action
// (nullopt for off). Throws std::invalid_argument as parse_failpoint_action,
// or when the '=' is missing.
std::pair<std::string, std::optional<FailpointAction>> parse_failpoint_spec(std::string_view spec);

// The injected I/O error of `error` at a storage point.
class FailpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Failpoints {
 public:
  // `specs` are "NAME=ACTION" (refnode --failpoint); `base` is the real disk
  // that storage_env() wraps. Throws std::invalid_argument on a bad spec.
  Failpoints(std::string node_id, const std::vector<std::string>& specs, StorageEnv& base = posix_storage_env());
  ~Failpoints();

  // Arms (or with nullopt disarms) a point.
  void arm(const std::string& point, std::optional<FailpointAction> action);
  // Passing a point: true when an armed `error` fired there (the caller drops
  // the message); crash does not return; sleep returns after the sleep.
  bool hit(std::string_view point);
  // Same, for storage points: a fired `error` throws FailpointError.
  void hit_storage(std::string_view point);

  // The disk as the node's storage must see it: every append, fsync and file
  // replacement of `base` passes the storage points (wal.log: before/after
  // wal-append and fsync; snapshot.bin: before/after snapshot-save).
  StorageEnv& storage_env() { return *storage_env_; }

  // {"armed": {point: action}, "hits": {point: count}, "fired": {point: count}}
  nlohmann::json describe() const;

  // The `failpoint` request: {"name": P, "action": A} arms P; without a name,
  // lists. Returns the reply's value or throws std::invalid_argument.
  nlohmann::json handle_request(const nlohmann::json& request);

 private:
  void say(std::string_view point, std::string_view what) const;

  std::string node_id_;
  mutable std::mutex mutex_;
  std::map<std::string, FailpointAction, std::less<>> armed_;
  std::map<std::string, std::uint64_t, std::less<>> hits_;
  std::map<std::string, std::uint64_t, std::less<>> fired_;
  std::mt19937_64 random_;
  std::unique_ptr<StorageEnv> storage_env_;
};

}  // namespace chaosbench::targets
