#include "chaosbench/targets/adapters/zookeeper_target.h"

#include "chaosbench/targets/protocol/transaction.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <zookeeper/zookeeper.h>
#include <boost/asio.hpp>

namespace chaosbench::targets::adapters {

using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds kZooKeeperRequestTimeout{5000};
constexpr std::chrono::milliseconds kZooKeeperStatusTimeout{250};
// Failure detection in about a second with the default 100 ms tick: a
// follower gives up on a silent leader after syncLimit ticks, a leader on a
// silent quorum likewise. The server caps sessions at 20 ticks.
constexpr int kInitLimitTicks = 20;
constexpr int kSyncLimitTicks = 10;
constexpr int kSessionTimeoutTicks = 20;
constexpr int kUpdateAttempts = 50;  // txn (append, add) and write retries after losing a race
// ZooKeeper answers a session's requests in order, so a read waits for the
// session's earlier writes to commit: keys are spread over several sessions
// (all requests for one key share one, so each key's order is kept).
constexpr std::size_t kSessionsPerNode = 8;
const char* const kJava = "/usr/bin/java";
const char* const kServerJar = "/usr/share/java/zookeeper.jar";
const char* const kLoggerJar = "/usr/share/java/slf4j-simple.jar";  // ZooKeeper's log lines to stderr
const char* const kRoot = "/chaosbench";

// The C client's own log (connection attempts, ...) would flood the
// controller's stderr during partitions; replies carry zerror() instead.
void discard_client_log(const char*) {}
void ignore_session_events(zhandle_t*, int, int, const char*, void*) {}

// One asynchronous C-client call, shared by the waiting worker and the
// completion (which may arrive after the worker gave up waiting).
struct Call {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  int code = ZSYSTEMERROR;
  std::optional<std::string> data;  // zoo_aget's bytes
  Stat stat{};
  std::shared_ptr<void> buffers;  // what the client fills in at completion (a multi's results)

  static std::shared_ptr<Call> take(const void* completion_data) {
    std::unique_ptr<std::shared_ptr<Call>> owner(
        static_cast<std::shared_ptr<Call>*>(const_cast<void*>(completion_data)));
    return std::move(*owner);
  }
  void finish(int result) {
    std::lock_guard lock(mutex);
    code = result;
    done = true;
    finished.notify_all();
  }
};

void data_completion(int code, const char* value, int length, const Stat* stat, const void* completion_data) {
  auto call = Call::take(completion_data);
  {
    std::lock_guard lock(call->mutex);
    if (code == ZOK) {
      call->data =
          value != nullptr && length > 0 ? std::string(value, static_cast<std::size_t>(length)) : std::string();
      if (stat != nullptr) call->stat = *stat;
    }
  }
  call->finish(code);
}

void stat_completion(int code, const Stat*, const void* completion_data) { Call::take(completion_data)->finish(code); }
void void_completion(int code, const void* completion_data) { Call::take(completion_data)->finish(code); }
void string_completion(int code, const char*, const void* completion_data) {
  Call::take(completion_data)->finish(code);
}

struct Outcome {
  int code = ZSYSTEMERROR;
  std::optional<std::string> data;
  Stat stat{};
};

// Starts a call with start(completion_data) and waits for its completion
// until kZooKeeperRequestTimeout (then ZOPERATIONTIMEOUT: the call may still happen).
// `buffers` stay alive until the completion has run, even after a timeout.
Outcome await_call(const std::function<int(const void*)>& start, std::shared_ptr<void> buffers = nullptr) {
  auto call = std::make_shared<Call>();
  call->buffers = std::move(buffers);
  auto* completion_data = new std::shared_ptr<Call>(call);
  const int submitted = start(completion_data);
  if (submitted != ZOK) {  // not queued: the completion never runs
    delete completion_data;
    return {submitted, std::nullopt, {}};
  }
  std::unique_lock lock(call->mutex);
  if (!call->finished.wait_for(lock, kZooKeeperRequestTimeout, [&] { return call->done; })) {
    return {ZOPERATIONTIMEOUT, std::nullopt, {}};
  }
  return {call->code, call->data, call->stat};
}

// Codes after which a request may have reached the leader and may still
// commit; every other code is a definite answer (or the request never left).
bool outcome_unknown(int code) {
  return code == ZCONNECTIONLOSS || code == ZOPERATIONTIMEOUT || code == ZSESSIONEXPIRED || code == ZCLOSING ||
         code == ZSYSTEMERROR || code == ZRUNTIMEINCONSISTENCY || code == ZDATAINCONSISTENCY;
}

// A key as one znode name under /chaosbench: '/', '%', control and non-ASCII
// bytes percent-escaped; "", "." and ".." (not valid names) get a leading '%'.
std::string znode_name(const std::string& key) {
  std::string name;
  for (const char character : key) {
    const auto byte = static_cast<unsigned char>(character);
    if (character == '/' || character == '%' || byte < 0x20 || byte >= 0x7f) {
      name += fmt::format("%{:02X}", byte);
    } else {
      name += character;
    }
  }
  if (name.empty() || name == "." || name == "..") name = "%" + name;
  return name;
}

// Sends a four-letter word ("srvr") and returns the whole answer, or nothing
// if the server did not answer within the timeout.
std::optional<std::string> four_letter_word(const std::string& address, std::uint16_t port, const std::string& word,
                                            std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  asio::io_context context;
  asio::ip::tcp::socket socket(context);
  boost::system::error_code parse_error;
  const auto ip = asio::ip::make_address(address, parse_error);
  if (parse_error) return std::nullopt;
  std::string answer;
  bool complete = false;
  socket.async_connect({ip, port}, [&](boost::system::error_code error) {
    if (error) return;
    asio::async_write(socket, asio::buffer(word), [&](boost::system::error_code write_error, std::size_t) {
      if (write_error) return;
      asio::async_read(socket, asio::dynamic_buffer(answer), [&](boost::system::error_code read_error, std::size_t) {
        complete = read_error == asio::error::eof;
      });
    });
  });
  context.run_for(timeout);
  if (!complete) return std::nullopt;
  return answer;
}

// The text after "<field>: " on its own line of a srvr answer.
std::string srvr_field(const std::string& answer, const std::string& field) {
  const std::string label = field + ": ";
  std::size_t at = answer.find(label);
  if (at == std::string::npos || (at > 0 && answer[at - 1] != '\n')) return "";
  at += label.size();
  return answer.substr(at, answer.find('\n', at) - at);
}

// One ZooKeeper server's client API through kSessionsPerNode C-client
// sessions shared by the node's client processes, a key always on the same one.
class ZookeeperBackend : public Backend {
 public:
  ZookeeperBackend(std::string node, std::string address, std::uint16_t port, bool sync_reads,
                   int session_timeout_milliseconds)
      : node_(std::move(node)),
        address_(std::move(address)),
        port_(port),
        sync_reads_(sync_reads),
        session_timeout_milliseconds_(session_timeout_milliseconds) {}

