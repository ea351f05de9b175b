// harness: chaosbench's controller command line. Exit codes (DESIGN.md):
// 0 valid, 1 invalid, 2 unknown, 3 the harness itself failed (bad input included).
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"chaosbench harness: chaos tests and consistency checks for replicated databases"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : 3;
  }
  return 0;
}
