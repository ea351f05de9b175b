// CRC32C (Castagnoli), the WAL's record checksum: the standard check value.
#include "runtime/crc32c.h"

#include <gtest/gtest.h>

namespace chaosbench::targets {
namespace {

TEST(Crc32c, KnownVector) { EXPECT_EQ(crc32c("123456789"), 0xE3069283u); }

}  // namespace
}  // namespace chaosbench::targets
