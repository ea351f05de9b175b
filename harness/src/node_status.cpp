#include "chaosbench/harness/node_status.h"

#include <boost/asio.hpp>

namespace chaosbench::harness {

namespace asio = boost::asio;
using asio::ip::tcp;

std::optional<nlohmann::json> query_status(const std::string& address, std::uint16_t port,
                                           std::chrono::milliseconds timeout) {
  asio::io_context io_context;
  tcp::socket socket(io_context);
  boost::system::error_code address_error;
  const auto ip = asio::ip::make_address(address, address_error);
  if (address_error) return std::nullopt;
  const std::string request = "{\"id\":1,\"op\":\"status\"}\n";
  std::string buffer;
  std::optional<nlohmann::json> result;
  socket.async_connect(tcp::endpoint(ip, port), [&](boost::system::error_code error) {
    if (error) return;
    asio::async_write(socket, asio::buffer(request), [&](boost::system::error_code write_error, std::size_t) {
      if (write_error) return;
      asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n',
                             [&](boost::system::error_code read_error, std::size_t length) {
                               if (read_error) return;
                               auto reply = nlohmann::json::parse(buffer.substr(0, length), nullptr, false);
                               if (reply.is_object() && reply.value("ok", false) && reply.contains("value")) {
                                 result = reply["value"];
                               }
                             });
    });
  });
  io_context.run_for(timeout);
  return result;
}

}  // namespace chaosbench::harness
