// Unit tests of refnode's configuration: the shared flags, each protocol's own
// settings through the registry, --config files, and the one-line errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "quorum/quorum_protocol.h"
#include "raft/raft_protocol.h"
#include "runtime/protocol_registry.h"
#include "zab/zab_protocol.h"

namespace chaosbench::targets {
namespace {

const ProtocolRegistry& registry() {
  static const ProtocolRegistry protocols = {raft::raft_protocol(), zab::zab_protocol(), quorum::quorum_protocol()};
  return protocols;
}

ParsedNodeConfig parse(std::vector<std::string> flags) {
  std::vector<std::string> arguments = {
      "refnode",       "--id", "n1",         "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
      "--client-port", "8001", "--data-dir", "data"};
  arguments.insert(arguments.end(), flags.begin(), flags.end());
  std::vector<const char*> argv;
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  return parse_node_config(static_cast<int>(argv.size()), argv.data(), registry());
}

std::string error_of(std::vector<std::string> flags) {
  try {
    parse(std::move(flags));
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

std::filesystem::path write_config(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("node_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
  std::ofstream(path) << text;
  return path;
}

TEST(NodeConfig, EachProtocolGetsItsOwnDefaultReadModeAndSettings) {
  auto raft = parse({"--protocol", "raft"});
  EXPECT_EQ(raft.protocol->name, "raft");
  EXPECT_EQ(raft.config.read_mode, "read-index");
  ASSERT_NE(dynamic_cast<raft::RaftOptions*>(raft.options.get()), nullptr);
  EXPECT_EQ(dynamic_cast<raft::RaftOptions&>(*raft.options).clock_drift_bound_milliseconds, 50);

  auto zab = parse({"--protocol", "zab"});
  EXPECT_EQ(zab.config.read_mode, "local");
  EXPECT_EQ(zab.options, nullptr);

  auto quorum = parse({"--protocol", "quorum", "--n", "2", "--w", "1", "--sloppy", "--anti-entropy-interval", "2s"});
  const auto& options = dynamic_cast<quorum::QuorumOptions&>(*quorum.options);
  EXPECT_EQ(options.replicas, 2);
  EXPECT_EQ(options.write_quorum, 1);
  EXPECT_EQ(options.read_quorum, 0);  // a majority of N, decided by make_quorum_config
  EXPECT_TRUE(options.sloppy);
  EXPECT_EQ(options.anti_entropy_interval_milliseconds, 2000);
  const auto config = quorum::make_quorum_config(quorum.config, options);
  EXPECT_EQ(config.replicas, 2);
  EXPECT_EQ(config.read_quorum, 2);
  EXPECT_EQ(config.write_quorum, 1);
}

TEST(NodeConfig, FlagsWinOverTheConfigFileAndProtocolKeysGoToTheProtocol) {
  const auto path = write_config(
      R"({"protocol": "quorum", "read_mode": "quorum", "n": 1, "conflict": "lww", "tick_ms": 20, "fsync": false})");
  auto parsed = parse({"--config", path.string(), "--n", "2", "--tick-ms", "5"});
  std::filesystem::remove(path);
  EXPECT_EQ(parsed.protocol->name, "quorum");
  EXPECT_EQ(parsed.config.tick_milliseconds, 5);
  EXPECT_FALSE(parsed.config.fsync);
  const auto& options = dynamic_cast<quorum::QuorumOptions&>(*parsed.options);
  EXPECT_EQ(options.replicas, 2);
  EXPECT_EQ(options.conflict, "lww");
}

TEST(NodeConfig, BadSettingsAreOneLineErrorsNamingTheSetting) {
  EXPECT_EQ(error_of({}), "--protocol is required (raft, zab, quorum)");
  EXPECT_EQ(error_of({"--protocol", "paxos"}), "--protocol paxos: unknown protocol (available: raft, zab, quorum)");
  EXPECT_EQ(error_of({"--protocol", "raft", "--n", "2"}), "--n: a flag of protocol quorum, not of raft");
  EXPECT_EQ(error_of({"--protocol", "zab", "--read-mode", "lease"}), "--read-mode lease: expected local, sync for zab");
  EXPECT_EQ(error_of({"--protocol", "raft", "--bug", "skip-truncate"}),
            "--bug skip-truncate: not a bug of protocol raft (see --help)");
  EXPECT_EQ(error_of({"--protocol", "raft", "--bug", "everything"}), "--bug everything: unknown (see --help)");
  // A bug planted in two protocols is each one's.
  for (const char* protocol : {"raft", "zab"}) {
    EXPECT_TRUE(parse({"--protocol", protocol, "--bug", "ack-before-fsync"}).config.has_bug("ack-before-fsync"))
        << protocol;
  }
  EXPECT_EQ(error_of({"--protocol", "quorum", "--bug", "ack-before-fsync"}),
            "--bug ack-before-fsync: not a bug of protocol quorum (see --help)");
  EXPECT_EQ(error_of({"--protocol", "quorum", "--r", "3"}), "--r 3 / --w 0: must be between 1 and N=2");
  EXPECT_EQ(error_of({"--protocol", "raft", "--fsync", "maybe"}), "--fsync maybe: expected on or off");
  EXPECT_EQ(error_of({"--protocol", "raft", "--failpoint", "before-fsync=explode"}),
            "failpoint before-fsync: action 'explode' is not one of [P%]crash, [P%]sleep(MS), [P%]error, off");
  EXPECT_EQ(error_of({"--protocol", "raft", "--failpoint", "before-apply=error"}),
            "failpoint before-apply: error has no meaning here (crash or sleep(MS))");
  EXPECT_EQ(error_of({"--protocol", "raft", "--failpoint", "before-fsync"}),
            "--failpoint before-fsync: expected NAME=ACTION");
  EXPECT_EQ(
      parse({"--protocol", "raft", "--failpoint", "before-fsync=10%crash", "--failpoint", "before-apply=sleep(5)"})
          .config.failpoints,
      (std::vector<std::string>{"before-fsync=10%crash", "before-apply=sleep(5)"}));

  const auto path = write_config(R"({"protocol": "raft", "virtual_nodes": 8})");
  EXPECT_EQ(error_of({"--config", path.string()}),
            "--config " + path.string() + ": unknown key 'virtual_nodes' for raft");
  std::filesystem::remove(path);
  const auto drift = write_config(R"({"protocol": "raft", "clock_drift_bound_ms": 900})");
  EXPECT_EQ(error_of({"--config", drift.string()}), "clock drift bound must be below the minimum election timeout");
  std::filesystem::remove(drift);
}

}  // namespace
}  // namespace chaosbench::targets
