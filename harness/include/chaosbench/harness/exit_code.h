// The harness's exit codes (DESIGN.md): 0 valid, 1 invalid, 2 unknown,
// 3 the harness itself failed (bad input, bad flag, missing binary, I/O error).
#pragma once

#include "chaosbench/checkers/verdict.h"

namespace chaosbench::harness {

enum ExitCode : int { kExitValid = 0, kExitInvalid = 1, kExitUnknown = 2, kExitHarnessFailed = 3 };

int exit_code_for(checkers::Verdict verdict);

}  // namespace chaosbench::harness
