#include "chaosbench/targets/protocol/blocking_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "chaosbench/targets/protocol/wire.h"

namespace chaosbench::targets::protocol {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// connect() bounded by `deadline`: 0 on success, else the errno (ETIMEDOUT past the deadline).
int connect_before(int descriptor, const sockaddr_in& address, Clock::time_point deadline) {
  const int flags = ::fcntl(descriptor, F_GETFL, 0);
  ::fcntl(descriptor, F_SETFL, flags | O_NONBLOCK);
  int error = 0;
  if (::connect(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error = errno;
    while (error == EINPROGRESS || error == EINTR) {
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (remaining <= 0) return ETIMEDOUT;
      pollfd poll_descriptor{descriptor, POLLOUT, 0};
      if (::poll(&poll_descriptor, 1, static_cast<int>(remaining)) <= 0) continue;
      socklen_t length = sizeof error;
      ::getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length);
    }
  }
  ::fcntl(descriptor, F_SETFL, flags);
  return error;
}

}  // namespace

BlockingClient::BlockingClient(std::uint16_t port, std::chrono::milliseconds connect_timeout,
                               const std::string& address, bool retry_refused)
    : endpoint_(fmt::format("{}:{}", address, port)) {
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &socket_address.sin_addr) != 1) {
    throw std::runtime_error(fmt::format("bad IPv4 address '{}'", address));
  }
  const auto deadline = Clock::now() + connect_timeout;
  while (true) {
    descriptor_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (descriptor_ < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
    const int error = connect_before(descriptor_, socket_address, deadline);
    if (error == 0) break;
    ::close(descriptor_);
    descriptor_ = -1;
    if (!retry_refused || error != ECONNREFUSED || Clock::now() > deadline) {
      throw std::runtime_error(fmt::format("cannot connect to {}: {}", endpoint_, std::strerror(error)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int one = 1;
  ::setsockopt(descriptor_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

BlockingClient::~BlockingClient() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

void BlockingClient::send_raw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t count = ::send(descriptor_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (count < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("send to {}: {}", endpoint_, std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(count);
  }
}

std::optional<std::string> BlockingClient::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      if (newline > kMaxLineBytes) {
        throw std::runtime_error(fmt::format("reply line from {} over {} bytes", endpoint_, kMaxLineBytes));
      }
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (buffer_.size() > kMaxLineBytes) {
      throw std::runtime_error(fmt::format("reply line from {} over {} bytes", endpoint_, kMaxLineBytes));
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) return std::nullopt;
    pollfd poll_descriptor{descriptor_, POLLIN, 0};
    int ready = ::poll(&poll_descriptor, 1, static_cast<int>(remaining));
    if (ready <= 0) continue;
    char chunk[65536];
    ssize_t count = ::recv(descriptor_, chunk, sizeof chunk, 0);
    if (count <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(count));
  }
}

json BlockingClient::call(const json& request, std::chrono::milliseconds timeout) {
  send_raw(request.dump() + "\n");
  auto line = read_line(timeout);
  if (!line) throw std::runtime_error(fmt::format("no reply from {} to {}", endpoint_, request.dump()));
  json reply = json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded()) throw std::runtime_error(fmt::format("reply from {} is not JSON: {}", endpoint_, *line));
  return reply;
}

std::optional<json> query_status(const std::string& address, std::uint16_t port, std::chrono::milliseconds timeout) {
  try {
    const auto deadline = Clock::now() + timeout;
    BlockingClient client(port, timeout, address, /*retry_refused=*/false);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    json reply = client.call({{"id", 1}, {"op", "status"}}, std::max(left, std::chrono::milliseconds(1)));
    if (reply.is_object() && reply.value("ok", false) && reply.contains("value")) return reply["value"];
  } catch (const std::runtime_error&) {
    // Not answering is what this function reports, as nullopt.
  }
  return std::nullopt;
}

}  // namespace chaosbench::targets::protocol
