// Opens generated reports in Debian's headless Chromium: a real short
// `harness run` (or, where the sandbox is unavailable, a synthetic run), a
// synthetic run with hostile strings, and an invalid imported Porcupine
// history. Checks there are no JavaScript errors, the charts and the timeline
// drew, hover and anomaly links work (the page's #selftest), the anomaly panel
// is there for the invalid run, and injected markup stays text. Screenshots go
// to build/tests/reports_browser_output/<test>/. Skipped without chromium.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "chaosbench/checkers/history_io.h"
#include "chaosbench/harness/control/process.h"
#include "synthetic_run.h"

namespace chaosbench::reports {
namespace {

namespace fs = std::filesystem;
using harness::control::CommandResult;
using harness::control::LocalProcessSpec;
using harness::control::resolve_executable;
using harness::control::run_local;

const std::string kHarness = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness";
const std::string kPorcupine = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/jepsen/";

std::optional<fs::path> find_chromium() {
  const char* path = std::getenv("PATH");
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (auto found = resolve_executable(name, path ? path : "/usr/bin:/bin")) return found;
  }
  return std::nullopt;
}

fs::path output_directory() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path directory = fs::path(CHAOSBENCH_BINARY_DIR) / "tests" / "reports_browser_output" / info->name();
  fs::remove_all(directory);
  fs::create_directories(directory);
  return directory;
}

CommandResult run(std::vector<std::string> argv, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  LocalProcessSpec spec;
  spec.argv = std::move(argv);
  return run_local(spec, timeout, "localhost");
}

struct PageResult {
  std::string dom;
  std::string console;  // chromium's stderr, console messages included
};

// Loads the report once with #selftest for the DOM, once as is for a screenshot.
PageResult open_report(const fs::path& chromium, const fs::path& report, const fs::path& output) {
  auto base = [&](const std::string& profile) {
    fs::create_directories(output / profile);
    return std::vector<std::string>{chromium.string(),
                                    "--headless",
                                    "--no-sandbox",
                                    "--disable-gpu",
                                    "--disable-quic",
                                    "--no-first-run",
                                    "--disable-background-networking",
                                    "--disable-component-update",
                                    "--disable-sync",
                                    "--user-data-dir=" + (output / profile).string(),
                                    "--enable-logging=stderr",
                                    "--v=0",
                                    "--virtual-time-budget=5000",
                                    "--window-size=1400,2600"};
  };
  const std::string url = "file://" + fs::absolute(report).string() + "#selftest";
  auto dump = base("profile-dom");
  dump.push_back("--dump-dom");
  dump.push_back(url);
  const CommandResult page = run(dump);
  EXPECT_EQ(page.status.exit_code, 0) << page.err;
  auto shot = base("profile-shot");
  shot.push_back("--screenshot=" + (output / (report.parent_path().filename().string() + ".png")).string());
  shot.push_back("file://" + fs::absolute(report).string());  // without #selftest: the page as a person sees it
  const CommandResult screenshot = run(shot);
  EXPECT_EQ(screenshot.status.exit_code, 0) << screenshot.err;
  fs::remove_all(output / "profile-dom");
  fs::remove_all(output / "profile-shot");
  std::ofstream(output / (report.parent_path().filename().string() + ".dom.html")) << page.out;
  return {page.out, page.err + screenshot.err};
}

std::string attribute_of(const std::string& dom, const std::string& id, const std::string& attribute) {
  const std::regex pattern("<[^>]*id=\"" + id + "\"[^>]*>");
  std::smatch tag;
  if (!std::regex_search(dom, tag, pattern)) return "";
  const std::string text = tag.str();
  const std::regex value(attribute + "=\"([^\"]*)\"");
  std::smatch found;
  return std::regex_search(text, found, value) ? found[1].str() : "";
}

std::string body_tag(const std::string& dom) {
  const auto begin = dom.find("<body");
  return begin == std::string::npos ? "" : dom.substr(begin, dom.find('>', begin) - begin + 1);
}

