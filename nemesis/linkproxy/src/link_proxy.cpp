#include "chaosbench/nemesis/linkproxy/link_proxy.h"

#include <algorithm>
#include <array>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/asio/experimental/as_tuple.hpp>

namespace chaosbench::nemesis::linkproxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace {

std::uint64_t non_negative(const json& object, const std::string& key) {
  const json& value = object.at(key);
  if (!value.is_number_integer() && !value.is_number_unsigned())
    throw std::invalid_argument(fmt::format("toxics.{}: expected a whole number, got {}", key, value.dump()));
  if (value.is_number_integer() && value.get<std::int64_t>() < 0)
    throw std::invalid_argument(fmt::format("toxics.{}: must not be negative, got {}", key, value.dump()));
  return value.get<std::uint64_t>();
}

bool flag(const json& object, const std::string& key) {
  const json& value = object.at(key);
  if (!value.is_boolean())
    throw std::invalid_argument(fmt::format("toxics.{}: expected true or false, got {}", key, value.dump()));
  return value.get<bool>();
}

}  // namespace

bool Toxics::any() const {
  return latency.count() > 0 || jitter.count() > 0 || bytes_per_second > 0 || slice_bytes > 0 || blackhole || reset ||
         slow_close.count() > 0 || limit_bytes > 0;
}

json Toxics::to_json() const {
  json object = json::object();
  if (latency.count() > 0) object["latency_ms"] = latency.count();
  if (jitter.count() > 0) object["jitter_ms"] = jitter.count();
  if (bytes_per_second > 0) object["bytes_per_second"] = bytes_per_second;
  if (slice_bytes > 0) object["slice_bytes"] = slice_bytes;
  if (slice_delay.count() > 0) object["slice_delay_us"] = slice_delay.count();
  if (blackhole) object["blackhole"] = true;
  if (reset) object["reset"] = true;
  if (slow_close.count() > 0) object["slow_close_ms"] = slow_close.count();
  if (limit_bytes > 0) object["limit_bytes"] = limit_bytes;
  return object;
}

Toxics Toxics::from_json(const json& object) {
  if (!object.is_object()) throw std::invalid_argument("toxics: expected an object");
  Toxics toxics;
  for (const auto& [key, value] : object.items()) {
    if (key == "latency_ms") {
      toxics.latency = std::chrono::milliseconds(non_negative(object, key));
    } else if (key == "jitter_ms") {
      toxics.jitter = std::chrono::milliseconds(non_negative(object, key));
    } else if (key == "bytes_per_second") {
      toxics.bytes_per_second = non_negative(object, key);
    } else if (key == "slice_bytes") {
      toxics.slice_bytes = non_negative(object, key);
    } else if (key == "slice_delay_us") {
      toxics.slice_delay = std::chrono::microseconds(non_negative(object, key));
    } else if (key == "blackhole") {
      toxics.blackhole = flag(object, key);
    } else if (key == "reset") {
      toxics.reset = flag(object, key);
    } else if (key == "slow_close_ms") {
      toxics.slow_close = std::chrono::milliseconds(non_negative(object, key));
    } else if (key == "limit_bytes") {
      toxics.limit_bytes = non_negative(object, key);
    } else {
      throw std::invalid_argument(
          fmt::format("toxics.{}: unknown toxic (latency_ms, jitter_ms, bytes_per_second, slice_bytes, slice_delay_us, "
                      "blackhole, reset, slow_close_ms, limit_bytes)",
                      key));
    }
  }
  return toxics;
}

