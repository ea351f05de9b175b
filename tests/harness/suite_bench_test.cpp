// harness bench's analysis of a history: warm-up and final reads left out,
// latency percentiles and availability per fault window, and recovery after
// each heal (first ok op; throughput back within 10% of before the fault);
// then `harness bench` end to end on two short real Raft runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "chaosbench/harness/bench_command.h"
#include "chaosbench/harness/control/process.h"

namespace fs = std::filesystem;
using chaosbench::harness::analyze_bench_history;

namespace {

struct TemporaryFile {
  TemporaryFile() {
    std::string pattern = (fs::temp_directory_path() / "cb-bench-XXXXXX").string();
    const int descriptor = ::mkstemp(pattern.data());
    if (descriptor < 0) throw std::runtime_error("mkstemp failed");
    ::close(descriptor);
    path = pattern;
  }
  ~TemporaryFile() { fs::remove(path); }
  fs::path path;
};

// One op every 10 ms from 0 to 20 s, 1 ms latency (3 ms while faulted); a
// partition applied at 8 s and stopped (healed) at 10 s: ops invoked in it
// fail; after the heal, no op succeeds until 11.5 s. Final reads at 21 s.
std::string synthetic_history() {
  std::string text;
  int index = 0;
  auto op = [&](const std::string& type, const std::string& process, const std::string& f, double seconds,
                const std::string& value = "null") {
    text += fmt::format("{{\"index\":{},\"type\":\"{}\",\"process\":{},\"f\":\"{}\",\"value\":{},\"time\":{}}}\n",
                        index++, type, process, f, value, static_cast<long long>(seconds * 1e9));
  };
  for (int step = 0; step < 2000; ++step) {
    const double time = step * 0.01;
    if (step == 800) {
      op("invoke", "\"nemesis\"", "start-partition", time, "{\"n1\":[\"n2\"]}");
      op("info", "\"nemesis\"", "start-partition", time, "{\"shape\":\"halves\"}");
    }
    if (step == 1000) {
      op("invoke", "\"nemesis\"", "stop-partition", time);
      op("info", "\"nemesis\"", "stop-partition", time + 0.001);
    }
    const bool faulted = time >= 8 && time < 10;
    const bool stalled = time >= 10 && time < 11.5;
    op("invoke", "1", "read", time);
    op(faulted || stalled ? "fail" : "ok", "1", "read", time + (faulted ? 0.003 : 0.001), "1");
  }
  op("invoke", "2", "read", 21);
  op("ok", "2", "read", 21.5, "1");
  return text;
}

}  // namespace

TEST(BenchAnalysis, WindowsLatencyAvailabilityAndRecoveryFromAHistory) {
  TemporaryFile file;
  std::ofstream(file.path) << synthetic_history();
  const auto analysis = analyze_bench_history(file.path, 2.0, 20.0);
  EXPECT_DOUBLE_EQ(analysis.measured_seconds, 18.0);
  // Ops invoked in [2 s, 20 s): 1800, of which 200 faulted and 150 stalled fail.
  EXPECT_EQ(analysis.overall.completed, 1800u);
  EXPECT_EQ(analysis.overall.ok, 1800u - 200 - 150);
  EXPECT_NEAR(analysis.ok_per_second, 1450.0 / 18.0, 1e-9);
  EXPECT_NEAR(analysis.overall.p50_ms, 1.0, 0.01);
  ASSERT_EQ(analysis.by_window.count("partition"), 1u);
  EXPECT_EQ(analysis.by_window.at("partition").completed, 200u);
  EXPECT_EQ(analysis.by_window.at("partition").ok, 0u);
  EXPECT_DOUBLE_EQ(analysis.by_window.at("partition").availability(), 0.0);
  EXPECT_EQ(analysis.by_window.at("none").completed, 1600u);
  ASSERT_EQ(analysis.recoveries.size(), 1u);
  const auto& recovery = analysis.recoveries.front();
  EXPECT_EQ(recovery.fault, "partition");
  EXPECT_NEAR(recovery.heal_seconds, 10.001, 1e-6);
  ASSERT_TRUE(recovery.first_ok_seconds.has_value());
  EXPECT_NEAR(*recovery.first_ok_seconds, 11.501 - 10.001, 1e-6);
  ASSERT_TRUE(recovery.throughput_back_seconds.has_value());
  // Baseline 100 ok/s; a 1 s window from the heal reaches 90 ok only once it starts at ~1.4 s.
  EXPECT_NEAR(*recovery.throughput_back_seconds, 1.4, 0.11);
}

TEST(BenchAnalysis, MalformedLineIsNamed) {
  TemporaryFile file;
  std::ofstream(file.path) << "{\"index\":0,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"time\":1}\n{oops\n";
  try {
    analyze_bench_history(file.path, 0, 10);
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(file.path.string() + ":2: "), std::string::npos) << error.what();
  }
}

