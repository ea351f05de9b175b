#include "chaosbench/targets/adapters/etcd_target.h"

#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "chaosbench/targets/adapters/http_json_client.h"
#include "chaosbench/targets/protocol/transaction.h"

namespace chaosbench::targets::adapters {

using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds kRequestTimeout{5000};
constexpr std::chrono::milliseconds kStatusTimeout{1000};
constexpr int kTransactionAttempts = 50;  // read-then-commit retries after a key changed in between
const char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::string& text) {
  std::string encoded;
  std::size_t index = 0;
  for (; index + 2 < text.size(); index += 3) {
    const unsigned bits = (static_cast<unsigned char>(text[index]) << 16) |
                          (static_cast<unsigned char>(text[index + 1]) << 8) |
                          static_cast<unsigned char>(text[index + 2]);
    for (int shift : {18, 12, 6, 0}) encoded += kBase64Alphabet[(bits >> shift) & 63];
  }
  const std::size_t rest = text.size() - index;
  if (rest > 0) {
    unsigned bits = static_cast<unsigned char>(text[index]) << 16;
    if (rest == 2) bits |= static_cast<unsigned char>(text[index + 1]) << 8;
    encoded += kBase64Alphabet[(bits >> 18) & 63];
    encoded += kBase64Alphabet[(bits >> 12) & 63];
    encoded += rest == 2 ? kBase64Alphabet[(bits >> 6) & 63] : '=';
    encoded += '=';
  }
  return encoded;
}

