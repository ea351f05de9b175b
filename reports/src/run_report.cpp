#include "chaosbench/reports/run_report.h"

#include <fstream>

#include <unistd.h>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/reports/html_report.h"
#include "chaosbench/reports/junit_report.h"
#include "chaosbench/reports/report_error.h"
#include "chaosbench/reports/run_inputs.h"
#include "chaosbench/reports/store_index.h"

namespace chaosbench::reports {

namespace fs = std::filesystem;

void write_text_file(const fs::path& path, const std::string& content) {
  const fs::path temporary = fmt::format("{}.tmp.{}", path.string(), ::getpid());
  {
    std::ofstream output(temporary, std::ios::binary | std::ios::trunc);
    if (!output) throw ReportError(fmt::format("{}: cannot create", temporary.string()));
    output.write(content.data(), static_cast<std::streamsize>(content.size()));
    output.close();
    if (!output) throw ReportError(fmt::format("{}: cannot write", temporary.string()));
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) throw ReportError(fmt::format("{}: cannot rename into place: {}", path.string(), error.message()));
}

RunReportFiles write_run_report(const fs::path& run_directory) {
  const RunInputs inputs = load_run_inputs(run_directory);
  RunReportFiles files{run_directory / "report.html", run_directory / "junit.xml", inputs.verdict};
  try {
    write_text_file(files.html, render_html_report(inputs));
    write_text_file(files.junit, render_junit_report(inputs));
  } catch (const checkers::HistoryError& error) {  // pairing a malformed history
    throw ReportError(fmt::format("{}: {}", (run_directory / "history.jsonl").string(), error.what()));
  }
  return files;
}

fs::path write_store_index(const fs::path& store) {
  const auto runs = list_store_runs(store);
  const fs::path index = store / "index.html";
  write_text_file(index, render_store_index(runs, fs::absolute(store).lexically_normal().string()));
  return index;
}

}  // namespace chaosbench::reports