  json handle(const json& request) override {
    const std::string operation = request.at("op").get<std::string>();
    if (operation == "status") return status();
    if (operation == "txn") {
      const json& micro_ops = request.at("value");
      if (micro_ops.empty()) return {{"ok", true}, {"value", json::array()}};
      auto session = current_session(session_slot(micro_ops[0][1].get<std::string>()));
      if (!session) return no_session();
      return transact(*session, micro_ops);
    }
    const auto key = request.find("key");  // present and a string: the gateway validated the request
    const std::string path = path_of(key->get<std::string>());
    auto session = current_session(session_slot(key->get<std::string>()));
    if (!session) return no_session();
    if (operation == "read") return read(*session, path);
    if (operation == "write") return write(*session, path, request.at("value"));
    if (operation == "delete") {
      const Outcome deleted = await_call(
          [&](const void* data) { return zoo_adelete(session->handle, path.c_str(), -1, void_completion, data); });
      if (deleted.code != ZOK && deleted.code != ZNONODE) return failure("delete " + path, deleted.code, true);
      return {{"ok", true}};
    }
    if (operation == "cas") return compare_and_set(*session, path, request.at("from"), request.at("to"));
    if (operation == "append" || operation == "add") {
      json reply =
          transact(*session, json::array({json::array({operation, key->get<std::string>(), request.at("value")})}));
      if (reply.contains("ok")) reply.erase("value");
      return reply;
    }
    return error_reply(fmt::format("unsupported: the zookeeper adapter has no op '{}'", operation), true);
  }

 private:
  static std::string path_of(const std::string& key) { return fmt::format("{}/{}", kRoot, znode_name(key)); }
  static std::size_t session_slot(const std::string& key) { return std::hash<std::string>{}(key) % kSessionsPerNode; }
  json holds_no_json(const std::string& path) const {
    return error_reply(fmt::format("type_error: zookeeper {}: {} holds no JSON", node_, path), true);
  }
  json no_session() const {
    return error_reply(fmt::format("zookeeper {}: cannot create a client handle for {}:{}", node_, address_, port_),
                       true);
  }

