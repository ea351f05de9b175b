#include "runtime/node_config.h"

#include <fmt/format.h>

#include <stdexcept>

namespace chaosbench::targets {

std::uint16_t parse_port(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    if (used != text.size() || value < 1 || value > 65535) throw std::out_of_range(text);
    return static_cast<std::uint16_t>(value);
  } catch (const std::logic_error&) {
    throw ConfigError(fmt::format("{}: '{}' is not a port number (1-65535)", what, text));
  }
}

// "250ms", "10s", "5m" or a bare number of milliseconds.
std::int64_t parse_duration_milliseconds(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const double number = std::stod(text, &used);
    const std::string unit = text.substr(used);
    double factor = 0;
    if (unit.empty() || unit == "ms") factor = 1;
    if (unit == "s") factor = 1000;
    if (unit == "m") factor = 60000;
    if (factor == 0 || number < 0) throw std::invalid_argument(text);
    return static_cast<std::int64_t>(number * factor);
  } catch (const std::logic_error&) {
    throw ConfigError(fmt::format("{}: '{}' is not a duration (e.g. 500ms, 10s, 5m)", what, text));
  }
}

const PeerAddress& NodeConfig::self() const {
  for (const auto& peer : peers) {
    if (peer.id == id) return peer;
  }
  throw ConfigError(fmt::format("--id {} is not in --peers", id));
}

std::vector<PeerAddress> parse_peer_list(const std::string& text) {
  std::vector<PeerAddress> peers;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const std::size_t equals = item.find('=');
    const std::size_t colon = item.rfind(':');
    if (equals == std::string::npos || colon == std::string::npos || colon < equals || equals == 0) {
      throw ConfigError(fmt::format("--peers: '{}' is not id=host:port", item));
    }
    PeerAddress peer;
    peer.id = item.substr(0, equals);
    peer.host = item.substr(equals + 1, colon - equals - 1);
    peer.port = parse_port(item.substr(colon + 1), "--peers");
    if (peer.host.empty()) throw ConfigError(fmt::format("--peers: '{}' has no host", item));
    for (const auto& existing : peers) {
      if (existing.id == peer.id) throw ConfigError(fmt::format("--peers: {} listed twice", peer.id));
    }
    peers.push_back(std::move(peer));
    start = end + 1;
  }
  return peers;
}

}  // namespace chaosbench::targets
