// PeerTransport: node-to-node messaging over TCP on a Boost.Asio io_context.
// Frames are [u32 big-endian length][payload]; the payload encoding belongs to
// the protocol. One outgoing connection per peer, opened lazily and reopened
// with exponential backoff; each has a bounded send queue, and frames that do
// not fit are dropped (the protocol retries). Incoming frames go to a handler
// that returns false to reject the connection (garbage). Single-threaded: all
// calls and callbacks run on the io_context's thread.
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "runtime/logger.h"
#include "runtime/node_config.h"

namespace chaosbench::targets {

class PeerTransport {
 public:
  static constexpr std::uint32_t kMaxFrameBytes = 64u << 20;
  static constexpr std::size_t kMaxQueuedFrames = 8192;
  static constexpr std::size_t kMaxQueuedBytes = 256u << 20;

  // Returns false if the frame is garbage: the connection is then closed.
  using FrameHandler = std::function<bool(std::string payload)>;

  PeerTransport(boost::asio::io_context& io_context, const NodeConfig& config, Logger& logger, FrameHandler handler);
  ~PeerTransport();

  void start();  // binds the listening socket; throws std::system_error if it cannot
  void send(const std::string& peer_id, std::string payload);
  std::uint64_t dropped_frames() const { return dropped_frames_; }

 private:
  struct Outgoing;
  struct Incoming;
  void accept_next();
  void connect(const std::shared_ptr<Outgoing>& outgoing);
  void write_next(const std::shared_ptr<Outgoing>& outgoing);
  void fail_outgoing(const std::shared_ptr<Outgoing>& outgoing, const boost::system::error_code& error);
  void read_header(const std::shared_ptr<Incoming>& incoming);

  boost::asio::io_context& io_context_;
  const NodeConfig& config_;
  Logger& logger_;
  FrameHandler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, std::shared_ptr<Outgoing>> outgoing_;
  std::uint64_t dropped_frames_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace chaosbench::targets
