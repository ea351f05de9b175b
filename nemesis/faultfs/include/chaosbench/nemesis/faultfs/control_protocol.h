// faultfs's control protocol: one JSON request per line on its Unix socket,
// one JSON reply per line. Requests: {"op":"status"},
// {"op":"lose-unsynced"[,"torn_tails":true]},
// {"op":"tear","glob":G}, {"op":"corrupt","glob":G,"mode":"bitflip|zero|truncate",
// "count":N}, {"op":"error","operations":"read,write,fsync|all","probability":P},
// {"op":"full","space_left":BYTES}, {"op":"slow","operations":...,"delay_ms":MS},
// {"op":"clear"}. Replies: {"ok":true,"value":...} or {"ok":false,"error":"..."}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chaosbench/nemesis/faultfs/fault_filesystem.h"

namespace chaosbench::nemesis::faultfs {

// Never throws: a bad request or a failed fault comes back as an error reply.
nlohmann::json handle_control_request(FaultFilesystem& filesystem, const std::string& line);

}  // namespace chaosbench::nemesis::faultfs
