#include "chaosbench/targets/adapters/redis_target.h"

#include <sys/time.h>

#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "chaosbench/targets/protocol/transaction.h"
#include "idle_socket.h"

namespace chaosbench::targets::adapters {

using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds kSentinelTimeout{300};
constexpr std::chrono::milliseconds kConnectTimeout{300};
constexpr std::chrono::milliseconds kCommandTimeout{1200};
constexpr std::chrono::milliseconds kRedisStatusTimeout{200};  // the controller waits 300 ms for a status reply

// Reads answer with the key's type, so one read serves registers (strings) and
// appended lists alike; an absent key reads as null.
constexpr const char* kReadScript = R"(local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then return {'string', redis.call('GET', KEYS[1])} end
if kind == 'list' then return {'list', redis.call('LRANGE', KEYS[1], 0, -1)} end
return {kind})";
constexpr const char* kCompareAndSetScript = R"(if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0)";

// A write of a list value replaces the key with a Redis list of its elements'
// JSON texts, so that appends (RPUSH) extend it and reads see one list.
constexpr const char* kWriteListScript = R"(redis.call('DEL', KEYS[1])
if #ARGV > 0 then redis.call('RPUSH', KEYS[1], unpack(ARGV)) end
return 1)";
constexpr int kWatchAttempts = 50;  // WATCH retries after a watched key changed

timeval to_timeval(std::chrono::milliseconds duration) {
  return {static_cast<time_t>(duration.count() / 1000), static_cast<suseconds_t>((duration.count() % 1000) * 1000)};
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const {
    if (reply != nullptr) freeReplyObject(reply);
  }
};
using ReplyPointer = std::unique_ptr<redisReply, ReplyDeleter>;

std::string reply_text(const redisReply* reply) {
  return reply != nullptr && reply->str != nullptr ? std::string(reply->str, reply->len) : std::string();
}

// One blocking hiredis connection. After any I/O failure it is unusable.
class RedisConnection {
 public:
  enum class Outcome { replied, not_sent, unknown };
  struct Result {
    Outcome outcome = Outcome::not_sent;
    ReplyPointer reply;
    std::string problem;
  };

  RedisConnection(const std::string& address, int port, std::chrono::milliseconds timeout)
      : endpoint_(fmt::format("{}:{}", address, port)),
        context_(redisConnectWithTimeout(address.c_str(), port, to_timeval(std::min(timeout, kConnectTimeout)))) {
    if (context_ == nullptr) {
      problem_ = "cannot allocate a hiredis context";
    } else if (context_->err != 0) {
      problem_ = context_->errstr;
    } else if (redisSetTimeout(context_, to_timeval(timeout)) != REDIS_OK) {
      problem_ = "cannot set the socket timeout";
    }
  }
  ~RedisConnection() {
    if (context_ != nullptr) redisFree(context_);
  }
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  bool usable() const { return problem_.empty(); }
  // True when the server has closed this idle connection (Sentinel kills every
  // client of a server it reconfigures): checked before a pooled one is reused,
  // so that a command is not sent into a connection that is already gone.
  bool closed_by_server() const { return probe_idle_socket(context_->fd) == IdleSocket::closed; }
  const std::string& problem() const { return problem_; }
  const std::string& endpoint() const { return endpoint_; }

  // Redis runs a command only once it has read all of it, so a failure while
  // writing means not run; after the whole command is written, a failure to
  // read the reply leaves the outcome unknown.
  Result command(const std::vector<std::string>& arguments) {
    Result result;
    if (!usable()) {
      result.problem = problem_;
      return result;
    }
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    for (const auto& argument : arguments) {
      pointers.push_back(argument.data());
      lengths.push_back(argument.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(arguments.size()), pointers.data(), lengths.data()) !=
        REDIS_OK) {
      return fail(Outcome::not_sent);
    }
    int done = 0;
    while (done == 0) {
      if (redisBufferWrite(context_, &done) != REDIS_OK) return fail(Outcome::not_sent);
    }
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) return fail(Outcome::unknown);
    result.outcome = Outcome::replied;
    result.reply.reset(static_cast<redisReply*>(reply));
    return result;
  }

 private:
  Result fail(Outcome outcome) {
    problem_ = context_->errstr[0] != '\0' ? context_->errstr : "connection failed";
    Result result;
    result.outcome = outcome;
    result.problem = problem_;
    return result;
  }

  std::string endpoint_;
  redisContext* context_;
  std::string problem_;
};