  struct Session {
    zhandle_t* handle = nullptr;
    ~Session() {
      if (handle != nullptr) zookeeper_close(handle);
    }
  };

  // Session number `slot`, or a new one when there is none or it expired
  // (the server forgot it, e.g. while the node was killed or cut off).
  std::shared_ptr<Session> current_session(std::size_t slot) {
    std::lock_guard lock(session_mutex_);
    std::shared_ptr<Session>& session = sessions_.at(slot);
    if (session) {
      const int state = zoo_state(session->handle);
      if (state != ZOO_EXPIRED_SESSION_STATE && state != ZOO_AUTH_FAILED_STATE) return session;
    }
    auto fresh = std::make_shared<Session>();
    const std::string host = fmt::format("{}:{}", address_, port_);
    fresh->handle = zookeeper_init2(host.c_str(), ignore_session_events, session_timeout_milliseconds_, nullptr,
                                    nullptr, 0, discard_client_log);
    if (fresh->handle == nullptr) return nullptr;
    session = fresh;
    return session;
  }

  json failure(const std::string& what, int code, bool changes_state) const {
    return error_reply(fmt::format("zookeeper {} {}: {}", node_, what, zerror(code)),
                       !changes_state || !outcome_unknown(code));
  }

  Outcome get(Session& session, const std::string& path) {
    return await_call(
        [&](const void* data) { return zoo_aget(session.handle, path.c_str(), 0, data_completion, data); });
  }
  Outcome set(Session& session, const std::string& path, const std::string& text, int version) {
    return await_call([&](const void* data) {
      return zoo_aset(session.handle, path.c_str(), text.data(), static_cast<int>(text.size()), version,
                      stat_completion, data);
    });
  }
  Outcome create(Session& session, const std::string& path, const std::string& text) {
    return await_call([&](const void* data) {
      return zoo_acreate(session.handle, path.c_str(), text.data(), static_cast<int>(text.size()), &ZOO_OPEN_ACL_UNSAFE,
                         0, string_completion, data);
    });
  }

  // Creates /chaosbench once per backend; false (and the reply) if that failed.
  std::optional<json> ensure_root(Session& session) {
    if (root_exists_) return std::nullopt;
    const Outcome created = create(session, kRoot, "");
    if (created.code != ZOK && created.code != ZNODEEXISTS)
      return failure("create " + std::string(kRoot), created.code, false);
    root_exists_ = true;
    return std::nullopt;
  }

  json read(Session& session, const std::string& path) {
    if (sync_reads_) {
      const Outcome synced =
          await_call([&](const void* data) { return zoo_async(session.handle, "/", string_completion, data); });
      if (synced.code != ZOK) return failure("sync", synced.code, false);
    }
    const Outcome got = get(session, path);
    if (got.code == ZNONODE) return {{"ok", true}, {"value", nullptr}};
    if (got.code != ZOK) return failure("get " + path, got.code, false);
    json value = json::parse(got.data.value_or(""), nullptr, false);
    if (value.is_discarded()) return holds_no_json(path);
    return {{"ok", true}, {"value", value}};
  }

  // set; on a missing node create it (and /chaosbench); a create that loses
  // the race to another creator falls back to set.
  json write(Session& session, const std::string& path, const json& value) {
    const std::string text = value.dump();
    // set, or create when absent; a concurrent create or delete sends it back
    // to the other (each failed attempt definitely changed nothing).
    Outcome written = set(session, path, text, -1);
    for (int attempt = 0; attempt < kUpdateAttempts && (written.code == ZNONODE || written.code == ZNODEEXISTS);
         ++attempt) {
      if (written.code == ZNONODE) {
        if (auto problem = ensure_root(session)) return *problem;
        written = create(session, path, text);
      } else {
        written = set(session, path, text, -1);
      }
    }
    if (written.code != ZOK) return failure("write " + path, written.code, true);
    return {{"ok", true}};
  }

  // cas: set `to` at the version read if the key holds `from`; a lost version
  // race fails it (another write came between, so `from` no longer holds).
  json compare_and_set(Session& session, const std::string& path, const json& from, const json& to) {
    const Outcome got = get(session, path);
    if (got.code == ZNONODE) return protocol::precondition_failed_reply("key does not exist");
    if (got.code != ZOK) return failure("get " + path, got.code, false);
    const json current = json::parse(got.data.value_or(""), nullptr, false);
    if (current.is_discarded()) return holds_no_json(path);
    if (current != from) return protocol::precondition_failed_reply("current value differs from expected");
    const Outcome written = set(session, path, to.dump(), got.stat.version);
    if (written.code == ZOK) return {{"ok", true}};
    if (written.code == ZBADVERSION || written.code == ZNONODE) {
      return protocol::precondition_failed_reply(fmt::format("{}: {}", path, zerror(written.code)));
    }
    return failure("cas " + path, written.code, true);
  }

