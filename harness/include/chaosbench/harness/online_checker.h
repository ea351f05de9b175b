// Checks a run's history while it is recorded (`harness run --check-online`):
// the recorder hands over every client operation; a thread re-checks, every
// interval, the keys that changed since its last pass with the per-key checkers
// (linearizable, sequential) and the whole prefix with the checkers whose invalid
// verdict on a prefix is final (Elle, bank, counter, linearizable set). A prefix
// whose pending ops count as info can only be invalid if the whole history is, so
// an invalid verdict is reported at once; a per-key checker's key found valid that
// stays quiet for a pass is dropped from memory (whole-history checkers keep all).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/verdict.h"
#include "chaosbench/harness/checker_selection.h"
#include "chaosbench/harness/history_recorder.h"

namespace chaosbench::harness {

// How a checker runs online. per_key: each key's ops alone, settled keys dropped.
// whole_history: every op kept, the whole prefix re-checked each pass. offline_only:
// an invalid verdict on a prefix could be revoked by later ops (the set checker's
// "lost": a later read may show the element), or the checker judges the end state.
enum class OnlineMode { per_key, whole_history, offline_only };
OnlineMode online_mode(const std::string& checker_name);
bool can_check_online(const std::string& checker_name);
std::string online_checkers_text();  // for messages: which checkers can, and how

struct OnlineCheckOptions {
  std::vector<std::string> checker_names;  // only those can_check_online() accepts
  CheckerConfiguration configuration;      // its time limit bounds each pass
  std::chrono::milliseconds interval{1000};
  // Called once, on the checking thread, when a checker first proves an anomaly.
  std::function<void()> on_invalid;
};

struct OnlineCheckResult {
  checkers::Verdict verdict = checkers::Verdict::valid;
  std::string checker;                     // the checker that found the anomaly
  std::string reason;                      // its one-line reason
  std::int64_t time_to_detection_ms = -1;  // since the history's time 0; -1: nothing found
  std::uint64_t passes = 0;
  std::uint64_t operations_checked = 0;      // summed over passes
  std::uint64_t keys_dropped = 0;            // settled, freed while the run went on
  std::uint64_t keys_reused_after_drop = 0;  // then written again: left to the offline check
  std::uint64_t peak_operations_held = 0;
  std::uint64_t keys_undecided = 0;  // unknown after the last pass
  // Each online checker's verdict after its last pass (invalid is final).
  std::map<std::string, checkers::Verdict> verdict_by_checker;
  double checking_seconds = 0;  // time spent in passes
};
nlohmann::json to_json(const OnlineCheckResult& result);

class OnlineChecker {
 public:
  using Clock = std::chrono::steady_clock;
  // `start` is the history's time 0. Starts the checking thread.
  OnlineChecker(OnlineCheckOptions options, Clock::time_point start);
  ~OnlineChecker();
  OnlineChecker(const OnlineChecker&) = delete;
  OnlineChecker& operator=(const OnlineChecker&) = delete;

  // The HistoryRecorder's listener: copies the operation for the next pass. Thread-safe, cheap.
  void observe(const RecordedOperation& operation);
  // Stops the thread after one last pass over everything observed. Idempotent.
  void finish();
  OnlineCheckResult result() const;

 private:
  class Implementation;
  std::unique_ptr<Implementation> implementation_;
};

}  // namespace chaosbench::harness
