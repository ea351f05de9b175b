// The client protocol's wire form (targets/protocol/wire.h): LineFramer's
// framing and cap, parse_request_line's replies; then the node's ClientServer
// and the real-system Gateway on loopback, driven by BlockingClient, answer a
// bad line, a line without op and a line over the cap the same way.
#include "chaosbench/targets/protocol/wire.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "chaosbench/targets/adapters/gateway.h"
#include "chaosbench/targets/protocol/blocking_client.h"
#include "runtime/client_server.h"

namespace chaosbench::targets {
namespace {

using nlohmann::json;
using protocol::BlockingClient;
using protocol::LineFramer;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(LineFramer& framer, std::string_view bytes, bool* within_cap = nullptr) {
  std::vector<std::string> lines;
  const bool ok = framer.feed(bytes, [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  if (within_cap != nullptr) *within_cap = ok;
  return lines;
}

TEST(LineFramer, CutsLinesAcrossChunksDropsCarriageReturnsAndEmptyLines) {
  LineFramer framer;
  EXPECT_TRUE(lines_of(framer, "{\"a\"").empty());
  EXPECT_EQ(lines_of(framer, ":1}\r\n\n{\"b\":2}\n{\"c\""), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(lines_of(framer, ":3}\n"), (std::vector<std::string>{"{\"c\":3}"}));
}

TEST(LineFramer, StopsWhenTheHandlerSaysSoAndKeepsTheRest) {
  LineFramer framer;
  std::vector<std::string> seen;
  framer.feed("one\ntwo\nthree\n", [&](std::string_view line) {
    seen.emplace_back(line);
    return false;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"one"}));
  EXPECT_EQ(lines_of(framer, ""), (std::vector<std::string>{"two", "three"}));
}

TEST(LineFramer, RefusesALineOverTheCapCompleteOrNot) {
  LineFramer complete;
  bool within_cap = true;
  lines_of(complete, std::string(protocol::kMaxLineBytes + 1, 'x') + "\n", &within_cap);
  EXPECT_FALSE(within_cap);

  LineFramer unterminated;
  lines_of(unterminated, std::string(protocol::kMaxLineBytes, 'x'), &within_cap);
  EXPECT_TRUE(within_cap) << "exactly the cap, not yet over it";
  lines_of(unterminated, "x", &within_cap);
  EXPECT_FALSE(within_cap);

  LineFramer at_cap;
  const auto lines = lines_of(at_cap, std::string(protocol::kMaxLineBytes, 'y') + "\n", &within_cap);
  EXPECT_TRUE(within_cap);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), protocol::kMaxLineBytes);
}

TEST(ParseRequestLine, AcceptsObjectsWithAStringOpAndAnswersEverythingElseMalformed) {
  auto good = protocol::parse_request_line(R"({"id":7,"op":"read","key":"x"})");
  ASSERT_TRUE(protocol::is_request(good));
  EXPECT_EQ(std::get<0>(good)["key"], "x");

  for (const char* line : {"not json", "[1,2]", "42"}) {
    auto bad = protocol::parse_request_line(line);
    ASSERT_FALSE(protocol::is_request(bad)) << line;
    EXPECT_EQ(
        std::get<1>(bad),
        (json{{"id", nullptr}, {"error", "malformed"}, {"definite", true}, {"message", "line is not a JSON object"}}))
        << line;
  }
  auto no_op = protocol::parse_request_line(R"({"id":9,"op":3})");
  ASSERT_FALSE(protocol::is_request(no_op));
  EXPECT_EQ(std::get<1>(no_op)["id"], 9) << "the id is kept so the client can match the reply";
  EXPECT_EQ(std::get<1>(no_op)["message"], "missing string field op");
}

// A ClientServer on its own thread that echoes each request's op back.
class EchoServer {
 public:
  EchoServer() : logger_("n1") {
    const std::uint16_t port = pick_port();
    server_ = std::make_unique<ClientServer>(
        io_context_, "127.0.0.1", port, logger_, [](const std::shared_ptr<ClientConnection>& connection, json request) {
          connection->reply(json{{"id", request.value("id", json(nullptr))}, {"ok", true}, {"value", request["op"]}});
        });
    server_->start();
    port_ = port;
    thread_ = std::thread([this] { io_context_.run(); });
  }
  ~EchoServer() {
    work_.reset();
    io_context_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  static std::uint16_t pick_port() {
    boost::asio::io_context context;
    boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
  }
  boost::asio::io_context io_context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_context_);
  Logger logger_;
  std::unique_ptr<ClientServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

class EchoBackend : public adapters::Backend {
 public:
  json handle(const json& request) override { return {{"ok", true}, {"value", request.at("op")}}; }
};

// What both servers must answer alike: a request, a non-JSON line, a line
// without op (id kept), then a line over the cap (connection closed after).
void expect_the_wire_protocol(std::uint16_t port) {
  BlockingClient client(port);
  EXPECT_EQ(client.call({{"id", 1}, {"op", "status"}}), (json{{"id", 1}, {"ok", true}, {"value", "status"}}));
  client.send_raw("this is not json\n");
  auto malformed = client.read_line(5s);
  ASSERT_TRUE(malformed);
  EXPECT_EQ(json::parse(*malformed), std::get<1>(protocol::parse_request_line("this is not json")));
  EXPECT_EQ(client.call({{"id", 2}, {"key", "x"}})["message"], "missing string field op");
  EXPECT_EQ(client.call({{"id", 3}, {"op", "status"}})["ok"], true) << "the connection stays open after those";

  client.send_raw(std::string(protocol::kMaxLineBytes + 10, 'z'));
  auto too_long = client.read_line(5s);
  ASSERT_TRUE(too_long);
  EXPECT_EQ(json::parse(*too_long), protocol::line_too_long_reply());
  EXPECT_FALSE(client.read_line(5s)) << "closed after line_too_long";
}

TEST(WireProtocol, TheNodesClientServerFramesParsesAndCapsLines) {
  EchoServer server;
  expect_the_wire_protocol(server.port());
}

TEST(WireProtocol, TheGatewayAnswersTheSameAsTheNode) {
  adapters::Gateway gateway("n1", "127.0.0.1", std::make_unique<EchoBackend>(), 2);
  expect_the_wire_protocol(gateway.port());
}

TEST(BlockingClient, ConnectFailuresAndSilentPeersAreReportedNotHung) {
  EXPECT_THROW(BlockingClient(1, 200ms), std::runtime_error) << "nothing listens on port 1";
  EXPECT_THROW(BlockingClient(80, 200ms, "not-an-address"), std::runtime_error);
  // A listener that never answers: call times out, query_status says nullopt.
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor silent(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = silent.local_endpoint().port();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(protocol::query_status("127.0.0.1", port, 300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  BlockingClient client(port);
  EXPECT_THROW(client.call({{"id", 1}, {"op", "status"}}, 200ms), std::runtime_error);
}

}  // namespace
}  // namespace chaosbench::targets
