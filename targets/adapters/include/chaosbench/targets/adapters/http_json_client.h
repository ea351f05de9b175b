// JSON-over-HTTP/1.1 POSTs to one server with one deadline per request (Boost.Beast),
// for adapters of real systems. Thread-safe; idle keep-alive connections are
// reused. Says whether a request could have reached the server: a refused
// connection is `not_sent` (definitely no effect), a timeout or a connection
// lost after sending is `unknown`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaosbench::targets::adapters {

struct HttpJsonReply {
  enum class Outcome { answered, not_sent, unknown };
  Outcome outcome = Outcome::unknown;
  unsigned status = 0;  // HTTP status when answered
  nlohmann::json body;  // parsed body when answered (discarded if not JSON)
  std::string problem;  // why not answered: "connection refused", "timed out", ...
};

class HttpJsonClient {
 public:
  HttpJsonClient(std::string address, std::uint16_t port);
  ~HttpJsonClient();
  HttpJsonClient(const HttpJsonClient&) = delete;
  HttpJsonClient& operator=(const HttpJsonClient&) = delete;

  HttpJsonReply post(const std::string& path, const nlohmann::json& body, std::chrono::milliseconds timeout);

 private:
  struct Connection;
  std::unique_ptr<Connection> take_idle_connection();

  std::string address_;
  std::uint16_t port_;
  std::mutex idle_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace chaosbench::targets::adapters