  // A txn as one ZooKeeper multi: read each key (value and version), apply the
  // micro-ops to that view, then commit a multi that checks the version of every
  // key only read, sets every key written at the version read, creates a written
  // key that was absent, and creates-then-deletes a key read as absent (so that
  // it is still absent). A lost version race retries from the reads.
  json transact(Session& session, const json& micro_ops) {
    const std::set<std::string> keys = protocol::transaction_keys(micro_ops);
    const std::set<std::string> written = protocol::transaction_written_keys(micro_ops);
    for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
      std::map<std::string, json> view;
      std::map<std::string, int> versions;  // present keys only
      for (const std::string& key : keys) {
        const std::string path = path_of(key);
        const Outcome got = get(session, path);
        if (got.code == ZNONODE) continue;
        if (got.code != ZOK) return failure("get " + path, got.code, false);
        json value = json::parse(got.data.value_or(""), nullptr, false);
        if (value.is_discarded()) return holds_no_json(path);
        view[key] = std::move(value);
        versions[key] = got.stat.version;
      }
      protocol::TransactionResult result = protocol::apply_transaction(view, micro_ops);
      if (result.failed_precondition) return protocol::precondition_failed_reply(*result.failed_precondition);
      if (auto problem = ensure_root(session)) return *problem;
      struct MultiBuffers {
        std::vector<std::string> paths, texts;
        std::vector<zoo_op_t> operations;
        std::vector<zoo_op_result_t> results;
        std::vector<Stat> stats;
        std::vector<std::vector<char>> created_paths;
      };
      auto buffers = std::make_shared<MultiBuffers>();
      buffers->paths.reserve(keys.size());
      buffers->texts.reserve(keys.size());
      buffers->stats.resize(keys.size());
      buffers->created_paths.resize(keys.size(), std::vector<char>(1024));
      std::size_t index = 0;
      for (const std::string& key : keys) {
        const std::string& path = buffers->paths.emplace_back(path_of(key));
        const bool present = versions.count(key) > 0;
        zoo_op_t operation;
        if (written.count(key) > 0) {
          const std::string& text = buffers->texts.emplace_back(view.at(key).dump());
          if (present) {
            zoo_set_op_init(&operation, path.c_str(), text.data(), static_cast<int>(text.size()), versions[key],
                            &buffers->stats[index]);
          } else {
            zoo_create_op_init(&operation, path.c_str(), text.data(), static_cast<int>(text.size()),
                               &ZOO_OPEN_ACL_UNSAFE, 0, buffers->created_paths[index].data(),
                               static_cast<int>(buffers->created_paths[index].size()));
          }
          buffers->operations.push_back(operation);
        } else if (present) {
          zoo_check_op_init(&operation, path.c_str(), versions[key]);
          buffers->operations.push_back(operation);
        } else {
          zoo_create_op_init(&operation, path.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0,
                             buffers->created_paths[index].data(),
                             static_cast<int>(buffers->created_paths[index].size()));
          buffers->operations.push_back(operation);
          zoo_delete_op_init(&operation, path.c_str(), -1);
          buffers->operations.push_back(operation);
        }
        ++index;
      }
      buffers->results.resize(buffers->operations.size());
      const Outcome committed = await_call(
          [&](const void* data) {
            return zoo_amulti(session.handle, static_cast<int>(buffers->operations.size()), buffers->operations.data(),
                              buffers->results.data(), void_completion, data);
          },
          buffers);
      if (committed.code == ZOK) return {{"ok", true}, {"value", std::move(result.completed)}};
      if (committed.code != ZBADVERSION && committed.code != ZNODEEXISTS && committed.code != ZNONODE) {
        return failure("multi", committed.code, !written.empty());
      }
    }
    return error_reply(fmt::format("zookeeper {}: txn lost {} version races", node_, kUpdateAttempts), true);
  }