TEST(BenchCommand, RefusesAWorkloadOneOfTheTargetsDoesNotServe) {
  chaosbench::harness::control::LocalProcessSpec spec;
  spec.argv = {std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness",
               "bench",
               "--targets",
               "raft,quorum",
               "--workload",
               "register",
               "--store",
               "/nonexistent-store-never-created"};
  const auto result = chaosbench::harness::control::run_local(spec, std::chrono::seconds(30), "localhost");
  EXPECT_EQ(result.status.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("target quorum cannot serve workload register: it has no 'cas' op"), std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists("/nonexistent-store-never-created"));
}

TEST(BenchCommand, JudgesEachTargetByWhatItPromises) {
  using chaosbench::harness::promised_checkers;
  EXPECT_EQ(promised_checkers("raft", "kv", {}), std::vector<std::string>{"linearizable"});
  EXPECT_EQ(promised_checkers("zab", "register", {}), std::vector<std::string>{"sequential"});
  EXPECT_EQ(promised_checkers("zab", "register", {"--target-arg=--read-mode=sync"}),
            std::vector<std::string>{"linearizable"});
  EXPECT_EQ(promised_checkers("zookeeper", "kv", {}), std::vector<std::string>{"sequential"});
  EXPECT_EQ(promised_checkers("etcd", "kv", {"--target-arg=--read=serializable"}),
            std::vector<std::string>{"sequential"});
  EXPECT_EQ(promised_checkers("quorum", "unique-register", {}), (std::vector<std::string>{"session", "convergence"}));
  EXPECT_EQ(promised_checkers("redis", "register", {}), std::vector<std::string>{"convergence"});
  EXPECT_TRUE(promised_checkers("etcd", "list-append", {}).empty());
}

TEST(BenchAnalysis, AFaultHealedAtTheEndOfTheRunIsNotANeverRecovered) {
  TemporaryFile file;
  std::ofstream history(file.path);
  history << R"({"index":0,"type":"invoke","process":"nemesis","f":"start-kill","value":null,"time":1000000000})"
          << "\n"
          << R"({"index":1,"type":"info","process":"nemesis","f":"start-kill","value":null,"time":1000000001})"
          << "\n"
          << R"({"index":2,"type":"invoke","process":"nemesis","f":"stop-kill","value":null,"time":9900000000})"
          << "\n"
          << R"({"index":3,"type":"info","process":"nemesis","f":"stop-kill","value":null,"time":9950000000})"
          << "\n";
  history.close();
  const auto analysis = analyze_bench_history(file.path, 0, 10);
  ASSERT_EQ(analysis.recoveries.size(), 1u);
  EXPECT_TRUE(analysis.recoveries[0].run_ended);
  EXPECT_FALSE(analysis.recoveries[0].first_ok_seconds.has_value());
}

TEST(BenchCommand, TwoShortRaftRunsGiveOneTableInEveryFormat) {
  TemporaryFile marker;  // a unique name for the store
  const fs::path store = marker.path.string() + "-store";
  chaosbench::harness::control::LocalProcessSpec spec;
  spec.argv = {std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness",
               "bench",
               "--targets",
               "raft",
               "--nemesis",
               "none,partition",
               "--time-limit",
               "8s",
               "--warmup",
               "2s",
               "--rate",
               "100",
               "--nodes",
               "3",
               "--nemesis-interval",
               "3s",
               "--store",
               store.string()};
  const auto result = chaosbench::harness::control::run_local(spec, std::chrono::seconds(150), "localhost");
  ASSERT_EQ(result.status.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("p99 ms intended"), std::string::npos) << result.out;
  fs::path bench_directory;
  for (const auto& entry : fs::directory_iterator(store / "bench")) bench_directory = entry.path();
  std::ifstream bench_file(bench_directory / "bench.json");
  const auto bench = nlohmann::json::parse(bench_file);
  ASSERT_EQ(bench["rows"].size(), 2u);
  for (const auto& row : bench["rows"]) {
    EXPECT_EQ(row["verdict"], "valid") << row.dump();
    EXPECT_EQ(row["promised"], "linearizable valid") << row.dump();
    EXPECT_EQ(row["linearizable"], "valid") << row.dump();
    const auto& analysis = row["analysis"];
    // 100 ops/s for 6 measured seconds, nearly all ok.
    EXPECT_GT(analysis["overall"]["completed"].get<int>(), 450) << row.dump();
    EXPECT_GT(analysis["ok_per_second"].get<double>(), 50) << row.dump();
    EXPECT_GT(analysis["overall"]["p50_ms"].get<double>(), 0) << row.dump();
  }
  EXPECT_EQ(bench["rows"][0]["analysis"]["by_window"].size(), 1u);  // none: only "none"
  EXPECT_TRUE(bench["rows"][1]["analysis"]["by_window"].contains("partition")) << bench["rows"][1].dump();
  std::ifstream csv(bench_directory / "bench.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 3);
  EXPECT_TRUE(fs::exists(bench_directory / "bench.html"));
  std::error_code ignored_because_best_effort;
  fs::remove_all(store, ignored_because_best_effort);
}
