// linkproxy on loopback, with real sockets: bytes pass unchanged both ways;
// each toxic does what it says, measured from the client's side (latency and
// bandwidth by the clock, slicing by the receiver's reads, reset by
// ECONNRESET, black hole by silence on an open connection, the data limit by
// the bytes before EOF, slow close by when EOF arrives); toxics change open
// connections at once; bad control requests are errors, not crashes.
#include "chaosbench/nemesis/linkproxy/link_proxy.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <thread>

namespace chaosbench::nemesis::linkproxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A blocking loopback server: echo (every byte back) or sink (counts reads).
class Server {
 public:
  enum class Mode { echo, sink, close_at_once };
  explicit Server(Mode mode) : mode_(mode) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    ::listen(listener_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~Server() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int reads() const { return reads_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void serve() {
    while (!stopping_) {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      std::thread([this, connection] {
        char buffer[65536];
        if (mode_ == Mode::close_at_once) {
          ::close(connection);
          return;
        }
        while (true) {
          const ssize_t count = ::recv(connection, buffer, sizeof buffer, 0);
          if (count <= 0) break;
          ++reads_;
          bytes_ += static_cast<std::size_t>(count);
          if (mode_ == Mode::echo && ::send(connection, buffer, static_cast<std::size_t>(count), MSG_NOSIGNAL) < 0)
            break;
        }
        ::close(connection);
      }).detach();
    }
  }

  Mode mode_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> reads_{0};
  std::atomic<std::size_t> bytes_{0};
};

// The proxy on its own io thread; requests go through handle_request on that thread.
class Proxy {
 public:
  explicit Proxy(std::uint16_t target_port) {
    const auto loopback = asio::ip::make_address("127.0.0.1");
    proxy_ = std::make_unique<LinkProxy>(io_, std::vector<Route>{{"n2", {loopback, 0}, {loopback, target_port}}}, 7);
    port_ = proxy_->listen_port("n2");
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Proxy() {
    asio::post(io_, [this] { proxy_->stop(); });
    work_.reset();
    thread_.join();
  }
  nlohmann::json ask(const std::string& line) {
    std::promise<nlohmann::json> reply;
    asio::post(io_, [&] { reply.set_value(proxy_->handle_request(line)); });
    return reply.get_future().get();
  }
  void set(const std::string& direction, const std::string& toxics) {
    const auto reply = ask(R"({"op":"set","links":["n2"],"direction":")" + direction + R"(","toxics":)" + toxics + "}");
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<LinkProxy> proxy_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

int connect_to(std::uint16_t port) {
  const int socket = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  EXPECT_EQ(::connect(socket, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const int one = 1;
  ::setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return socket;
}

// Reads until `size` bytes came, EOF, an error or the timeout; the bytes read.
// `error` gets errno of a failed read (0 otherwise).
std::string read_bytes(int socket, std::size_t size, std::chrono::milliseconds timeout, int* error = nullptr) {
  std::string out;
  const auto deadline = Clock::now() + timeout;
  if (error) *error = 0;
  while (out.size() < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd descriptor{socket, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(left)) <= 0) break;
    char buffer[65536];
    const ssize_t count = ::recv(socket, buffer, std::min(sizeof buffer, size - out.size()), 0);
    if (count < 0 && error) *error = errno;
    if (count <= 0) break;
    out.append(buffer, static_cast<std::size_t>(count));
  }
  return out;
}

// true when the peer closed (EOF) within the timeout.
bool closed_within(int socket, std::chrono::milliseconds timeout) {
  pollfd descriptor{socket, POLLIN, 0};
  if (::poll(&descriptor, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char byte;
  return ::recv(socket, &byte, 1, 0) <= 0;
}

std::chrono::milliseconds round_trip(int socket, const std::string& message) {
  const auto start = Clock::now();
  EXPECT_EQ(::send(socket, message.data(), message.size(), 0), static_cast<ssize_t>(message.size()));
  EXPECT_EQ(read_bytes(socket, message.size(), 5s), message);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

TEST(LinkProxy, PassesBytesBothWaysUnchanged) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  const int socket = connect_to(proxy.port());
  std::string message(200'000, '\0');
  for (std::size_t index = 0; index < message.size(); ++index) message[index] = static_cast<char>(index * 31 % 251);
  std::thread sender([&] { ::send(socket, message.data(), message.size(), 0); });
  EXPECT_EQ(read_bytes(socket, message.size(), 10s), message);
  sender.join();
  EXPECT_LT(round_trip(socket, "ping"), 100ms);
  // The proxy counts a write when it completes, which can be just after the
  // client has read its bytes: wait (briefly) for the counters to catch up.
  auto status = proxy.ask(R"({"op":"status"})")["value"]["links"]["n2"];
  for (const auto deadline = Clock::now() + 2s; status["bytes_downstream"] != 200'004 && Clock::now() < deadline;) {
    std::this_thread::sleep_for(1ms);
    status = proxy.ask(R"({"op":"status"})")["value"]["links"]["n2"];
  }
  EXPECT_EQ(status["accepted"], 1);
  EXPECT_EQ(status["bytes_upstream"], 200'004);
  EXPECT_EQ(status["bytes_downstream"], 200'004);
  ::close(socket);
}

TEST(LinkProxy, LatencyDelaysEachDirectionOnOpenConnections) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  const int socket = connect_to(proxy.port());
  EXPECT_LT(round_trip(socket, "before"), 100ms);
  proxy.set("upstream", R"({"latency_ms":150})");
  auto one_way = round_trip(socket, "up");
  EXPECT_GE(one_way, 150ms);
  EXPECT_LT(one_way, 290ms);
  proxy.set("both", R"({"latency_ms":150,"jitter_ms":40})");
  for (int round = 0; round < 3; ++round) {
    const auto both = round_trip(socket, "both");
    EXPECT_GE(both, 220ms);  // 2 x (150 - 40)
    EXPECT_LT(both, 480ms);
  }
  ASSERT_TRUE(proxy.ask(R"({"op":"clear"})")["ok"].get<bool>());
  EXPECT_LT(round_trip(socket, "after"), 100ms);
  ::close(socket);
}

TEST(LinkProxy, BandwidthCapsTheRate) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  proxy.set("downstream", R"({"bytes_per_second":100000})");
  const int socket = connect_to(proxy.port());
  const std::string message(40'000, 'b');
  const auto took = round_trip(socket, message);
  EXPECT_GE(took, 350ms);  // 40 kB at 100 kB/s
  EXPECT_LT(took, 1500ms);
  ::close(socket);
}

TEST(LinkProxy, SlicerCutsDataIntoSmallDelayedSegments) {
  Server sink(Server::Mode::sink);
  Proxy proxy(sink.port());
  proxy.set("upstream", R"({"slice_bytes":10,"slice_delay_us":2000})");
  const int socket = connect_to(proxy.port());
  const std::string message(1000, 's');
  ::send(socket, message.data(), message.size(), 0);
  const auto deadline = Clock::now() + 5s;
  while (sink.bytes() < message.size() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(sink.bytes(), message.size());
  EXPECT_GT(sink.reads(), 40) << "1000 bytes in slices of about 10, 2 ms apart, arrive in many reads";
  ::close(socket);
}

TEST(LinkProxy, ResetEndsOpenConnectionsAndRefusesNewOnes) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  const int open = connect_to(proxy.port());
  EXPECT_LT(round_trip(open, "x"), 100ms);
  proxy.set("both", R"({"reset":true})");
  int error = 0;
  EXPECT_EQ(read_bytes(open, 1, 2s, &error), "");
  EXPECT_EQ(error, ECONNRESET);
  ::close(open);
  const int refused = connect_to(proxy.port());
  EXPECT_EQ(read_bytes(refused, 1, 2s, &error), "");
  EXPECT_EQ(error, ECONNRESET);
  ::close(refused);
  ASSERT_TRUE(proxy.ask(R"({"op":"clear"})")["ok"].get<bool>());
  const int again = connect_to(proxy.port());
  EXPECT_LT(round_trip(again, "back"), 100ms);
  ::close(again);
  EXPECT_EQ(proxy.ask(R"({"op":"status"})")["value"]["links"]["n2"]["resets"], 2);
}

TEST(LinkProxy, BlackholeSwallowsDataButKeepsTheConnectionOpen) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  const int socket = connect_to(proxy.port());
  proxy.set("upstream", R"({"blackhole":true})");
  ::send(socket, "lost", 4, 0);
  EXPECT_EQ(read_bytes(socket, 4, 400ms), "");
  EXPECT_FALSE(closed_within(socket, 100ms));
  ASSERT_TRUE(proxy.ask(R"({"op":"clear"})")["ok"].get<bool>());
  EXPECT_LT(round_trip(socket, "found"), 100ms) << "what came after the hole closed is delivered";
  ::close(socket);
}

TEST(LinkProxy, DataLimitClosesAfterThatManyBytes) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  proxy.set("downstream", R"({"limit_bytes":100})");
  const int socket = connect_to(proxy.port());
  const std::string message(300, 'l');
  ::send(socket, message.data(), message.size(), 0);
  EXPECT_EQ(read_bytes(socket, 300, 2s).size(), 100u);
  EXPECT_TRUE(closed_within(socket, 1s));
  ::close(socket);
}

TEST(LinkProxy, SlowCloseDelaysTheClose) {
  Server closer(Server::Mode::close_at_once);
  Proxy proxy(closer.port());
  proxy.set("downstream", R"({"slow_close_ms":300})");
  const auto start = Clock::now();
  const int socket = connect_to(proxy.port());
  EXPECT_FALSE(closed_within(socket, 200ms));
  EXPECT_TRUE(closed_within(socket, 2s));
  EXPECT_GE(Clock::now() - start, 300ms);
  ::close(socket);
}

TEST(LinkProxy, BadRequestsAreErrorsNamingWhatIsWrong) {
  Server server(Server::Mode::echo);
  Proxy proxy(server.port());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "parse error"},
      {R"({"op":"explode"})", "unknown op 'explode'"},
      {R"({"op":"set","links":["n9"],"toxics":{}})", "no link named n9"},
      {R"({"op":"set","direction":"sideways","toxics":{}})", "direction: 'sideways'"},
      {R"({"op":"set","toxics":{"latency_ms":-5}})", "toxics.latency_ms: must not be negative"},
      {R"({"op":"set","toxics":{"lag":5}})", "toxics.lag: unknown toxic"},
      {R"({"op":"set","toxics":{"blackhole":1}})", "toxics.blackhole: expected true or false"},
  };
  for (const auto& [request, reason] : cases) {
    const auto reply = proxy.ask(request);
    EXPECT_FALSE(reply["ok"].get<bool>()) << request;
    EXPECT_NE(reply.value("error", "").find(reason), std::string::npos) << request << ": " << reply.dump();
  }
  EXPECT_EQ(proxy.ask(R"({"op":"status"})")["value"]["links"]["n2"]["upstream"], nlohmann::json::object())
      << "a rejected request changed nothing";
}

}  // namespace
}  // namespace chaosbench::nemesis::linkproxy
