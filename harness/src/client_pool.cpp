#include "chaosbench/harness/client_pool.h"

#include "chaosbench/targets/protocol/wire.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>
#include <boost/asio.hpp>

namespace chaosbench::harness {

namespace asio = boost::asio;
using asio::ip::tcp;
using checkers::OpType;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMaxRedirects = 2;
constexpr std::size_t kMaxBacklog = 1'000'000;
constexpr std::chrono::milliseconds kRefusedBackoff{50};

}  // namespace

class ClientPool::Implementation {
  // A member type, not in the anonymous namespace: Implementation has external
  // linkage, and its fields may not use types that have none.
  struct Connection {
    explicit Connection(asio::io_context& io_context) : socket(io_context) {}
    tcp::socket socket;
    bool connected = false;
    std::string input;
  };

 public:
  Implementation(ClientPoolOptions options, workloads::Workload& workload, HistoryRecorder& recorder)
      : options_(std::move(options)),
        workload_(workload),
        recorder_(recorder),
        tick_timer_(io_context_),
        deadline_timer_(io_context_) {
    for (int index = 0; index < options_.concurrency; ++index) {
      auto slot = std::make_unique<Slot>(io_context_);
      slot->index = index;
      slot->process = index;
      slot->home = static_cast<std::size_t>(index) % options_.endpoints.size();
      slot->connections.resize(options_.endpoints.size());
      slots_.push_back(std::move(slot));
    }
    next_process_ = options_.concurrency;
  }

