// Failpoints: the action grammar, the seeded probability, and that the
// storage env passes each storage point once per write, fsync and replacement
// of the real WAL and snapshot file
// (crash as a death test: the child dies of SIGKILL at that point).
#include "runtime/failpoints.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "runtime/write_ahead_log.h"
#include "temporary_directory.h"

namespace chaosbench::targets {
namespace {

using nlohmann::json;

TEST(Failpoints, ParsesActionsWithAndWithoutProbability) {
  auto crash = parse_failpoint_action("before-fsync", "crash");
  ASSERT_TRUE(crash);
  EXPECT_EQ(crash->kind, FailpointAction::Kind::crash);
  EXPECT_EQ(crash->percent, 100);
  auto sleep = parse_failpoint_action("before-apply", "25%sleep(200)");
  ASSERT_TRUE(sleep);
  EXPECT_EQ(sleep->kind, FailpointAction::Kind::sleep);
  EXPECT_EQ(sleep->percent, 25);
  EXPECT_EQ(sleep->sleep_milliseconds, 200);
  EXPECT_EQ(sleep->text(), "25%sleep(200)");
  EXPECT_EQ(parse_failpoint_action("before-ack-send", "error")->text(), "error");
  EXPECT_EQ(parse_failpoint_action("after-wal-append", "0.5%crash")->text(), "0.5%crash");
  EXPECT_FALSE(parse_failpoint_action("before-fsync", "off"));
}

TEST(Failpoints, RefusesWhatItCannotDoWithOneLineNamingThePoint) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"before-fsnyc", "crash"},     {"before-fsync", "explode"},  {"before-fsync", "0%crash"},
      {"before-fsync", "101%crash"}, {"before-fsync", "sleep(x)"}, {"before-fsync", "sleep(5"},
      {"before-apply", "error"},     {"before-fsync", "%crash"},   {"after-snapshot-install", "error"}};
  for (const auto& [point, action] : bad) {
    try {
      parse_failpoint_action(point, action);
      ADD_FAILURE() << point << "=" << action << " was accepted";
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("failpoint " + point), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_THROW(Failpoints("n1", {"before-fsync"}), std::invalid_argument);  // no =ACTION
}

TEST(Failpoints, UnarmedPointsDoNothingAndArmedErrorsFireWithTheirProbability) {
  Failpoints failpoints("n1", {"before-ack-send=30%error"});
  EXPECT_FALSE(failpoints.hit("before-vote-send"));
  int fired = 0;
  for (int i = 0; i < 2000; ++i) fired += failpoints.hit("before-ack-send") ? 1 : 0;
  EXPECT_GT(fired, 450);  // 600 expected
  EXPECT_LT(fired, 750);
  const json described = failpoints.describe();
  EXPECT_EQ(described["armed"]["before-ack-send"], "30%error");
  EXPECT_EQ(described["hits"]["before-ack-send"], 2000);
  EXPECT_EQ(described["fired"]["before-ack-send"], fired);
  // The same node id draws the same sequence: a seed replays.
  Failpoints again("n1", {"before-ack-send=30%error"});
  int fired_again = 0;
  for (int i = 0; i < 2000; ++i) fired_again += again.hit("before-ack-send") ? 1 : 0;
  EXPECT_EQ(fired_again, fired);
}

TEST(Failpoints, TheRequestArmsDisarmsAndLists) {
  Failpoints failpoints("n1", {});
  json value = failpoints.handle_request({{"op", "failpoint"}, {"name", "before-fsync"}, {"action", "error"}});
  EXPECT_EQ(value["armed"]["before-fsync"], "error");
  EXPECT_THROW(failpoints.hit_storage("before-fsync"), FailpointError);
  value = failpoints.handle_request({{"op", "failpoint"}, {"name", "before-fsync"}, {"action", "off"}});
  EXPECT_TRUE(value["armed"].empty());
  EXPECT_NO_THROW(failpoints.hit_storage("before-fsync"));
  value = failpoints.handle_request({{"op", "failpoint"}});
  EXPECT_EQ(value["points"].size(), failpoint_points().size());
  EXPECT_THROW(failpoints.handle_request({{"op", "failpoint"}, {"name", "before-fsync"}}), std::invalid_argument);
  EXPECT_THROW(failpoints.handle_request({{"op", "failpoint"}, {"name", 7}, {"action", "crash"}}),
               std::invalid_argument);
}

TEST(Failpoints, TheStorageEnvPassesEachStoragePointOncePerWriteFsyncAndReplacement) {
  testing::TemporaryDirectory directory("failpoints");
  std::vector<std::string> specs;
  for (const char* point : {"before-wal-append", "after-wal-append", "before-fsync", "after-fsync",
                            "before-snapshot-save", "after-snapshot-save"}) {
    specs.push_back(std::string(point) + "=sleep(0)");
  }
  Failpoints failpoints("n1", specs);
  {
    WriteAheadLog wal(directory.path() / "wal.log", true, failpoints.storage_env());
    wal.append("one");
    wal.append("two");
    wal.sync();  // one write and one fdatasync for both records
    wal.sync();  // nothing staged: no disk operation
    WriteAheadLog::write_file_atomically(directory.path() / "snapshot.bin", "state", true, failpoints.storage_env());
  }
  const json hits = failpoints.describe()["hits"];
  EXPECT_EQ(hits["before-wal-append"], 1);
  EXPECT_EQ(hits["after-wal-append"], 1);
  EXPECT_EQ(hits["before-fsync"], 1);
  EXPECT_EQ(hits["after-fsync"], 1);
  EXPECT_EQ(hits["before-snapshot-save"], 1);
  EXPECT_EQ(hits["after-snapshot-save"], 1);
  WriteAheadLog reopened(directory.path() / "wal.log", true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"one", "two"}));
}

TEST(Failpoints, AnErrorAtAStoragePointIsAnIoErrorAndWritesNothing) {
  testing::TemporaryDirectory directory("failpoints");
  Failpoints failpoints("n1", {"before-wal-append=error"});
  {
    WriteAheadLog wal(directory.path() / "wal.log", true, failpoints.storage_env());
    wal.append("lost");
    EXPECT_THROW(wal.sync(), FailpointError);
  }
  WriteAheadLog reopened(directory.path() / "wal.log", true);
  EXPECT_TRUE(reopened.recovered().empty());
}

TEST(FailpointsDeathTest, CrashIsSigkillAfterTheWriteBeforeTheFsync) {
  testing::TemporaryDirectory directory("failpoints");
  EXPECT_EXIT(
      {
        Failpoints failpoints("n1", {"before-fsync=crash"});
        WriteAheadLog wal(directory.path() / "wal.log", true, failpoints.storage_env());
        wal.append("written, never synced");
        wal.sync();
      },
      ::testing::KilledBySignal(SIGKILL), "failpoint before-fsync: crash");
  // SIGKILL keeps the page cache: the written record is there.
  WriteAheadLog reopened(directory.path() / "wal.log", true);
  EXPECT_EQ(reopened.recovered(), (std::vector<std::string>{"written, never synced"}));
}

}  // namespace
}  // namespace chaosbench::targets