// One proxied connection: the accepted socket (this node's side) and the one
// to the peer, with a pipe each way. Every coroutine checks closed_ first after
// each wait, so nothing touches the link once the connection is closed.
class LinkProxy::Connection : public std::enable_shared_from_this<LinkProxy::Connection> {
 public:
  Connection(asio::io_context& io, tcp::socket accepted, Link& link, std::shared_ptr<std::mt19937_64> random)
      : link_(link),
        random_(std::move(random)),
        local_(std::move(accepted)),
        remote_(io),
        upstream_(io, Direction::upstream),
        downstream_(io, Direction::downstream) {}

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    const auto [error] = co_await remote_.async_connect(link_.route.target, use_tuple);
    if (closed_) co_return;
    if (error) {
      close(false);
      co_return;
    }
    local_.set_option(tcp::no_delay(true));
    remote_.set_option(tcp::no_delay(true));
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, read_side(upstream_, local_), asio::detached);
    asio::co_spawn(executor, write_side(upstream_, remote_), asio::detached);
    asio::co_spawn(executor, read_side(downstream_, remote_), asio::detached);
    asio::co_spawn(executor, write_side(downstream_, local_), asio::detached);
  }

  // reset: the kernel sends RST (SO_LINGER 0) instead of FIN.
  void close(bool reset) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    for (tcp::socket* socket : {&local_, &remote_}) {
      if (reset && socket->is_open()) socket->set_option(asio::socket_base::linger(true, 0), ignored);
      socket->close(ignored);
    }
    for (Pipe* pipe : {&upstream_, &downstream_}) {
      pipe->wake.cancel();
      pipe->delay.cancel();
    }
  }

 private:
  struct Chunk {
    std::string bytes;
    Clock::time_point due;
  };
  struct Pipe {
    Pipe(asio::io_context& io, Direction direction) : direction(direction), wake(io), delay(io) {}
    Direction direction;
    std::deque<Chunk> queue;
    Clock::time_point last_due{};
    bool source_done = false, finished = false;
    std::uint64_t forwarded = 0;
    asio::steady_timer wake, delay;
  };

  const Toxics& toxics(const Pipe& pipe) const {
    return pipe.direction == Direction::upstream ? link_.upstream : link_.downstream;
  }
  std::uint64_t& bytes_counter(const Pipe& pipe) {
    return pipe.direction == Direction::upstream ? link_.bytes_upstream : link_.bytes_downstream;
  }

  asio::awaitable<void> sleep(Pipe& pipe, Clock::duration duration) {
    pipe.delay.expires_after(duration);
    co_await pipe.delay.async_wait(use_tuple);
  }

  asio::awaitable<void> read_side(Pipe& pipe, tcp::socket& source) {
    auto self = shared_from_this();
    std::array<char, 16384> buffer;
    while (true) {
      const auto [error, count] = co_await source.async_read_some(asio::buffer(buffer), use_tuple);
      if (closed_) co_return;
      if (error) {
        pipe.source_done = true;
        pipe.wake.cancel();
        co_return;
      }
      const Toxics& now = toxics(pipe);
      if (now.blackhole) continue;
      Clock::duration wait = now.latency;
      if (now.jitter.count() > 0) {
        const auto span = static_cast<std::uint64_t>(now.jitter.count()) * 2 + 1;
        wait += std::chrono::milliseconds(static_cast<std::int64_t>((*random_)() % span) - now.jitter.count());
      }
      // Jitter reorders nothing: a chunk never leaves before the one read before it.
      pipe.last_due = std::max(Clock::now() + std::max(wait, Clock::duration::zero()), pipe.last_due);
      pipe.queue.push_back({std::string(buffer.data(), count), pipe.last_due});
      pipe.wake.cancel();
    }
  }

  asio::awaitable<void> write_side(Pipe& pipe, tcp::socket& destination) {
    auto self = shared_from_this();
    while (true) {
      while (pipe.queue.empty()) {
        if (pipe.source_done) {
          co_await finish(pipe, destination);
          co_return;
        }
        pipe.wake.expires_at(Clock::time_point::max());
        co_await pipe.wake.async_wait(use_tuple);
        if (closed_) co_return;
      }
      Chunk chunk = std::move(pipe.queue.front());
      pipe.queue.pop_front();
      if (chunk.due > Clock::now()) {
        pipe.delay.expires_at(chunk.due);
        co_await pipe.delay.async_wait(use_tuple);
        if (closed_) co_return;
      }
      std::string_view rest = chunk.bytes;
      while (!rest.empty()) {
        const Toxics& now = toxics(pipe);
        if (now.blackhole) break;  // in flight when the hole opened: dropped too
        std::size_t size = rest.size();
        if (now.slice_bytes > 0) size = std::min(size, 1 + (*random_)() % (2 * now.slice_bytes - 1));
        if (now.bytes_per_second > 0) {
          // At most 50 ms worth at a time, each piece waiting its time first,
          // so the last byte arrives when the rate says.
          size = std::min<std::size_t>(size, std::max<std::uint64_t>(1, now.bytes_per_second / 20));
        }
        bool last_allowed = false;
        if (now.limit_bytes > 0) {
          if (pipe.forwarded >= now.limit_bytes) {
            close(false);
            co_return;
          }
          if (pipe.forwarded + size >= now.limit_bytes) {
            size = now.limit_bytes - pipe.forwarded;
            last_allowed = true;
          }
        }
        if (now.bytes_per_second > 0) {
          co_await sleep(pipe, std::chrono::microseconds(size * 1'000'000 / now.bytes_per_second));
          if (closed_) co_return;
        }
        const auto [error, written] =
            co_await asio::async_write(destination, asio::buffer(rest.data(), size), use_tuple);
        if (closed_) co_return;
        if (error) {
          close(false);
          co_return;
        }
        pipe.forwarded += written;
        bytes_counter(pipe) += written;
        rest.remove_prefix(written);
        if (last_allowed) {
          close(false);
          co_return;
        }
        if (now.slice_bytes > 0 && !rest.empty() && now.slice_delay.count() > 0) {
          co_await sleep(pipe, now.slice_delay);
          if (closed_) co_return;
        }
      }
    }
  }

  // The source closed and everything read has gone on: pass the close on
  // (after slow_close), and end the connection when both ways are done.
  asio::awaitable<void> finish(Pipe& pipe, tcp::socket& destination) {
    const auto slow_close = toxics(pipe).slow_close;
    if (slow_close.count() > 0) {
      co_await sleep(pipe, slow_close);
      if (closed_) co_return;
    }
    boost::system::error_code ignored;
    destination.shutdown(tcp::socket::shutdown_send, ignored);
    pipe.finished = true;
    if (upstream_.finished && downstream_.finished) close(false);
  }

  Link& link_;
  std::shared_ptr<std::mt19937_64> random_;
  tcp::socket local_, remote_;
  Pipe upstream_, downstream_;
  bool closed_ = false;
};

