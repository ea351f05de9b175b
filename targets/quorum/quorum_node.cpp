#include "quorum/quorum_node.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace chaosbench::quorum {

using nlohmann::json;

namespace {

constexpr std::uint64_t kCounterBlock = 1u << 20;

std::string encode_record(const json& record) {
  const auto bytes = json::to_cbor(record);
  return std::string(bytes.begin(), bytes.end());
}

json error_body(const std::string& code, bool definite, const std::string& message) {
  return json{{"error", code}, {"definite", definite}, {"message", message}};
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

QuorumNode::QuorumNode(QuorumConfig config, const targets::Clock& monotonic, const targets::Clock& wall,
                       const RecoveredState& recovered)
    : config_(std::move(config)),
      monotonic_(monotonic),
      wall_(wall),
      ring_(config_.members, config_.virtual_nodes),
      membership_(config_.id, config_.members, config_.failure_timeout_nanoseconds, monotonic.now_nanoseconds()),
      random_(config_.random_seed) {
  const int members = static_cast<int>(config_.members.size());
  if (!contains(config_.members, config_.id)) throw std::invalid_argument("quorum: " + config_.id + " is not a member");
  if (config_.replicas < 1 || config_.replicas > members) {
    throw std::invalid_argument(
        fmt::format("quorum: N={} must be between 1 and the {} members", config_.replicas, members));
  }
  if (config_.read_quorum < 1 || config_.read_quorum > config_.replicas || config_.write_quorum < 1 ||
      config_.write_quorum > config_.replicas) {
    throw std::invalid_argument(fmt::format("quorum: R={} and W={} must be between 1 and N={}", config_.read_quorum,
                                            config_.write_quorum, config_.replicas));
  }
  if (config_.merkle_levels_per_round < 1) throw std::invalid_argument("quorum: merkle levels per round must be >= 1");
  MerkleTree check(config_.merkle_depth);  // validates the depth
  for (const auto& record : recovered.records) {
    json value;
    try {
      value = json::from_cbor(record);
    } catch (const json::exception& error) {
      throw std::runtime_error(std::string("quorum log record is not CBOR: ") + error.what());
    }
    apply_record(value);
  }
  // Never reuse a counter: start above every durable reservation and every own clock entry.
  counter_ = std::max(counter_, counter_reserved_);
  for (const auto& [key, siblings] : store_) {
    for (const auto& version : siblings) counter_ = std::max(counter_, history(version).get(config_.id));
  }
  for (const auto& [id, hint] : hints_) counter_ = std::max(counter_, id);
  reserve_counters();
  records_since_rewrite_ = recovered.records.size();
  next_operation_ = (random_() | 1ull) << 16;
  const std::int64_t start = now();
  next_gossip_ = start;
  next_hint_replay_ = start + config_.hint_replay_interval_nanoseconds;
  next_sweep_ = start + config_.sweep_interval_nanoseconds;
  // Stagger the first exchange so nodes do not all start sessions together.
  next_anti_entropy_ =
      start + (config_.anti_entropy_interval_nanoseconds > 0
                   ? static_cast<std::int64_t>(random_() %
                                               static_cast<std::uint64_t>(config_.anti_entropy_interval_nanoseconds)) +
                         config_.anti_entropy_interval_nanoseconds / 2
                   : 0);
}

void QuorumNode::apply_record(const json& record) {
  try {
    const std::string type = record.at("t").get<std::string>();
    if (type == "k") {
      const std::string key = record.at("k").get<std::string>();
      Siblings versions = siblings_from_json(record.at("v"));
      if (versions.empty()) {
        store_.erase(key);
        digests_.erase(key);
        tombstoned_.erase(key);
      } else {
        if (all_tombstones(versions)) {
          tombstoned_.insert(key);
        } else {
          tombstoned_.erase(key);
        }
        digests_[key] = digest(versions);
        store_[key] = std::move(versions);
      }
    } else if (type == "h") {
      hints_[record.at("i").get<std::uint64_t>()] = Hint{
          record.at("g").get<std::string>(), record.at("k").get<std::string>(), siblings_from_json(record.at("v")), 0};
    } else if (type == "x") {
      hints_.erase(record.at("i").get<std::uint64_t>());
    } else if (type == "c") {
      counter_reserved_ = std::max(counter_reserved_, record.at("n").get<std::uint64_t>());
    } else {
      throw std::runtime_error("quorum log record: unknown type '" + type + "'");
    }
  } catch (const json::exception& error) {
    throw std::runtime_error(std::string("quorum log record: ") + error.what());
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error(std::string("quorum log record: ") + error.what());
  }
}

void QuorumNode::reserve_counters() {
  if (counter_ + kCounterBlock / 2 < counter_reserved_) return;
  counter_reserved_ = counter_ + kCounterBlock;
  ready_.records.push_back(encode_record(json{{"t", "c"}, {"n", counter_reserved_}}));
  ++records_since_rewrite_;
}

void QuorumNode::persist_key(const std::string& key) {
  auto found = store_.find(key);
  const json versions = found == store_.end() ? json::array() : to_json(found->second);
  ready_.records.push_back(encode_record(json{{"t", "k"}, {"k", key}, {"v", versions}}));
  ++records_since_rewrite_;
}

const Siblings& QuorumNode::local(const std::string& key) const {
  static const Siblings kNone;
  auto found = store_.find(key);
  return found == store_.end() ? kNone : found->second;
}

bool QuorumNode::merge_into_store(const std::string& key, const Siblings& versions) {
  if (versions.empty()) return false;
  auto& current = store_[key];
  Siblings merged = reconcile(current, versions, config_.conflict);
  const std::uint64_t merged_digest = digest(merged);
  auto& stored_digest = digests_[key];
  if (!current.empty() && merged_digest == stored_digest) return false;
  current = std::move(merged);
  stored_digest = merged_digest;
  if (all_tombstones(current)) {
    tombstoned_.insert(key);
  } else {
    tombstoned_.erase(key);
  }
  ++statistics_.local_writes;
  persist_key(key);
  return true;
}

bool QuorumNode::is_replica(const std::string& node, const std::string& key) const {
  return contains(ring_.preference_list(key, static_cast<std::size_t>(config_.replicas)), node);
}

bool QuorumNode::peer_up(const std::string& peer) const { return membership_.up(peer, now()); }

void QuorumNode::send(Message message) {
  message.from = config_.id;
  ready_.messages.push_back(std::move(message));
}

void QuorumNode::reply(std::uint64_t request_id, json body) {
  ready_.replies.push_back(ClientReply{request_id, std::move(body)});
}

Ready QuorumNode::take_ready() {
  maybe_compact();
  return std::exchange(ready_, Ready{});
}

void QuorumNode::maybe_compact() {
  const std::uint64_t live = store_.size() + hints_.size();
  if (records_since_rewrite_ < std::max<std::uint64_t>(10000, 2 * live)) return;
  std::vector<std::string> records;
  records.reserve(live + 1);
  records.push_back(encode_record(json{{"t", "c"}, {"n", counter_reserved_}}));
  for (const auto& [key, versions] : store_) {
    records.push_back(encode_record(json{{"t", "k"}, {"k", key}, {"v", to_json(versions)}}));
  }
  for (const auto& [id, hint] : hints_) {
    records.push_back(
        encode_record(json{{"t", "h"}, {"i", id}, {"g", hint.target}, {"k", hint.key}, {"v", to_json(hint.versions)}}));
  }
  ready_.records.clear();  // the rewrite holds the state they describe
  ready_.rewrite = std::move(records);
  records_since_rewrite_ = 0;
}

// ---- timers ----

void QuorumNode::tick() {
  const std::int64_t t = now();
  if (t >= next_gossip_) {
    gossip();
    next_gossip_ = t + config_.gossip_interval_nanoseconds;
  }
  expire_operations();
  if (t >= next_hint_replay_) {
    replay_hints();
    next_hint_replay_ = t + config_.hint_replay_interval_nanoseconds;
  }
  if (config_.anti_entropy_interval_nanoseconds > 0 && t >= next_anti_entropy_) {
    next_anti_entropy_ = t + config_.anti_entropy_interval_nanoseconds;
    std::vector<std::string> candidates;
    for (const auto& peer : membership_.peers()) {
      if (membership_.up(peer, t)) candidates.push_back(peer);
    }
    if (!candidates.empty()) start_anti_entropy(candidates[random_() % candidates.size()]);
  }
  if (t >= next_sweep_) {
    sweep_tombstones();
    next_sweep_ = t + config_.sweep_interval_nanoseconds;
  }
}

void QuorumNode::gossip() {
  membership_.beat();
  const auto peers = membership_.peers();
  if (peers.empty()) return;
  Message message;
  message.type = MessageType::gossip;
  message.to = peers[random_() % peers.size()];
  message.body = membership_.heartbeats();
  send(std::move(message));
}

void QuorumNode::expire_operations() {
  const std::int64_t t = now();
  for (auto it = operations_.begin(); it != operations_.end();) {
    Operation& operation = it->second;
    if (operation.deadline > t) {
      ++it;
      continue;
    }
    if (!operation.answered) {
      // A write may still land on some replica later; a read changed nothing.
      const bool definite = operation.kind != OperationKind::write;
      reply(operation.request_id,
            error_body("timeout", definite,
                       fmt::format("{} of '{}': {} of {} replicas answered in time", definite ? "read" : "write",
                                   operation.key, definite ? operation.replies.size() : operation.acked.size(),
                                   operation.asked.size())));
    }
    it = operations_.erase(it);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.deadline <= t ? sessions_.erase(it) : std::next(it);
  }
}

void QuorumNode::replay_hints() {
  const std::int64_t t = now();
  for (auto& [id, hint] : hints_) {
    if (!membership_.up(hint.target, t)) continue;
    if (hint.last_sent != 0 && t - hint.last_sent < config_.hint_replay_interval_nanoseconds) continue;
    hint.last_sent = t;
    Message message;
    message.type = MessageType::hint_replay;
    message.to = hint.target;
    message.operation = id;
    message.key = hint.key;
    message.versions = hint.versions;
    send(std::move(message));
  }
}

void QuorumNode::sweep_tombstones() {
  const std::int64_t wall_now = wall_.now_nanoseconds();
  const std::int64_t grace = config_.bugs.tombstone_gc_early ? 0 : config_.tombstone_grace_nanoseconds;
  std::vector<std::string> collectable;
  for (const auto& key : tombstoned_) {
    if (wall_now - latest_timestamp(store_[key]) >= grace) collectable.push_back(key);
  }
  for (const auto& key : collectable) {
    store_.erase(key);
    digests_.erase(key);
    tombstoned_.erase(key);
    persist_key(key);
    ++statistics_.tombstones_collected;
  }
}

// ---- client requests ----

void QuorumNode::client_request(std::uint64_t request_id, const json& request) {
  auto op_field = request.find("op");
  if (op_field == request.end() || !op_field->is_string()) {
    reply(request_id, error_body("malformed", true, "missing string field op"));
    return;
  }
  const std::string op = op_field->get<std::string>();
  if (op == "status") {
    reply(request_id, json{{"ok", true}, {"value", status()}});
    return;
  }
  if (op == "cas" || op == "txn" || op == "sync") {
    reply(request_id,
          error_body("unsupported", true,
                     fmt::format("{} needs consensus; a leaderless quorum store cannot do it atomically", op)));
    return;
  }
  if (op != "read" && op != "write" && op != "delete" && op != "append" && op != "add") {
    reply(request_id, error_body("unknown_op", true, fmt::format("unknown op '{}'", op)));
    return;
  }
  auto key_field = request.find("key");
  if (key_field == request.end() || !key_field->is_string()) {
    reply(request_id, error_body("malformed", true, op + " needs a string key"));
    return;
  }
  const std::string key = key_field->get<std::string>();
  if (op == "read") {
    start_read(request_id, key, OperationKind::read, nullptr);
    return;
  }
  if ((op == "write" || op == "append" || op == "add") && !request.contains("value")) {
    reply(request_id, error_body("malformed", true, op + " needs a value"));
    return;
  }
  if (op == "add" && !request["value"].is_number_integer()) {
    reply(request_id, error_body("malformed", true, "add needs an integer value"));
    return;
  }
  std::optional<VectorClock> context;
  if (request.contains("context") && !request["context"].is_null()) {
    try {
      context = VectorClock::from_json(request["context"]);
    } catch (const std::invalid_argument& error) {
      reply(request_id, error_body("malformed", true, std::string("context: ") + error.what()));
      return;
    }
  }
  if (op == "append" || op == "add" ||
      (!context && config_.conflict == ConflictMode::vector_clocks && !is_replica(config_.id, key))) {
    // Read-modify-write (not atomic): read R replicas, then write on top of what was read.
    json update = {{"op", op}, {"value", op == "delete" ? json(nullptr) : request["value"]}};
    start_read(request_id, key, OperationKind::read_for_update, std::move(update));
    return;
  }
  const bool tombstone = op == "delete";
  start_write(request_id, key, new_version(key, tombstone ? json(nullptr) : request["value"], tombstone, context));
}

Version QuorumNode::new_version(const std::string& key, json value, bool tombstone,
                                const std::optional<VectorClock>& context) {
  Version version;
  version.value = std::move(value);
  version.tombstone = tombstone;
  version.timestamp = wall_.now_nanoseconds();
  version.writer = config_.id;
  if (config_.conflict == ConflictMode::vector_clocks) {
    version.clock = context ? *context : merged_clock(local(key));
    counter_ = std::max(counter_, version.clock.get(config_.id)) + 1;
    version.dot_node = config_.id;
    version.dot_counter = counter_;
    reserve_counters();
  }
  return version;
}

std::optional<std::vector<QuorumNode::Target>> QuorumNode::choose_targets(const std::string& key, int needed) {
  const std::int64_t t = now();
  const auto primaries = ring_.preference_list(key, static_cast<std::size_t>(config_.replicas));
  std::vector<Target> targets;
  if (!config_.sloppy) {
    int up = 0;
    for (const auto& node : primaries) {
      up += membership_.up(node, t) ? 1 : 0;
      targets.push_back(Target{node, ""});
    }
    if (up < needed) return std::nullopt;
    return targets;
  }
  std::vector<std::string> down_primaries;
  for (const auto& node : primaries) {
    if (membership_.up(node, t)) {
      targets.push_back(Target{node, ""});
    } else {
      down_primaries.push_back(node);
    }
  }
  std::size_t next_down = 0;
  for (const auto& node : ring_.walk(key)) {
    if (next_down == down_primaries.size()) break;
    if (contains(primaries, node) || !membership_.up(node, t)) continue;
    targets.push_back(Target{node, down_primaries[next_down++]});
  }
  if (static_cast<int>(targets.size()) < needed) return std::nullopt;
  return targets;
}

void QuorumNode::start_write(std::uint64_t request_id, const std::string& key, Version version) {
  auto targets = choose_targets(key, config_.write_quorum);
  if (!targets) {
    reply(request_id,
          error_body("unavailable", true,
                     fmt::format("write of '{}': fewer than W={} replicas are up", key, config_.write_quorum)));
    return;
  }
  const std::uint64_t operation_id = next_operation_++;
  Operation& operation = operations_[operation_id];
  operation.kind = OperationKind::write;
  operation.request_id = request_id;
  operation.key = key;
  operation.deadline = now() + config_.request_timeout_nanoseconds;
  operation.written = Siblings{std::move(version)};
  for (const auto& target : *targets) {
    operation.asked.push_back(target.node);
    if (target.node == config_.id) {
      // Durable before any reply: the reply sits in this or a later Ready.
      merge_into_store(key, operation.written);
      operation.acked.insert(config_.id);
      continue;
    }
    Message message;
    message.type = MessageType::replica_write;
    message.to = target.node;
    message.operation = operation_id;
    message.key = key;
    message.versions = operation.written;
    message.hint_for = target.hint_for;
    send(std::move(message));
  }
  if (config_.bugs.ack_before_write) {
    reply(request_id, json{{"ok", true}});
    operation.answered = true;
  }
  finish_write_if_quorum(operation_id);
}

void QuorumNode::finish_write_if_quorum(std::uint64_t operation_id) {
  auto found = operations_.find(operation_id);
  if (found == operations_.end()) return;
  Operation& operation = found->second;
  if (!operation.answered && static_cast<int>(operation.acked.size()) >= config_.write_quorum) {
    reply(operation.request_id, json{{"ok", true}});
    operation.answered = true;
  }
  if (operation.answered && operation.acked.size() == operation.asked.size()) operations_.erase(found);
}

void QuorumNode::start_read(std::uint64_t request_id, const std::string& key, OperationKind kind, json update) {
  auto targets = choose_targets(key, config_.read_quorum);
  if (!targets) {
    reply(request_id,
          error_body("unavailable", true,
                     fmt::format("read of '{}': fewer than R={} replicas are up", key, config_.read_quorum)));
    return;
  }
  const std::uint64_t operation_id = next_operation_++;
  Operation& operation = operations_[operation_id];
  operation.kind = kind;
  operation.request_id = request_id;
  operation.key = key;
  operation.deadline = now() + config_.request_timeout_nanoseconds;
  operation.update = std::move(update);
  for (const auto& target : *targets) {
    operation.asked.push_back(target.node);
    if (target.node == config_.id) continue;
    Message message;
    message.type = MessageType::replica_read;
    message.to = target.node;
    message.operation = operation_id;
    message.key = key;
    send(std::move(message));
  }
  if (contains(operation.asked, config_.id)) on_read_reply(operation_id, config_.id, local(key));
}

void QuorumNode::on_read_reply(std::uint64_t operation_id, const std::string& from, const Siblings& versions) {
  auto found = operations_.find(operation_id);
  if (found == operations_.end() || found->second.kind == OperationKind::write) return;
  Operation& operation = found->second;
  if (!contains(operation.asked, from) || operation.replies.count(from)) return;
  operation.replies[from] = versions;
  if (!operation.answered) {
    if (static_cast<int>(operation.replies.size()) >= config_.read_quorum) answer_read(operation_id);
  } else if (!config_.bugs.no_read_repair) {
    Siblings merged;
    for (const auto& [node, reply_versions] : operation.replies)
      merged = reconcile(merged, reply_versions, config_.conflict);
    if (digest(versions) != digest(merged) && is_replica(from, operation.key)) repair(from, operation.key, merged);
  }
  found = operations_.find(operation_id);
  if (found != operations_.end() && found->second.answered &&
      found->second.replies.size() == found->second.asked.size()) {
    operations_.erase(found);
  }
}

void QuorumNode::repair(const std::string& node, const std::string& key, const Siblings& merged) {
  ++statistics_.read_repairs;
  if (node == config_.id) {
    merge_into_store(key, merged);
    return;
  }
  Message message;
  message.type = MessageType::repair;
  message.to = node;
  message.key = key;
  message.versions = merged;
  send(std::move(message));
}

void QuorumNode::answer_read(std::uint64_t operation_id) {
  Operation& operation = operations_.at(operation_id);
  operation.answered = true;
  Siblings merged;
  for (const auto& [node, versions] : operation.replies) merged = reconcile(merged, versions, config_.conflict);
  if (!config_.bugs.no_read_repair) {
    const std::uint64_t merged_digest = digest(merged);
    for (const auto& [node, versions] : operation.replies) {
      if (digest(versions) != merged_digest && is_replica(node, operation.key)) repair(node, operation.key, merged);
    }
  }
  const bool vector_clocks = config_.conflict == ConflictMode::vector_clocks;
  if (operation.kind == OperationKind::read) {
    json body = {{"ok", true}, {"value", chosen_value(merged)}};
    const auto values = live_values(merged);
    if (values.size() > 1) body["siblings"] = values;
    if (vector_clocks) body["context"] = merged_clock(merged).to_json();
    reply(operation.request_id, std::move(body));
    return;
  }
  // Read-modify-write: compute the new value on top of every sibling read.
  const std::string op = operation.update["op"].get<std::string>();
  const json& argument = operation.update["value"];
  json new_value;
  if (op == "append") {
    json list = json::array();
    const json chosen = chosen_value(merged);
    for (const auto& value : live_values(merged)) {
      if (!value.is_array()) {
        reply(operation.request_id, error_body("precondition_failed", true,
                                               fmt::format("append to '{}': the value is not a list", operation.key)));
        return;
      }
    }
    if (chosen.is_array()) list = chosen;
    // Siblings are merged: the largest list, then elements only the others have.
    for (const auto& value : live_values(merged)) {
      for (const auto& element : value) {
        if (std::find(list.begin(), list.end(), element) == list.end()) list.push_back(element);
      }
    }
    list.push_back(argument);
    new_value = std::move(list);
  } else if (op == "add") {
    const json chosen = chosen_value(merged);
    if (!chosen.is_null() && !chosen.is_number_integer()) {
      reply(operation.request_id, error_body("precondition_failed", true,
                                             fmt::format("add to '{}': the value is not an integer", operation.key)));
      return;
    }
    new_value = (chosen.is_null() ? 0 : chosen.get<std::int64_t>()) + argument.get<std::int64_t>();
  } else {
    new_value = argument;  // write or delete through a coordinator that is not a replica
  }
  const std::uint64_t request_id = operation.request_id;
  const std::string key = operation.key;
  std::optional<VectorClock> context;
  if (vector_clocks) context = merged_clock(merged);
  start_write(request_id, key, new_version(key, new_value, op == "delete", context));
}

// ---- messages ----

// One handler per message type.
void QuorumNode::receive(const Message& message) {
  membership_.heard_from(message.from, now());
  switch (message.type) {
    case MessageType::gossip:
      on_gossip(message);
      break;
    case MessageType::gossip_reply:
      membership_.merge_heartbeats(message.body, now());
      break;
    case MessageType::replica_write:
      on_replica_write(message);
      break;
    case MessageType::write_ack:
      on_write_ack(message);
      break;
    case MessageType::replica_read:
      on_replica_read(message);
      break;
    case MessageType::read_reply:
      on_read_reply(message.operation, message.from, message.versions);
      break;
    case MessageType::repair:
      merge_into_store(message.key, message.versions);
      break;
    case MessageType::hint_replay:
      on_hint_replay(message);
      break;
    case MessageType::hint_ack:
      on_hint_ack(message);
      break;
    case MessageType::tree_level:
      on_tree_level(message);
      break;
    case MessageType::bucket_digests:
      on_bucket_digests(message);
      break;
    case MessageType::key_versions:
      on_key_versions(message);
      break;
  }
}

Message QuorumNode::answer_to(const Message& message, MessageType type) const {
  Message answer;
  answer.type = type;
  answer.to = message.from;
  answer.operation = message.operation;
  return answer;
}

void QuorumNode::on_gossip(const Message& message) {
  membership_.merge_heartbeats(message.body, now());
  Message answer = answer_to(message, MessageType::gossip_reply);
  answer.body = membership_.heartbeats();
  send(std::move(answer));
}

void QuorumNode::on_replica_write(const Message& message) {
  merge_into_store(message.key, message.versions);
  if (!message.hint_for.empty()) {
    const std::uint64_t hint_id = ++counter_;
    reserve_counters();
    hints_[hint_id] = Hint{message.hint_for, message.key, message.versions, 0};
    ready_.records.push_back(encode_record(json{
        {"t", "h"}, {"i", hint_id}, {"g", message.hint_for}, {"k", message.key}, {"v", to_json(message.versions)}}));
    ++records_since_rewrite_;
    ++statistics_.hints_stored;
  }
  send(answer_to(message, MessageType::write_ack));
}

void QuorumNode::on_write_ack(const Message& message) {
  auto found = operations_.find(message.operation);
  if (found == operations_.end() || found->second.kind != OperationKind::write) return;
  if (!contains(found->second.asked, message.from)) return;
  found->second.acked.insert(message.from);
  finish_write_if_quorum(message.operation);
}

void QuorumNode::on_replica_read(const Message& message) {
  Message answer = answer_to(message, MessageType::read_reply);
  answer.key = message.key;
  answer.versions = local(message.key);
  send(std::move(answer));
}

void QuorumNode::on_hint_replay(const Message& message) {
  merge_into_store(message.key, message.versions);
  send(answer_to(message, MessageType::hint_ack));
}

void QuorumNode::on_hint_ack(const Message& message) {
  auto found = hints_.find(message.operation);
  if (found == hints_.end() || found->second.target != message.from) return;
  const std::string key = found->second.key;
  hints_.erase(found);
  ready_.records.push_back(encode_record(json{{"t", "x"}, {"i", message.operation}}));
  ++records_since_rewrite_;
  ++statistics_.hints_delivered;
  // Handed off: a stand-in that is not a replica of the key drops its copy.
  const bool more_hints =
      std::any_of(hints_.begin(), hints_.end(), [&](const auto& entry) { return entry.second.key == key; });
  if (!more_hints && !is_replica(config_.id, key) && store_.count(key)) {
    store_.erase(key);
    digests_.erase(key);
    tombstoned_.erase(key);
    persist_key(key);
  }
}

// ---- anti-entropy ----

QuorumNode::Session& QuorumNode::session_for(std::uint64_t session_id, const std::string& peer) {
  auto found = sessions_.find(session_id);
  if (found != sessions_.end()) return found->second;
  Session& session = sessions_[session_id];
  session.peer = peer;
  session.deadline = now() + 2 * config_.request_timeout_nanoseconds;
  session.tree = std::make_shared<MerkleTree>(config_.merkle_depth);
  const auto replicas = static_cast<std::size_t>(config_.replicas);
  const std::size_t self_index = ring_.index_of(config_.id);
  const std::size_t peer_index = ring_.index_of(peer);
  std::vector<std::size_t> preference;
  for (const auto& [key, digest_value] : digests_) {
    const std::uint64_t key_hash = HashRing::hash(key);
    ring_.preference_indices(key_hash, replicas, preference);
    if (std::find(preference.begin(), preference.end(), self_index) == preference.end() ||
        std::find(preference.begin(), preference.end(), peer_index) == preference.end()) {
      continue;
    }
    session.tree->add(key_hash, digest_value);
    session.keys_by_leaf[MerkleTree::leaf_of(key_hash, config_.merkle_depth)].emplace_back(key, digest_value);
  }
  session.tree->build();
  return session;
}

void QuorumNode::start_anti_entropy(const std::string& peer) {
  if (peer == config_.id || !contains(config_.members, peer)) {
    throw std::invalid_argument("anti-entropy: '" + peer + "' is not a peer");
  }
  const std::uint64_t session_id = next_operation_++;
  Session& session = session_for(session_id, peer);
  ++statistics_.anti_entropy_sessions;
  Message message;
  message.type = MessageType::tree_level;
  message.to = peer;
  message.operation = session_id;
  message.body = {{"level", 0}, {"indices", json::array({0})}, {"hashes", json::array({session.tree->hash(0, 0)})}};
  send(std::move(message));
}

void QuorumNode::on_tree_level(const Message& message) {
  const int level = message.body.value("level", -1);
  const json& indices = message.body["indices"];
  const json& hashes = message.body["hashes"];
  if (level < 0 || level > config_.merkle_depth || !indices.is_array() || !hashes.is_array() ||
      indices.size() != hashes.size()) {
    return;  // malformed: drop the session
  }
  Session& session = session_for(message.operation, message.from);
  const std::size_t width = std::size_t{1} << level;
  std::vector<std::size_t> differing;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto index = indices[i].get<std::size_t>();
    if (index >= width) return;
    if (session.tree->hash(level, index) != hashes[i].get<std::uint64_t>()) differing.push_back(index);
  }
  if (differing.empty()) {
    sessions_.erase(message.operation);
    return;
  }
  Message answer;
  answer.to = message.from;
  answer.operation = message.operation;
  if (level == config_.merkle_depth) {
    answer.type = MessageType::bucket_digests;
    json keys = json::array();
    for (auto leaf : differing) {
      for (const auto& [key, key_digest] : session.keys_by_leaf[leaf]) keys.push_back(json::array({key, key_digest}));
    }
    answer.body = {{"buckets", differing}, {"keys", std::move(keys)}};
  } else {
    const int next_level = std::min(level + config_.merkle_levels_per_round, config_.merkle_depth);
    json next_indices = json::array();
    json next_hashes = json::array();
    for (auto index : differing) {
      for (auto child : MerkleTree::descendants(level, index, next_level)) {
        next_indices.push_back(child);
        next_hashes.push_back(session.tree->hash(next_level, child));
      }
    }
    answer.type = MessageType::tree_level;
    answer.body = {{"level", next_level}, {"indices", std::move(next_indices)}, {"hashes", std::move(next_hashes)}};
  }
  send(std::move(answer));
}

void QuorumNode::on_bucket_digests(const Message& message) {
  auto found = sessions_.find(message.operation);
  if (found == sessions_.end() || !message.body["buckets"].is_array() || !message.body["keys"].is_array()) return;
  Session& session = found->second;
  std::map<std::string, std::uint64_t> theirs;
  for (const auto& entry : message.body["keys"]) theirs[entry[0].get<std::string>()] = entry[1].get<std::uint64_t>();
  json entries = json::object();
  json want = json::array();
  for (const auto& bucket : message.body["buckets"]) {
    for (const auto& [key, key_digest] : session.keys_by_leaf[bucket.get<std::size_t>()]) {
      auto their = theirs.find(key);
      if (their != theirs.end() && their->second == key_digest) {
        theirs.erase(their);
        continue;
      }
      entries[key] = to_json(local(key));
      if (their != theirs.end()) {
        want.push_back(key);
        theirs.erase(their);
      }
    }
  }
  for (const auto& [key, key_digest] : theirs) want.push_back(key);  // keys only they have
  statistics_.anti_entropy_keys_sent += entries.size();
  sessions_.erase(found);
  if (entries.empty() && want.empty()) return;
  Message answer;
  answer.type = MessageType::key_versions;
  answer.to = message.from;
  answer.operation = message.operation;
  answer.body = {{"entries", std::move(entries)}, {"want", std::move(want)}};
  send(std::move(answer));
}

void QuorumNode::on_key_versions(const Message& message) {
  sessions_.erase(message.operation);
  const json& entries = message.body["entries"];
  if (entries.is_object()) {
    for (const auto& [key, versions] : entries.items()) {
      Siblings siblings;
      try {
        siblings = siblings_from_json(versions);
      } catch (const std::invalid_argument&) {
        continue;
      }
      if (is_replica(config_.id, key) && merge_into_store(key, siblings)) ++statistics_.anti_entropy_keys_repaired;
    }
  }
  const json& want = message.body["want"];
  if (!want.is_array() || want.empty()) return;
  json answer_entries = json::object();
  for (const auto& key : want) {
    const std::string name = key.get<std::string>();
    if (store_.count(name)) answer_entries[name] = to_json(store_.at(name));
  }
  statistics_.anti_entropy_keys_sent += answer_entries.size();
  if (answer_entries.empty()) return;
  Message answer;
  answer.type = MessageType::key_versions;
  answer.to = message.from;
  answer.operation = message.operation;
  answer.body = {{"entries", std::move(answer_entries)}, {"want", json::array()}};
  send(std::move(answer));
}

void QuorumNode::store_locally(const std::string& key, const Siblings& versions) { merge_into_store(key, versions); }

json QuorumNode::status() const {
  const std::int64_t t = now();
  json up = json::array({config_.id});
  for (const auto& peer : membership_.peers()) {
    if (membership_.up(peer, t)) up.push_back(peer);
  }
  return json{{"node", config_.id},
              {"role", "replica"},
              {"term", 0},
              {"leader", nullptr},
              {"commit", statistics_.local_writes},
              {"n", config_.replicas},
              {"r", config_.read_quorum},
              {"w", config_.write_quorum},
              {"sloppy", config_.sloppy},
              {"conflict", config_.conflict == ConflictMode::vector_clocks ? "vector-clocks" : "lww"},
              {"up", std::move(up)},
              {"membership", membership_.view(t)},
              {"keys", store_.size()},
              {"tombstones", tombstoned_.size()},
              {"hints", hints_.size()},
              {"pending_operations", operations_.size()},
              {"read_repairs", statistics_.read_repairs},
              {"hints_delivered", statistics_.hints_delivered},
              {"anti_entropy_sessions", statistics_.anti_entropy_sessions},
              {"anti_entropy_keys_repaired", statistics_.anti_entropy_keys_repaired},
              {"tombstones_collected", statistics_.tombstones_collected}};
}

}  // namespace chaosbench::quorum
