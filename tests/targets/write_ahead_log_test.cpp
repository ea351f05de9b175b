// WAL and Raft storage: records survive reopening, a torn tail is cut off,
// real corruption is refused, snapshots and log rewrites recover exactly.
#include "runtime/write_ahead_log.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "temporary_directory.h"

#include <filesystem>
#include <fstream>

#include "raft/raft_storage.h"
#include "runtime/logger.h"

namespace chaosbench::targets {
namespace {

using testing::TemporaryDirectory;

void flip_byte(const std::filesystem::path& path, std::uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

TEST(WriteAheadLog, RecordsSurviveReopen) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, true);
    wal.append("one");
    wal.append("two");
    wal.sync();
    wal.append("three");
    wal.sync();
    EXPECT_EQ(wal.sync_count(), 2u);
  }
  WriteAheadLog reopened(path, true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(reopened.truncated_tail_bytes(), 0u);
}

TEST(WriteAheadLog, TornTailIsTruncated) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, true);
    wal.append("first");
    wal.append(std::string(100, 'x'));
    wal.sync();
  }
  const auto full_size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full_size - 30);  // the last write tore
  {
    WriteAheadLog wal(path, true);
    EXPECT_EQ(wal.recovered(), std::vector<std::string>{"first"});
    EXPECT_EQ(wal.truncated_tail_bytes(), 108u - 30u);
    wal.append("after");
    wal.sync();
  }
  WriteAheadLog reopened(path, true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"first", "after"}));
}

TEST(WriteAheadLog, BadChecksumOnLastRecordIsATornWrite) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, false);
    wal.append("first");
    wal.append("second");
    wal.sync();
  }
  flip_byte(path, std::filesystem::file_size(path) - 1);
  WriteAheadLog wal(path, false);
  EXPECT_EQ(wal.recovered(), std::vector<std::string>{"first"});
}

TEST(WriteAheadLog, CorruptionInTheMiddleIsRefused) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, false);
    wal.append("first");
    wal.append("second");
    wal.append("third");
    wal.sync();
  }
  flip_byte(path, 8 + 2);  // inside the first payload
  EXPECT_THROW(WriteAheadLog(path, false), WalCorruption);
}

TEST(WriteAheadLog, RewriteReplacesContents) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, true);
    wal.append("old");
    wal.sync();
    wal.rewrite({"new1", "new2"});
    wal.append("new3");
    wal.sync();
  }
  WriteAheadLog reopened(path, true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"new1", "new2", "new3"}));
}

raft::LogEntry entry(std::uint64_t term, std::uint64_t index, std::string command = "c") {
  return raft::LogEntry{term, index, raft::EntryKind::command, std::move(command)};
}

TEST(RaftStorage, RecoversHardStateEntriesAndSnapshots) {
  TemporaryDirectory directory;
  Logger logger("test");
  {
    raft::RaftStorage storage(directory.path(), true, logger);
    raft::Ready ready;
    ready.hard_state = raft::HardState{3, "n2"};
    ready.entries = {entry(1, 1), entry(1, 2), entry(2, 3)};
    storage.save(ready);
    raft::Ready conflict;
    conflict.entries = {entry(3, 3, "replaced"), entry(3, 4)};
    storage.save(conflict);
  }
  {
    raft::RaftStorage storage(directory.path(), true, logger);
    const auto& state = storage.state();
    EXPECT_EQ(state.hard_state, (raft::HardState{3, "n2"}));
    ASSERT_EQ(state.entries.size(), 4u);
    EXPECT_EQ(state.entries[2].command, "replaced");
    raft::Ready compaction;
    compaction.snapshot = raft::Snapshot{3, 3, "machine"};
    compaction.entries = {entry(3, 5)};
    storage.save(compaction);
  }
  raft::RaftStorage storage(directory.path(), true, logger);
  const auto& state = storage.state();
  EXPECT_EQ(state.snapshot.index, 3u);
  EXPECT_EQ(state.snapshot.data, "machine");
  ASSERT_EQ(state.entries.size(), 2u);
  EXPECT_EQ(state.entries[0].index, 4u);
  EXPECT_EQ(state.entries[1].index, 5u);
  EXPECT_EQ(state.hard_state.term, 3u);
}

TEST(RaftStorage, InstalledSnapshotDiscardsConflictingLog) {
  TemporaryDirectory directory;
  Logger logger("test");
  {
    raft::RaftStorage storage(directory.path(), false, logger);
    raft::Ready ready;
    ready.entries = {entry(1, 1), entry(1, 2), entry(1, 3)};
    storage.save(ready);
    raft::Ready install;
    install.snapshot = raft::Snapshot{2, 2, "leader state"};  // term differs from our entry 2
    install.restore_state_machine = true;
    storage.save(install);
  }
  raft::RaftStorage storage(directory.path(), false, logger);
  EXPECT_EQ(storage.state().snapshot.index, 2u);
  EXPECT_TRUE(storage.state().entries.empty());
}

TEST(RaftStorage, MissingSnapshotFileIsCorruption) {
  TemporaryDirectory directory;
  Logger logger("test");
  {
    raft::RaftStorage storage(directory.path(), false, logger);
    raft::Ready ready;
    ready.entries = {entry(1, 1)};
    storage.save(ready);
    raft::Ready compaction;
    compaction.snapshot = raft::Snapshot{1, 1, "s"};
    storage.save(compaction);
  }
  std::filesystem::remove(directory.path() / "snapshot.bin");
  EXPECT_THROW(raft::RaftStorage(directory.path(), false, logger), WalCorruption);
}

}  // namespace
}  // namespace chaosbench::targets
