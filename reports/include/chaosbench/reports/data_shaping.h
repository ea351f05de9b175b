// The numbers behind the report's charts, computed from the history alone so
// that any history (ours, Jepsen's, Porcupine's) can be reported: operation
// spans (invoke -> completion), time buckets with latency percentiles and
// throughput by outcome, fault windows paired from nemesis ops, availability
// per fault window, and process lanes for the timeline. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"

namespace chaosbench::reports {

// One client operation from its invocation to its completion. `end` is the
// completion's time, or the history's last time when it never completed
// (outcome info, `completed` false).
struct OperationSpan {
  std::uint32_t invocation = 0;
  std::uint32_t completion = checkers::OperationPair::kNoCompletion;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::int64_t process = 0;
  std::uint32_t function = 0;
  checkers::OpType outcome = checkers::OpType::info;
  bool completed = false;
  std::int64_t latency() const { return end - start; }
};

// All client operations ordered by invocation time (ties: history order).
// Throws checkers::HistoryError when the history cannot be paired.
std::vector<OperationSpan> operation_spans(const checkers::History& history);

// The history's first and last operation times (0, 0 when empty).
struct TimeRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;
};
TimeRange history_time_range(const checkers::History& history);

// A "nice" bucket width (1, 2 or 5 times a power of ten, in history time
// units) giving at most `max_buckets` buckets over `span`; at least 1.
std::int64_t choose_bucket_width(std::int64_t span, std::size_t max_buckets);

// Nearest-rank percentile (0 < q <= 100) of ascending `sorted`; 0 when empty.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q);

// Completions counted in [start, start + width). Latency percentiles are over
// the ok operations that completed in the bucket (0 when there were none).
struct TimeBucket {
  std::int64_t start = 0;
  std::uint64_t ok = 0, fail = 0, info = 0;
  std::int64_t p50 = 0, p95 = 0, p99 = 0, max = 0;
};

// Buckets from `range.begin` covering `range.end`, by completion time;
// operations that never completed are not counted.
std::vector<TimeBucket> bucket_operations(const std::vector<OperationSpan>& spans, TimeRange range, std::int64_t width);

// A fault while it was active, from the invocation of the nemesis op that
// started it to the completion (or, lacking one, the invocation) of the op
// that stopped it; `open` when nothing stopped it (then `end` is the history's
// end). Recognised pairs: start-X/stop-X (kind X), kill/start and
// kill/restart (kill), pause/resume (pause), bump-clock, strobe-clock,
// clock-bump or clock-strobe / reset-clock or clock-reset (clock), and bare
// start/stop (Jepsen's partitioner: partition). A stop ends every open window
// of its kind. Other nemesis ops are instant events (`instant`, start == end).
struct FaultWindow {
  std::string kind;
  std::string label;     // readable summary of the fault's value (shape, nodes, offsets)
  std::string function;  // the nemesis op that started it
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::uint32_t start_index = 0;
  std::uint32_t end_index = 0;  // == start_index when open or instant
  bool open = false;
  bool instant = false;
  bool failed = false;  // the nemesis reported an error applying it
};

std::vector<FaultWindow> fault_windows(const checkers::History& history);

// A short human label for a nemesis value: partition {"shape","grudge"} ->
// shape and grudge; node lists -> "n1, n2"; clock offsets -> "n1 +2.5s";
// anything else: compact JSON cut to `max_length` characters.
std::string describe_fault_value(const std::string& kind, const nlohmann::json& value, std::size_t max_length = 80);

// Client operations that completed while a window was active (completion time
// within [start, end]); `window` is the index into the windows, or -1 for
// completions outside every (non-instant) window.
struct WindowAvailability {
  int window = -1;
  std::uint64_t ok = 0, fail = 0, info = 0;
  std::uint64_t completed() const { return ok + fail + info; }
  // Fraction of completed operations that were ok; 1 when none completed.
  double ratio() const { return completed() == 0 ? 1.0 : static_cast<double>(ok) / static_cast<double>(completed()); }
};

// One entry per non-instant window (in window order), then the "no fault" entry.
std::vector<WindowAvailability> availability_per_window(const std::vector<OperationSpan>& spans,
                                                        const std::vector<FaultWindow>& windows);

// Timeline lanes: one per process, in process order, unless there are more than
// `max_lanes` processes (processes are replaced after each info op, so long
// runs have thousands); then processes whose operations never overlap in time
// share a lane (greedy first fit by first invocation). Returns the lane of
// every process in `processes` (ascending process numbers) and the lane count.
struct LaneAssignment {
  std::vector<std::int64_t> processes;  // ascending
  std::vector<std::uint32_t> lane_of;   // parallel to processes
  std::uint32_t lanes = 0;
  bool packed = false;
};
LaneAssignment assign_lanes(const std::vector<OperationSpan>& spans, std::size_t max_lanes);

}  // namespace chaosbench::reports
