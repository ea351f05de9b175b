#include "chaosbench/targets/adapters/refnode_target.h"

#include <fmt/format.h>

namespace chaosbench::targets::adapters {

RefnodeTarget::RefnodeTarget(std::string protocol, std::vector<std::string> refnode_arguments)
    : protocol_(std::move(protocol)), refnode_arguments_(std::move(refnode_arguments)) {}

std::set<std::string> RefnodeTarget::supported_operations() const {
  if (protocol_ == "quorum") return {"read", "write", "append", "add", "delete"};
  return all_client_operations();
}

std::vector<RequiredProgram> RefnodeTarget::required_programs(const std::filesystem::path& refnode) const {
  return {{refnode, "", ""}};
}

NodeLaunch RefnodeTarget::launch(const NodeContext& node) const {
  std::string peers;
  for (std::size_t index = 0; index < node.nodes.size(); ++index) {
    const auto& peer = node.nodes[index];
    if (!peers.empty()) peers += ",";
    if (node.link_proxy_base_port != 0 && static_cast<int>(index) != node.index) {
      peers += fmt::format("{}=127.0.0.1:{}", peer.name, node.link_proxy_base_port + index);
    } else {
      peers += fmt::format("{}={}:{}", peer.name, peer.address, kPeerPort);
    }
  }
  NodeLaunch launch;
  launch.argv = {node.refnode.string(),
                 "--protocol",
                 protocol_,
                 "--id",
                 node.self().name,
                 "--peers",
                 peers,
                 "--client-port",
                 std::to_string(client_port()),
                 "--data-dir",
                 node.data_directory().string()};
  for (const auto& argument : refnode_arguments_) launch.argv.push_back(argument);
  return launch;
}

}  // namespace chaosbench::targets::adapters
