#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace chaosbench::testing {
namespace {

int connect_loopback(std::uint16_t port) {
  int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (descriptor < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(descriptor, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(descriptor);
    return -1;
  }
  return descriptor;
}

// Writes everything (blocking); false if the peer is gone.
bool write_all(int descriptor, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t written = ::send(descriptor, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::uint16_t target_port) : target_port_(target_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw std::runtime_error(std::string("proxy socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0) {
    ::close(listener_);
    throw std::runtime_error(std::string("proxy bind/listen: ") + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

void TcpProxy::run() {
  struct Pair {
    int downstream;  // accepted from the connecting node
    int upstream;    // to the target port
  };
  std::vector<Pair> pairs;
  auto close_pair = [](Pair& pair) {
    ::close(pair.downstream);
    ::close(pair.upstream);
    pair.downstream = pair.upstream = -1;
  };
  char buffer[65536];
  while (!stopping_) {
    if (blocked_) {
      for (auto& pair : pairs) close_pair(pair);
      pairs.clear();
    }
    std::vector<pollfd> watched{{listener_, POLLIN, 0}};
    for (const auto& pair : pairs) {
      watched.push_back({pair.downstream, POLLIN, 0});
      watched.push_back({pair.upstream, POLLIN, 0});
    }
    if (::poll(watched.data(), watched.size(), 20) <= 0) continue;
    for (std::size_t position = 0; position < pairs.size(); ++position) {
      Pair& pair = pairs[position];
      const short down_events = watched[1 + 2 * position].revents;
      const short up_events = watched[2 + 2 * position].revents;
      bool alive = true;
      if (down_events & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t count = ::recv(pair.downstream, buffer, sizeof buffer, 0);
        alive = count > 0 && write_all(pair.upstream, buffer, static_cast<std::size_t>(count));
      }
      if (alive && (up_events & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t count = ::recv(pair.upstream, buffer, sizeof buffer, 0);
        alive = count > 0 && write_all(pair.downstream, buffer, static_cast<std::size_t>(count));
      }
      if (!alive) close_pair(pair);
    }
    std::erase_if(pairs, [](const Pair& pair) { return pair.downstream < 0; });
    if (watched[0].revents & POLLIN) {
      int accepted = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (accepted >= 0) {
        int upstream = blocked_ ? -1 : connect_loopback(target_port_);
        if (upstream < 0) {
          ::close(accepted);
        } else {
          pairs.push_back({accepted, upstream});
        }
      }
    }
  }
  for (auto& pair : pairs) close_pair(pair);
}

}  // namespace chaosbench::testing
