// quorum_anti_entropy_bench: the cost of anti-entropy between two quorum
// replicas, in process (two QuorumNode cores, messages shuttled without
// sockets): CPU time, bytes and messages to repair a given divergence of a
// 100,000-key store, against shipping every key. Exits 1 if a session does not
// converge. The cluster's throughput is cluster_bench --protocol quorum.
#include <fmt/format.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quorum/quorum_node.h"
#include "runtime/clock.h"

namespace {

double process_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct AntiEntropyResult {
  std::size_t keys = 0, divergent_keys = 0;
  double cpu_milliseconds = 0;
  std::uint64_t bytes = 0, messages = 0, keys_repaired = 0;
  std::map<std::string, std::uint64_t> bytes_by_type;
  std::uint64_t full_copy_bytes = 0;  // shipping every key's versions, for comparison
  bool converged = false;
};

// Two replicas of `keys` keys (members n1..n3, N=3, so both replicate every
// key); `divergence` of the keys get a newer version on one side only (half
// on each side). One anti-entropy session n1 -> n2, messages shuttled in process.
AntiEntropyResult measure_anti_entropy(std::size_t keys, double divergence, int merkle_depth) {
  using namespace chaosbench;
  targets::ManualClock monotonic, wall;
  monotonic.set(1);
  wall.set(1'700'000'000'000'000'000);
  auto config_for = [&](const std::string& id) {
    quorum::QuorumConfig config;
    config.id = id;
    config.members = {"n1", "n2", "n3"};
    config.merkle_depth = merkle_depth;
    config.anti_entropy_interval_nanoseconds = 0;
    return config;
  };
  quorum::QuorumNode first(config_for("n1"), monotonic, wall, {});
  quorum::QuorumNode second(config_for("n2"), monotonic, wall, {});
  AntiEntropyResult result;
  result.keys = keys;
  const std::size_t stride = divergence > 0 ? static_cast<std::size_t>(1.0 / divergence) : 0;
  for (std::size_t key = 0; key < keys; ++key) {
    const std::string name = fmt::format("key-{:06}", key);
    quorum::Version version;
    version.value = static_cast<std::int64_t>(key);
    version.clock.set("n1", key + 1);
    version.timestamp = wall.now_nanoseconds();
    version.writer = "n1";
    first.store_locally(name, {version});
    second.store_locally(name, {version});
    if (stride != 0 && key % stride == 0) {
      ++result.divergent_keys;
      version.value = static_cast<std::int64_t>(key) + 1000000;
      const bool on_first = (key / stride) % 2 == 0;
      version.clock.set(on_first ? "n1" : "n2", keys + key + 1);
      (on_first ? first : second).store_locally(name, {version});
    }
  }
  first.take_ready();  // the records a real node would write while loading
  second.take_ready();
  for (const auto& [name, versions] : first.store()) {
    result.full_copy_bytes += name.size() + nlohmann::json::to_cbor(quorum::to_json(versions)).size();
  }
  const std::uint64_t repaired_before =
      first.statistics().anti_entropy_keys_repaired + second.statistics().anti_entropy_keys_repaired;
  const double cpu_before = process_cpu_seconds();
  first.start_anti_entropy("n2");
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto* sender : {&first, &second}) {
      auto* receiver = sender == &first ? &second : &first;
      quorum::Ready ready = sender->take_ready();
      for (const auto& message : ready.messages) {
        const std::string bytes = quorum::encode_message(message);
        result.bytes += bytes.size();
        result.bytes_by_type[quorum::message_type_name(message.type)] += bytes.size();
        ++result.messages;
        receiver->receive(quorum::decode_message(bytes));
        moved = true;
      }
    }
  }
  result.cpu_milliseconds = (process_cpu_seconds() - cpu_before) * 1000;
  result.keys_repaired =
      first.statistics().anti_entropy_keys_repaired + second.statistics().anti_entropy_keys_repaired - repaired_before;
  result.converged = first.store().size() == second.store().size();
  for (const auto& [name, versions] : first.store()) {
    auto other = second.store().find(name);
    if (other == second.store().end() || quorum::digest(other->second) != quorum::digest(versions)) {
      result.converged = false;
    }
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"quorum_anti_entropy_bench: CPU, bytes and messages of one anti-entropy session"};
  std::size_t anti_entropy_keys = 100000;
  std::vector<double> divergences{0.0, 0.01, 0.1};
  int merkle_depth = 14;
  app.add_option("--anti-entropy-keys", anti_entropy_keys, "keys in the anti-entropy store (default 100000)");
  app.add_option("--divergence", divergences, "fractions of keys that differ (default 0 0.01 0.1)");
  app.add_option("--merkle-depth", merkle_depth, "Merkle tree depth (default 14: 16384 leaves)");
  CLI11_PARSE(app, argc, argv);

  std::printf("anti-entropy, in process: %zu keys on two replicas, Merkle depth %d, one session\n", anti_entropy_keys,
              merkle_depth);
  std::printf(
      "| divergent keys | CPU ms (both sides) | bytes exchanged | messages | keys repaired | converged | full copy "
      "bytes |\n"
      "|---|---|---|---|---|---|---|\n");
  for (double divergence : divergences) {
    const AntiEntropyResult result = measure_anti_entropy(anti_entropy_keys, divergence, merkle_depth);
    std::printf("| %zu (%.1f%%) | %.1f | %llu | %llu | %llu | %s | %llu |\n", result.divergent_keys, divergence * 100,
                result.cpu_milliseconds, static_cast<unsigned long long>(result.bytes),
                static_cast<unsigned long long>(result.messages), static_cast<unsigned long long>(result.keys_repaired),
                result.converged ? "yes" : "NO", static_cast<unsigned long long>(result.full_copy_bytes));
    std::string by_type;
    for (const auto& [type, bytes] : result.bytes_by_type) by_type += fmt::format(" {}={}", type, bytes);
    std::printf("  bytes by message type:%s\n", by_type.c_str());
    if (!result.converged) return 1;
  }
  return 0;
}
