// Gateway: a client-protocol server (newline JSON, DESIGN.md) inside the
// controller for one node of a real system. Each request is handed to a
// Backend on a worker thread; replies go back out of order, matched by id.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chaosbench/targets/protocol/wire.h"

namespace chaosbench::targets::adapters {

// Translates one client-protocol request for a real system. Thread-safe:
// handle() is called from several worker threads at once. Returns the reply
// without "id": {"ok":true,...} or {"error":...,"definite":bool}.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual nlohmann::json handle(const nlohmann::json& request) = 0;
};

// A backend's error reply: protocol::error_reply with the message as the error
// (its first word the code, e.g. "unsupported: ..."); the gateway sets the id.
inline nlohmann::json error_reply(const std::string& message, bool definite) {
  return protocol::error_reply(nullptr, message, definite);
}

class Gateway {
 public:
  // Listens on listen_address (port chosen by the kernel) and serves until destroyed.
  Gateway(std::string node_name, const std::string& listen_address, std::unique_ptr<Backend> backend,
          int worker_threads = 32);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  const std::string& address() const;
  std::uint16_t port() const;

 private:
  class Implementation;
  std::unique_ptr<Implementation> implementation_;
};

}  // namespace chaosbench::targets::adapters