std::string base64_decode(const std::string& text) {
  std::string decoded;
  unsigned bits = 0;
  int count = 0;
  for (char character : text) {
    if (character == '=') break;
    const char* found = std::strchr(kBase64Alphabet, character);
    if (found == nullptr || character == '\0') throw std::runtime_error(fmt::format("etcd: bad base64 '{}'", text));
    bits = (bits << 6) | static_cast<unsigned>(found - kBase64Alphabet);
    count += 6;
    if (count >= 8) {
      count -= 8;
      decoded += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return decoded;
}

// One etcd member's client API, spoken through its JSON gateway.
class EtcdBackend : public Backend {
 public:
  EtcdBackend(std::string node, std::string address, std::uint16_t port, bool serializable_reads)
      : node_(std::move(node)), client_(std::move(address), port), serializable_reads_(serializable_reads) {}

  json handle(const json& request) override {
    const std::string operation = request.at("op").get<std::string>();
    if (operation == "status") return status();
    const std::string key = base64_encode(request.value("key", ""));
    if (operation == "read") {
      json body = {{"key", key}};
      if (serializable_reads_) body["serializable"] = true;
      auto reply = call("/v3/kv/range", body, true);
      if (!reply.contains("ok")) return reply;
      const json& kvs = reply["body"].contains("kvs") ? reply["body"]["kvs"] : json::array();
      json value = nullptr;
      if (!kvs.empty()) value = json::parse(base64_decode(kvs[0].value("value", "")), nullptr, false);
      return {{"ok", true}, {"value", value}};
    }
    if (operation == "write") {
      auto reply = call("/v3/kv/put", {{"key", key}, {"value", base64_encode(request.at("value").dump())}}, false);
      if (!reply.contains("ok")) return reply;
      return {{"ok", true}};
    }
    if (operation == "cas") {
      json body = {
          {"compare", json::array({{{"key", key},
                                    {"target", "VALUE"},
                                    {"result", "EQUAL"},
                                    {"value", base64_encode(request.at("from").dump())}}})},
          {"success",
           json::array({{{"request_put", {{"key", key}, {"value", base64_encode(request.at("to").dump())}}}}})}};
      auto reply = call("/v3/kv/txn", body, false);
      if (!reply.contains("ok")) return reply;
      if (!reply["body"].value("succeeded", false)) return error_reply("precondition_failed", true);
      return {{"ok", true}};
    }
    if (operation == "delete") {
      auto reply = call("/v3/kv/deleterange", {{"key", key}}, false);
      if (!reply.contains("ok")) return reply;
      return {{"ok", true}};
    }
    if (operation == "append" || operation == "add") {
      json reply = transact(json::array({json::array({operation, request.at("key"), request.at("value")})}));
      if (reply.contains("ok")) reply.erase("value");
      return reply;
    }
    if (operation == "txn") return transact(request.at("value"));
    return error_reply(fmt::format("unsupported: the etcd adapter has no op '{}'", operation), true);
  }

 private:
  // A txn as Jepsen's etcd test runs one: read every key it touches in one
  // read-only etcd txn (a snapshot, with each key's mod_revision), apply the
  // micro-ops to that view, then commit the writes in an etcd txn that succeeds
  // only if none of those keys changed since; retried when one did. A read-only
  // txn is its snapshot. Values are the JSON text of each key's value.
  json transact(const json& micro_ops) {
    const std::set<std::string> keys = protocol::transaction_keys(micro_ops);
    const std::set<std::string> written = protocol::transaction_written_keys(micro_ops);
    json ranges = json::array();
    for (const std::string& key : keys) ranges.push_back({{"request_range", {{"key", base64_encode(key)}}}});
    for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
      auto snapshot = call("/v3/kv/txn", {{"success", ranges}}, true);
      if (!snapshot.contains("ok")) return snapshot;
      std::map<std::string, json> view;
      std::map<std::string, std::string> revisions;  // mod_revision per key; "0" for an absent key
      const json responses = snapshot["body"].value("responses", json::array());
      if (responses.size() != keys.size()) {
        return error_reply(
            fmt::format("etcd {}: snapshot txn answered {} ranges for {} keys", node_, responses.size(), keys.size()),
            true);
      }
      std::size_t index = 0;
      for (const std::string& key : keys) {
        const json range = responses[index++].value("response_range", json::object());
        const json kvs = range.value("kvs", json::array());
        revisions.emplace(key, kvs.empty() ? std::string("0") : kvs[0].value("mod_revision", std::string("0")));
        if (kvs.empty()) continue;
        json value = json::parse(base64_decode(kvs[0].value("value", "")), nullptr, false);
        if (value.is_discarded()) return error_reply(fmt::format("type_error: etcd key {} holds no JSON", key), true);
        view[key] = std::move(value);
      }
      protocol::TransactionResult result = protocol::apply_transaction(view, micro_ops);
      if (result.failed_precondition) return protocol::precondition_failed_reply(*result.failed_precondition);
      if (written.empty()) return {{"ok", true}, {"value", std::move(result.completed)}};
      json compare = json::array();
      for (const std::string& key : keys) {
        compare.push_back(
            {{"key", base64_encode(key)}, {"target", "MOD"}, {"result", "EQUAL"}, {"mod_revision", revisions.at(key)}});
      }
      json puts = json::array();
      for (const std::string& key : written) {
        puts.push_back({{"request_put", {{"key", base64_encode(key)}, {"value", base64_encode(view.at(key).dump())}}}});
      }
      auto committed = call("/v3/kv/txn", {{"compare", compare}, {"success", puts}}, false);
      if (!committed.contains("ok")) return committed;
      if (committed["body"].value("succeeded", false)) return {{"ok", true}, {"value", std::move(result.completed)}};
    }
    return error_reply(fmt::format("etcd {}: txn lost {} revision races", node_, kTransactionAttempts), true);
  }

  // {"ok":true,"body":...} or a client-protocol error reply. Reads have no
  // effect, so every read error is definite; a write is definite only when it
  // was never sent.
  json call(const std::string& path, const json& body, bool read_only) {
    const HttpJsonReply reply = client_.post(path, body, kRequestTimeout);
    if (reply.outcome == HttpJsonReply::Outcome::answered && reply.status == 200) {
      return {{"ok", true}, {"body", reply.body}};
    }
    std::string problem = reply.problem;
    if (reply.outcome == HttpJsonReply::Outcome::answered) {
      problem = fmt::format("HTTP {}: {}", reply.status,
                            reply.body.is_object() ? reply.body.value("error", reply.body.dump()) : "no JSON body");
    }
    const bool definite = read_only || reply.outcome == HttpJsonReply::Outcome::not_sent;
    return error_reply(fmt::format("etcd {} {}: {}", node_, path, problem), definite);
  }

  json status() {
    const HttpJsonReply reply = client_.post("/v3/maintenance/status", json::object(), kStatusTimeout);
    if (reply.outcome != HttpJsonReply::Outcome::answered || reply.status != 200 || !reply.body.is_object()) {
      return error_reply(fmt::format("etcd {} status: {}", node_, reply.problem.empty() ? "bad reply" : reply.problem),
                         true);
    }
    const json& body = reply.body;
    const std::string member = body.contains("header") ? body["header"].value("member_id", "") : "";
    const std::string leader = body.value("leader", "");
    const auto number = [&](const char* field) -> std::int64_t {
      const std::string text = body.value(field, std::string("0"));
      return text.empty() ? 0 : std::stoll(text);
    };
    return {{"ok", true},
            {"value",
             {{"node", node_},
              {"role", !member.empty() && member == leader ? "leader" : "follower"},
              {"term", number("raftTerm")},
              {"leader", leader},
              {"commit", number("raftIndex")}}}};
  }

  std::string node_;
  HttpJsonClient client_;  // keep-alive connections to this member's client URL
  bool serializable_reads_;
};

}  // namespace

