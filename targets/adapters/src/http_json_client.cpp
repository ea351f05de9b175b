#include "chaosbench/targets/adapters/http_json_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace chaosbench::targets::adapters {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

HttpJsonReply post_json(const std::string& address, std::uint16_t port, const std::string& path,
                        const nlohmann::json& body, std::chrono::milliseconds timeout) {
  HttpJsonReply reply;
  boost::system::error_code address_error;
  const auto ip = asio::ip::make_address(address, address_error);
  if (address_error) {
    reply.outcome = HttpJsonReply::Outcome::not_sent;
    reply.problem = "bad address " + address;
    return reply;
  }
  asio::io_context io_context;
  beast::tcp_stream stream(io_context);
  http::request<http::string_body> request{http::verb::post, path, 11};
  request.set(http::field::host, address);
  request.set(http::field::content_type, "application/json");
  request.body() = body.dump();
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  bool sent = false;
  stream.expires_after(timeout);
  stream.async_connect(tcp::endpoint(ip, port), [&](beast::error_code error) {
    if (error) {
      // Nothing was written: a refused or timed-out connect cannot have had an effect.
      reply.outcome = HttpJsonReply::Outcome::not_sent;
      reply.problem = "connect: " + error.message();
      return;
    }
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
  });
  io_context.run();  // the stream's expiry bounds every step
  if (reply.outcome != HttpJsonReply::Outcome::answered && reply.problem.empty()) {
    reply.problem = sent ? "timed out" : "connect timed out";
  }
  return reply;
}

}  // namespace chaosbench::targets::adapters
