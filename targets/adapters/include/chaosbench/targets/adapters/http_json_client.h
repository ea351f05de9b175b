// A blocking JSON-over-HTTP/1.1 POST with one deadline (Boost.Beast), for
// adapters of real systems. Says whether the request could have reached the
// server: a refused connection is `not_sent` (definitely no effect), a timeout
// or a lost connection after sending is `unknown`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::targets::adapters {

struct HttpJsonReply {
  enum class Outcome { answered, not_sent, unknown };
  Outcome outcome = Outcome::unknown;
  unsigned status = 0;    // HTTP status when answered
  nlohmann::json body;    // parsed body when answered (discarded if not JSON)
  std::string problem;    // why not answered: "connection refused", "timed out", ...
};

HttpJsonReply post_json(const std::string& address, std::uint16_t port, const std::string& path,
                        const nlohmann::json& body, std::chrono::milliseconds timeout);

}  // namespace chaosbench::targets::adapters
