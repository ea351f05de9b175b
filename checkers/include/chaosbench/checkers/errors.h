// Errors raised by the checkers library: bad input (malformed history, unknown
// model) is reported as an exception carrying one line that names the file,
// line and field where known. The CLI maps these to exit code 3.
#pragma once

#include <stdexcept>
#include <string>

namespace chaosbench::checkers {

class HistoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace chaosbench::checkers
