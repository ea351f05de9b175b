// PendingRequests: client requests a protocol has accepted and not yet answered,
// each under a number of the protocol's choosing (a log index, a read context),
// with the connection to answer on, the request's id and a deadline. answer()
// replies once and forgets the request; expire() answers every request past its
// deadline with {"error":"timeout"}, definite unless the request may still take
// effect. Single-threaded, like the io_context the node runs on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "runtime/client_server.h"

namespace chaosbench::targets {

using SteadyTime = std::chrono::steady_clock::time_point;

struct NoDetails {};

template <class Details = NoDetails>
class PendingRequests {
 public:
  struct Request {
    std::weak_ptr<ClientConnection> connection;
    nlohmann::json id;
    SteadyTime deadline = SteadyTime::max();
    bool may_take_effect = false;  // an update: a timeout leaves its outcome unknown
    Details details{};
  };

  void add(std::uint64_t number, Request request) { requests_.insert_or_assign(number, std::move(request)); }

  // The request under `number` (still pending), or nullptr.
  const Request* find(std::uint64_t number) const {
    auto found = requests_.find(number);
    return found == requests_.end() ? nullptr : &found->second;
  }

  // Removes and returns the request under `number`, if any.
  std::optional<Request> take(std::uint64_t number) {
    auto found = requests_.find(number);
    if (found == requests_.end()) return std::nullopt;
    Request request = std::move(found->second);
    requests_.erase(found);
    return request;
  }

  // Replies `body` (its "id" set to the request's) and forgets the request.
  // False when no request is pending under `number`.
  bool answer(std::uint64_t number, nlohmann::json body) {
    auto request = take(number);
    if (!request) return false;
    reply(*request, std::move(body));
    return true;
  }

  // Answers and forgets every request numbered at most `last` with `error`.
  void fail_through(std::uint64_t last, const std::string& error, bool definite) {
    for (auto it = requests_.begin(); it != requests_.end() && it->first <= last;) {
      reply(it->second, error_reply(it->second.id, error, definite));
      it = requests_.erase(it);
    }
  }

  // Answers every request whose deadline has passed with a timeout.
  void expire(SteadyTime now) {
    for (auto it = requests_.begin(); it != requests_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      reply(it->second, error_reply(it->second.id, "timeout", !it->second.may_take_effect));
      it = requests_.erase(it);
    }
  }

  std::size_t size() const { return requests_.size(); }

  // Sends `body` with the request's id on its connection, if that is still open.
  static void reply(const Request& request, nlohmann::json body) {
    auto connection = request.connection.lock();
    if (!connection) return;
    body["id"] = request.id;
    connection->reply(body);
  }

 private:
  std::map<std::uint64_t, Request> requests_;
};

}  // namespace chaosbench::targets
