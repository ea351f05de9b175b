// `harness report RUN_DIR` regenerates a run's report.html and junit.xml;
// `harness report --index [--store DIR]` regenerates STORE/index.html.
// Returns the exit code: 0 when the files were written, 3 (one-line message on
// `errors`) when an input is missing or malformed or a file cannot be written.
#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

struct ReportCommandOptions {
  std::string run_directory;  // "" with index
  bool index = false;
  std::string store = "store";
};

int run_report_command(const ReportCommandOptions& options, std::ostream& out, std::ostream& errors);

// Adds the `report` subcommand and its flags to `app`; parsing fills `options`.
CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& options);

}  // namespace chaosbench::harness
