// Asks one reference node for `status` over the client protocol (DESIGN.md)
// with a deadline. A small blocking helper for deploy and the nemesis (each
// call uses its own connection and io_context), not for the workload.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::harness {

// The reply's "value" ({"node","role","term","leader","commit",...}), or
// nullopt when the node does not answer within timeout or answers an error.
std::optional<nlohmann::json> query_status(const std::string& address, std::uint16_t port,
                                           std::chrono::milliseconds timeout);

}  // namespace chaosbench::harness