// Connections one worker thread uses for one request; pooled between requests.
struct Session {
  std::unique_ptr<RedisConnection> sentinel;  // this node's Sentinel
  std::unique_ptr<RedisConnection> primary;   // the primary that Sentinel names
  std::string primary_address;
  int primary_port = 0;
  std::unique_ptr<RedisConnection> self;  // this node's redis-server, for status
};

// Keeps a pooled connection when it is still open, else opens a new one.
void reconnect_if_closed(std::unique_ptr<RedisConnection>& connection, const std::string& address, int port,
                         std::chrono::milliseconds timeout) {
  if (connection && connection->usable() && !connection->closed_by_server()) return;
  connection = std::make_unique<RedisConnection>(address, port, timeout);
}

json parse_value(const redisReply* reply) {
  if (reply == nullptr || reply->type == REDIS_REPLY_NIL) return nullptr;
  const std::string text = reply_text(reply);
  json value = json::parse(text, nullptr, false);
  return value.is_discarded() ? json(text) : value;
}

// "field:value" lines of INFO.
std::optional<std::string> info_field(const std::string& info, const std::string& field) {
  const std::string prefix = field + ":";
  std::size_t position = 0;
  while (position < info.size()) {
    const std::size_t end = std::min(info.find('\n', position), info.size());
    std::string line = info.substr(position, end - position);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    position = end + 1;
  }
  return std::nullopt;
}

std::int64_t to_number(const std::string& text) {
  std::int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return number;
}

// One node's view through its Sentinel: operations go to the primary that
// Sentinel names, re-asked before every operation.
class RedisBackend : public Backend {
 public:
  explicit RedisBackend(const NodeContext& node)
      : node_(node.self().name), address_(node.self().address), nodes_(node.nodes) {}

  json handle(const json& request) override {
    const std::string operation = request.at("op").get<std::string>();
    std::unique_ptr<Session> session = acquire();
    json reply = operation == "status" ? status(*session) : data_operation(*session, operation, request);
    release(std::move(session));
    return reply;
  }

 private:
  // The command that carries out one write of `value` to `key`: SET of its JSON
  // text, or for a list the list script.
  static std::vector<std::string> write_command(const std::string& key, const json& value) {
    if (!value.is_array()) return {"SET", key, value.dump()};
    std::vector<std::string> command = {"EVAL", kWriteListScript, "1", key};
    for (const json& element : value) command.push_back(element.dump());
    return command;
  }

  json data_operation(Session& session, const std::string& operation, const json& request) {
    if (operation == "txn") {
      if (auto problem = connect_to_primary(session)) return error_reply(*problem, true);
      return transact(session, request.at("value"));
    }
    const std::string key = request.value("key", "");
    std::vector<std::string> command;
    if (operation == "read") {
      command = {"EVAL", kReadScript, "1", key};
    } else if (operation == "write") {
      command = write_command(key, request.at("value"));
    } else if (operation == "cas") {
      command = {"EVAL", kCompareAndSetScript, "1", key, request.at("from").dump(), request.at("to").dump()};
    } else if (operation == "append") {
      command = {"RPUSH", key, request.at("value").dump()};
    } else if (operation == "add") {
      command = {"INCRBY", key, request.at("value").dump()};
    } else if (operation == "delete") {
      command = {"DEL", key};
    } else {
      return error_reply(fmt::format("unsupported: the redis adapter has no op '{}'", operation), true);
    }
    const bool read_only = operation == "read";

    if (auto problem = connect_to_primary(session)) return error_reply(*problem, true);
    RedisConnection::Result result = session.primary->command(command);
    if (result.outcome != RedisConnection::Outcome::replied) return lost_primary(session, result, read_only);
    const redisReply* reply = result.reply.get();
    if (reply->type == REDIS_REPLY_ERROR) return command_error(session, reply);
    if (operation == "read") return read_reply(reply);
    if (operation == "cas" && (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1)) {
      return error_reply("precondition_failed", true);
    }
    return {{"ok", true}};
  }

