// SimulatedNetwork<Message>: the seeded network of a one-thread simulation.
// send() queues a message on a link; when faulty it may be dropped or
// duplicated, and every message waits a random delay. LinkOrder::fifo keeps
// each link in send order (TCP: a duplicate right behind its original);
// reorder lets messages overtake. next_due() hands out what is due, in
// (time, send order), dropping what a blocked link or a restarted recipient
// (a new incarnation: its old connections are gone) must not get, and holding
// what arrives at a paused node until resume().
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <utility>
#include <vector>

#include "sim/links.h"

namespace chaosbench::sim {

struct NetworkFaults {
  double drop_probability = 0;
  double duplicate_probability = 0;
  // Each message waits (min_delay + uniform [0, max_delay - min_delay]) * delay_unit.
  std::int64_t min_delay = 0;
  std::int64_t max_delay = 0;
  std::int64_t delay_unit = 1;
};

enum class LinkOrder { reorder, fifo };

template <typename Message>
class SimulatedNetwork {
 public:
  struct Delivery {
    std::size_t from = 0, to = 0;
    Message message;
  };

  SimulatedNetwork(std::mt19937_64& random, NetworkFaults faults, LinkOrder order, std::size_t nodes)
      : random_(random), faults_(faults), order_(order), nodes_(nodes) {}

  // `faulty`: whether drops and duplicates may happen (the chaos phase).
  void send(std::size_t from, std::size_t to, Message message, std::int64_t now, bool faulty) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    if (faulty && unit(random_) < faults_.drop_probability) return;
    const bool duplicate = faulty && unit(random_) < faults_.duplicate_probability;
    std::int64_t deliver_at = now + draw_delay();
    if (order_ == LinkOrder::fifo) {
      std::int64_t& link_last = link_last_delivery_[{from, to}];
      link_last = std::max(link_last, deliver_at);
      deliver_at = link_last;
    }
    if (duplicate) {
      // FIFO: the same time and the next sequence, right behind the original;
      // reorder: a delay of its own.
      const std::int64_t copy_at = order_ == LinkOrder::fifo ? deliver_at : now + draw_delay();
      queue_.push(InFlight{deliver_at, sequence_++, nodes_[to].incarnation, Delivery{from, to, message}});
      queue_.push(InFlight{copy_at, sequence_++, nodes_[to].incarnation, Delivery{from, to, std::move(message)}});
      return;
    }
    queue_.push(InFlight{deliver_at, sequence_++, nodes_[to].incarnation, Delivery{from, to, std::move(message)}});
  }

  // The next message due at `now` for a live, unpaused recipient over a link
  // `links` leaves open (nullptr: every link open); nullopt when none is due.
  std::optional<Delivery> next_due(std::int64_t now, const Links* links) {
    while (!queue_.empty() && queue_.top().deliver_at <= now) {
      InFlight in_flight = queue_.top();
      queue_.pop();
      Delivery& delivery = in_flight.delivery;
      NodeState& recipient = nodes_[delivery.to];
      if (links != nullptr && !links->connected(delivery.from, delivery.to)) continue;
      if (recipient.down || recipient.incarnation != in_flight.incarnation) continue;
      if (recipient.paused_until > now) {
        recipient.held.push_back(std::move(delivery));  // sits in the socket buffer
        continue;
      }
      return std::move(delivery);
    }
    return std::nullopt;
  }

  // A crash: what waits for the node is lost; with `new_connections` (ZAB,
  // quorum: TCP) messages sent before it restarts are lost too.
  void crash(std::size_t node, bool new_connections) {
    NodeState& state = nodes_[node];
    state.down = true;
    state.held.clear();
    state.paused_until = 0;
    if (new_connections) ++state.incarnation;
  }
  void restart(std::size_t node) { nodes_[node].down = false; }

  // A pause (SIGSTOP, GC): the node gets nothing until `until`.
  void pause(std::size_t node, std::int64_t until) { nodes_[node].paused_until = until; }
  bool paused(std::size_t node, std::int64_t now) const { return nodes_[node].paused_until > now; }
  std::int64_t paused_until(std::size_t node) const { return nodes_[node].paused_until; }
  // Ends a pause; returns what arrived meanwhile, in arrival order.
  std::vector<Delivery> resume(std::size_t node) {
    NodeState& state = nodes_[node];
    state.paused_until = 0;
    std::vector<Delivery> held = std::move(state.held);
    state.held.clear();
    return held;
  }

  // Queues deliveries again, due at `now`, in their order (a resumed node's
  // held messages, where the simulator lets them race with new ones).
  void requeue(std::vector<Delivery> deliveries, std::int64_t now) {
    for (auto& delivery : deliveries) {
      const std::uint64_t incarnation = nodes_[delivery.to].incarnation;
      queue_.push(InFlight{now, sequence_++, incarnation, std::move(delivery)});
    }
  }

  std::size_t in_flight() const { return queue_.size(); }

 private:
  struct InFlight {
    std::int64_t deliver_at;
    std::uint64_t sequence;
    std::uint64_t incarnation;
    Delivery delivery;
    bool operator>(const InFlight& other) const {
      return deliver_at != other.deliver_at ? deliver_at > other.deliver_at : sequence > other.sequence;
    }
  };
  struct NodeState {
    bool down = false;
    std::uint64_t incarnation = 0;
    std::int64_t paused_until = 0;
    std::vector<Delivery> held;
  };

  std::int64_t draw_delay() {
    const std::int64_t spread = faults_.max_delay - faults_.min_delay;
    const std::int64_t extra =
        spread > 0 ? static_cast<std::int64_t>(random_() % static_cast<std::uint64_t>(spread + 1)) : 0;
    return (faults_.min_delay + extra) * faults_.delay_unit;
  }

  std::mt19937_64& random_;
  NetworkFaults faults_;
  LinkOrder order_;
  std::vector<NodeState> nodes_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  std::map<std::pair<std::size_t, std::size_t>, std::int64_t> link_last_delivery_;
  std::uint64_t sequence_ = 0;
};

}  // namespace chaosbench::sim
