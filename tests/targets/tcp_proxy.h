// TcpProxy: a test-only TCP forwarder on 127.0.0.1 (kernel-chosen port) in
// front of one local port, run by its own thread. set_blocked(true) cuts every
// proxied connection and closes new ones at once, which partitions the inbound
// side of a refnode's peer port without root or iptables. Errors throw
// std::runtime_error from the constructor; the destructor stops the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace chaosbench::testing {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }
  void set_blocked(bool blocked) { blocked_ = blocked; }

 private:
  void run();

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> blocked_ = false;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
};

}  // namespace chaosbench::testing
