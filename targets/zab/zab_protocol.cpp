#include "zab/zab_protocol.h"

#include "zab/zab_server.h"

namespace chaosbench::zab {

targets::ProtocolEntry zab_protocol() {
  targets::ProtocolEntry entry;
  entry.name = "zab";
  entry.read_modes = {"local", "sync"};
  entry.read_mode_help = "local (default, sequential) | sync (a sync through the leader first, linearizable)";
  entry.bugs = {
      {"skip-truncate", "a follower ignores TRUNC and keeps uncommitted txns of an old epoch"},
      {"commit-before-quorum", "the leader commits a proposal on its own ack"},
      {"epoch-not-persisted", "acceptedEpoch/currentEpoch only in memory, derived from the last zxid on restart"},
      {"ack-before-fsync", "a follower ACKs a proposal before its fsync: a power loss loses committed txns"},
  };
  entry.make_node = [](boost::asio::io_context& io_context, const targets::NodeConfig& config,
                       const targets::ProtocolOptions*,
                       targets::Logger& logger) { return std::make_unique<ZabServer>(io_context, config, logger); };
  return entry;
}

}  // namespace chaosbench::zab
