// The adapters' gateway on loopback with a recording backend: a malformed
// data request (an unknown txn micro-op, a missing key) is answered
// "malformed: ..." (definite) without reaching the backend; a well-formed one
// and status reach it, with the reply matched by id.
#include "chaosbench/targets/adapters/gateway.h"

#include <gtest/gtest.h>

#include <atomic>

#include <boost/asio.hpp>

namespace chaosbench::targets::adapters {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

class RecordingBackend : public Backend {
 public:
  explicit RecordingBackend(std::atomic<int>& calls) : calls_(calls) {}
  json handle(const json& request) override {
    ++calls_;
    return {{"ok", true}, {"value", request.at("op")}};
  }

 private:
  std::atomic<int>& calls_;
};

json ask(std::uint16_t port, const json& request) {
  asio::io_context context;
  asio::ip::tcp::socket socket(context);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(request.dump() + "\n"));
  std::string line;
  asio::read_until(socket, asio::dynamic_buffer(line), '\n');
  return json::parse(line.substr(0, line.find('\n')));
}

TEST(Gateway, MalformedDataRequestsNeverReachTheBackend) {
  std::atomic<int> calls{0};
  Gateway gateway("n1", "127.0.0.1", std::make_unique<RecordingBackend>(calls), 2);

  const json bad_micro_op =
      ask(gateway.port(), {{"id", 1}, {"op", "txn"}, {"value", json::array({json::array({"zz", "x", 1})})}});
  EXPECT_EQ(bad_micro_op["id"], 1);
  EXPECT_EQ(bad_micro_op["definite"], true);
  EXPECT_EQ(bad_micro_op["error"].get<std::string>().rfind("malformed: unknown txn micro-op zz", 0), 0u)
      << bad_micro_op;
  const json no_key = ask(gateway.port(), {{"id", 2}, {"op", "append"}, {"value", 3}});
  EXPECT_EQ(no_key["error"].get<std::string>().rfind("malformed: ", 0), 0u) << no_key;
  const json unknown = ask(gateway.port(), {{"id", 3}, {"op", "frobnicate"}, {"key", "x"}});
  EXPECT_EQ(unknown["error"].get<std::string>().rfind("malformed: unknown op frobnicate", 0), 0u) << unknown;
  EXPECT_EQ(calls, 0);

  const json txn =
      ask(gateway.port(), {{"id", 4}, {"op", "txn"}, {"value", json::array({json::array({"r", "x", nullptr})})}});
  EXPECT_EQ(txn, (json{{"id", 4}, {"ok", true}, {"value", "txn"}}));
  const json deleted = ask(gateway.port(), {{"id", 5}, {"op", "delete"}, {"key", "x"}});
  EXPECT_EQ(deleted["value"], "delete");
  const json status = ask(gateway.port(), {{"id", 6}, {"op", "status"}});
  EXPECT_EQ(status["value"], "status");
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace chaosbench::targets::adapters
