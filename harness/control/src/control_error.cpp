#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {

ControlError::ControlError(const std::string& message) : std::runtime_error(one_line(message, 1000)) {}

std::string one_line(std::string_view text, std::size_t max_length) {
  std::string result;
  result.reserve(std::min(text.size(), max_length));
  bool pending_separator = false;
  for (char character : text) {
    if (character == '\n' || character == '\r') {
      pending_separator = !result.empty();
      continue;
    }
    if (pending_separator) {
      result += " | ";
      pending_separator = false;
    }
    result += character == '\t' ? ' ' : character;
  }
  if (result.size() > max_length) {
    result.resize(max_length);
    result += "...";
  }
  return result;
}

}  // namespace chaosbench::harness::control
