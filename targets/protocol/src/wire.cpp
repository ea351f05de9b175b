#include "chaosbench/targets/protocol/wire.h"

namespace chaosbench::targets::protocol {

using nlohmann::json;

json error_reply(const json& id, const std::string& code, bool definite, json extra) {
  json reply{{"id", id}, {"error", code}, {"definite", definite}};
  for (auto& [key, value] : extra.items()) reply[key] = value;
  return reply;
}

json line_too_long_reply() {
  return error_reply(nullptr, "line_too_long", true,
                     {{"message", "a request line is at most " + std::to_string(kMaxLineBytes) + " bytes"}});
}

std::variant<json, json> parse_request_line(std::string_view line) {
  json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    return std::variant<json, json>(
        std::in_place_index<1>, error_reply(nullptr, "malformed", true, {{"message", "line is not a JSON object"}}));
  }
  const auto op = request.find("op");
  if (op == request.end() || !op->is_string()) {
    const json id = request.contains("id") ? request["id"] : json(nullptr);
    return std::variant<json, json>(std::in_place_index<1>,
                                    error_reply(id, "malformed", true, {{"message", "missing string field op"}}));
  }
  return std::variant<json, json>(std::in_place_index<0>, std::move(request));
}

bool LineFramer::feed(std::string_view bytes, const LineHandler& on_line) {
  buffer_.append(bytes);
  std::size_t start = 0;
  bool keep_going = true;
  while (keep_going) {
    const std::size_t newline = buffer_.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(buffer_.data() + start, newline - start);
    start = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) return false;
    if (line.empty()) continue;
    keep_going = on_line(line);
  }
  buffer_.erase(0, start);
  return buffer_.size() <= kMaxLineBytes || !keep_going;
}

}  // namespace chaosbench::targets::protocol
