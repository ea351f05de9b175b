#include "chaosbench/harness/online_checker.h"

#include <algorithm>
#include <map>
#include <set>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace chaosbench::harness {

OnlineMode online_mode(const std::string& checker_name) {
  if (checker_name == "linearizable" || checker_name == "sequential") return OnlineMode::per_key;
  static const std::set<std::string> kWholeHistory = {
      "elle-list-append", "list-append", "elle-rw-register", "rw-register", "bank", "counter", "set-linearizable"};
  return kWholeHistory.contains(checker_name) ? OnlineMode::whole_history : OnlineMode::offline_only;
}

bool can_check_online(const std::string& checker_name) { return online_mode(checker_name) != OnlineMode::offline_only; }

std::string online_checkers_text() {
  std::vector<std::string> per_key, whole_history;
  for (const std::string& name : kCheckerNames) {
    if (online_mode(name) == OnlineMode::per_key) per_key.push_back(name);
    if (online_mode(name) == OnlineMode::whole_history) whole_history.push_back(name);
  }
  return fmt::format("{} (per key); {} (whole history)", fmt::join(per_key, ", "), fmt::join(whole_history, ", "));
}

nlohmann::json to_json(const OnlineCheckResult& result) {
  nlohmann::json verdicts = nlohmann::json::object();
  for (const auto& [name, verdict] : result.verdict_by_checker) verdicts[name] = checkers::to_string(verdict);
  return nlohmann::json{
      {"verdict", checkers::to_string(result.verdict)},
      {"checker", result.checker},
      {"reason", result.reason},
      {"time_to_detection_ms",
       result.time_to_detection_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(result.time_to_detection_ms)},
      {"passes", result.passes},
      {"operations_checked", result.operations_checked},
      {"keys_dropped", result.keys_dropped},
      {"keys_reused_after_drop", result.keys_reused_after_drop},
      {"peak_operations_held", result.peak_operations_held},
      {"keys_undecided", result.keys_undecided},
      {"verdict_by_checker", verdicts},
      {"checking_seconds", result.checking_seconds}};
}

namespace {

// A pass may take at most this share of the time between passes: a slower pass
// stretches the interval, so checking never takes more than about a tenth of a core.
constexpr int kIntervalPerPassTime = 10;
constexpr std::chrono::milliseconds kPassTimeLimit{10'000};
constexpr int kCheckingThreadNice = 19;

// An invalid verdict of a whole-history checker on a prefix that later ops cannot
// revoke. The linearizable set's "unexpected" (read, never added) can be: the add
// may be invoked after the prefix ends; its lost, stale and duplicated elements cannot.
bool final_on_prefix(const std::string& checker_name, const nlohmann::json& outcome) {
  if (checker_name != "set-linearizable") return true;
  return outcome.value("lost", 0) + outcome.value("stale", 0) + outcome.value("duplicated", 0) > 0;
}

}  // namespace

class OnlineChecker::Implementation {
 private:
  struct ObservedOperation {
    checkers::OpType type;
    std::int64_t process;
    std::string function;
    nlohmann::json value;
    std::int64_t time;
  };

  struct Arrival {
    std::string key;
    ObservedOperation operation;
  };

  struct HeldKey {
    std::vector<ObservedOperation> operations;
    int open = 0;            // invocations not completed yet
    bool changed = false;    // operations arrived since its last check
    bool settled = false;    // its last check was valid with nothing open
    bool undecided = false;  // its last check hit a limit
  };

 public:
  Implementation(OnlineCheckOptions options, Clock::time_point start)
      : options_(std::move(options)), start_(start), interval_(options_.interval) {
    options_.configuration.threads = 1;  // leave the other cores to the run
    if (options_.configuration.time_limit.count() == 0 || options_.configuration.time_limit > kPassTimeLimit) {
      options_.configuration.time_limit = kPassTimeLimit;
    }
    for (const std::string& name : options_.checker_names) {
      const OnlineMode mode = online_mode(name);
      if (mode == OnlineMode::per_key) per_key_names_.push_back(name);
      if (mode == OnlineMode::whole_history) whole_history_names_.push_back(name);
    }
    thread_ = std::thread([this] { loop(); });
  }

  ~Implementation() { finish(); }

  void observe(const RecordedOperation& operation) {
    if (operation.process == checkers::kNemesisProcess) return;
    std::lock_guard lock(inbox_mutex_);
    if (finishing_) return;
    inbox_.push_back(Arrival{std::string(operation.key),
                             ObservedOperation{operation.type, operation.process, std::string(operation.function),
                                               operation.value, operation.time}});
  }