  // srvr: Mode leader/follower/standalone, or "not currently serving" while
  // looking; the zxid is (epoch << 32 | counter).
  json status() {
    const auto answer = four_letter_word(address_, port_, "srvr", kZooKeeperStatusTimeout);
    if (!answer) {
      return error_reply(fmt::format("zookeeper {} status: no srvr answer from {}:{}", node_, address_, port_), true);
    }
    const std::string mode = srvr_field(*answer, "Mode");
    std::int64_t zxid = 0;
    try {
      const std::string text = srvr_field(*answer, "Zxid");
      if (!text.empty()) zxid = static_cast<std::int64_t>(std::stoull(text, nullptr, 16));
    } catch (const std::exception&) {
      zxid = 0;
    }
    std::string role = "looking";
    if (mode == "leader" || mode == "standalone") role = "leader";
    if (mode == "follower" || mode == "observer") role = "follower";
    return {{"ok", true},
            {"value",
             {{"node", node_},
              {"role", role},
              {"term", zxid >> 32},
              {"leader", role == "leader" ? node_ : ""},
              {"commit", zxid}}}};
  }

  std::string node_;
  std::string address_;
  std::uint16_t port_;
  bool sync_reads_;
  int session_timeout_milliseconds_;
  std::mutex session_mutex_;
  std::vector<std::shared_ptr<Session>> sessions_ = std::vector<std::shared_ptr<Session>>(kSessionsPerNode);
  std::atomic<bool> root_exists_{false};
};

}  // namespace

ZookeeperTarget::ZookeeperTarget(const std::vector<std::string>& target_arguments) {
  for (const std::string& argument : target_arguments) {
    const std::string tick_flag = "--tick-ms=";
    if (argument == "--sync-reads") {
      sync_reads_ = true;
    } else if (argument == "--force-sync=no") {
      force_sync_ = false;
    } else if (argument.rfind(tick_flag, 0) == 0) {
      const std::string text = argument.substr(tick_flag.size());
      std::size_t parsed = 0;
      try {
        tick_milliseconds_ = std::stoi(text, &parsed);
      } catch (const std::exception&) {
        parsed = 0;
      }
      if (parsed == 0 || parsed != text.size() || tick_milliseconds_ < 10 || tick_milliseconds_ > 10000) {
        throw std::invalid_argument(
            fmt::format("--target-arg: zookeeper: '{}' (the tick is 10-10000 milliseconds)", argument));
      }
    } else {
      throw std::invalid_argument(fmt::format(
          "--target-arg: zookeeper: unknown argument '{}' (known: --sync-reads, --tick-ms=N, --force-sync=no)",
          argument));
    }
  }
}

const std::string& ZookeeperTarget::name() const {
  static const std::string name = "zookeeper";
  return name;
}

std::vector<RequiredProgram> ZookeeperTarget::required_programs(const std::filesystem::path&) const {
  return {{kJava, "default-jre-headless", ""}, {kServerJar, "zookeeper", ""}, {kLoggerJar, "libslf4j-java", ""}};
}

NodeLaunch ZookeeperTarget::launch(const NodeContext& node) const {
  const std::filesystem::path config = node.node_directory / "zoo.cfg";
  std::string servers;
  for (std::size_t index = 0; index < node.nodes.size(); ++index) {
    servers += fmt::format("server.{}={}:{}:{}\n", index + 1, node.nodes[index].address, kQuorumPort, kElectionPort);
  }
  NodeLaunch launch;
  launch.files.push_back(
      {config, fmt::format("tickTime={}\n"
                           "initLimit={}\n"
                           "syncLimit={}\n"
                           "dataDir={}\n"
                           "clientPort={}\n"
                           "clientPortAddress={}\n"
                           "maxClientCnxns=0\n"
                           "preAllocSize=4096\n"
                           "admin.enableServer=false\n"
                           "4lw.commands.whitelist=srvr,mntr,ruok\n"
                           "forceSync={}\n"
                           "{}",
                           tick_milliseconds_, kInitLimitTicks, kSyncLimitTicks, node.data_directory().string(),
                           client_port(), node.self().address, force_sync_ ? "yes" : "no", servers)});
  launch.files.push_back({node.data_directory() / "myid", fmt::format("{}\n", node.index + 1)});
  launch.argv = {kJava, "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true",
                 // Election connections to a partitioned peer give up after 1 s, not 5.
                 "-Dzookeeper.cnxTimeout=1000", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                 "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS", "-cp",
                 fmt::format("{}:{}", kServerJar, kLoggerJar), "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                 config.string()};
  return launch;
}

std::unique_ptr<Gateway> ZookeeperTarget::open_gateway(const NodeContext& node,
                                                       const std::string& listen_address) const {
  return std::make_unique<Gateway>(
      node.self().name, listen_address,
      std::make_unique<ZookeeperBackend>(node.self().name, node.self().address, client_port(), sync_reads_,
                                         kSessionTimeoutTicks * tick_milliseconds_));
}

}  // namespace chaosbench::targets::adapters
