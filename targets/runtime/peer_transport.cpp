#include "runtime/peer_transport.h"

#include <algorithm>
#include <chrono>

namespace chaosbench::targets {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct PeerTransport::Outgoing {
  explicit Outgoing(asio::io_context& io_context) : socket(io_context), backoff_timer(io_context) {}
  std::string peer_id;
  tcp::endpoint endpoint;
  tcp::socket socket;
  asio::steady_timer backoff_timer;
  bool connected = false;
  bool connecting = false;
  bool writing = false;
  std::chrono::milliseconds backoff{50};
  std::deque<std::string> queue;  // framed
  std::size_t queued_bytes = 0;
  std::string in_flight;
};

struct PeerTransport::Incoming {
  explicit Incoming(tcp::socket connected_socket) : socket(std::move(connected_socket)) {}
  tcp::socket socket;
  std::string remote;
  unsigned char header[4] = {0, 0, 0, 0};
  std::string body;
};

PeerTransport::PeerTransport(asio::io_context& io_context, const NodeConfig& config, Logger& logger,
                             FrameHandler handler)
    : io_context_(io_context), config_(config), logger_(logger), handler_(std::move(handler)), acceptor_(io_context) {
  for (const auto& peer : config_.peers) {
    if (peer.id == config_.id) continue;
    auto outgoing = std::make_shared<Outgoing>(io_context_);
    outgoing->peer_id = peer.id;
    tcp::resolver resolver(io_context_);
    auto results = resolver.resolve(peer.host, std::to_string(peer.port));
    outgoing->endpoint = *results.begin();
    outgoing_.emplace(peer.id, outgoing);
  }
}

PeerTransport::~PeerTransport() { *alive_ = false; }

void PeerTransport::start() {
  const auto& self = config_.self();
  tcp::resolver resolver(io_context_);
  tcp::endpoint endpoint = *resolver.resolve(self.host, std::to_string(self.port)).begin();
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  accept_next();
}

void PeerTransport::accept_next() {
  acceptor_.async_accept([this, alive = alive_](error_code error, tcp::socket socket) {
    if (!*alive) return;
    if (error) {
      if (error != asio::error::operation_aborted) logger_.info("peer accept failed: {}", error.message());
      if (error == asio::error::operation_aborted) return;
    } else {
      socket.set_option(tcp::no_delay(true));
      auto incoming = std::make_shared<Incoming>(std::move(socket));
      error_code ignored;
      incoming->remote = incoming->socket.remote_endpoint(ignored).address().to_string();
      read_header(incoming);
    }
    accept_next();
  });
}

void PeerTransport::read_header(const std::shared_ptr<Incoming>& incoming) {
  asio::async_read(
      incoming->socket, asio::buffer(incoming->header),
      [this, incoming, alive = alive_](error_code error, std::size_t) {
        if (!*alive || error) return;  // peer closed: it will reconnect
        const std::uint32_t length = (std::uint32_t{incoming->header[0]} << 24) |
                                     (std::uint32_t{incoming->header[1]} << 16) |
                                     (std::uint32_t{incoming->header[2]} << 8) | incoming->header[3];
        if (length > kMaxFrameBytes) {
          logger_.info("peer connection from {}: frame of {} bytes exceeds limit, closing", incoming->remote, length);
          return;  // dropping the last reference closes the socket
        }
        incoming->body.resize(length);
        asio::async_read(incoming->socket, asio::buffer(incoming->body),
                         [this, incoming, alive](error_code body_error, std::size_t) {
                           if (!*alive || body_error) return;
                           if (!handler_(std::move(incoming->body))) {
                             logger_.info("peer connection from {}: garbage frame, closing", incoming->remote);
                             return;
                           }
                           incoming->body.clear();
                           read_header(incoming);
                         });
      });
}

void PeerTransport::send(const std::string& peer_id, std::string payload) {
  auto found = outgoing_.find(peer_id);
  if (found == outgoing_.end()) {
    logger_.info("send to unknown peer {} dropped", peer_id);
    return;
  }
  auto& outgoing = found->second;
  if (outgoing->queue.size() >= kMaxQueuedFrames || outgoing->queued_bytes + payload.size() > kMaxQueuedBytes) {
    ++dropped_frames_;
    return;  // bounded: Raft retransmits
  }
  std::string frame;
  frame.reserve(payload.size() + 4);
  const auto length = static_cast<std::uint32_t>(payload.size());
  frame.push_back(static_cast<char>(length >> 24));
  frame.push_back(static_cast<char>(length >> 16));
  frame.push_back(static_cast<char>(length >> 8));
  frame.push_back(static_cast<char>(length));
  frame.append(payload);
  outgoing->queued_bytes += frame.size();
  outgoing->queue.push_back(std::move(frame));
  if (outgoing->connected) {
    write_next(outgoing);
  } else {
    connect(outgoing);
  }
}

void PeerTransport::connect(const std::shared_ptr<Outgoing>& outgoing) {
  if (outgoing->connecting || outgoing->connected) return;
  outgoing->connecting = true;
  outgoing->socket = tcp::socket(io_context_);
  outgoing->socket.async_connect(outgoing->endpoint, [this, outgoing, alive = alive_](error_code error) {
    if (!*alive) return;
    if (error) {
      fail_outgoing(outgoing, error);
      return;
    }
    outgoing->connecting = false;
    outgoing->connected = true;
    outgoing->backoff = std::chrono::milliseconds(50);
    outgoing->socket.set_option(tcp::no_delay(true));
    logger_.info("connected to peer {}", outgoing->peer_id);
    write_next(outgoing);
  });
}

void PeerTransport::fail_outgoing(const std::shared_ptr<Outgoing>& outgoing, const error_code& error) {
  if (outgoing->connected) logger_.info("connection to peer {} lost: {}", outgoing->peer_id, error.message());
  error_code ignored;
  outgoing->socket.close(ignored);
  outgoing->connected = false;
  outgoing->writing = false;
  outgoing->queue.clear();  // stale by the time we reconnect; the protocol retries
  outgoing->queued_bytes = 0;
  outgoing->in_flight.clear();
  // Stay "connecting" during the backoff so sends only queue.
  outgoing->connecting = true;
  outgoing->backoff_timer.expires_after(outgoing->backoff);
  outgoing->backoff = std::min(outgoing->backoff * 2, std::chrono::milliseconds(1000));
  outgoing->backoff_timer.async_wait([this, outgoing, alive = alive_](error_code timer_error) {
    if (!*alive || timer_error) return;
    outgoing->connecting = false;
    connect(outgoing);
  });
}

void PeerTransport::write_next(const std::shared_ptr<Outgoing>& outgoing) {
  if (outgoing->writing || outgoing->queue.empty() || !outgoing->connected) return;
  outgoing->writing = true;
  outgoing->in_flight.clear();
  while (!outgoing->queue.empty() && outgoing->in_flight.size() < (1u << 20)) {
    outgoing->queued_bytes -= outgoing->queue.front().size();
    outgoing->in_flight += outgoing->queue.front();
    outgoing->queue.pop_front();
  }
  asio::async_write(outgoing->socket, asio::buffer(outgoing->in_flight),
                    [this, outgoing, alive = alive_](error_code error, std::size_t) {
                      if (!*alive) return;
                      outgoing->writing = false;
                      if (error) {
                        fail_outgoing(outgoing, error);
                        return;
                      }
                      write_next(outgoing);
                    });
}

}  // namespace chaosbench::targets
