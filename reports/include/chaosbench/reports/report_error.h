// The one error type of the reports library: a run directory or store that
// cannot be reported on (missing or malformed history.jsonl / results.json /
// test.json, unwritable output). The message is one line naming the file;
// `harness report` prints it and exits 3.
#pragma once

#include <stdexcept>
#include <string>

namespace chaosbench::reports {

class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace chaosbench::reports
