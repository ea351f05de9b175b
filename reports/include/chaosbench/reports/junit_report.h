// junit.xml for CI systems: one <testsuite> per run, one <testcase> per
// checker; an invalid checker is a <failure> and an unknown one an <error>,
// whose message is the checker's one-line reason. Text is XML-escaped and
// characters XML cannot carry are dropped.
#pragma once

#include <string>

#include "chaosbench/reports/run_inputs.h"

namespace chaosbench::reports {

std::string render_junit_report(const RunInputs& inputs);

// Escapes &, <, >, " and ' and removes control characters XML 1.0 forbids.
std::string escape_xml(std::string_view text);

}  // namespace chaosbench::reports