long drawn(const std::string& dom, const std::string& id) {
  const std::string value = attribute_of(dom, id, "data-drawn");
  return value.empty() ? -1 : std::stol(value);
}

// What every report must satisfy in the browser.
void expect_healthy_page(const PageResult& page) {
  const std::string body = body_tag(page.dom);
  EXPECT_NE(body.find("data-rendered=\"true\""), std::string::npos) << body;
  EXPECT_EQ(body.find("data-js-errors"), std::string::npos) << page.dom.substr(0, 4000);
  EXPECT_EQ(page.dom.find("id=\"report-errors\""), std::string::npos);
  EXPECT_EQ(page.console.find("Uncaught"), std::string::npos) << page.console;
  EXPECT_EQ(page.console.find(":CONSOLE"), std::string::npos) << page.console;  // no console output at all
  EXPECT_GT(drawn(page.dom, "latency-chart"), 0);
  EXPECT_GT(drawn(page.dom, "percentile-chart"), 0);
  EXPECT_GT(drawn(page.dom, "throughput-chart"), 0);
  EXPECT_GT(drawn(page.dom, "timeline"), 0);
  EXPECT_NE(body.find("data-selftest-hover=\"ok\""), std::string::npos) << body;
  EXPECT_EQ(body.find("data-xss"), std::string::npos) << body;
}

fs::path make_report(const fs::path& run_directory) {
  const CommandResult result = run({kHarness, "report", run_directory.string()});
  EXPECT_EQ(result.status.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(run_directory / "junit.xml"));
  return run_directory / "report.html";
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (!chromium_) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
    output_ = output_directory();
  }
  std::optional<fs::path> chromium_;
  fs::path output_;
};

TEST_F(ReportBrowser, RealShortRun) {
  const fs::path store = output_ / "store";
  const CommandResult result =
      run({kHarness, "run", "--nodes", "3", "--time-limit", "6s", "--nemesis", "partition,kill", "--nemesis-interval",
           "2s", "--rate", "100", "--recovery-time", "1s", "--seed", "11", "--store", store.string()},
          std::chrono::seconds(100));
  fs::path run_directory;
  if (result.status.exit_code == 0 || result.status.exit_code == 1 || result.status.exit_code == 2) {
    run_directory = fs::canonical(store / "latest");
  } else {
    std::cout << "harness run failed here (exit " << result.status.exit_code << "): " << result.err
              << "\nfalling back to a synthetic run\n";
    run_directory = testing::write_synthetic_run(store / "synthetic" / "20261126T120000");
  }
  const PageResult page = open_report(*chromium_, make_report(run_directory), output_);
  expect_healthy_page(page);
  EXPECT_NE(page.dom.find("class=\"fault-shade\""), std::string::npos) << "no fault window drawn";
  EXPECT_NE(page.dom.find("id=\"availability\""), std::string::npos);
  EXPECT_NE(page.dom.find("nodes/n1/log"), std::string::npos);
  const CommandResult index = run({kHarness, "report", "--index", "--store", store.string()});
  EXPECT_EQ(index.status.exit_code, 0) << index.err;
  EXPECT_TRUE(fs::exists(store / "index.html"));
}

