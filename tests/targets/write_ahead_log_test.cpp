// WAL and Raft storage: records survive reopening, a torn tail (any prefix of
// the last write, or zeros) is cut off, every flipped bit of synced data is
// refused with the file and offset named, snapshots and log rewrites recover exactly.
#include "runtime/write_ahead_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include "temporary_directory.h"

#include <filesystem>
#include <fstream>

#include "raft/raft_storage.h"
#include "runtime/logger.h"
#include "sim/simulated_disk.h"

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
    EXPECT_EQ(wal.truncated_tail_bytes(), 112u - 30u);
    wal.append("after");
    wal.sync();
  }
  WriteAheadLog reopened(path, true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"first", "after"}));
}

// The old rule called a bad checksum on the last record a torn write and
// dropped it silently: a bit flipped in an acknowledged, synced record lost it.
TEST(WriteAheadLog, AFlippedBitInTheLastSyncedRecordIsCorruptionNamingFileAndOffset) {
  TemporaryDirectory directory;
  const auto path = directory.path() / "wal.log";
  {
    WriteAheadLog wal(path, false);
    wal.append("first");
    wal.append("second");
    wal.sync();
  }
  flip_byte(path, std::filesystem::file_size(path) - 1);
  try {
    WriteAheadLog wal(path, false);
    FAIL() << "a corrupted last record was accepted";
  } catch (const WalCorruption& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.string() + ": corrupt record at offset 37 "), std::string::npos) << message;
    EXPECT_NE(message.find("checksum mismatch"), std::string::npos) << message;
  }
}

// Every single-bit flip anywhere in a synced log, header or payload, first
// record or last, is refused (CRC32C catches every one-bit error, and a flip
// cannot shorten the file, so nothing looks torn).
TEST(WriteAheadLog, EveryBitFlipOfASyncedLogIsRefused) {
  sim::SimulatedDisk disk;
  {
    WriteAheadLog wal("/wal.log", true, disk);
    wal.append("a");
    wal.append("");
    wal.append(std::string(40, 'z'));
    wal.append("");  // an empty payload's record is zeros but for its header checksum
    wal.sync();
  }
  const std::string synced = *disk.read_file("/wal.log");
  for (std::size_t offset = 0; offset < synced.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      sim::SimulatedDisk flipped;
      std::string contents = synced;
      contents[offset] = static_cast<char>(contents[offset] ^ (1 << bit));
      flipped.replace_file("/wal.log", contents, true);
      EXPECT_THROW(WriteAheadLog("/wal.log", true, flipped), WalCorruption) << "offset " << offset << " bit " << bit;
    }
  }
}

// Any prefix of an unsynced append (a torn write) is recovered silently: the
// synced records, the whole records of the prefix, the torn rest truncated.
TEST(WriteAheadLog, EveryTornPrefixOfTheLastWriteIsTruncatedSilently) {
  sim::SimulatedDisk disk;
  {
    WriteAheadLog wal("/wal.log", true, disk);
    wal.append("synced");
    wal.sync();
  }
  const std::string synced = *disk.read_file("/wal.log");
  std::string batch;
  {
    sim::SimulatedDisk scratch;
    WriteAheadLog wal("/batch.log", true, scratch);
    wal.append("one");
    wal.append(std::string(30, 'b'));
    wal.sync();
    batch = scratch.read_file("/batch.log")->substr(WriteAheadLog::kFileHeaderBytes);
  }
  const std::size_t first_record = WriteAheadLog::kHeaderBytes + 3;
  for (std::size_t kept = 0; kept <= batch.size(); ++kept) {
    sim::SimulatedDisk torn;
    torn.replace_file("/wal.log", synced + batch.substr(0, kept), true);
    WriteAheadLog wal("/wal.log", true, torn);
    std::vector<std::string> expected{"synced"};
    if (kept >= first_record) expected.push_back("one");
    if (kept == batch.size()) expected.push_back(std::string(30, 'b'));
    EXPECT_EQ(wal.recovered(), expected) << kept << " bytes kept";
    const std::size_t whole = kept == batch.size() ? kept : kept >= first_record ? first_record : 0;
    EXPECT_EQ(wal.truncated_tail_bytes(), kept - whole) << kept << " bytes kept";
  }
}