  // A command whose reply did not come: the primary connection is dropped.
  json lost_primary(Session& session, const RedisConnection::Result& result, bool read_only) {
    session.primary.reset();
    const bool definite = read_only || result.outcome == RedisConnection::Outcome::not_sent;
    return error_reply(fmt::format("redis {} via {}: {} ({})", session.primary_address, node_, result.problem,
                                   definite ? "not run" : "sent, outcome unknown"),
                       definite);
  }

  // An error reply means the command did not run: READONLY, LOADING, NOREPLICAS,
  // ... are the cluster's state; a type mismatch (WRONGTYPE, not an integer) is
  // the workload's or this adapter's mistake, a type_error.
  static json command_error(const Session& session, const redisReply* reply) {
    const std::string text = reply_text(reply);
    const bool type_mismatch = text.rfind("WRONGTYPE", 0) == 0 || text.find("not an integer") != std::string::npos;
    return error_reply(
        fmt::format("{}redis {}: {}", type_mismatch ? "type_error: " : "", session.primary_address, text), true);
  }

  // A txn under optimistic locking: WATCH its keys, read them, apply the
  // micro-ops to that view, then MULTI, replace every written key with its new
  // value, EXEC. EXEC answers nil when a watched key changed after WATCH: then
  // it ran nothing and the txn starts again. A read-only txn is its reads
  // confirmed by an empty EXEC. What Redis does not promise across a failover
  // (the new primary may lack an acknowledged EXEC) is for the checker to find.
  json transact(Session& session, const json& micro_ops) {
    const std::set<std::string> keys = protocol::transaction_keys(micro_ops);
    const std::set<std::string> written = protocol::transaction_written_keys(micro_ops);
    for (int attempt = 0; attempt < kWatchAttempts; ++attempt) {
      std::vector<std::string> watch = {"WATCH"};
      watch.insert(watch.end(), keys.begin(), keys.end());
      if (json problem = run_before_exec(session, watch); !problem.is_null()) return problem;
      std::map<std::string, json> view;
      for (const std::string& key : keys) {
        RedisConnection::Result read = session.primary->command({"EVAL", kReadScript, "1", key});
        if (read.outcome != RedisConnection::Outcome::replied) return lost_primary(session, read, true);
        json value = read.reply->type == REDIS_REPLY_ERROR ? command_error(session, read.reply.get())
                                                           : read_reply(read.reply.get());
        if (!value.contains("ok")) {
          session.primary.reset();  // leave no WATCH on a pooled connection
          return value;
        }
        if (!value["value"].is_null()) view[key] = std::move(value["value"]);
      }
      protocol::TransactionResult result = protocol::apply_transaction(view, micro_ops);
      if (result.failed_precondition) {
        if (session.primary->command({"UNWATCH"}).outcome != RedisConnection::Outcome::replied) session.primary.reset();
        return protocol::precondition_failed_reply(*result.failed_precondition);
      }
      if (json problem = run_before_exec(session, {"MULTI"}); !problem.is_null()) return problem;
      for (const std::string& key : written) {
        if (json problem = run_before_exec(session, write_command(key, view.at(key))); !problem.is_null())
          return problem;
      }
      RedisConnection::Result executed = session.primary->command({"EXEC"});
      if (executed.outcome != RedisConnection::Outcome::replied)
        return lost_primary(session, executed, written.empty());
      const redisReply* reply = executed.reply.get();
      if (reply->type == REDIS_REPLY_ERROR) return command_error(session, reply);
      if (reply->type == REDIS_REPLY_NIL) continue;
      for (std::size_t index = 0; index < reply->elements; ++index) {
        if (reply->element[index]->type == REDIS_REPLY_ERROR) {  // a write of the EXEC failed: the others ran
          return error_reply(
              fmt::format("redis {}: EXEC ran partly: {}", session.primary_address, reply_text(reply->element[index])),
              false);
        }
      }
      return {{"ok", true}, {"value", std::move(result.completed)}};
    }
    return error_reply(fmt::format("redis {}: txn lost {} WATCH races", session.primary_address, kWatchAttempts), true);
  }

