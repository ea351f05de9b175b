#include "runtime/client_server.h"

namespace chaosbench::targets {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using nlohmann::json;

ClientConnection::ClientConnection(tcp::socket socket, Logger& logger) : socket_(std::move(socket)), logger_(logger) {
  error_code error;
  auto endpoint = socket_.remote_endpoint(error);
  if (!error) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void ClientConnection::reply(const json& message) {
  if (!open_) return;
  pending_output_ += message.dump(-1, ' ', false, json::error_handler_t::replace);
  pending_output_ += '\n';
  if (pending_output_.size() > ClientServer::kMaxPendingOutputBytes) {
    logger_.info("client {}: {} bytes of replies unread, disconnecting", remote_, pending_output_.size());
    pending_output_.clear();
    close();
    return;
  }
  write_next();
}

void ClientConnection::reply_and_close(const json& message) {
  reply(message);
  closing_ = true;
  if (!writing_) close();
}

void ClientConnection::write_next() {
  if (!writing_ && pending_output_.empty() && closing_) {
    close();
    return;
  }
  if (writing_ || pending_output_.empty() || !open_) return;
  writing_ = true;
  in_flight_.swap(pending_output_);
  pending_output_.clear();
  asio::async_write(socket_, asio::buffer(in_flight_), [self = shared_from_this()](error_code error, std::size_t) {
    self->writing_ = false;
    self->in_flight_.clear();
    if (error) {
      self->close();
      return;
    }
    self->write_next();
  });
}

void ClientConnection::close() {
  if (!open_) return;
  open_ = false;
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

ClientServer::ClientServer(asio::io_context& io_context, std::string host, std::uint16_t port, Logger& logger,
                           RequestHandler handler)
    : io_context_(io_context),
      host_(std::move(host)),
      port_(port),
      logger_(logger),
      handler_(std::move(handler)),
      acceptor_(io_context) {}

ClientServer::~ClientServer() { *alive_ = false; }

void ClientServer::start() {
  tcp::resolver resolver(io_context_);
  tcp::endpoint endpoint = *resolver.resolve(host_, std::to_string(port_)).begin();
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  accept_next();
}

void ClientServer::accept_next() {
  acceptor_.async_accept([this, alive = alive_](error_code error, tcp::socket socket) {
    if (!*alive) return;
    if (error) {
      if (error == asio::error::operation_aborted) return;
      logger_.info("client accept failed: {}", error.message());
    } else {
      socket.set_option(tcp::no_delay(true));
      read_next(std::make_shared<ClientConnection>(std::move(socket), logger_));
    }
    accept_next();
  });
}

void ClientServer::read_next(const std::shared_ptr<ClientConnection>& connection) {
  connection->socket_.async_read_some(asio::buffer(connection->chunk_),
                                      [this, connection, alive = alive_](error_code error, std::size_t count) {
                                        if (!*alive) return;
                                        if (error) {
                                          connection->close();
                                          return;
                                        }
                                        handle_bytes(connection, count);
                                      });
}

void ClientServer::handle_bytes(const std::shared_ptr<ClientConnection>& connection, std::size_t count) {
  const bool within_cap =
      connection->framer_.feed(std::string_view(connection->chunk_, count), [&](std::string_view line) {
        auto parsed = protocol::parse_request_line(line);
        if (!protocol::is_request(parsed)) {
          logger_.info("client {}: malformed line ({} bytes)", connection->remote(), line.size());
          connection->reply(std::get<1>(parsed));
          return true;
        }
        handler_(connection, std::move(std::get<0>(parsed)));
        return connection->open();
      });
  if (!within_cap) {
    logger_.info("client {}: a line over {} bytes, closing", connection->remote(), protocol::kMaxLineBytes);
    connection->reply_and_close(protocol::line_too_long_reply());
    return;
  }
  if (!connection->open()) return;
  read_next(connection);
}

}  // namespace chaosbench::targets
