#include "chaosbench/targets/adapters/http_json_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "idle_socket.h"

namespace chaosbench::targets::adapters {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

// One keep-alive connection with its own io_context: a request runs it on the
// calling thread, so connections never share an event loop.
struct HttpJsonClient::Connection {
  asio::io_context io_context;
  beast::tcp_stream stream{io_context};

  bool still_open() { return probe_idle_socket(stream.socket().native_handle()) == IdleSocket::quiet; }
};

HttpJsonClient::HttpJsonClient(std::string address, std::uint16_t port) : address_(std::move(address)), port_(port) {}

HttpJsonClient::~HttpJsonClient() = default;

std::unique_ptr<HttpJsonClient::Connection> HttpJsonClient::take_idle_connection() {
  std::lock_guard lock(idle_mutex_);
  while (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection->still_open()) return connection;
  }
  return nullptr;
}

HttpJsonReply HttpJsonClient::post(const std::string& path, const nlohmann::json& body,
                                   std::chrono::milliseconds timeout) {
  HttpJsonReply reply;
  boost::system::error_code address_error;
  const auto ip = asio::ip::make_address(address_, address_error);
  if (address_error) {
    reply.outcome = HttpJsonReply::Outcome::not_sent;
    reply.problem = "bad address " + address_;
    return reply;
  }
  std::unique_ptr<Connection> connection = take_idle_connection();
  const bool reused = connection != nullptr;
  if (!reused) connection = std::make_unique<Connection>();
  auto& stream = connection->stream;
  http::request<http::string_body> request{http::verb::post, path, 11};
  request.set(http::field::host, address_);
  request.set(http::field::content_type, "application/json");
  request.keep_alive(true);
  request.body() = body.dump();
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  bool sent = false;
  stream.expires_after(timeout);
  auto exchange = [&] {
    sent = true;
    http::async_write(stream, request, [&](beast::error_code write_error, std::size_t) {
      if (write_error) {
        reply.problem = "send: " + write_error.message();
        return;
      }
      http::async_read(stream, buffer, response, [&](beast::error_code read_error, std::size_t) {
        if (read_error) {
          reply.problem = "reply: " + read_error.message();
          return;
        }
        reply.outcome = HttpJsonReply::Outcome::answered;
        reply.status = response.result_int();
        reply.body = nlohmann::json::parse(response.body(), nullptr, false);
        if (reply.body.is_discarded()) reply.body = nullptr;
      });
    });
  };
  if (reused) {
    exchange();
  } else {
    stream.async_connect(tcp::endpoint(ip, port_), [&](beast::error_code error) {
      if (error) {
        // Nothing was written: a refused or timed-out connect cannot have had an effect.
        reply.outcome = HttpJsonReply::Outcome::not_sent;
        reply.problem = "connect: " + error.message();
        return;
      }
      exchange();
    });
  }
  connection->io_context.run();  // the stream's expiry bounds every step
  if (reply.outcome != HttpJsonReply::Outcome::answered && reply.problem.empty()) {
    reply.problem = sent ? "timed out" : "connect timed out";
  }
  if (reply.outcome == HttpJsonReply::Outcome::answered && response.keep_alive()) {
    connection->io_context.restart();
    stream.expires_never();
    std::lock_guard lock(idle_mutex_);
    idle_.push_back(std::move(connection));
  }
  return reply;
}

}  // namespace chaosbench::targets::adapters