LinkProxy::LinkProxy(asio::io_context& io, std::vector<Route> routes, std::uint64_t seed)
    : io_(io), random_(std::make_shared<std::mt19937_64>(seed)) {
  for (auto& route : routes) {
    if (links_.count(route.link) > 0) throw std::invalid_argument(fmt::format("route {}: named twice", route.link));
    Link& link = links_[route.link];
    link.route = route;
    link.acceptor = std::make_unique<tcp::acceptor>(io_);
    link.acceptor->open(route.listen.protocol());
    link.acceptor->set_option(tcp::acceptor::reuse_address(true));
    link.acceptor->bind(route.listen);
    link.acceptor->listen();
  }
  for (auto& [name, link] : links_) asio::co_spawn(io_, accept_loop(link), asio::detached);
}

LinkProxy::~LinkProxy() { stop(); }

asio::awaitable<void> LinkProxy::accept_loop(Link& link) {
  while (true) {
    auto [error, socket] = co_await link.acceptor->async_accept(use_tuple);
    if (stopped_) co_return;
    if (error) {
      if (error == asio::error::operation_aborted || !link.acceptor->is_open()) co_return;
      continue;  // e.g. too many open files: try again
    }
    ++link.accepted;
    link.connections.remove_if([](const std::weak_ptr<Connection>& connection) { return connection.expired(); });
    auto connection = std::make_shared<Connection>(io_, std::move(socket), link, random_);
    if (link.upstream.reset || link.downstream.reset) {
      ++link.resets;
      connection->close(true);
      continue;
    }
    link.connections.push_back(connection);
    asio::co_spawn(io_, connection->run(), asio::detached);
  }
}

std::uint16_t LinkProxy::listen_port(const std::string& name) const {
  return link(name).acceptor->local_endpoint().port();
}

