// refnode: runs one reference protocol node (currently Raft). Exit codes:
// 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure (I/O error, corrupted
// WAL), 3 bad flags or configuration (one-line message on stderr).
#include <boost/asio.hpp>
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/logger.h"
#include "common/node_config.h"
#include "raft/raft_server.h"

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
    chaosbench::raft::RaftServer server(io_context, config, logger);
    server.start();
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
