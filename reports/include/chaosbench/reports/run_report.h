// Entry points the harness calls: write_run_report() (re)generates a run
// directory's report.html and junit.xml, write_store_index() the store's
// index.html. Files are written to a temporary name and renamed into place.
// Both throw ReportError (one line) on missing or malformed inputs or I/O errors.
#pragma once

#include <filesystem>

#include "chaosbench/checkers/verdict.h"

namespace chaosbench::reports {

struct RunReportFiles {
  std::filesystem::path html;
  std::filesystem::path junit;
  checkers::Verdict verdict = checkers::Verdict::unknown;  // the run's overall verdict
};

RunReportFiles write_run_report(const std::filesystem::path& run_directory);

// Returns the path of the index written (STORE/index.html).
std::filesystem::path write_store_index(const std::filesystem::path& store);

// Writes `content` to `path` via a temporary file and rename (ReportError on failure).
void write_text_file(const std::filesystem::path& path, const std::string& content);

}  // namespace chaosbench::reports