  void finish() {
    {
      std::lock_guard lock(inbox_mutex_);
      finishing_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  OnlineCheckResult result() const {
    std::lock_guard lock(result_mutex_);
    return result_;
  }

 private:
  void loop() {
    // The run comes first: the scheduler gives this thread what the clients and nodes leave.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kCheckingThreadNice);
    std::unique_lock lock(inbox_mutex_);
    while (true) {
      wake_.wait_for(lock, interval_, [&] { return finishing_; });
      const bool last = finishing_;
      std::vector<Arrival> arrived;
      arrived.swap(inbox_);
      lock.unlock();
      if (!stopped_) {
        const Clock::time_point began = Clock::now();
        pass(std::move(arrived), last);
        const auto took = Clock::now() - began;
        std::lock_guard result_lock(result_mutex_);
        result_.checking_seconds += std::chrono::duration<double>(took).count();
        interval_ = std::max(options_.interval,
                             std::chrono::duration_cast<std::chrono::milliseconds>(took * kIntervalPerPassTime));
      }
      lock.lock();
      if (last) return;
    }
  }

  static void append_to(checkers::History& history, const std::string& key, const ObservedOperation& observed) {
    checkers::Operation operation;
    operation.time = observed.time;
    operation.process = observed.process;
    operation.type = observed.type;
    operation.function = history.functions.intern(observed.function);
    operation.key = key.empty() ? 0 : history.keys.intern(key);
    operation.value = history.values.intern_json(observed.value);
    history.operations.push_back(operation);
  }

  void take(std::vector<Arrival>&& arrived) {
    for (Arrival& arrival : arrived) {
      if (!whole_history_names_.empty()) {
        append_to(whole_history_, arrival.key, arrival.operation);  // the recorder's order is the history's
        whole_history_changed_ = true;
      }
      if (per_key_names_.empty() || abandoned_.contains(arrival.key)) continue;
      if (dropped_.erase(arrival.key)) {
        abandoned_.insert(arrival.key);  // its prefix is gone: only the offline check sees it whole
        std::lock_guard lock(result_mutex_);
        ++result_.keys_reused_after_drop;
        continue;
      }
      HeldKey& held = keys_[arrival.key];
      if (arrival.operation.type == checkers::OpType::invoke) {
        ++held.open;
      } else if (held.open > 0) {
        --held.open;
      }
      held.changed = true;
      held.settled = false;
      held.operations.push_back(std::move(arrival.operation));
      ++operations_held_;
    }
  }

  // Keys checked valid, with nothing open, that got nothing new since.
  void drop_settled_keys() {
    std::uint64_t dropped = 0;
    for (auto position = keys_.begin(); position != keys_.end();) {
      if (position->second.settled && !position->second.changed) {
        operations_held_ -= position->second.operations.size();
        dropped_.insert(position->first);
        position = keys_.erase(position);
        ++dropped;
      } else {
        ++position;
      }
    }
    std::lock_guard lock(result_mutex_);
    result_.keys_dropped += dropped;
  }

  // The changed keys' operations as one history, in time order.
  checkers::History changed_history(std::vector<std::string>& keys) const {
    struct Reference {
      std::int64_t time;
      const std::string* key;
      const ObservedOperation* operation;
    };
    std::vector<Reference> references;
    for (const auto& [key, held] : keys_) {
      if (!held.changed) continue;
      keys.push_back(key);
      for (const ObservedOperation& operation : held.operations) {
        references.push_back(Reference{operation.time, &key, &operation});
      }
    }
    std::stable_sort(references.begin(), references.end(),
                     [](const Reference& left, const Reference& right) { return left.time < right.time; });
    checkers::History history;
    history.operations.reserve(references.size());
    for (const Reference& reference : references) append_to(history, *reference.key, *reference.operation);
    return history;
  }

  // The online check ends: the checkers not done yet get no final verdict.
  void stop() {
    stopped_ = true;
    for (const std::string& name : options_.checker_names) {
      if (online_mode(name) == OnlineMode::offline_only) continue;
      auto [position, inserted] = result_.verdict_by_checker.try_emplace(name, checkers::Verdict::unknown);
      if (!inserted && position->second != checkers::Verdict::invalid) position->second = checkers::Verdict::unknown;
    }
  }

  // Runs one checker; false when the online check has ended (an anomaly proven, or an error).
  bool check(const std::string& name, const checkers::History& history, bool last, CheckerOutcome& outcome) {
    try {
      outcome = run_checker(name, history, options_.configuration);
    } catch (const std::exception& error) {
      std::lock_guard lock(result_mutex_);
      result_.verdict = checkers::Verdict::unknown;
      result_.checker = name;
      result_.reason = fmt::format("online check stopped: {}", error.what());
      stop();
      return false;
    }
    if (outcome.verdict != checkers::Verdict::invalid) return true;
    if (!last && !final_on_prefix(name, outcome.json)) {
      outcome.verdict = checkers::Verdict::unknown;  // decided by a later pass
      return true;
    }
    {
      std::lock_guard lock(result_mutex_);
      result_.verdict = checkers::Verdict::invalid;
      result_.checker = name;
      result_.reason = outcome.reason;
      result_.verdict_by_checker[name] = checkers::Verdict::invalid;
      result_.time_to_detection_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
      stop();
    }
    if (options_.on_invalid) options_.on_invalid();
    return false;
  }

  void pass(std::vector<Arrival>&& arrived, bool last) {
    if (!last) drop_settled_keys();
    take(std::move(arrived));
    std::vector<std::string> checked_keys;
    const checkers::History history = changed_history(checked_keys);
    const bool whole_history_due = whole_history_changed_ || (last && !whole_history_names_.empty());
    {
      std::lock_guard lock(result_mutex_);
      ++result_.passes;
      result_.operations_checked += history.size() + (whole_history_due ? whole_history_.size() : 0);
      result_.peak_operations_held =
          std::max<std::uint64_t>(result_.peak_operations_held, operations_held_ + whole_history_.size());
    }
    if (!history.operations.empty() && !check_per_key(history, checked_keys, last)) return;
    if (whole_history_due && !check_whole_history(last)) return;
    std::lock_guard lock(result_mutex_);
    result_.verdict = checkers::Verdict::valid;
    result_.reason.clear();
    for (const auto& [name, verdict] : result_.verdict_by_checker) {
      if (verdict != checkers::Verdict::unknown) continue;
      result_.verdict = checkers::Verdict::unknown;
      const bool per_key = online_mode(name) == OnlineMode::per_key;
      result_.reason = per_key ? fmt::format("{} key(s) undecided within a pass's time limit", result_.keys_undecided)
                               : fmt::format("{}: {}", name, whole_history_reasons_[name]);
      break;
    }
  }

  bool check_per_key(const checkers::History& history, const std::vector<std::string>& checked_keys, bool last) {
    std::set<std::string> undecided;
    for (const std::string& name : per_key_names_) {
      CheckerOutcome outcome;
      if (!check(name, history, last, outcome)) return false;
      for (const nlohmann::json& anomaly : outcome.json.value("anomalies", nlohmann::json::array())) {
        if (anomaly.value("verdict", "") == "unknown") undecided.insert(anomaly.value("key", ""));
      }
    }
    std::uint64_t undecided_held = 0;
    for (const std::string& key : checked_keys) {
      HeldKey& held = keys_.at(key);
      held.changed = false;
      held.undecided = undecided.contains(key);
      held.settled = !held.undecided && held.open == 0;
    }
    for (const auto& [key, held] : keys_) undecided_held += held.undecided ? 1 : 0;
    std::lock_guard lock(result_mutex_);
    result_.keys_undecided = undecided_held;
    for (const std::string& name : per_key_names_) {
      result_.verdict_by_checker[name] = undecided_held ? checkers::Verdict::unknown : checkers::Verdict::valid;
    }
    return true;
  }

  bool check_whole_history(bool last) {
    whole_history_changed_ = false;
    for (const std::string& name : whole_history_names_) {
      CheckerOutcome outcome;
      if (!check(name, whole_history_, last, outcome)) return false;
      std::lock_guard lock(result_mutex_);
      result_.verdict_by_checker[name] = outcome.verdict;
      whole_history_reasons_[name] = outcome.reason;
    }
    return true;
  }

  OnlineCheckOptions options_;
  const Clock::time_point start_;
  std::chrono::milliseconds interval_;
  std::vector<std::string> per_key_names_;
  std::vector<std::string> whole_history_names_;
  std::thread thread_;

  std::mutex inbox_mutex_;
  std::condition_variable wake_;
  std::vector<Arrival> inbox_;
  bool finishing_ = false;

  // The checking thread's own.
  std::map<std::string, HeldKey> keys_;
  std::set<std::string> dropped_;
  std::set<std::string> abandoned_;
  std::uint64_t operations_held_ = 0;
  checkers::History whole_history_;  // every op, for the whole-history checkers
  bool whole_history_changed_ = false;
  std::map<std::string, std::string> whole_history_reasons_;
  bool stopped_ = false;

  mutable std::mutex result_mutex_;
  OnlineCheckResult result_;
};

OnlineChecker::OnlineChecker(OnlineCheckOptions options, Clock::time_point start)
    : implementation_(std::make_unique<Implementation>(std::move(options), start)) {}
OnlineChecker::~OnlineChecker() = default;
void OnlineChecker::observe(const RecordedOperation& operation) { implementation_->observe(operation); }
void OnlineChecker::finish() { implementation_->finish(); }
OnlineCheckResult OnlineChecker::result() const { return implementation_->result(); }

}  // namespace chaosbench::harness