TEST_F(ReportBrowser, SyntheticRunWithHostileStrings) {
  const fs::path run_directory =
      testing::write_synthetic_run(output_ / "store" / "synthetic" / "20261126T120000",
                                   {.operations = 5000,
                                    .processes = 12,
                                    .harness_failure_reason = "9 of 10 operations were not served " + testing::kXss});
  const PageResult page = open_report(*chromium_, make_report(run_directory), output_);
  expect_healthy_page(page);
  // Why the harness failed is said at the top, as text.
  EXPECT_NE(page.dom.find("id=\"harness-failure\""), std::string::npos);
  EXPECT_NE(page.dom.find("harness failed: 9 of 10 operations were not served &lt;/script&gt;"), std::string::npos);
  // The hostile value is on the page as text (escaped in the serialised DOM), never as elements.
  EXPECT_NE(page.dom.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(page.dom.find("<script>alert(1)"), std::string::npos);
  EXPECT_EQ(page.dom.find("<img src=\"x\""), std::string::npos);
  EXPECT_EQ(page.dom.find("<img src=x"), std::string::npos);
  // The crashed node's log tail is inline.
  EXPECT_NE(page.dom.find("terminate called after throwing"), std::string::npos);
  EXPECT_NE(page.dom.find("class=\"fault-label\""), std::string::npos);
}

// --check-online's moment of detection: a line on the timeline and a figure in the summary.
TEST_F(ReportBrowser, MarksTheMomentOfOnlineDetection) {
  const fs::path run_directory = testing::write_synthetic_run(output_ / "store" / "detected" / "20261126T120000",
                                                              {.verdict = "invalid", .time_to_detection_ms = 1500});
  const PageResult page = open_report(*chromium_, make_report(run_directory), output_);
  expect_healthy_page(page);
  EXPECT_NE(page.dom.find("anomaly proven online (run stopped)"), std::string::npos);
  const std::string detection_x = attribute_of(page.dom, "timeline", "data-detection-x");
  ASSERT_FALSE(detection_x.empty()) << "the timeline did not draw the moment of detection";
  EXPECT_GT(std::stol(detection_x), 64);  // right of the lane labels
  EXPECT_NE(page.dom.find("Moment of detection"), std::string::npos);
}

TEST_F(ReportBrowser, InvalidImportedHistoryShowsTheCounterexample) {
  const fs::path run_directory = output_ / "store" / "etcd_000" / "imported";
  fs::create_directories(run_directory);
  const std::string log = kPorcupine + "etcd_000.log";
  checkers::write_history_file(checkers::read_history_file(log), run_directory / "history.jsonl");
  const CommandResult check =
      run({kHarness, "check", "-q", "--output", (run_directory / "results.json").string(), log});
  ASSERT_EQ(check.status.exit_code, 1) << check.out << check.err;
  const PageResult page = open_report(*chromium_, make_report(run_directory), output_);
  expect_healthy_page(page);
  EXPECT_NE(page.dom.find("id=\"anomalies\""), std::string::npos);
  EXPECT_NE(page.dom.find("class=\"porcupine-svg\""), std::string::npos);
  EXPECT_NE(page.dom.find("op 84: process 11 read -&gt; 2 (ok)"), std::string::npos);
  EXPECT_NE(body_tag(page.dom).find("data-selftest-focus=\"ok\""), std::string::npos) << body_tag(page.dom);
  const std::string junit = [&] {
    std::ifstream input(run_directory / "junit.xml");
    std::stringstream buffer;
    buffer << input.rdbuf();
    return buffer.str();
  }();
  EXPECT_NE(junit.find("<failure message=\"op 84: process 11 read -&gt; 2 (ok) cannot be linearized"),
            std::string::npos)
      << junit;
}

// Jepsen's long-fork history as elle-cli reads it, judged under snapshot
// isolation: the G-nonadjacent cycle is drawn (four txns, two wr and two rw
// arrows) with each edge's reason, and a txn of the picture opens the timeline.
TEST_F(ReportBrowser, DrawsAnElleCycle) {
  const fs::path run_directory = output_ / "store" / "long-fork" / "imported";
  fs::create_directories(run_directory);
  const std::string history = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/jepsen/long-fork.json";
  checkers::write_history_file(checkers::read_history_file(history), run_directory / "history.jsonl");
  const CommandResult check =
      run({kHarness, "check", "-q", "--checker", "elle-list-append", "--consistency-model", "snapshot-isolation",
           "--output", (run_directory / "results.json").string(), history});
  ASSERT_EQ(check.status.exit_code, 1) << check.out << check.err;
  const PageResult page = open_report(*chromium_, make_report(run_directory), output_);
  const std::string body = body_tag(page.dom);
  EXPECT_NE(body.find("data-rendered=\"true\""), std::string::npos) << body;
  EXPECT_EQ(body.find("data-js-errors"), std::string::npos) << page.dom.substr(0, 4000);
  EXPECT_EQ(page.console.find("Uncaught"), std::string::npos) << page.console;
  EXPECT_NE(page.dom.find("class=\"cycle-svg\" data-nodes=\"4\" data-edges=\"4\""), std::string::npos);
  auto count = [&](const std::string& needle) {
    std::size_t found = 0;
    for (auto at = page.dom.find(needle); at != std::string::npos; at = page.dom.find(needle, at + 1)) ++found;
    return found;
  };
  EXPECT_EQ(count("class=\"cycle-edge\" data-kind=\"rw\""), 2u);
  EXPECT_EQ(count("class=\"cycle-edge\" data-kind=\"wr\""), 2u);
  EXPECT_EQ(count("class=\"cycle-txn\""), 4u);
  EXPECT_NE(page.dom.find("data-anomaly=\"G-nonadjacent\""), std::string::npos);
  EXPECT_NE(page.dom.find("ruled out: snapshot-isolation"), std::string::npos);
  EXPECT_NE(page.dom.find("missing op 2 (:index 3, process 1)'s append of 1 that came next"), std::string::npos);
  EXPECT_NE(body.find("data-selftest-focus=\"ok\""), std::string::npos) << body;
}

// A million operations: the page must still render and redraw the timeline quickly.
TEST_F(ReportBrowser, MillionOperationsStayResponsive) {
  const fs::path run_directory = testing::write_synthetic_run(output_ / "store" / "million" / "20261126T120000",
                                                              {.operations = 1'000'000, .processes = 40});
  const auto started = std::chrono::steady_clock::now();
  const fs::path report = make_report(run_directory);
  const double generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const PageResult page = open_report(*chromium_, report, output_);
  expect_healthy_page(page);
  const std::string body = body_tag(page.dom);
  std::smatch render, zoom;
  ASSERT_TRUE(std::regex_search(body, render, std::regex("data-render-ms=\"([0-9]+)\""))) << body;
  ASSERT_TRUE(std::regex_search(body, zoom, std::regex("data-selftest-zoom-ms=\"([0-9]+)\""))) << body;
  std::cout << "1,000,000 operations: report.html " << fs::file_size(report) << " bytes, generated in "
            << generate_seconds << " s; first render " << render[1] << " ms, zoomed timeline redraw " << zoom[1]
            << " ms\n";
  EXPECT_LT(std::stol(render[1]), 20000);
  EXPECT_LT(std::stol(zoom[1]), 500);
  // Keep the screenshot; the run (200 MB of history) and the DOM dump (the page's 30 MB of data) go.
  fs::remove_all(output_ / "store");
  fs::remove(output_ / (run_directory.filename().string() + ".dom.html"));
}

TEST(ReportCommand, BadInputExitsThreeWithOneLine) {
  const fs::path directory = fs::temp_directory_path() / ("chaosbench-report-cli-" + std::to_string(::getpid()));
  fs::create_directories(directory);
  auto result = run({kHarness, "report", directory.string()});
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("results.json: missing"), std::string::npos) << result.err;
  std::ofstream(directory / "results.json") << "{}";
  std::ofstream(directory / "history.jsonl") << "garbage\n";
  result = run({kHarness, "report", directory.string()});
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("history.jsonl:1"), std::string::npos) << result.err;
  result = run({kHarness, "report", "--index", "--store", (directory / "absent").string()});
  EXPECT_EQ(result.status.exit_code, 3);
  result = run({kHarness, "report"});
  EXPECT_EQ(result.status.exit_code, 3);
  fs::remove_all(directory);
}

}  // namespace
}  // namespace chaosbench::reports
