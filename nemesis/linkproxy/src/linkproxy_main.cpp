// linkproxy: the user-space link proxy a node's connections to its peers go
// through (link_proxy.h), with toxics set at run time on a control socket.
//   linkproxy serve --route NAME,LISTEN_IP:PORT,TARGET_IP:PORT ... --control SOCKET [--seed N]
//     forwards each route until SIGTERM or SIGINT; prints one line once every
//     listener is bound and the control socket answers.
//   linkproxy control SOCKET REQUEST
//     sends one request (LinkProxy::handle_request), prints the reply line;
//     exit 0 when it says ok, 1 when it does not, 3 when the socket cannot be asked.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>

#include "chaosbench/nemesis/linkproxy/link_proxy.h"

namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using chaosbench::nemesis::linkproxy::LinkProxy;
using chaosbench::nemesis::linkproxy::Route;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

asio::ip::tcp::endpoint parse_endpoint(const std::string& text, const std::string& route) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument(fmt::format("--route {}: '{}' is not IP:PORT", route, text));
  boost::system::error_code error;
  const auto address = asio::ip::make_address(text.substr(0, colon), error);
  if (error)
    throw std::invalid_argument(fmt::format("--route {}: '{}' is not an IP address", route, text.substr(0, colon)));
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw std::invalid_argument(fmt::format("--route {}: '{}' is not a port", route, text.substr(colon + 1)));
  return {address, static_cast<std::uint16_t>(port)};
}

Route parse_route(const std::string& text) {
  const auto first = text.find(',');
  const auto second = first == std::string::npos ? std::string::npos : text.find(',', first + 1);
  if (second == std::string::npos || first == 0)
    throw std::invalid_argument(fmt::format("--route {}: expected NAME,LISTEN_IP:PORT,TARGET_IP:PORT", text));
  return {text.substr(0, first), parse_endpoint(text.substr(first + 1, second - first - 1), text),
          parse_endpoint(text.substr(second + 1), text)};
}

// One request per line, one reply per line; connections one after the other.
asio::awaitable<void> serve_control(stream_protocol::acceptor& acceptor, LinkProxy& proxy) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error) co_return;
    asio::streambuf buffer;
    while (true) {
      const auto [read_error, count] = co_await asio::async_read_until(socket, buffer, '\n', use_tuple);
      if (read_error) break;
      std::string line(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + count - 1);
      buffer.consume(count);
      const std::string reply = proxy.handle_request(line).dump() + "\n";
      const auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(reply), use_tuple);
      if (write_error) break;
    }
  }
}

int run_serve(const std::vector<std::string>& route_texts, const std::string& control, std::uint64_t seed) {
  std::vector<Route> routes;
  try {
    for (const auto& text : route_texts) routes.push_back(parse_route(text));
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "linkproxy: %s\n", error.what());
    return 3;
  }
  asio::io_context io;
  std::unique_ptr<LinkProxy> proxy;
  try {
    proxy = std::make_unique<LinkProxy>(io, routes, seed);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "linkproxy: cannot listen: %s\n", error.what());
    return 3;
  }
  std::error_code ignored;
  std::filesystem::remove(control, ignored);
  std::unique_ptr<stream_protocol::acceptor> acceptor;
  try {
    acceptor = std::make_unique<stream_protocol::acceptor>(io, stream_protocol::endpoint(control));
  } catch (const boost::system::system_error& error) {
    std::fprintf(stderr, "linkproxy: control socket %s: %s\n", control.c_str(), error.code().message().c_str());
    return 3;
  }
  asio::co_spawn(io, serve_control(*acceptor, *proxy), asio::detached);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    proxy->stop();
    boost::system::error_code closed;
    acceptor->close(closed);
  });
  std::string listening;
  for (const auto& route : routes)
    listening += fmt::format("{}{} on {}", listening.empty() ? "" : ", ", route.link, proxy->listen_port(route.link));
  std::fprintf(stderr, "linkproxy: forwarding %s; control socket %s\n", listening.c_str(), control.c_str());
  io.run();
  std::filesystem::remove(control, ignored);
  return 0;
}

int run_control(const std::string& socket_path, const std::string& request) {
  try {
    asio::io_context io;
    stream_protocol::socket socket(io);
    socket.connect(stream_protocol::endpoint(socket_path));
    asio::write(socket, asio::buffer(request + "\n"));
    asio::streambuf buffer;
    asio::read_until(socket, buffer, '\n');
    std::string reply(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    std::fputs(reply.c_str(), stdout);
    const auto parsed = nlohmann::json::parse(reply, nullptr, false);
    return parsed.is_object() && parsed.value("ok", false) ? 0 : 1;
  } catch (const boost::system::system_error& error) {
    std::fprintf(stderr, "linkproxy control: cannot ask %s: %s\n", socket_path.c_str(), error.code().message().c_str());
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"linkproxy: a user-space proxy for a node's links to its peers, with toxics set at run time"};
  app.require_subcommand(1);
  std::vector<std::string> routes;
  std::string control, socket_path, request;
  std::uint64_t seed = 1;
  auto* serve = app.add_subcommand("serve", "forward the routes until SIGTERM");
  serve->add_option("--route", routes, "NAME,LISTEN_IP:PORT,TARGET_IP:PORT (repeatable)")->required();
  serve->add_option("--control", control, "Unix socket for toxic requests")->required();
  serve->add_option("--seed", seed, "seed of jitter and slice sizes (default 1)");
  auto* ask = app.add_subcommand("control", "send one request to a running linkproxy");
  ask->add_option("socket", socket_path, "its control socket")->required();
  ask->add_option("request", request, "one JSON request")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    std::fprintf(stderr, "linkproxy: %s\n", error.what());
    return 3;
  }
  std::signal(SIGPIPE, SIG_IGN);
  if (serve->parsed()) return run_serve(routes, control, seed);
  return run_control(socket_path, request);
}
