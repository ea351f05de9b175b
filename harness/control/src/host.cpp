#include "chaosbench/harness/control/host.h"

#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {

int signal_number(Signal signal) {
  switch (signal) {
    case Signal::kill:
      return SIGKILL;
    case Signal::stop:
      return SIGSTOP;
    case Signal::cont:
      return SIGCONT;
    case Signal::term:
      return SIGTERM;
    case Signal::interrupt:
      return SIGINT;
  }
  throw ControlError(fmt::format("unknown Signal value {}", static_cast<int>(signal)));
}

std::string_view signal_name(Signal signal) {
  switch (signal) {
    case Signal::kill:
      return "SIGKILL";
    case Signal::stop:
      return "SIGSTOP";
    case Signal::cont:
      return "SIGCONT";
    case Signal::term:
      return "SIGTERM";
    case Signal::interrupt:
      return "SIGINT";
  }
  throw ControlError(fmt::format("unknown Signal value {}", static_cast<int>(signal)));
}

std::string format_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& argument : argv) {
    if (!text.empty()) text += ' ';
    bool plain = !argument.empty() && argument.find_first_of(" \t\n'\"\\$`;&|<>*?()") == std::string::npos;
    if (plain) {
      text += argument;
    } else {
      text += '\'';
      for (char character : argument) {
        if (character == '\'')
          text += "'\\''";
        else
          text += character;
      }
      text += '\'';
    }
  }
  return text;
}

std::string ExitStatus::describe() const {
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return name ? fmt::format("killed by SIG{}", name) : fmt::format("killed by signal {}", signal);
  }
  return fmt::format("exited with {}", exit_code);
}

CommandResult Host::run_checked(const Command& command) {
  CommandResult result = run(command);
  if (!result.succeeded()) {
    std::string detail = result.err.empty() ? result.out : result.err;
    throw CommandFailed(fmt::format("{}: `{}` {}{}{}", name(), format_command(command.argv), result.status.describe(),
                                    detail.empty() ? "" : ": ", one_line(detail)));
  }
  return result;
}

}  // namespace chaosbench::harness::control
