// The client pool against fake nodes on loopback (the node runtime's
// ClientServer with a scripted handler), no cluster: ok replies are ok ops, a
// definite refusal is fail, a not_leader hint is followed to the named node, a
// node that never answers gives info "timeout", a reply over the line cap gives
// info, and a refused connection is fail. Every invoke has one completion.
#include "chaosbench/harness/client_pool.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <thread>

#include <boost/asio.hpp>

#include "chaosbench/targets/protocol/wire.h"
#include "harness_process_support.h"
#include "runtime/client_server.h"

namespace chaosbench::harness {
namespace {

using checkers::OpType;
using harness_process_support::TemporaryDirectory;
using nlohmann::json;
using namespace std::chrono_literals;
using Handler = std::function<void(const std::shared_ptr<targets::ClientConnection>&, json)>;

std::uint16_t unused_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// A node that answers with `handler`, on its own io thread.
class FakeNode {
 public:
  explicit FakeNode(Handler handler) : logger_("fake", false), port_(unused_port()) {
    server_ = std::make_unique<targets::ClientServer>(io_context_, "127.0.0.1", port_, logger_, std::move(handler));
    server_->start();
    thread_ = std::thread([this] { io_context_.run(); });
  }
  ~FakeNode() {
    work_.reset();
    io_context_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context io_context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_context_);
  targets::Logger logger_;
  std::uint16_t port_;
  std::unique_ptr<targets::ClientServer> server_;
  std::thread thread_;
};

void answer_ok(const std::shared_ptr<targets::ClientConnection>& connection, json request) {
  connection->reply({{"id", request["id"]}, {"ok", true}, {"value", request.value("value", json(1))}});
}

struct PoolRun {
  std::map<OpType, int> outcomes;
  std::map<std::string, int> errors;
  ClientPoolStatistics statistics;
  std::size_t invokes = 0, completions = 0;
};

// 4 processes, closed loop, 300 ms timeouts, for `duration`, over `endpoints`.
PoolRun run_pool(const std::vector<NodeEndpoint>& endpoints, std::chrono::milliseconds duration,
                 std::chrono::milliseconds operation_timeout = 300ms) {
  TemporaryDirectory directory("pool");
  HistoryRecorder recorder(directory.path / "history.jsonl", std::chrono::steady_clock::now());
  auto workload = workloads::make_workload("register", 1, {100, 300}, 0.5);
  ClientPoolOptions options;
  options.endpoints = endpoints;
  options.concurrency = 4;
  options.rate = 0;
  options.operation_timeout = operation_timeout;
  ClientPool pool(options, *workload, recorder);
  pool.run(duration);
  recorder.close();
  PoolRun run;
  const checkers::History& history = recorder.history();
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    const auto& operation = history.operations[index];
    if (operation.type == OpType::invoke) {
      ++run.invokes;
      continue;
    }
    ++run.completions;
    ++run.outcomes[operation.type];
    if (auto error = history.error(index)) ++run.errors[std::string(*error)];
  }
  run.statistics = pool.statistics();
  return run;
}

TEST(ClientPool, OkRepliesAreOkOperationsAndEveryInvokeCompletes) {
  FakeNode node(answer_ok);
  PoolRun run = run_pool({{"n1", "127.0.0.1", node.port()}}, 500ms);
  EXPECT_GT(run.outcomes[OpType::ok], 20);
  EXPECT_EQ(run.outcomes[OpType::ok], static_cast<int>(run.completions));
  EXPECT_EQ(run.invokes, run.completions);
  EXPECT_EQ(run.statistics.ok_latencies_nanoseconds.size(), static_cast<std::size_t>(run.outcomes[OpType::ok]));
}

TEST(ClientPool, DefiniteRefusalsFailAndNotLeaderHintsAreFollowed) {
  FakeNode leader(answer_ok);
  FakeNode follower([](const std::shared_ptr<targets::ClientConnection>& connection, json request) {
    if (request["op"] == "cas") {
      connection->reply(targets::protocol::error_reply(request["id"], "precondition_failed", true));
    } else {
      connection->reply(targets::protocol::error_reply(request["id"], "not_leader", true, {{"leader", "n2"}}));
    }
  });
  PoolRun run = run_pool({{"n1", "127.0.0.1", follower.port()}, {"n2", "127.0.0.1", leader.port()}}, 500ms);
  EXPECT_GT(run.statistics.redirects, 0u) << "not_leader from n1 is retried at n2";
  EXPECT_GT(run.outcomes[OpType::ok], 0);
  EXPECT_EQ(run.outcomes[OpType::info], 0) << "nothing here is indefinite";
  EXPECT_EQ(run.invokes, run.completions);
}

TEST(ClientPool, SilenceIsATimeoutAndAnOversizedReplyIsInfo) {
  FakeNode silent([](const std::shared_ptr<targets::ClientConnection>&, json) {});
  PoolRun quiet = run_pool({{"n1", "127.0.0.1", silent.port()}}, 400ms);
  EXPECT_GT(quiet.errors["timeout"], 0);
  EXPECT_EQ(quiet.outcomes[OpType::info], static_cast<int>(quiet.completions));

  FakeNode flooding([](const std::shared_ptr<targets::ClientConnection>& connection, json request) {
    connection->reply(
        {{"id", request["id"]}, {"ok", true}, {"value", std::string(targets::protocol::kMaxLineBytes, 'x')}});
  });
  // Generous: a 1 MiB reply takes longer than 300 ms to build and read under ThreadSanitizer.
  PoolRun flooded = run_pool({{"n1", "127.0.0.1", flooding.port()}}, 500ms, 3000ms);
  EXPECT_GT(flooded.errors[fmt::format("receive: a reply line over {} bytes", targets::protocol::kMaxLineBytes)], 0)
      << ::testing::PrintToString(flooded.errors);
  EXPECT_EQ(flooded.outcomes[OpType::ok], 0);
}

TEST(ClientPool, ARefusedConnectionFails) {
  PoolRun run = run_pool({{"n1", "127.0.0.1", unused_port()}}, 300ms);
  EXPECT_GT(run.outcomes[OpType::fail], 0);
  EXPECT_EQ(run.outcomes[OpType::fail], static_cast<int>(run.completions));
  for (const auto& [error, count] : run.errors) EXPECT_EQ(error.rfind("connect: ", 0), 0u) << error;
}

}  // namespace
}  // namespace chaosbench::harness
