#include "chaosbench/harness/report_command.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "chaosbench/harness/exit_code.h"
#include "chaosbench/reports/report_error.h"
#include "chaosbench/reports/run_report.h"

namespace chaosbench::harness {

int run_report_command(const ReportCommandOptions& options, std::ostream& out, std::ostream& errors) {
  try {
    if (options.index) {
      if (!options.run_directory.empty()) {
        errors << "harness report: give either RUN_DIR or --index, not both\n";
        return kExitHarnessFailed;
      }
      out << reports::write_store_index(options.store).string() << "\n";
      return kExitValid;
    }
    if (options.run_directory.empty()) {
      errors << "harness report: give a run directory (RUN_DIR) or --index\n";
      return kExitHarnessFailed;
    }
    const auto files = reports::write_run_report(options.run_directory);
    out << files.html.string() << "\n" << files.junit.string() << "\n";
    return kExitValid;
  } catch (const reports::ReportError& error) {
    errors << "harness report: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
}

CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& report) {
  CLI::App* report_app = app.add_subcommand(
      "report", "Regenerate a run's report.html and junit.xml (RUN_DIR), or the store's index.html (--index)");
  report_app->add_option("run_directory", report.run_directory, "Run directory: STORE/<test>/<timestamp>");
  report_app->add_flag("--index", report.index, "Regenerate STORE/index.html, listing every run in the store");
  report_app->add_option("--store", report.store, "Store directory, with --index")->capture_default_str();
  return report_app;
}

}  // namespace chaosbench::harness
