// The one place where targets are registered: `harness run --target NAME`
// looks the name up here. Adding a system is one file with a Target subclass
// plus one line in target_registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::targets::adapters {

const std::vector<std::string>& target_names();  // raft, zab, quorum, etcd, zookeeper
std::string known_targets_text();                // "raft, zab, ..."

// The target with its --target-arg values. Throws std::invalid_argument (one
// line, naming the target) for an unknown name or a bad target argument.
std::unique_ptr<Target> make_target(const std::string& name, const std::vector<std::string>& target_arguments);

// Throws std::invalid_argument naming the first missing program and the Debian
// package that provides it.
void check_required_programs(const Target& target, const std::filesystem::path& refnode);

}  // namespace chaosbench::targets::adapters
