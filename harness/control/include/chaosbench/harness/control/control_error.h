// Errors of the control module (Host, sandbox, processes). Every failure is
// thrown as a ControlError (or a subclass) whose what() is one line naming the
// host and the command involved; nothing in this module reports errors otherwise.
#pragma once

#include <stdexcept>
#include <string>

namespace chaosbench::harness::control {

class ControlError : public std::runtime_error {
 public:
  explicit ControlError(const std::string& message);
};

// A command ran but exited non-zero or was killed by a signal (run_checked).
class CommandFailed : public ControlError {
 public:
  using ControlError::ControlError;
};

// A command did not finish within its timeout; it was killed.
class CommandTimedOut : public ControlError {
 public:
  using ControlError::ControlError;
};

// A host name that the sandbox (or host list) does not know.
class UnknownHost : public ControlError {
 public:
  using ControlError::ControlError;
};

// The kernel refuses the namespaces the sandbox needs (e.g. unprivileged user
// namespaces are disabled). Callers may report it as "unsupported here".
class SandboxUnavailable : public ControlError {
 public:
  using ControlError::ControlError;
};

// Collapses text to one line (newlines become " | ", long text is shortened)
// so it can be embedded in an error message.
std::string one_line(std::string_view text, std::size_t max_length = 240);

}  // namespace chaosbench::harness::control
