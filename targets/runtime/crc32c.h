// CRC32C (Castagnoli), the checksum of every WAL record. Pure function,
// table-driven, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chaosbench::targets {

std::uint32_t crc32c(std::string_view bytes, std::uint32_t initial = 0);

}  // namespace chaosbench::targets
