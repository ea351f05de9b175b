#include "quorum/quorum_server.h"

#include <fmt/format.h>

namespace chaosbench::quorum {

namespace asio = boost::asio;
using nlohmann::json;

QuorumServer::QuorumServer(asio::io_context& io_context, const targets::NodeConfig& config,
                           const QuorumOptions& options, targets::Logger& logger)
    : config_(config),
      logger_(logger),
      failpoints_(config_.id, config_.failpoints),
      // wal-no-fsync (bug): the WAL is written but never fsynced, so a kill
      // loses nothing (the page cache survives) and a power loss loses acks.
      storage_(config_.data_dir, config_.fsync && !config_.has_bug("wal-no-fsync"), failpoints_.storage_env()),
      host_(io_context, config_, logger_, *this, failpoints_, [this] { storage_.sync(); }) {
  if (storage_.truncated_tail_bytes() > 0)
    logger_.info("wal: truncated a torn tail of {} bytes", storage_.truncated_tail_bytes());
  RecoveredState recovered{storage_.recovered()};
  storage_.release_recovered();
  try {
    node_ = std::make_unique<QuorumNode>(make_quorum_config(config_, options), monotonic_, wall_, recovered);
  } catch (const std::invalid_argument& error) {
    throw targets::ConfigError(error.what());
  }
  logger_.set_state("replica", 0);
  logger_.info("recovered {} records: {} keys, {} hints", recovered.records.size(), node_->store().size(),
               node_->hint_count());
}

std::string QuorumServer::description() const {
  const QuorumConfig& quorum = node_->config();
  return fmt::format("N={} R={} W={}{}, conflicts {}", quorum.replicas, quorum.read_quorum, quorum.write_quorum,
                     quorum.sloppy ? " sloppy" : "",
                     quorum.conflict == ConflictMode::last_write_wins ? "lww" : "vector-clocks");
}

void QuorumServer::tick() {
  node_->tick();
  const std::string up = node_->status()["up"].dump();
  if (up == logged_up_) return;
  logger_.info("peers up: {}", up);
  logged_up_ = up;
}

bool QuorumServer::commit_next_ready() {
  Ready taken = node_->take_ready();
  if (taken.empty()) return false;
  auto ready = std::make_shared<Ready>(std::move(taken));
  const bool needs_disk = !ready->records.empty() || ready->rewrite;
  // Nothing leaves before everything staged earlier is durable.
  host_.commit(needs_disk ? std::function<void()>([this, ready] {
                 if (ready->rewrite) {
                   storage_.rewrite(*ready->rewrite);
                 } else {
                   storage_.append(ready->records);
                 }
               })
                          : std::function<void()>(),
               [this, ready] { complete(*ready); });
  return true;
}

void QuorumServer::complete(const Ready& ready) {
  for (const auto& message : ready.messages) {
    const bool ack = message.type == MessageType::write_ack || message.type == MessageType::hint_ack;
    host_.send_through(ack ? "before-ack-send" : "", message.to, encode_message(message));
  }
  for (const auto& answer : ready.replies) requests_.answer(answer.request_id, answer.body);
}

bool QuorumServer::receive_peer_frame(std::string payload) {
  return host_.deliver_peer_frame(payload, decode_message, [this](const Message& message) { node_->receive(message); });
}

void QuorumServer::handle_request(const targets::ClientRequest& request) {
  const std::uint64_t request_id = next_request_++;
  requests_.add(request_id, {request.connection, request.id});
  node_->client_request(request_id, request.body);
  host_.schedule_flush();
}

}  // namespace chaosbench::quorum
