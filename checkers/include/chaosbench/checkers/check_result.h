// The verdict of a simple checker (session, convergence, set, counter, bank):
// valid / invalid / unknown, a one-line reason, evidence lines a person can
// read, and machine-readable details for results.json. A plain value.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

struct CheckResult {
  std::string checker;  // e.g. "session", "set"
  Verdict verdict = Verdict::valid;
  std::string reason;
  std::vector<std::string> evidence;  // one line each, most important first
  nlohmann::json details = nlohmann::json::object();
  double elapsed_seconds = 0;
};

// {"checker", "verdict", "reason", "evidence", ...details, "elapsed_seconds"}
nlohmann::json to_json(const CheckResult& result);
// "verdict: reason" then the evidence lines indented.
std::string describe(const CheckResult& result);

}  // namespace chaosbench::checkers
