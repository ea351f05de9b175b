// The simulator library (targets/sim): SimulatedDisk loses exactly what was
// not synced, and the real WAL recovers over it; SimulatedNetwork keeps FIFO
// links in order, drops what a blocked link or a restarted node must not get,
// and holds what reaches a paused node; Links partitions.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "runtime/write_ahead_log.h"
#include "sim/links.h"
#include "sim/simulated_disk.h"
#include "sim/simulated_network.h"

namespace chaosbench::sim {
namespace {

TEST(SimulatedDisk, ACrashKeepsWhatWasSyncedAndDropsTheRest) {
  SimulatedDisk disk;
  {
    auto file = disk.open_appendable("/n1/wal.log");
    file->append("synced;");
    file->sync();
    file->append("written only;");
  }
  EXPECT_EQ(*disk.read_file("/n1/wal.log"), "synced;written only;") << "the process sees its own writes";
  disk.replace_file("/n1/snapshot.bin", "new", /*sync=*/false);
  disk.open_appendable("/n1/never-synced")->append("x");
  disk.crash();
  EXPECT_EQ(*disk.read_file("/n1/wal.log"), "synced;");
  EXPECT_FALSE(disk.read_file("/n1/snapshot.bin")) << "an unsynced new file is gone";
  EXPECT_EQ(disk.read_file("/n1/never-synced"), "") << "an appendable file's directory entry is synced when created";
  EXPECT_EQ(disk.bytes_lost(), 13u + 3u + 1u);
}

TEST(SimulatedDisk, ATearingCrashKeepsASeededPrefixOfEachFilesUnsyncedAppends) {
  std::set<std::size_t> sizes;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    SimulatedDisk disk;
    auto file = disk.open_appendable("/n1/wal.log");
    file->append("synced;");
    file->sync();
    file->append("in flight;");
    disk.replace_file("/n1/snapshot.bin", "replaced, unsynced", /*sync=*/false);
    std::mt19937_64 random(seed);
    disk.crash_tearing(random);
    const std::string kept = *disk.read_file("/n1/wal.log");
    ASSERT_GT(kept.size(), 7u);
    EXPECT_EQ(kept, std::string("synced;in flight;").substr(0, kept.size()));
    EXPECT_EQ(disk.bytes_torn(), kept.size() - 7);
    EXPECT_FALSE(disk.read_file("/n1/snapshot.bin")) << "only appends tear; a replacement is all or nothing";
    sizes.insert(kept.size());
    SimulatedDisk again;  // the same seed tears the same way
    auto same = again.open_appendable("/n1/wal.log");
    same->append("synced;");
    same->sync();
    same->append("in flight;");
    std::mt19937_64 replay(seed);
    again.crash_tearing(replay);
    EXPECT_EQ(*again.read_file("/n1/wal.log"), kept);
  }
  EXPECT_GT(sizes.size(), 5u) << "the prefix length is drawn, not fixed";
}

TEST(SimulatedDisk, AnArmedPowerLossFailsTheNextSyncAndTheWalDropsTheTornTailDurably) {
  int truncated = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SimulatedDisk disk;
    {
      targets::WriteAheadLog wal("/n1/wal.log", true, disk);
      wal.append("one");
      wal.sync();
      wal.append("two");
      wal.append(std::string(50, 't'));
      disk.lose_power_at_next_sync();
      EXPECT_THROW(wal.sync(), PowerLoss);
    }
    std::mt19937_64 random(seed);
    disk.crash_tearing(random);
    std::vector<std::string> recovered;
    {
      targets::WriteAheadLog wal("/n1/wal.log", true, disk);
      recovered = wal.recovered();
      truncated += wal.truncated_tail_bytes() > 0 ? 1 : 0;
      ASSERT_GE(recovered.size(), 1u);
      EXPECT_EQ(recovered[0], "one");
    }
    disk.crash();  // the truncation was synced: the torn bytes do not come back
    targets::WriteAheadLog reopened("/n1/wal.log", true, disk);
    EXPECT_EQ(reopened.recovered(), recovered);
    EXPECT_EQ(reopened.truncated_tail_bytes(), 0u);
  }
  EXPECT_GT(truncated, 20) << "most tears end inside a record";
}