EtcdTarget::EtcdTarget(const std::vector<std::string>& target_arguments) {
  for (const std::string& argument : target_arguments) {
    if (argument == "--read=serializable") {
      serializable_reads_ = true;
    } else if (argument == "--read=linearizable") {
      serializable_reads_ = false;
    } else if (argument.rfind("--read", 0) == 0) {
      throw std::invalid_argument(
          fmt::format("--target-arg: etcd: '{}' (use --read=serializable or --read=linearizable)", argument));
    } else {
      etcd_arguments_.push_back(argument);
    }
  }
}

const std::string& EtcdTarget::name() const {
  static const std::string name = "etcd";
  return name;
}

std::vector<RequiredProgram> EtcdTarget::required_programs(const std::filesystem::path&) const {
  return {{"/usr/bin/etcd", "etcd-server", "etcd"}};
}

NodeLaunch EtcdTarget::launch(const NodeContext& node) const {
  std::string initial_cluster;
  for (const auto& peer : node.nodes) {
    initial_cluster +=
        fmt::format("{}{}=http://{}:{}", initial_cluster.empty() ? "" : ",", peer.name, peer.address, kPeerPort);
  }
  const std::string& address = node.self().address;
  NodeLaunch launch;
  launch.argv = {"/usr/bin/etcd",
                 "--name",
                 node.self().name,
                 "--data-dir",
                 node.data_directory().string(),
                 "--listen-peer-urls",
                 fmt::format("http://{}:{}", address, kPeerPort),
                 "--initial-advertise-peer-urls",
                 fmt::format("http://{}:{}", address, kPeerPort),
                 "--listen-client-urls",
                 fmt::format("http://{}:{}", address, client_port()),
                 "--advertise-client-urls",
                 fmt::format("http://{}:{}", address, client_port()),
                 "--initial-cluster",
                 initial_cluster,
                 "--initial-cluster-state",
                 "new",
                 "--initial-cluster-token",
                 "chaosbench",
                 "--heartbeat-interval",
                 "100",
                 "--election-timeout",
                 "1000"};
  for (const auto& argument : etcd_arguments_) launch.argv.push_back(argument);
  return launch;
}

std::unique_ptr<Gateway> EtcdTarget::open_gateway(const NodeContext& node, const std::string& listen_address) const {
  return std::make_unique<Gateway>(
      node.self().name, listen_address,
      std::make_unique<EtcdBackend>(node.self().name, node.self().address, client_port(), serializable_reads_));
}

}  // namespace chaosbench::targets::adapters
