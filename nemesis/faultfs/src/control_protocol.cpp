#include "chaosbench/nemesis/faultfs/control_protocol.h"

#include <fmt/format.h>

namespace chaosbench::nemesis::faultfs {
namespace {

std::string text_field(const nlohmann::json& request, const char* name, const char* fallback) {
  if (!request.contains(name)) return fallback;
  if (!request[name].is_string()) throw FaultError(fmt::format("field '{}' must be a string", name));
  return request[name].get<std::string>();
}

std::uint64_t count_field(const nlohmann::json& request, const char* name) {
  if (!request.contains(name) || !request[name].is_number_unsigned())
    throw FaultError(fmt::format("field '{}' must be a non-negative integer", name));
  return request[name].get<std::uint64_t>();
}

nlohmann::json dispatch(FaultFilesystem& filesystem, const nlohmann::json& request) {
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
    throw FaultError("a request is a JSON object with a string field 'op'");
  const std::string op = request["op"].get<std::string>();
  if (op == "status") return filesystem.status();
  if (op == "lose-unsynced") {
    if (request.contains("torn_tails") && !request["torn_tails"].is_boolean())
      throw FaultError("field 'torn_tails' must be true or false");
    return filesystem.lose_unsynced(request.value("torn_tails", false)).to_json();
  }
  if (op == "tear") return filesystem.tear(text_field(request, "glob", "*"));
  if (op == "corrupt") {
    const std::uint64_t count = request.contains("count") ? count_field(request, "count") : 1;
    return filesystem.corrupt(text_field(request, "glob", "*"), text_field(request, "mode", "bitflip"), count);
  }
  if (op == "error") {
    if (!request.contains("probability") || !request["probability"].is_number())
      throw FaultError("field 'probability' must be a number");
    filesystem.set_error(parse_operation_set(text_field(request, "operations", "all")),
                         request["probability"].get<double>());
    return nullptr;
  }
  if (op == "full") {
    filesystem.set_space_left(count_field(request, "space_left"));
    return nullptr;
  }
  if (op == "slow") {
    filesystem.set_delay(parse_operation_set(text_field(request, "operations", "all")),
                         std::chrono::milliseconds(count_field(request, "delay_ms")));
    return nullptr;
  }
  if (op == "clear") {
    filesystem.clear_faults();
    return nullptr;
  }
  throw FaultError(
      fmt::format("unknown op '{}' (known: status, lose-unsynced, tear, corrupt, error, full, slow, clear)", op));
}

}  // namespace

nlohmann::json handle_control_request(FaultFilesystem& filesystem, const std::string& line) {
  try {
    return {{"ok", true}, {"value", dispatch(filesystem, nlohmann::json::parse(line))}};
  } catch (const nlohmann::json::exception& error) {
    return {{"ok", false}, {"error", fmt::format("bad request: {}", error.what())}};
  } catch (const std::exception& error) {
    return {{"ok", false}, {"error", error.what()}};
  }
}

}  // namespace chaosbench::nemesis::faultfs
