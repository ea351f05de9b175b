// refnode: runs one reference protocol node (Raft, ZAB or quorum KV). Exit codes:
// 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure (I/O error, corrupted
// WAL), 3 bad flags or configuration (one-line message on stderr).
#include <boost/asio.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "quorum/quorum_server.h"
#include "raft/raft_server.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "zab/zab_server.h"

int main(int argc, char** argv) {
  chaosbench::targets::NodeConfig config;
  try {
    config = chaosbench::targets::parse_node_config(argc, argv);
  } catch (const chaosbench::targets::ConfigError& error) {
    std::fprintf(stderr, "refnode: %s\n", error.what());
    return 3;
  }
  std::signal(SIGPIPE, SIG_IGN);
  chaosbench::targets::Logger logger(config.id);
  try {
    boost::asio::io_context io_context(1);
    std::unique_ptr<chaosbench::raft::RaftServer> raft_server;
    std::unique_ptr<chaosbench::zab::ZabServer> zab_server;
    std::unique_ptr<chaosbench::quorum::QuorumServer> quorum_server;
    if (config.protocol == "quorum") {
      quorum_server = std::make_unique<chaosbench::quorum::QuorumServer>(io_context, config, logger);
      quorum_server->start();
    } else if (config.protocol == "zab") {
      zab_server = std::make_unique<chaosbench::zab::ZabServer>(io_context, config, logger);
      zab_server->start();
    } else {
      raft_server = std::make_unique<chaosbench::raft::RaftServer>(io_context, config, logger);
      raft_server->start();
    }
    boost::asio::signal_set signals(io_context, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int signal_number) {
      logger.info("signal {}: shutting down", signal_number);
      io_context.stop();
    });
    io_context.run();
  } catch (const std::exception& error) {
    logger.info("fatal: {}", error.what());
    return 1;
  }
  return 0;
}
