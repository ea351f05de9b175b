// LinkProxy: a user-space TCP proxy for the links of one node to its peers
// (Toxiproxy's toxics, for kernels without netem). Each route listens on its
// own address and forwards every connection to one peer; toxics are set per
// link and per direction (upstream: what this node sends; downstream: what it
// receives back) and apply at once to open and new connections. Runs on the
// io_context given (one thread; not thread-safe otherwise); jitter and slice
// sizes come from the seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

namespace chaosbench::nemesis::linkproxy {

struct Route {
  std::string link;                       // the peer's name, e.g. "n2"
  boost::asio::ip::tcp::endpoint listen;  // port 0: any free port (see listen_port)
  boost::asio::ip::tcp::endpoint target;  // the peer's own address
};

enum class Direction { upstream, downstream };

// What one direction of one link does to the bytes on it. All zero/false: nothing.
struct Toxics {
  std::chrono::milliseconds latency{0};      // every chunk waits this long ...
  std::chrono::milliseconds jitter{0};       // ... plus or minus up to this (order kept)
  std::uint64_t bytes_per_second = 0;        // bandwidth cap; 0: none
  std::size_t slice_bytes = 0;               // cut chunks into slices of about this size ...
  std::chrono::microseconds slice_delay{0};  // ... with this pause between them
  bool blackhole = false;                    // read and dropped, never delivered; connections stay open
  bool reset = false;                        // open connections are reset (RST), new ones at once
  std::chrono::milliseconds slow_close{0};   // the close reaches the other side this much later
  std::uint64_t limit_bytes = 0;             // a connection closes after this many bytes; 0: no limit

  bool any() const;
  nlohmann::json to_json() const;
  // Unknown keys, wrong types and negative values throw std::invalid_argument naming the key.
  static Toxics from_json(const nlohmann::json& object);
};

class LinkProxy {
 public:
  // Binds every route's listener (throws boost::system::system_error naming nothing
  // more than the OS says: callers add the route) and starts accepting.
  LinkProxy(boost::asio::io_context& io, std::vector<Route> routes, std::uint64_t seed);
  ~LinkProxy();
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  std::uint16_t listen_port(const std::string& link) const;
  void set_toxics(const std::string& link, Direction direction, const Toxics& toxics);
  const Toxics& toxics(const std::string& link, Direction direction) const;
  void clear();
  // Closes the listeners and every connection; the io_context then runs out of work.
  void stop();

  // The control protocol, one JSON request to one reply (docs/linkproxy.md):
  // {"op":"set","links":["n2"] or "*","direction":"upstream|downstream|both","toxics":{...}},
  // {"op":"clear"}, {"op":"status"}. Never throws: errors are {"ok":false,"error":...}.
  nlohmann::json handle_request(const std::string& line);
  nlohmann::json status() const;

  class Connection;
  struct Link {
    Route route;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    Toxics upstream, downstream;
    std::list<std::weak_ptr<Connection>> connections;
    std::uint64_t accepted = 0, bytes_upstream = 0, bytes_downstream = 0, resets = 0;
  };

 private:
  Link& link(const std::string& name);
  const Link& link(const std::string& name) const;
  boost::asio::awaitable<void> accept_loop(Link& link);
  void reset_open_connections(Link& link);

  boost::asio::io_context& io_;
  std::map<std::string, Link> links_;
  std::shared_ptr<std::mt19937_64> random_;
  bool stopped_ = false;
};

}  // namespace chaosbench::nemesis::linkproxy