  // A command sent before EXEC (WATCH, MULTI, a queued write): whatever happens
  // to it, the txn has not run. Null when it was answered without an error.
  json run_before_exec(Session& session, const std::vector<std::string>& command) {
    RedisConnection::Result result = session.primary->command(command);
    if (result.outcome != RedisConnection::Outcome::replied) return lost_primary(session, result, true);
    if (result.reply->type == REDIS_REPLY_ERROR) {
      json problem = command_error(session, result.reply.get());
      session.primary.reset();  // leave no half-open MULTI or WATCH on a pooled connection
      return problem;
    }
    return nullptr;
  }

  static json read_reply(const redisReply* reply) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
      return error_reply("redis: unexpected reply to the read script", true);
    }
    const std::string kind = reply_text(reply->element[0]);
    if (kind == "string" && reply->elements == 2) return {{"ok", true}, {"value", parse_value(reply->element[1])}};
    if (kind == "list" && reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_ARRAY) {
      json values = json::array();
      for (std::size_t index = 0; index < reply->element[1]->elements; ++index) {
        values.push_back(parse_value(reply->element[1]->element[index]));
      }
      return {{"ok", true}, {"value", values}};
    }
    if (kind == "none") return {{"ok", true}, {"value", nullptr}};
    return error_reply(fmt::format("type_error: redis: the key holds a {}, not a string or a list", kind), true);
  }

  // Asks this node's Sentinel for the primary, (re)connects to it when it
  // changed. Returns the problem, if any; nothing has been sent to the primary.
  std::optional<std::string> connect_to_primary(Session& session) {
    RedisConnection::Result master =
        sentinel_command(session, {"SENTINEL", "get-master-addr-by-name", RedisTarget::kMasterName}, kSentinelTimeout);
    if (master.outcome != RedisConnection::Outcome::replied) {
      return fmt::format("sentinel on {}: {}", node_, master.problem);
    }
    const redisReply* reply = master.reply.get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      return fmt::format("sentinel on {} knows no primary ({})", node_,
                         reply->type == REDIS_REPLY_ERROR ? reply_text(reply) : "no address");
    }
    const std::string primary_address = reply_text(reply->element[0]);
    const int primary_port = static_cast<int>(to_number(reply_text(reply->element[1])));
    if (session.primary_address != primary_address || session.primary_port != primary_port) session.primary.reset();
    reconnect_if_closed(session.primary, primary_address, primary_port, kCommandTimeout);
    session.primary_address = primary_address;
    session.primary_port = primary_port;
    if (!session.primary->usable()) {
      std::string problem = fmt::format("redis {} (primary per sentinel on {}): {}", session.primary->endpoint(), node_,
                                        session.primary->problem());
      session.primary.reset();
      return problem;
    }
    return std::nullopt;
  }

  RedisConnection::Result sentinel_command(Session& session, const std::vector<std::string>& command,
                                           std::chrono::milliseconds timeout) {
    reconnect_if_closed(session.sentinel, address_, RedisTarget::kSentinelPort, timeout);
    RedisConnection::Result result = session.sentinel->command(command);
    if (result.outcome != RedisConnection::Outcome::replied) session.sentinel.reset();
    return result;
  }

  // role from the server's INFO replication and this node's Sentinel; term is
  // that Sentinel's config epoch and leader its primary. Until that Sentinel
  // knows every other Sentinel and every replica the node does not answer
  // (readiness waits for it).
  json status(Session& session) {
    reconnect_if_closed(session.self, address_, RedisTarget::kRedisPort, kRedisStatusTimeout);
    RedisConnection::Result info = session.self->command({"INFO", "replication"});
    if (info.outcome != RedisConnection::Outcome::replied || info.reply->type != REDIS_REPLY_STRING) {
      session.self.reset();
      const std::string problem = info.problem.empty() ? "bad INFO reply" : info.problem;
      return error_reply(fmt::format("redis {} status: {}", node_, problem), true);
    }
    const std::string text = reply_text(info.reply.get());
    RedisConnection::Result master =
        sentinel_command(session, {"SENTINEL", "MASTER", RedisTarget::kMasterName}, kRedisStatusTimeout);
    if (master.outcome != RedisConnection::Outcome::replied || master.reply->type != REDIS_REPLY_ARRAY) {
      return error_reply(fmt::format("sentinel on {} status: {}", node_,
                                     master.problem.empty() ? reply_text(master.reply.get()) : master.problem),
                         true);
    }
    std::map<std::string, std::string> fields;
    const redisReply* pairs = master.reply.get();
    for (std::size_t index = 0; index + 1 < pairs->elements; index += 2) {
      fields[reply_text(pairs->element[index])] = reply_text(pairs->element[index + 1]);
    }
    const std::int64_t other_sentinels = to_number(fields["num-other-sentinels"]);
    const std::int64_t replicas = to_number(fields["num-slaves"]);
    const auto others = static_cast<std::int64_t>(nodes_.size()) - 1;
    if (other_sentinels < others || replicas < others) {
      return error_reply(fmt::format("sentinel on {} knows {} of {} other sentinels and {} of {} replicas", node_,
                                     other_sentinels, others, replicas, others),
                         true);
    }
    std::string leader = fields["ip"];
    for (const auto& peer : nodes_) {
      if (peer.address == fields["ip"]) leader = peer.name;
    }
    // A server that still acts as primary after its own Sentinel has switched
    // to another (an old primary back from a partition, until Sentinel
    // demotes it) is not the leader: no Sentinel-aware client writes to it.
    const std::string role = info_field(text, "role").value_or("");
    std::string shown_role = role == "slave" ? "follower" : role;
    if (role == "master") shown_role = fields["ip"] == address_ ? "leader" : "stale-primary";
    return {{"ok", true},
            {"value",
             {{"node", node_},
              {"role", shown_role},
              {"term", to_number(fields["config-epoch"])},
              {"leader", leader},
              {"commit", to_number(info_field(text, "master_repl_offset").value_or("0"))}}}};
  }

  std::unique_ptr<Session> acquire() {
    std::lock_guard lock(pool_mutex_);
    if (idle_.empty()) return std::make_unique<Session>();
    std::unique_ptr<Session> session = std::move(idle_.back());
    idle_.pop_back();
    return session;
  }

  void release(std::unique_ptr<Session> session) {
    std::lock_guard lock(pool_mutex_);
    idle_.push_back(std::move(session));
  }

  std::string node_;
  std::string address_;
  std::vector<NodeAddress> nodes_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Session>> idle_;
};

}  // namespace

