#include "runtime/crc32c.h"

#include <array>

namespace chaosbench::targets {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t value = byte;
    for (int bit = 0; bit < 8; ++bit) value = (value & 1) ? (value >> 1) ^ 0x82F63B78u : value >> 1;
    table[byte] = value;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t initial) {
  std::uint32_t value = ~initial;
  for (unsigned char byte : bytes) value = kTable[(value ^ byte) & 0xFF] ^ (value >> 8);
  return ~value;
}

}  // namespace chaosbench::targets
