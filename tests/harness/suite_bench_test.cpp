// harness bench's analysis of a history: warm-up and final reads left out,
// latency percentiles and availability per fault window, and recovery after
// each heal (first ok op; throughput back within 10% of before the fault).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "chaosbench/harness/bench_command.h"

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
    text += fmt::format("{{\"index\":{},\"type\":\"{}\",\"process\":{},\"f\":\"{}\",\"value\":{},\"time\":{}}}\n", index++,
                        type, process, f, value, static_cast<long long>(seconds * 1e9));
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