RedisTarget::RedisTarget(const std::vector<std::string>& target_arguments) {
  // --NAME=N with N a whole number >= 0, into target; false when the argument is another one.
  const auto number_argument = [](const std::string& argument, const std::string& name, int& target) {
    const std::string prefix = "--" + name + "=";
    if (argument.rfind(prefix, 0) != 0) return false;
    const std::string number = argument.substr(prefix.size());
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), target);
    if (number.empty() || error != std::errc() || end != number.data() + number.size() || target < 0) {
      throw std::invalid_argument(fmt::format("--target-arg: redis: '{}' needs a whole number >= 0", argument));
    }
    return true;
  };
  for (const std::string& argument : target_arguments) {
    if (number_argument(argument, "min-replicas-to-write", min_replicas_to_write_)) continue;
    if (number_argument(argument, "min-replicas-max-lag", min_replicas_max_lag_)) continue;
    const std::string appendfsync = "--appendfsync=";
    if (argument.rfind(appendfsync, 0) == 0) {
      appendfsync_ = argument.substr(appendfsync.size());
      if (appendfsync_ != "always" && appendfsync_ != "everysec" && appendfsync_ != "no")
        throw std::invalid_argument(
            fmt::format("--target-arg: redis: '{}' (appendfsync is always, everysec or no)", argument));
      continue;
    }
    throw std::invalid_argument(
        fmt::format("--target-arg: redis: unknown argument '{}' (known: --min-replicas-to-write=N, "
                    "--min-replicas-max-lag=SECONDS, --appendfsync=always|everysec|no)",
                    argument));
  }
}

