// ZAB storage: epochs, log edits (truncate + append) and snapshots survive
// reopening exactly; a missing snapshot file is corruption.
#include "zab/zab_storage.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "temporary_directory.h"

#include <filesystem>

#include "runtime/logger.h"
#include "zab/zab_node.h"

namespace chaosbench::zab {
namespace {

using testing::TemporaryDirectory;

Txn txn(std::uint64_t epoch, std::uint64_t counter) {
  return Txn{Zxid{epoch, counter}, "{\"op\":\"write\",\"key\":\"k\",\"value\":" + std::to_string(counter) + "}", "n1",
             counter};
}

TEST(ZabStorage, RecoversEpochsLogEditsAndSnapshots) {
  TemporaryDirectory directory;
  targets::Logger logger("test");
  {
    ZabStorage storage(directory.path(), true, logger);
    Ready first;
    first.epochs = EpochState{2, 1};
    first.truncate_after = Zxid{};
    first.txns = {txn(1, 1), txn(1, 2), txn(1, 3)};
    storage.stage(first);
    Ready trunc;  // TRUNC to (1,1), then the new leader's txns
    trunc.epochs = EpochState{2, 2};
    trunc.truncate_after = Zxid{1, 1};
    trunc.txns = {txn(2, 1)};
    storage.stage(trunc);
    storage.sync();
  }
  {
    ZabStorage storage(directory.path(), true, logger);
    EXPECT_EQ(storage.state().epochs, (EpochState{2, 2}));
    ASSERT_EQ(storage.state().log.size(), 2u);
    EXPECT_EQ(storage.state().log[0], txn(1, 1));
    EXPECT_EQ(storage.state().log[1], txn(2, 1));
    Ready compaction;
    compaction.snapshot = Snapshot{Zxid{1, 1}, "state-at-1-1"};
    storage.stage(compaction);
    Ready more;
    more.truncate_after = Zxid{2, 1};
    more.txns = {txn(2, 2)};
    storage.stage(more);
    storage.sync();
  }
  ZabStorage storage(directory.path(), true, logger);
  EXPECT_EQ(storage.state().snapshot.zxid, (Zxid{1, 1}));
  EXPECT_EQ(storage.state().snapshot.data, "state-at-1-1");
  EXPECT_EQ(storage.state().epochs, (EpochState{2, 2}));
  ASSERT_EQ(storage.state().log.size(), 2u);
  EXPECT_EQ(storage.state().log[0], txn(2, 1));
  EXPECT_EQ(storage.state().log[1], txn(2, 2));
}

TEST(ZabStorage, MissingSnapshotFileIsCorruption) {
  TemporaryDirectory directory;
  targets::Logger logger("test");
  {
    ZabStorage storage(directory.path(), false, logger);
    Ready ready;
    ready.snapshot = Snapshot{Zxid{1, 5}, "s"};
    storage.stage(ready);
    storage.sync();
  }
  std::filesystem::remove(directory.path() / "snapshot.bin");
  EXPECT_THROW(ZabStorage(directory.path(), false, logger), targets::WalCorruption);
}

}  // namespace
}  // namespace chaosbench::zab
