// refnode: runs one reference protocol node, chosen from the registry below.
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure (I/O error,
// corrupted WAL), 3 bad flags or configuration (one-line message on stderr).
#include <boost/asio.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "quorum/quorum_protocol.h"
#include "raft/raft_protocol.h"
#include "runtime/logger.h"
#include "runtime/protocol_registry.h"
#include "zab/zab_protocol.h"

int main(int argc, char** argv) {
  namespace targets = chaosbench::targets;
  const targets::ProtocolRegistry registry = {chaosbench::raft::raft_protocol(), chaosbench::zab::zab_protocol(),
                                              chaosbench::quorum::quorum_protocol()};
  targets::ParsedNodeConfig parsed;
  try {
    parsed = targets::parse_node_config(argc, argv, registry);
  } catch (const targets::ConfigError& error) {
    std::fprintf(stderr, "refnode: %s\n", error.what());
    return 3;
  }
  std::signal(SIGPIPE, SIG_IGN);
  targets::Logger logger(parsed.config.id);
  try {
    boost::asio::io_context io_context(1);
    std::unique_ptr<targets::NodeProcess> node;
    try {
      node = targets::start_node(io_context, parsed, logger);
    } catch (const targets::ConfigError& error) {
      std::fprintf(stderr, "refnode: %s\n", error.what());
      return 3;
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
