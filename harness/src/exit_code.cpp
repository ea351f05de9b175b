#include "chaosbench/harness/exit_code.h"

namespace chaosbench::harness {

int exit_code_for(checkers::Verdict verdict) {
  switch (verdict) {
    case checkers::Verdict::valid:
      return kExitValid;
    case checkers::Verdict::invalid:
      return kExitInvalid;
    case checkers::Verdict::unknown:
      return kExitUnknown;
  }
  return kExitHarnessFailed;
}

}  // namespace chaosbench::harness
