// store/index.html: every run in a store (STORE/<test>/<run>/ directories that
// hold results.json or history.jsonl), newest first, with verdict, date,
// target, workload, nemesis, operation count, p99 latency and a link to its
// report. Summaries come from test.json and results.json; a run whose files
// cannot be read is still listed, with the error in place of its verdict.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace chaosbench::reports {

struct RunSummary {
  std::filesystem::path directory;  // relative to the store
  std::string test, started_at, verdict, target, workload, nemesis;
  std::optional<std::uint64_t> operations;
  std::optional<double> p99_ms;
  std::string error;  // non-empty when the run's files could not be read
  bool has_report = false;
};

// Reads one run directory's summary; errors are recorded in `error`.
RunSummary summarize_run(const std::filesystem::path& store, const std::filesystem::path& run_directory);

// All runs in the store, newest first (by started_at, then directory name).
// Throws ReportError when `store` is not a directory.
std::vector<RunSummary> list_store_runs(const std::filesystem::path& store);

std::string render_store_index(const std::vector<RunSummary>& runs, const std::string& store_name);

}  // namespace chaosbench::reports
