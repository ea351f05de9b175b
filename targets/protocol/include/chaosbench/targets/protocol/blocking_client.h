// BlockingClient: one TCP connection speaking the client protocol, for tests,
// benchmarks and status probes: send a request, wait for its reply line, with
// timeouts. Errors (cannot connect, send failed, no reply in time, closed, a
// reply line over kMaxLineBytes or not JSON) throw std::runtime_error saying which.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::targets::protocol {

class BlockingClient {
 public:
  // Connects to address:port within connect_timeout (a host that drops the SYN
  // cannot stall it), retrying refused connections until then unless
  // `retry_refused` is false.
  explicit BlockingClient(std::uint16_t port, std::chrono::milliseconds connect_timeout = std::chrono::seconds(5),
                          const std::string& address = "127.0.0.1", bool retry_refused = true);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  void send_raw(const std::string& bytes);
  // The next line, or nullopt on timeout or when the server closed the connection.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends one request and returns the next reply.
  nlohmann::json call(const nlohmann::json& request, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int descriptor_ = -1;
  std::string endpoint_;
  std::string buffer_;
};

// The "value" of a status request to address:port, or nullopt if the node does
// not answer ok within `timeout`.
std::optional<nlohmann::json> query_status(const std::string& address, std::uint16_t port,
                                           std::chrono::milliseconds timeout);

}  // namespace chaosbench::targets::protocol