  void run(std::chrono::milliseconds duration) {
    io_context_.restart();
    stopping_ = false;
    final_reads_ = nullptr;
    const auto start = Clock::now();
    for (auto& slot : slots_) free_slots_.push_back(slot.get());
    deadline_timer_.expires_at(start + duration);
    deadline_timer_.async_wait([this](boost::system::error_code error) {
      if (!error) stop();
    });
    if (options_.rate > 0) {
      period_ = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / options_.rate));
      next_intended_ = start;
      schedule_tick();
    } else {
      dispatch_closed_loop();
    }
    io_context_.run();
    statistics_.intended_not_sent += backlog_.size();
    backlog_.clear();
    free_slots_.clear();
  }

  void run_final_reads(const std::vector<workloads::ClientOperation>& reads) {
    io_context_.restart();
    stopping_ = false;
    final_reads_ = &reads;
    for (auto& slot : slots_) {
      slot->final_read_position = 0;
      asio::post(io_context_, [this, slot = slot.get()] { next_final_read(*slot); });
    }
    io_context_.run();
    final_reads_ = nullptr;
  }

  void request_stop() {
    asio::post(io_context_, [this] { stop(); });
  }

  const ClientPoolStatistics& statistics() const { return statistics_; }

 private:
  struct Slot {
    explicit Slot(asio::io_context& io_context) : timer(io_context) {}
    int index = 0;
    std::int64_t process = 0;
    std::size_t home = 0;
    std::vector<std::shared_ptr<Connection>> connections;
    asio::steady_timer timer;
    std::uint64_t generation = 0;  // bumped when an operation ends; stale callbacks compare it
    bool busy = false;
    workloads::ClientOperation operation;
    std::string request_line;
    std::uint64_t request_id = 0;
    std::size_t node = 0;
    int redirects = 0;
    // Highest zxid any reply carried for this process (ZAB nodes send one):
    // sent back as min_zxid, so a replica behind it waits instead of showing
    // an older state, as ZooKeeper sessions do when they move between servers.
    std::uint64_t session_zxid = 0;
    Clock::time_point intended;
    std::size_t final_read_position = 0;
  };

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    tick_timer_.cancel();
    deadline_timer_.cancel();
  }

  // Open loop: every period one operation becomes due; due operations wait for a
  // free process, keeping their intended send time.
  void schedule_tick() {
    tick_timer_.expires_at(next_intended_);
    tick_timer_.async_wait([this](boost::system::error_code error) {
      if (error || stopping_) return;
      const auto now = Clock::now();
      while (next_intended_ <= now) {
        backlog_.push_back(next_intended_);
        next_intended_ += period_;
      }
      while (backlog_.size() > kMaxBacklog) {
        backlog_.pop_front();
        ++statistics_.intended_not_sent;
      }
      dispatch_open_loop();
      schedule_tick();
    });
  }

  void dispatch_open_loop() {
    while (!stopping_ && !backlog_.empty() && !free_slots_.empty()) {
      Slot* slot = free_slots_.front();
      free_slots_.pop_front();
      const auto intended = backlog_.front();
      backlog_.pop_front();
      begin(*slot, workload_.next(), intended);
    }
  }

  void dispatch_closed_loop() {
    while (!stopping_ && !free_slots_.empty()) {
      Slot* slot = free_slots_.front();
      free_slots_.pop_front();
      begin(*slot, workload_.next(), Clock::now());
    }
  }

  void next_final_read(Slot& slot) {
    if (stopping_ || !final_reads_ || slot.final_read_position >= final_reads_->size()) return;
    begin(slot, (*final_reads_)[slot.final_read_position++], Clock::now());
  }

  void begin(Slot& slot, workloads::ClientOperation operation, Clock::time_point intended) {
    slot.busy = true;
    slot.operation = std::move(operation);
    slot.intended = intended;
    slot.node = options_.sticky_nodes || final_reads_ ? slot.home : routing_random_() % options_.endpoints.size();
    slot.redirects = 0;
    slot.request_id = ++next_request_id_;
    nlohmann::json request = workload_.request(slot.operation);
    request["id"] = slot.request_id;
    if (slot.session_zxid > 0) request["min_zxid"] = slot.session_zxid;
    slot.request_line = request.dump() + "\n";
    ++statistics_.invoked;
    recorder_.record(OpType::invoke, slot.process, slot.operation.function, slot.operation.key, slot.operation.value,
                     options_.endpoints[slot.node].name);
    const std::uint64_t generation = slot.generation;
    slot.timer.expires_after(options_.operation_timeout);
    slot.timer.async_wait([this, &slot, generation](boost::system::error_code error) {
      if (error || slot.generation != generation) return;
      complete(slot, OpType::info, nullptr, "timeout");
    });
    send(slot);
  }

  void send(Slot& slot) {
    auto& connection = slot.connections[slot.node];
    if (!connection) connection = std::make_shared<Connection>(io_context_);
    const std::uint64_t generation = slot.generation;
    if (!connection->connected) {
      const auto& endpoint = options_.endpoints[slot.node];
      tcp::endpoint address(asio::ip::make_address(endpoint.address), endpoint.port);
      connection->socket.async_connect(address, [this, &slot, generation, connection](boost::system::error_code error) {
        if (slot.generation != generation) return;
        if (error) {
          // Nothing was sent to this node, and earlier nodes refused definitely.
          slot.connections[slot.node].reset();
          complete(slot, OpType::fail, nullptr, "connect: " + error.message(), false, kRefusedBackoff);
          return;
        }
        connection->socket.set_option(tcp::no_delay(true));
        connection->connected = true;
        write_request(slot, connection, generation);
      });
      return;
    }
    write_request(slot, connection, generation);
  }

  void write_request(Slot& slot, const std::shared_ptr<Connection>& connection, std::uint64_t generation) {
    asio::async_write(connection->socket, asio::buffer(slot.request_line),
                      [this, &slot, generation, connection](boost::system::error_code error, std::size_t) {
                        if (slot.generation != generation) return;
                        if (error) {
                          complete(slot, OpType::info, nullptr, "send: " + error.message());
                          return;
                        }
                        read_reply(slot, connection, generation);
                      });
  }

  void read_reply(Slot& slot, const std::shared_ptr<Connection>& connection, std::uint64_t generation) {
    asio::async_read_until(
        connection->socket, asio::dynamic_buffer(connection->input, targets::protocol::kMaxLineBytes + 1), '\n',
        [this, &slot, generation, connection](boost::system::error_code error, std::size_t length) {
          if (slot.generation != generation) return;
          if (error == asio::error::not_found) {  // the protocol's line cap (wire.h), not a reply
            complete(slot, OpType::info, nullptr,
                     fmt::format("receive: a reply line over {} bytes", targets::protocol::kMaxLineBytes));
            return;
          }
          if (error) {
            complete(slot, OpType::info, nullptr, "receive: " + error.message());
            return;
          }
          auto reply = nlohmann::json::parse(std::string_view(connection->input).substr(0, length - 1), nullptr, false);
          connection->input.erase(0, length);
          if (!reply.is_object()) {
            complete(slot, OpType::info, nullptr, "garbled reply");  // we cannot know what happened
            return;
          }
          auto id = reply.find("id");
          if (id == reply.end() || !id->is_number_unsigned() || id->get<std::uint64_t>() != slot.request_id) {
            read_reply(slot, connection, generation);  // not ours (cannot happen: one op per connection)
            return;
          }
          handle_reply(slot, reply);
        });
  }

  void handle_reply(Slot& slot, const nlohmann::json& reply) {
    if (auto zxid = reply.find("zxid"); zxid != reply.end() && zxid->is_number_unsigned()) {
      slot.session_zxid = std::max(slot.session_zxid, zxid->get<std::uint64_t>());
    }
    if (reply.value("ok", false)) {
      auto value = reply.find("value");
      nlohmann::json reply_value = value == reply.end() ? nullptr : *value;
      if (auto siblings = reply.find("siblings"); siblings != reply.end() && siblings->is_array()) {
        reply_value = workload_.resolve_siblings(reply_value, *siblings);
      }
      complete(slot, OpType::ok, workload_.completion_value(slot.operation, reply_value));
      return;
    }
    const bool definite = reply.value("definite", false);
    if (definite && reply.value("error", "") == "not_leader" && slot.redirects < kMaxRedirects) {
      auto leader = reply.find("leader");
      if (leader != reply.end() && leader->is_string()) {
        for (std::size_t index = 0; index < options_.endpoints.size(); ++index) {
          if (options_.endpoints[index].name == leader->get_ref<const std::string&>() && index != slot.node) {
            ++slot.redirects;
            ++statistics_.redirects;
            slot.node = index;
            send(slot);
            return;
          }
        }
      }
    }
    // A definite refusal on the data (cas mismatch) is the system answering;
    // not_leader and the like mean it could not serve the operation.
    const auto error = reply.find("error");
    complete(slot, definite ? OpType::fail : OpType::info, nullptr,
             error != reply.end() && error->is_string() ? error->get<std::string>() : "error reply without a reason",
             reply.value("error", "") == "precondition_failed");
  }

  // `error`: why a fail or info ended so (recorded in the history); empty for ok.
  void complete(Slot& slot, OpType outcome, const nlohmann::json& ok_value, std::string_view error = {},
                bool answered = false, std::chrono::milliseconds backoff = std::chrono::milliseconds(0)) {
    ++slot.generation;
    slot.timer.cancel();
    const nlohmann::json& value = outcome == OpType::ok ? ok_value : slot.operation.value;
    const std::int64_t time = recorder_.record(outcome, slot.process, slot.operation.function, slot.operation.key,
                                               value, options_.endpoints[slot.node].name, error);
    statistics_.completions.push_back(CompletionSample{time, outcome == OpType::ok || answered, outcome == OpType::ok});
    if (outcome == OpType::ok) {
      statistics_.ok_latencies_nanoseconds.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - slot.intended).count());
    }
    if (outcome == OpType::info) {
      // The process may still have an operation in the system: it never issues
      // again. Its connections go too, so no late reply is mistaken for a new one.
      slot.process = next_process_++;
      slot.session_zxid = 0;
      for (auto& connection : slot.connections) {
        if (connection) {
          boost::system::error_code ignored;  // closing a socket we abandon; nothing to report
          connection->socket.close(ignored);
          connection.reset();
        }
      }
    }
    if (backoff.count() > 0) {
      // The node is down: do not spin on refused connections.
      const std::uint64_t generation = slot.generation;
      slot.timer.expires_after(backoff);
      slot.timer.async_wait([this, &slot, generation](boost::system::error_code error) {
        if (error || slot.generation != generation) return;
        release(slot);
      });
      return;
    }
    release(slot);
  }

  void release(Slot& slot) {
    slot.busy = false;
    if (final_reads_) {
      asio::post(io_context_, [this, &slot] { next_final_read(slot); });
      return;
    }
    free_slots_.push_back(&slot);
    if (stopping_) return;
    if (options_.rate > 0) {
      dispatch_open_loop();
    } else {
      asio::post(io_context_, [this] { dispatch_closed_loop(); });
    }
  }

  ClientPoolOptions options_;
  workloads::Workload& workload_;
  HistoryRecorder& recorder_;
  asio::io_context io_context_{1};
  asio::steady_timer tick_timer_;
  asio::steady_timer deadline_timer_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Slot*> free_slots_;
  std::deque<Clock::time_point> backlog_;
  std::chrono::nanoseconds period_{0};
  Clock::time_point next_intended_;
  std::int64_t next_process_ = 0;
  std::mt19937_64 routing_random_{options_.routing_seed};
  std::uint64_t next_request_id_ = 0;
  bool stopping_ = false;
  const std::vector<workloads::ClientOperation>* final_reads_ = nullptr;
  ClientPoolStatistics statistics_;
};

ClientPool::ClientPool(ClientPoolOptions options, workloads::Workload& workload, HistoryRecorder& recorder)
    : implementation_(std::make_unique<Implementation>(std::move(options), workload, recorder)) {}
ClientPool::~ClientPool() = default;
void ClientPool::run(std::chrono::milliseconds duration) { implementation_->run(duration); }
void ClientPool::run_final_reads(const std::vector<workloads::ClientOperation>& reads) {
  implementation_->run_final_reads(reads);
}
void ClientPool::request_stop() { implementation_->request_stop(); }
const ClientPoolStatistics& ClientPool::statistics() const { return implementation_->statistics(); }

}  // namespace chaosbench::harness
