// Parts of the node runtime below the node host, on loopback and real
// threads: the storage worker runs stages in order off the event loop, syncs
// once per batch and completes in order on it, and rethrows a failure there;
// the peer transport drops what was queued while the peer could not be
// reached (stale by then; protocols retry), delivers what follows in order,
// and drops a connection whose frame the handler refuses.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/peer_transport.h"
#include "runtime/storage_worker.h"

namespace chaosbench::targets {
namespace {

using namespace std::chrono_literals;

TEST(StorageWorker, StagesInOrderOffTheLoopOneSyncPerBatchCompletionsInOrderOnTheLoop) {
  boost::asio::io_context io_context;
  auto work = boost::asio::make_work_guard(io_context);
  std::atomic<int> syncs{0};
  StorageWorker worker(io_context, [&] {
    std::this_thread::sleep_for(20ms);  // a slow fsync: jobs pile up behind it
    ++syncs;
  });
  const auto loop_thread = std::this_thread::get_id();
  std::vector<int> staged, done;
  std::atomic<bool> staged_on_loop{false};
  constexpr int kJobs = 200;
  for (int job = 0; job < kJobs; ++job) {
    worker.submit(
        [&, job] {
          staged.push_back(job);  // only the worker thread touches it
          if (std::this_thread::get_id() == loop_thread) staged_on_loop = true;
          std::this_thread::sleep_for(100us);
        },
        [&, job] {
          done.push_back(job);
          if (done.size() == kJobs) work.reset();
        });
  }
  io_context.run_for(20s);
  ASSERT_EQ(done.size(), static_cast<std::size_t>(kJobs));
  for (int job = 0; job < kJobs; ++job) {
    EXPECT_EQ(staged[job], job);
    EXPECT_EQ(done[job], job);
  }
  EXPECT_FALSE(staged_on_loop);
  EXPECT_LT(syncs.load(), kJobs / 2) << "group commit: one sync covers every job queued meanwhile";
  EXPECT_GE(syncs.load(), 1);
}

TEST(StorageWorker, AFailedStageIsRethrownOnTheEventLoop) {
  boost::asio::io_context io_context;
  auto work = boost::asio::make_work_guard(io_context);
  StorageWorker worker(io_context, [] {});
  bool completed = false;
  worker.submit([] { throw std::runtime_error("disk full"); }, [&] { completed = true; });
  try {
    io_context.run_for(10s);
    FAIL() << "the worker's exception did not reach the event loop";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "disk full");
  }
  EXPECT_FALSE(completed) << "a job whose stage failed does not complete";
}

std::uint16_t unused_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

NodeConfig two_node_config(const std::string& id, std::uint16_t first_port, std::uint16_t second_port) {
  NodeConfig config;
  config.id = id;
  config.peers = {{"n1", "127.0.0.1", first_port}, {"n2", "127.0.0.1", second_port}};
  return config;
}

TEST(PeerTransport, FramesQueuedWhileThePeerWasUnreachableAreDroppedLaterOnesArriveInOrder) {
  boost::asio::io_context io_context;
  Logger logger("test", false);
  const std::uint16_t first_port = unused_port(), second_port = unused_port();
  const NodeConfig first_config = two_node_config("n1", first_port, second_port);
  const NodeConfig second_config = two_node_config("n2", first_port, second_port);
  std::vector<std::string> received;
  PeerTransport sender(io_context, first_config, logger, [](std::string) { return true; });
  sender.start();
  for (int frame = 0; frame < 50; ++frame) sender.send("n2", "frame " + std::to_string(frame));
  io_context.run_for(100ms);  // n2 is not listening yet: connects fail and back off
  PeerTransport receiver(io_context, second_config, logger, [&](std::string payload) {
    received.push_back(std::move(payload));
    return true;
  });
  receiver.start();
  for (int frame = 50; frame < 100; ++frame) sender.send("n2", "frame " + std::to_string(frame));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (received.size() < 50 && std::chrono::steady_clock::now() < deadline) io_context.run_for(20ms);
  io_context.run_for(100ms);
  // Frames 0-49 died with the failed connection attempts; 50-99 were queued
  // during the backoff and go out, in order, once the connection is up.
  ASSERT_EQ(received.size(), 50u);
  for (int frame = 0; frame < 50; ++frame) EXPECT_EQ(received[frame], "frame " + std::to_string(frame + 50));
}

TEST(PeerTransport, ARefusedFrameClosesTheConnectionAndLaterFramesComeOnANewOne) {
  boost::asio::io_context io_context;
  Logger logger("test", false);
  const std::uint16_t first_port = unused_port(), second_port = unused_port();
  const NodeConfig first_config = two_node_config("n1", first_port, second_port);
  const NodeConfig second_config = two_node_config("n2", first_port, second_port);
  std::vector<std::string> accepted;
  PeerTransport receiver(io_context, second_config, logger, [&](std::string payload) {
    if (payload == "garbage") return false;
    accepted.push_back(std::move(payload));
    return true;
  });
  receiver.start();
  PeerTransport sender(io_context, first_config, logger, [](std::string) { return true; });
  sender.start();
  sender.send("n2", "before");
  sender.send("n2", "garbage");
  io_context.run_for(300ms);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (accepted.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    sender.send("n2", "after");
    io_context.run_for(100ms);
  }
  ASSERT_GE(accepted.size(), 2u);
  EXPECT_EQ(accepted.front(), "before");
  EXPECT_EQ(accepted.back(), "after") << "the sender reconnected after the refused frame";
}

}  // namespace
}  // namespace chaosbench::targets
