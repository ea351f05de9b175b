// Storage faults end to end. faultfs mounted for real (FUSE, inside a user and
// mount namespace made by unshare): what a process wrote and fsynced survives
// lose-unsynced, the rest does not; injected EIO and ENOSPC reach the caller.
// `harness run` on refnode Raft: with --fsync=off a whole-cluster power loss
// loses acknowledged writes (invalid), with fsync it does not (valid); corrupt
// and the disk faults on a correct cluster stay valid; SIGKILL of the
// controller leaves no faultfs process and no mount; bad input exits 3.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

const std::string kFaultfs = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/faultfs";

bool inside_namespace() { return std::getenv("CHAOSBENCH_FAULTFS_INSIDE") != nullptr; }

json control_request(const fs::path& socket, const std::string& request) {
  control::LocalProcessSpec spec;
  spec.argv = {kFaultfs, "control", socket.string(), request};
  const auto result = control::run_local(spec, 10s, "localhost");
  EXPECT_TRUE(result.succeeded()) << describe(result);
  return json::parse(result.out)["value"];
}

void write_file(const fs::path& path, const std::string& contents, bool sync) {
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(descriptor, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(descriptor, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  if (sync) {
    ASSERT_EQ(::fsync(descriptor), 0);
  }
  ::close(descriptor);
}

void sync_directory(const fs::path& path) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(descriptor, 0);
  ASSERT_EQ(::fsync(descriptor), 0);
  ::close(descriptor);
}

bool mounted(const fs::path& directory) {
  return read_text("/proc/self/mounts").find(" " + directory.string() + " fuse.faultfs") != std::string::npos;
}

// Runs inside the namespace only (the outer test below starts it there).
TEST(FaultfsInside, WhatWasSyncedSurvivesAndTheRestIsLost) {
  if (!inside_namespace()) GTEST_SKIP() << "runs inside unshare, started by FaultfsMount.ThroughTheKernel";
  TemporaryDirectory directory("faultfs");
  const fs::path data = directory.path / "data";
  fs::create_directories(data);
  std::ofstream(data / "before") << "on disk before the mount";
  const fs::path socket = directory.path / "control.sock";
  control::LocalProcessSpec spec;
  spec.argv = {kFaultfs,    "mount",         data.string(), "--state", (directory.path / "state").string(),
               "--control", socket.string(), "--seed",      "4"};
  auto faultfs = control::start_local_daemon(spec, directory.path / "faultfs.log", "localhost");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!fs::exists(socket) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(fs::exists(socket)) << read_text(directory.path / "faultfs.log");
  ASSERT_TRUE(mounted(data));
  EXPECT_EQ(read_text(data / "before"), "on disk before the mount");

  // A WAL-like file: created, synced with its directory, then appended unsynced.
  write_file(data / "wal", "record-1;", true);
  sync_directory(data);
  {
    const int descriptor = ::open((data / "wal").c_str(), O_WRONLY | O_APPEND);
    ASSERT_EQ(::write(descriptor, "record-2;", 9), 9);
    ::close(descriptor);
  }
  // A snapshot replaced by rename without syncing the directory, and a new directory.
  write_file(data / "snapshot.tmp", "new snapshot", true);
  fs::rename(data / "snapshot.tmp", data / "before");
  fs::create_directories(data / "member" / "wal");
  write_file(data / "member" / "wal" / "0.wal", "never synced", false);
  EXPECT_EQ(read_text(data / "wal"), "record-1;record-2;");

  const json lost = control_request(socket, R"({"op":"lose-unsynced"})");
  EXPECT_EQ(read_text(data / "wal"), "record-1;") << lost.dump();
  EXPECT_EQ(read_text(data / "before"), "on disk before the mount") << lost.dump();
  EXPECT_FALSE(fs::exists(data / "member")) << lost.dump();
  EXPECT_FALSE(fs::exists(data / "snapshot.tmp"));

  // Injected errors reach the caller through the kernel.
  control_request(socket, R"({"op":"error","operations":"write","probability":1})");
  {
    const int descriptor = ::open((data / "wal").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(descriptor, 0);
    EXPECT_EQ(::write(descriptor, "x", 1), -1);
    EXPECT_EQ(errno, EIO);
    ::close(descriptor);
  }
  control_request(socket, R"({"op":"clear"})");
  control_request(socket, R"({"op":"full","space_left":4})");
  {
    const int descriptor = ::open((data / "wal").c_str(), O_WRONLY | O_APPEND);
    EXPECT_EQ(::write(descriptor, "abcd", 4), 4);
    EXPECT_EQ(::write(descriptor, "e", 1), -1);
    EXPECT_EQ(errno, ENOSPC);
    ::close(descriptor);
  }
  control_request(socket, R"({"op":"clear"})");
  const json corrupted = control_request(socket, R"({"op":"corrupt","glob":"wal","mode":"bitflip","count":1})");
  EXPECT_EQ(corrupted["file"], "wal");
  EXPECT_NE(read_text(data / "wal"), "record-1;abcd");

  // SIGTERM unmounts; the directory then holds the files.
  ASSERT_TRUE(faultfs->signal(control::Signal::term));
  auto status = faultfs->wait_for(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->succeeded()) << status->describe() << read_text(directory.path / "faultfs.log");
  EXPECT_FALSE(mounted(data));
  EXPECT_EQ(fs::file_size(data / "wal"), 13u);
}

TEST(FaultfsMount, ThroughTheKernel) {
  if (inside_namespace()) GTEST_SKIP();
  control::LocalProcessSpec spec;
  spec.argv = {"unshare", "--user", "--map-root-user", "--mount", "/proc/self/exe", "--gtest_filter=FaultfsInside.*"};
  spec.argv[4] = fs::read_symlink("/proc/self/exe").string();
  spec.environment["CHAOSBENCH_FAULTFS_INSIDE"] = "1";
  const auto result = control::run_local(spec, 60s, "localhost");
  EXPECT_TRUE(result.succeeded()) << describe(result);
  EXPECT_NE(result.out.find("[  PASSED  ] 1 test"), std::string::npos) << result.out;
}

// The nemesis infos of one kind in a history.
std::vector<json> nemesis_infos(const std::string& history, const std::string& function) {
  std::vector<json> infos;
  std::istringstream input(history);
  std::string line;
  while (std::getline(input, line)) {
    const json op = json::parse(line);
    if (op["process"] == "nemesis" && op["type"] == "info" && op["f"] == function) infos.push_back(op["value"]);
  }
  return infos;
}

std::vector<std::string> power_loss_run(const fs::path& store, bool fsync) {
  std::vector<std::string> extra;
  if (!fsync) extra.push_back("--target-arg=--fsync=off");
  return run_arguments({{"--store", store.string()},
                        {"--workload", "set"},
                        {"--nemesis", "power-loss"},
                        {"--kill-targets", "all"},
                        {"--nemesis-interval", "4s"},
                        {"--time-limit", "14s"},
                        {"--seed", "1"}},
                       extra);
}

TEST(StorageFaultRun, RaftWithoutFsyncLosesAcknowledgedWritesInAPowerLoss) {
  TemporaryDirectory directory("storage", true);
  const fs::path store = directory.path / "store";
  auto result = run_harness(power_loss_run(store, false));
  ASSERT_EQ(result.status.exit_code, 1) << describe(result);
  const json set = latest_results(store)["checker"]["set"];
  EXPECT_GT(set["lost"].get<int>(), 0) << set.dump();
  const auto losses = nemesis_infos(latest_history_text(store), "start-power-loss");
  ASSERT_FALSE(losses.empty());
  // What each node lost is in the history: its WAL cut back to what was synced.
  bool wal_cut = false;
  for (const auto& [node, effect] : losses.front()["effects"].items()) {
    for (const auto& file : effect["files"]) {
      if (file["path"] == "wal.log" && file["size_after"] < file["size_before"]) wal_cut = true;
    }
  }
  EXPECT_TRUE(wal_cut) << losses.front().dump();
  const fs::path run = fs::canonical(store / "latest");
  EXPECT_TRUE(fs::exists(run / "nodes" / "n1" / "data" / "wal.log")) << "the data directory holds its files again";
  EXPECT_FALSE(mounted(run / "nodes" / "n1" / "data"));
}

TEST(StorageFaultRun, RaftWithFsyncLosesNothingInAPowerLoss) {
  TemporaryDirectory directory("storage", true);
  const fs::path store = directory.path / "store";
  auto result = run_harness(power_loss_run(store, true));
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const json set = latest_results(store)["checker"]["set"];
  EXPECT_EQ(set["lost"], 0);
  EXPECT_GT(set["acknowledged"].get<int>(), 100);
  EXPECT_GE(nemesis_infos(latest_history_text(store), "start-power-loss").size(), 2u);
}

TEST(StorageFaultRun, CorruptAndDiskFaultsOnCorrectRaftStayValidAndAreRecorded) {
  TemporaryDirectory directory("storage", true);
  const fs::path store = directory.path / "store";
  auto result = run_harness(run_arguments({{"--store", store.string()},
                                           {"--nemesis", "corrupt,disk-full,disk-error,disk-slow"},
                                           {"--nemesis-interval", "3s"},
                                           {"--time-limit", "16s"},
                                           {"--seed", "2"}}));
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const std::string history = latest_history_text(store);
  for (const char* kind : {"corrupt", "disk-full", "disk-error", "disk-slow"}) {
    const auto starts = nemesis_infos(history, fmt::format("start-{}", kind));
    ASSERT_FALSE(starts.empty()) << kind;
    for (const auto& start : starts) EXPECT_FALSE(start.contains("error")) << kind << ": " << start.dump();
    EXPECT_EQ(nemesis_infos(history, fmt::format("stop-{}", kind)).size(), starts.size()) << kind;
  }
  for (const auto& start : nemesis_infos(history, "start-corrupt")) {
    for (const auto& [node, effect] : start["effects"].items()) EXPECT_TRUE(effect.contains("file")) << effect.dump();
  }
}

TEST(StorageFaultRun, SigkillOfTheControllerLeavesNoFaultfsAndNoMount) {
  TemporaryDirectory directory("storage", true);
  const fs::path store = directory.path / "store";
  control::LocalProcessSpec spec;
  spec.argv = {
      kHarness, "run",          "--store", store.string(), "--nemesis", "power-loss,disk-slow", "--nemesis-interval",
      "2s",     "--time-limit", "60s",     "--seed",       "3"};
  auto harness = control::start_local_daemon(spec, directory.path / "harness.log", "localhost");
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(store / "latest" / "history.jsonl") &&
        read_text(fs::canonical(store / "latest" / "history.jsonl")).find("start-") != std::string::npos)
      break;
    std::this_thread::sleep_for(200ms);
  }
  bool faultfs_running = false;
  for (int pid : processes_mentioning(store.string())) {
    if (read_text(fmt::format("/proc/{}/cmdline", pid)).find("faultfs") != std::string::npos) faultfs_running = true;
  }
  ASSERT_TRUE(faultfs_running) << read_text(directory.path / "harness.log");
  auto init = children_of(harness->pid());
  ASSERT_EQ(init.size(), 1u);
  auto controller = children_of(init.front());
  ASSERT_FALSE(controller.empty());
  ASSERT_EQ(::kill(controller.front(), SIGKILL), 0);
  ASSERT_TRUE(harness->wait_for(15s).has_value());
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(processes_mentioning(store.string()).empty()) << "a faultfs, refnode or harness process survived";
  EXPECT_EQ(read_text("/proc/self/mounts").find(store.string()), std::string::npos) << "a mount survived";
}

TEST(StorageFaultRun, BadInputExitsThreeWithOneLine) {
  TemporaryDirectory directory("storage", true);
  const std::string store = (directory.path / "store").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--nemesis", "power-loss", "--faultfs", "/nonexistent/faultfs"},
       "--nemesis power-loss: faultfs not found at /nonexistent/faultfs"},
      {{"--nemesis", "corrupt", "--corrupt-files", "index"}, "--corrupt-files: unknown class 'index'"},
  };
  for (const auto& [arguments, reason] : cases) {
    std::vector<std::string> argv = {"run", "--store", store};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto result = run_harness(argv, 20s);
    EXPECT_EQ(result.status.exit_code, 3) << describe(result);
    EXPECT_NE(result.err.find(reason), std::string::npos) << describe(result);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << describe(result);
  }
  EXPECT_FALSE(fs::exists(store));
}

}  // namespace
