// What the nemesis acts on: the deployed cluster, implemented by the harness.
// Network faults go through each node's Host (harness/control); process faults
// (kill, restart, pause, resume) and the leader query through this interface.
// Implementations must be safe to call from the nemesis thread while clients run.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/host.h"

namespace chaosbench::nemesis {

class NemesisTarget {
 public:
  virtual ~NemesisTarget() = default;
  virtual std::vector<std::string> node_names() const = 0;
  virtual harness::control::Host& host(const std::string& node) = 0;
  // SIGKILL and wait for the process to die. No-op if it is already down.
  virtual void kill(const std::string& node) = 0;
  // Starts the node again from its data dir. No-op if it is running.
  virtual void restart(const std::string& node) = 0;
  virtual void pause(const std::string& node) = 0;   // SIGSTOP
  virtual void resume(const std::string& node) = 0;  // SIGCONT
  // The node that currently claims leadership with the highest term (asks
  // `status`), or nullopt when none answers as leader.
  virtual std::optional<std::string> leader() = 0;
  // The node's `status` value ({"role","term","commit","last_index",...}), or
  // nullopt when it does not answer (down, paused) or the target cannot say.
  virtual std::optional<nlohmann::json> status(const std::string& /*node*/) { return std::nullopt; }
  // Arms a failpoint of the node (refnode's `failpoint` request; action "off"
  // disarms). Throws ControlError when the node does not answer or refuses,
  // or the target has no failpoints (real systems).
  virtual void set_failpoint(const std::string& node, const std::string& /*point*/, const std::string& /*action*/) {
    throw harness::control::ControlError(node + ": this target has no failpoints (reference nodes only)");
  }
  // Sends one request to the faultfs under the node's data directory
  // (nemesis/faultfs control_protocol.h) and returns the reply's value. Throws
  // ControlError when the node has no faultfs or faultfs refuses.
  virtual nlohmann::json storage_fault(const std::string& node, const nlohmann::json& /*request*/) {
    throw harness::control::ControlError(node + ": runs without faultfs (no storage fault was asked for)");
  }
  // Whether each node's connections to its peers go through a link proxy
  // (linkproxy); then link_toxics sends one request to the proxy of `node`
  // (link_proxy.h's control protocol) and returns its value. Throws ControlError.
  virtual bool has_link_proxies() const { return false; }
  virtual nlohmann::json link_toxics(const std::string& node, const nlohmann::json& /*request*/) {
    throw harness::control::ControlError(node + ": runs without a link proxy (no link toxic was asked for)");
  }
  // The node's libfaketime offset file, or nullopt when it runs without faketime.
  virtual std::optional<std::filesystem::path> clock_file(const std::string& node) const = 0;
};

}  // namespace chaosbench::nemesis
