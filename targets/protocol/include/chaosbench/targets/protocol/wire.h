// The client protocol's wire form (DESIGN.md): one JSON object per line, at
// most kMaxLineBytes a line. LineFramer cuts received bytes into lines under
// that cap, parse_request_line turns one into a request or the one malformed
// reply, and error_reply builds every error reply; the node's client server,
// the real-system gateway and the harness's clients all go through these.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace chaosbench::targets::protocol {

inline constexpr std::size_t kMaxLineBytes = 1u << 20;

// {"id":id,"error":code,"definite":definite[, extra fields]}.
nlohmann::json error_reply(const nlohmann::json& id, const std::string& code, bool definite,
                           nlohmann::json extra = nlohmann::json::object());

// The reply to a line over kMaxLineBytes; the server then closes the connection.
nlohmann::json line_too_long_reply();

// A request (a JSON object with a string "op"), or the error reply for the
// line: malformed, with a message saying what is wrong, and the request's id
// when it has one.
std::variant<nlohmann::json, nlohmann::json> parse_request_line(std::string_view line);
inline bool is_request(const std::variant<nlohmann::json, nlohmann::json>& parsed) { return parsed.index() == 0; }

class LineFramer {
 public:
  // Called for each complete, non-empty line (a trailing CR removed); return
  // false to stop (e.g. the connection closed) and keep the rest unread.
  using LineHandler = std::function<bool(std::string_view line)>;

  // Appends `bytes` and hands every complete line to `on_line`. Returns false
  // when a line (complete or not) exceeds kMaxLineBytes: the stream is then
  // unusable and the caller answers line_too_long_reply() and closes.
  bool feed(std::string_view bytes, const LineHandler& on_line);

 private:
  std::string buffer_;
};

}  // namespace chaosbench::targets::protocol
