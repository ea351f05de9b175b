#include "chaosbench/checkers/check_result.h"

#include <fmt/format.h>

namespace chaosbench::checkers {

nlohmann::json to_json(const CheckResult& result) {
  nlohmann::json json{{"checker", result.checker},
                      {"verdict", to_string(result.verdict)},
                      {"reason", result.reason},
                      {"evidence", result.evidence}};
  for (const auto& [name, value] : result.details.items()) json[name] = value;
  json["elapsed_seconds"] = result.elapsed_seconds;
  return json;
}

std::string describe(const CheckResult& result) {
  std::string text = fmt::format("{}: {}\n", to_string(result.verdict), result.reason);
  for (const std::string& line : result.evidence) text += fmt::format("  {}\n", line);
  return text;
}

}  // namespace chaosbench::checkers
