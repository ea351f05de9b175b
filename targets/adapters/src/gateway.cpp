#include "chaosbench/targets/adapters/gateway.h"

#include "chaosbench/targets/protocol/transaction.h"
#include "chaosbench/targets/protocol/wire.h"

#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <boost/asio.hpp>

namespace chaosbench::targets::adapters {

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;

// One client connection: reads lines on the I/O thread, hands each request to
// the worker pool, writes replies in order of completion through its strand.
// Not in an anonymous namespace: Gateway::Implementation, which has external
// linkage, holds pointers to it.
class GatewayConnection : public std::enable_shared_from_this<GatewayConnection> {
 public:
  GatewayConnection(tcp::socket socket, Backend& backend, asio::thread_pool& workers)
      : socket_(std::move(socket)),
        strand_(asio::make_strand(socket_.get_executor())),
        backend_(backend),
        workers_(workers) {}

  void start() { read_next(); }
  void close() {
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

 private:
  // Lines are cut by protocol::LineFramer under the line cap; a line over it
  // is answered line_too_long and the connection closes once that is written.
  void read_next() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code error, std::size_t length) {
          if (error) return;
          const bool within_cap =
              self->framer_.feed(std::string_view(self->chunk_, length), [&](std::string_view line) {
                self->dispatch(std::string(line));
                return true;
              });
          if (!within_cap) {
            self->closing_ = true;
            self->send(protocol::line_too_long_reply().dump() + "\n");
            return;
          }
          self->read_next();
        }));
  }

  void dispatch(std::string line) {
    asio::post(workers_, [self = shared_from_this(), line = std::move(line)] {
      auto parsed = protocol::parse_request_line(line);
      if (!protocol::is_request(parsed)) {
        self->send(std::get<1>(parsed).dump() + "\n");
        return;
      }
      const json& request = std::get<0>(parsed);
      json reply;
      if (auto problem = request["op"] == "status" ? std::nullopt : protocol::validate_request(request)) {
        reply = error_reply("malformed: " + *problem, true);  // the detail in the error, as backends give it
      } else {
        try {
          reply = self->backend_.handle(request);
        } catch (const std::exception& error) {
          // The backend could not tell whether the operation happened.
          reply = error_reply(fmt::format("gateway: {}", error.what()), false);
        }
      }
      reply["id"] = request.contains("id") ? request["id"] : json(nullptr);
      self->send(reply.dump() + "\n");
    });
  }

  void send(std::string text) {
    asio::post(strand_, [self = shared_from_this(), text = std::move(text)]() mutable {
      self->output_.push_back(std::move(text));
      if (self->output_.size() == 1) self->write_next();
    });
  }

  void write_next() {
    asio::async_write(
        socket_, asio::buffer(output_.front()),
        asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code error, std::size_t) {
          if (error) {
            self->output_.clear();
            return;
          }
          self->output_.pop_front();
          if (!self->output_.empty()) {
            self->write_next();
          } else if (self->closing_) {
            boost::system::error_code ignored;
            self->socket_.close(ignored);
          }
        }));
  }

  tcp::socket socket_;
  asio::strand<tcp::socket::executor_type> strand_;
  Backend& backend_;
  asio::thread_pool& workers_;
  char chunk_[16384];
  protocol::LineFramer framer_;
  bool closing_ = false;
  std::deque<std::string> output_;
};

class Gateway::Implementation {
 public:
  Implementation(std::string node_name, const std::string& listen_address, std::unique_ptr<Backend> backend,
                 int worker_threads)
      : node_name_(std::move(node_name)),
        backend_(std::move(backend)),
        workers_(static_cast<std::size_t>(worker_threads)),
        acceptor_(io_context_) {
    boost::system::error_code error;
    const auto ip = asio::ip::make_address(listen_address, error);
    if (error)
      throw std::runtime_error(fmt::format("gateway for {}: bad listen address '{}'", node_name_, listen_address));
    tcp::endpoint endpoint(ip, 0);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      throw std::runtime_error(
          fmt::format("gateway for {}: cannot listen on {}: {}", node_name_, listen_address, error.message()));
    }
    address_ = listen_address;
    port_ = acceptor_.local_endpoint().port();
    accept_next();
    io_thread_ = std::thread([this] { io_context_.run(); });
  }

  ~Implementation() {
    asio::post(io_context_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& connection : connections_) {
        if (auto alive = connection.lock()) alive->close();
      }
    });
    workers_.join();  // requests in flight end at their backend timeout
    io_context_.stop();
    io_thread_.join();
  }

  const std::string& address() const { return address_; }
  std::uint16_t port() const { return port_; }

 private:
  void accept_next() {
    acceptor_.async_accept(asio::make_strand(io_context_), [this](boost::system::error_code error, tcp::socket socket) {
      if (error) return;  // closed
      socket.set_option(tcp::no_delay(true));
      auto connection = std::make_shared<GatewayConnection>(std::move(socket), *backend_, workers_);
      // Status polls open a connection each: forget the closed ones.
      std::erase_if(connections_, [](const std::weak_ptr<GatewayConnection>& known) { return known.expired(); });
      connections_.push_back(connection);
      connection->start();
      accept_next();
    });
  }

  std::string node_name_;
  std::unique_ptr<Backend> backend_;
  asio::thread_pool workers_;
  asio::io_context io_context_;
  tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<GatewayConnection>> connections_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::thread io_thread_;
};

Gateway::Gateway(std::string node_name, const std::string& listen_address, std::unique_ptr<Backend> backend,
                 int worker_threads)
    : implementation_(
          std::make_unique<Implementation>(std::move(node_name), listen_address, std::move(backend), worker_threads)) {}

Gateway::~Gateway() = default;

const std::string& Gateway::address() const { return implementation_->address(); }
std::uint16_t Gateway::port() const { return implementation_->port(); }

}  // namespace chaosbench::targets::adapters
