#include "chaosbench/targets/adapters/target_registry.h"

#include <stdexcept>

#include <unistd.h>

#include <fmt/format.h>

#include "chaosbench/targets/adapters/etcd_target.h"
#include "chaosbench/targets/adapters/redis_target.h"
#include "chaosbench/targets/adapters/refnode_target.h"
#include "chaosbench/targets/adapters/zookeeper_target.h"

namespace chaosbench::targets::adapters {

const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names = {"raft", "zab", "quorum", "etcd", "zookeeper", "redis"};
  return names;
}

std::string known_targets_text() {
  std::string text;
  for (const auto& name : target_names()) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::unique_ptr<Target> make_target(const std::string& name, const std::vector<std::string>& target_arguments) {
  if (name == "raft" || name == "zab" || name == "quorum")
    return std::make_unique<RefnodeTarget>(name, target_arguments);
  if (name == "etcd") return std::make_unique<EtcdTarget>(target_arguments);
  if (name == "zookeeper") return std::make_unique<ZookeeperTarget>(target_arguments);
  if (name == "redis") return std::make_unique<RedisTarget>(target_arguments);
  throw std::invalid_argument(fmt::format("--target: unknown target '{}' (known: {})", name, known_targets_text()));
}

void check_required_programs(const Target& target, const std::filesystem::path& refnode) {
  for (const RequiredProgram& required : target.required_programs(refnode)) {
    // A .jar is run by java: it needs to be readable, not executable.
    const int access_mode = required.program.extension() == ".jar" ? R_OK : X_OK;
    if (access(required.program.c_str(), access_mode) == 0) continue;
    if (required.debian_package.empty()) {
      throw std::invalid_argument(fmt::format("--refnode: {} is not an executable file", required.program.string()));
    }
    throw std::invalid_argument(fmt::format("--target {}: {} is not installed (Debian package {})", target.name(),
                                            required.program.string(), required.debian_package));
  }
}

}  // namespace chaosbench::targets::adapters