LinkProxy::Link& LinkProxy::link(const std::string& name) {
  auto found = links_.find(name);
  if (found == links_.end()) throw std::invalid_argument(fmt::format("no link named {}", name));
  return found->second;
}

const LinkProxy::Link& LinkProxy::link(const std::string& name) const {
  auto found = links_.find(name);
  if (found == links_.end()) throw std::invalid_argument(fmt::format("no link named {}", name));
  return found->second;
}

void LinkProxy::reset_open_connections(Link& link) {
  for (const auto& weak : link.connections) {
    if (auto connection = weak.lock()) {
      ++link.resets;
      connection->close(true);
    }
  }
  link.connections.clear();
}

void LinkProxy::set_toxics(const std::string& name, Direction direction, const Toxics& toxics) {
  Link& target = link(name);
  (direction == Direction::upstream ? target.upstream : target.downstream) = toxics;
  if (toxics.reset) reset_open_connections(target);
}

const Toxics& LinkProxy::toxics(const std::string& name, Direction direction) const {
  const Link& found = link(name);
  return direction == Direction::upstream ? found.upstream : found.downstream;
}

void LinkProxy::clear() {
  for (auto& [name, link] : links_) link.upstream = link.downstream = Toxics{};
}

void LinkProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, link] : links_) {
    boost::system::error_code ignored;
    link.acceptor->close(ignored);
    for (const auto& weak : link.connections) {
      if (auto connection = weak.lock()) connection->close(false);
    }
    link.connections.clear();
  }
}

json LinkProxy::status() const {
  json links = json::object();
  for (const auto& [name, link] : links_) {
    std::size_t open = 0;
    for (const auto& weak : link.connections) open += weak.expired() ? 0 : 1;
    links[name] = {{"listen", fmt::format("{}:{}", link.route.listen.address().to_string(),
                                          link.acceptor->is_open() ? link.acceptor->local_endpoint().port() : 0)},
                   {"target", fmt::format("{}:{}", link.route.target.address().to_string(), link.route.target.port())},
                   {"accepted", link.accepted},
                   {"open", open},
                   {"resets", link.resets},
                   {"bytes_upstream", link.bytes_upstream},
                   {"bytes_downstream", link.bytes_downstream},
                   {"upstream", link.upstream.to_json()},
                   {"downstream", link.downstream.to_json()}};
  }
  return {{"links", links}};
}

json LinkProxy::handle_request(const std::string& line) {
  try {
    const json request = json::parse(line);
    if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
      throw std::invalid_argument("expected an object with an \"op\"");
    const std::string op = request["op"];
    if (op == "status") return {{"ok", true}, {"value", status()}};
    if (op == "clear") {
      clear();
      return {{"ok", true}, {"value", nullptr}};
    }
    if (op != "set") throw std::invalid_argument(fmt::format("unknown op '{}' (set, clear, status)", op));
    std::vector<std::string> names;
    const json& links = request.value("links", json("*"));
    if (links == "*") {
      for (const auto& [name, link] : links_) names.push_back(name);
    } else if (links.is_array()) {
      for (const auto& name : links) {
        if (!name.is_string()) throw std::invalid_argument("links: expected names or \"*\"");
        link(name.get<std::string>());  // every name known before anything changes
        names.push_back(name);
      }
    } else {
      throw std::invalid_argument("links: expected an array of names or \"*\"");
    }
    const std::string direction = request.value("direction", "both");
    if (direction != "upstream" && direction != "downstream" && direction != "both")
      throw std::invalid_argument(fmt::format("direction: '{}' is not upstream, downstream or both", direction));
    const Toxics toxics = Toxics::from_json(request.value("toxics", json::object()));
    for (const std::string& name : names) {
      if (direction != "downstream") set_toxics(name, Direction::upstream, toxics);
      if (direction != "upstream") set_toxics(name, Direction::downstream, toxics);
    }
    return {{"ok", true}, {"value", nullptr}};
  } catch (const std::exception& error) {
    return {{"ok", false}, {"error", error.what()}};
  }
}

}  // namespace chaosbench::nemesis::linkproxy