TEST(SimulatedDisk, AFlippedBitLandsInSyncedBytesAndTheWalRefusesToRecover) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SimulatedDisk disk;
    {
      targets::WriteAheadLog wal("/n1/wal.log", true, disk);
      wal.append("synced record");
      wal.sync();
      wal.append("in flight");
      disk.lose_power_at_next_sync();
      EXPECT_THROW(wal.sync(), PowerLoss);
    }
    std::mt19937_64 random(seed);
    disk.crash_tearing(random);
    const auto flip = disk.flip_synced_bit(random);
    ASSERT_TRUE(flip);
    EXPECT_EQ(flip->path, "/n1/wal.log");
    EXPECT_LT(flip->offset, targets::WriteAheadLog::kFileHeaderBytes + targets::WriteAheadLog::kHeaderBytes + 13)
        << "never in the torn prefix";
    EXPECT_THROW(targets::WriteAheadLog("/n1/wal.log", true, disk), targets::WalCorruption);
  }
  SimulatedDisk empty;
  std::mt19937_64 random(1);
  EXPECT_FALSE(empty.flip_synced_bit(random)) << "nothing synced, nothing to flip";
}

TEST(SimulatedDisk, TheRealWriteAheadLogRecoversItsSyncedRecordsAfterACrash) {
  SimulatedDisk disk;
  {
    targets::WriteAheadLog wal("/n1/wal.log", true, disk);
    wal.append("one");
    wal.append("two");
    wal.sync();
    wal.append("three");  // buffered in the process, lost with it
  }
  disk.crash();
  targets::WriteAheadLog reopened("/n1/wal.log", true, disk);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"one", "two"}));
  reopened.rewrite({"snapshot"});
  disk.crash();
  targets::WriteAheadLog after_rewrite("/n1/wal.log", true, disk);
  EXPECT_EQ(after_rewrite.recovered(), (std::vector<std::string>{"snapshot"})) << "a synced rewrite survives";
}

TEST(SimulatedNetwork, FifoLinksDeliverInSendOrderAndDuplicatesFollowTheirOriginal) {
  std::mt19937_64 random(7);
  SimulatedNetwork<int> network(random, NetworkFaults{.duplicate_probability = 0.3, .max_delay = 5}, LinkOrder::fifo,
                                2);
  for (int message = 0; message < 200; ++message) network.send(0, 1, message, message / 10, /*faulty=*/true);
  std::vector<int> received;
  for (std::int64_t now = 0; now < 100; ++now) {
    while (auto delivery = network.next_due(now, nullptr)) received.push_back(delivery->message);
  }
  ASSERT_GT(received.size(), 200u) << "some were duplicated";
  for (std::size_t index = 1; index < received.size(); ++index) {
    EXPECT_LE(received[index - 1], received[index]) << "out of order at " << index;
  }
}

TEST(SimulatedNetwork, BlockedLinksRestartedRecipientsAndPausesAreHonoured) {
  std::mt19937_64 random(1);
  SimulatedNetwork<std::string> network(random, NetworkFaults{}, LinkOrder::reorder, 3);
  Links links(3);
  links.isolate(2);
  EXPECT_FALSE(links.connected(0, 2));
  EXPECT_TRUE(links.connected(0, 1));
  network.send(0, 2, "cut", 0, false);
  network.send(0, 1, "before crash", 0, false);
  network.crash(1, /*new_connections=*/true);
  network.restart(1);
  network.send(0, 1, "after restart", 0, false);
  network.pause(0, 5);
  network.send(1, 0, "while paused", 0, false);
  std::vector<std::string> delivered;
  while (auto delivery = network.next_due(0, &links)) delivered.push_back(delivery->message);
  EXPECT_EQ(delivered, (std::vector<std::string>{"after restart"}));
  EXPECT_TRUE(network.paused(0, 4));
  const auto held = network.resume(0);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].message, "while paused");
}

TEST(Links, ARandomSplitCutsEveryPairAcrossItsSides) {
  std::mt19937_64 random(3);
  Links links(5);
  links.split_randomly(random);
  for (std::size_t a = 0; a < 5; ++a) {
    for (std::size_t b = 0; b < 5; ++b) {
      EXPECT_EQ(links.connected(a, b), links.connected(b, a)) << "a split is symmetric";
    }
  }
  links.heal();
  EXPECT_FALSE(links.any_blocked());
}

}  // namespace
}  // namespace chaosbench::sim
