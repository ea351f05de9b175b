// ClientServer: the newline-delimited JSON client protocol of DESIGN.md on a
// Boost.Asio io_context. Each line is parsed and handed to the RequestHandler
// with a ClientConnection to reply on, possibly later and out of order.
// Lines are framed and parsed by protocol/wire.h: a malformed line gets the
// malformed reply and the connection stays open; a line over the cap gets
// line_too_long and the connection is closed. Single-threaded, like the
// io_context it runs on.
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chaosbench/targets/protocol/wire.h"
#include "runtime/logger.h"

namespace chaosbench::targets {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(boost::asio::ip::tcp::socket socket, Logger& logger);
  // Queues one reply line; a no-op once the connection has closed.
  void reply(const nlohmann::json& message);
  // Sends `message`, then closes once it has been written.
  void reply_and_close(const nlohmann::json& message);
  bool open() const { return open_ && !closing_; }
  const std::string& remote() const { return remote_; }

 private:
  friend class ClientServer;
  void write_next();
  void close();

  boost::asio::ip::tcp::socket socket_;
  Logger& logger_;
  std::string remote_;
  bool open_ = true;
  bool closing_ = false;
  bool writing_ = false;
  protocol::LineFramer framer_;
  std::string pending_output_;
  std::string in_flight_;
  char chunk_[16384];
};

class ClientServer {
 public:
  // A client that stops reading replies is disconnected once this much is queued for it.
  static constexpr std::size_t kMaxPendingOutputBytes = 64u << 20;
  using RequestHandler = std::function<void(const std::shared_ptr<ClientConnection>&, nlohmann::json request)>;

  ClientServer(boost::asio::io_context& io_context, std::string host, std::uint16_t port, Logger& logger,
               RequestHandler handler);
  ~ClientServer();
  void start();  // throws std::system_error if the port cannot be bound

 private:
  void accept_next();
  void read_next(const std::shared_ptr<ClientConnection>& connection);
  void handle_bytes(const std::shared_ptr<ClientConnection>& connection, std::size_t count);

  boost::asio::io_context& io_context_;
  std::string host_;
  std::uint16_t port_;
  Logger& logger_;
  RequestHandler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The one error reply of the client protocol, for every server of the runtime.
using protocol::error_reply;

}  // namespace chaosbench::targets
