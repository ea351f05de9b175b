// ZAB's entry in refnode's protocol registry: its read modes (local, sync),
// planted bugs and node factory. ZAB has no settings beyond the shared ones.
#pragma once

#include "runtime/protocol_registry.h"

namespace chaosbench::zab {

targets::ProtocolEntry zab_protocol();

}  // namespace chaosbench::zab