const std::string& RedisTarget::name() const {
  static const std::string name = "redis";
  return name;
}

std::vector<RequiredProgram> RedisTarget::required_programs(const std::filesystem::path&) const {
  return {{"/usr/bin/redis-server", "redis-server", "redis-server"},
          {"/usr/bin/redis-sentinel", "redis-sentinel", "redis-sentinel"}};
}

NodeLaunch RedisTarget::launch(const NodeContext& node) const {
  const std::string& address = node.self().address;
  const std::string& first_primary = node.nodes.front().address;
  const std::filesystem::path redis_config = node.node_directory / "redis.conf";
  const std::filesystem::path sentinel_config = node.node_directory / "sentinel.conf";
  const std::string data = node.data_directory().string();

  // Appendonly with fsync every second by default: Redis writes the command to
  // the AOF before it replies, so a SIGKILL (the kill nemesis) loses nothing
  // acknowledged; a power loss (power-loss) can lose the last second.
  std::string redis = fmt::format(
      "bind {}\nport {}\nprotected-mode no\ndaemonize no\nlogfile \"\"\ndir {}\n"
      "appendonly yes\nappendfsync {}\nsave \"\"\n"
      "repl-diskless-sync-delay 0\n",
      address, kRedisPort, data, appendfsync_);
  if (min_replicas_to_write_ > 0) {
    redis += fmt::format("min-replicas-to-write {}\nmin-replicas-max-lag {}\n", min_replicas_to_write_,
                         min_replicas_max_lag_);
  }
  if (node.index != 0) redis += fmt::format("replicaof {} {}\n", first_primary, kRedisPort);

  const std::size_t quorum = node.nodes.size() / 2 + 1;
  std::string sentinel = fmt::format(
      "bind {}\nport {}\nprotected-mode no\ndaemonize no\nlogfile \"\"\ndir {}\n"
      "sentinel monitor {} {} {} {}\n"
      "sentinel down-after-milliseconds {} 1000\n"
      "sentinel failover-timeout {} 2000\n"
      "sentinel parallel-syncs {} 1\n",
      address, kSentinelPort, data, kMasterName, first_primary, kRedisPort, quorum, kMasterName, kMasterName,
      kMasterName);
  // Sentinel learns replicas from the primary's INFO only every 10 s; one that
  // does not know a replica when it fails over leaves that replica following
  // the old primary. Seeding the list (the line Sentinel itself writes) gives
  // the steady state of a deployment that has run for a while.
  for (std::size_t index = 1; index < node.nodes.size(); ++index) {
    sentinel += fmt::format("sentinel known-replica {} {} {}\n", kMasterName, node.nodes[index].address, kRedisPort);
  }

  NodeLaunch launch;
  launch.argv = {"/usr/bin/redis-server", redis_config.string()};
  // Both files are rewritten by their daemons (Sentinel's CONFIG REWRITE after
  // a failover): a restarted server keeps the role Sentinel gave it.
  launch.files.push_back({redis_config, redis, true});
  launch.companions.push_back(
      {"sentinel", {"/usr/bin/redis-sentinel", sentinel_config.string()}, {}, {{sentinel_config, sentinel, true}}});
  return launch;
}

std::unique_ptr<Gateway> RedisTarget::open_gateway(const NodeContext& node, const std::string& listen_address) const {
  return std::make_unique<Gateway>(node.self().name, listen_address, std::make_unique<RedisBackend>(node));
}

}  // namespace chaosbench::targets::adapters