// Synced bytes cut off the end, or zeroed from a record boundary on, look
// like a torn write; the header's claim tells them apart. It lags one sync
// behind, so only the last batch can still be cut silently.
TEST(WriteAheadLog, SyncedBytesCutOffTheEndAreCorruptionNotATornWrite) {
  sim::SimulatedDisk disk;
  {
    WriteAheadLog wal("/wal.log", true, disk);
    wal.append("first batch");
    wal.sync();
    wal.append("second batch");
    wal.sync();
    wal.append("third");
    wal.sync();
    EXPECT_EQ(wal.claimed_synced_bytes(), WriteAheadLog::kFileHeaderBytes + 2 * WriteAheadLog::kHeaderBytes + 23);
  }
  const std::string synced = *disk.read_file("/wal.log");
  const std::size_t claim = WriteAheadLog::kFileHeaderBytes + 2 * WriteAheadLog::kHeaderBytes + 23;
  for (std::size_t size = 0; size < synced.size(); ++size) {
    for (const bool zeros : {false, true}) {
      if (zeros && size > claim) continue;  // zeros after part of a record's header are garbage, not torn
      sim::SimulatedDisk damaged;
      std::string contents = synced.substr(0, size);
      if (zeros) contents.append(synced.size() - size, '\0');
      damaged.replace_file("/wal.log", contents, true);
      if (size < claim) {
        EXPECT_THROW(WriteAheadLog("/wal.log", true, damaged), WalCorruption) << size << " bytes kept";
      } else {
        WriteAheadLog wal("/wal.log", true, damaged);
        EXPECT_EQ(wal.recovered(), (std::vector<std::string>{"first batch", "second batch"})) << size;
      }
    }
  }
  sim::SimulatedDisk cut;
  cut.replace_file("/wal.log", synced.substr(0, claim - 5), true);
  try {
    WriteAheadLog wal("/wal.log", true, cut);
    FAIL() << "a log cut before its claim was accepted";
  } catch (const WalCorruption& error) {
    EXPECT_EQ(std::string(error.what()),
              fmt::format("/wal.log: the records end at offset 43, but the header says {} bytes were synced ({} of "
                          "them missing or damaged at the end); refusing to start on corrupted synced data",
                          claim, claim - 43));
  }
}

// With fsync off nothing is claimed: a power loss may take anything.
TEST(WriteAheadLog, WithoutFsyncTheHeaderClaimsNothing) {
  sim::SimulatedDisk disk;
  {
    WriteAheadLog wal("/wal.log", false, disk);
    wal.append("one");
    wal.sync();
    wal.append("two");
    wal.sync();
    EXPECT_EQ(wal.claimed_synced_bytes(), 0u);
  }
  disk.replace_file("/wal.log", disk.read_file("/wal.log")->substr(0, WriteAheadLog::kFileHeaderBytes), true);
  EXPECT_TRUE(WriteAheadLog("/wal.log", false, disk).recovered().empty());
}

// A file system that extends the file before the data reaches it leaves
// zeros: torn. Non-zero bytes that are no record are not a torn write.
TEST(WriteAheadLog, AZeroFilledTailIsTornButGarbageIsCorruption) {
  for (const bool zeros : {true, false}) {
    sim::SimulatedDisk disk;
    {
      WriteAheadLog wal("/wal.log", true, disk);
      wal.append("kept");
      wal.sync();
    }
    const std::string tail = zeros ? std::string(40, '\0') : std::string(40, '\x5a');
    disk.replace_file("/wal.log", *disk.read_file("/wal.log") + tail, true);
    if (zeros) {
      WriteAheadLog wal("/wal.log", true, disk);
      EXPECT_EQ(wal.recovered(), std::vector<std::string>{"kept"});
      EXPECT_EQ(wal.truncated_tail_bytes(), 40u);
    } else {
      EXPECT_THROW(WriteAheadLog("/wal.log", true, disk), WalCorruption);
    }
  }
}

// A snapshot file is written whole and renamed into place: any flipped bit is corruption.
TEST(WriteAheadLog, EveryBitFlipOfACheckedFileIsRefused) {
  sim::SimulatedDisk disk;
  WriteAheadLog::write_file_atomically("/snapshot.bin", "state machine", true, disk);
  ASSERT_EQ(WriteAheadLog::read_checked_file("/snapshot.bin", disk), "state machine");
  const std::string synced = *disk.read_file("/snapshot.bin");
  for (std::size_t offset = 0; offset < synced.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string contents = synced;
      contents[offset] = static_cast<char>(contents[offset] ^ (1 << bit));
      disk.replace_file("/snapshot.bin", contents, true);
      EXPECT_THROW(WriteAheadLog::read_checked_file("/snapshot.bin", disk), WalCorruption)
          << "offset " << offset << " bit " << bit;
    }
  }
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
  flip_byte(path, WriteAheadLog::kFileHeaderBytes + WriteAheadLog::kHeaderBytes + 2);  // inside the first payload
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
