// report.html / junit.xml / index.html contents, input errors, escaping, size.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <unistd.h>

#include "chaosbench/reports/html_report.h"
#include "chaosbench/reports/junit_report.h"
#include "chaosbench/reports/report_error.h"
#include "chaosbench/reports/run_inputs.h"
#include "chaosbench/reports/run_report.h"
#include "chaosbench/reports/store_index.h"
#include "chaosbench/reports/suite_report.h"
#include "synthetic_run.h"

namespace chaosbench::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::kXss;
using testing::write_synthetic_run;

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    path_ = fs::temp_directory_path() /
            ("chaosbench-reports-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TemporaryDirectory() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream input(path);
  std::stringstream buffer;
  buffer << input.rdbuf();
  return buffer.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++found;
  return found;
}

// The JSON embedded in the page.
json embedded_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const auto begin = page.find(open);
  EXPECT_NE(begin, std::string::npos);
  const auto end = page.find("</script>", begin);
  return json::parse(page.substr(begin + open.size(), end - begin - open.size()));
}

TEST(EmbeddableJson, EscapesMarkupCharacters) {
  const std::string text = embeddable_json({{"v", kXss + " & \xe2\x80\xa8"}});
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(text.find('&'), std::string::npos);
  EXPECT_NE(text.find("\\u003c/script\\u003e"), std::string::npos);
  EXPECT_NE(text.find("\\u2028"), std::string::npos);
  EXPECT_EQ(json::parse(text)["v"], kXss + " & \xe2\x80\xa8");
}

TEST(EscapeXml, EscapesAndDropsControlCharacters) {
  EXPECT_EQ(escape_xml("a<b>&\"'\x01z"), "a&lt;b&gt;&amp;&quot;&apos;z");
}

TEST(CheckerOutcomes, ReadsEveryResultsShape) {
  auto outcomes = read_checker_outcomes(
      {{"checkers",
        {{"linearizable", {{"verdict", "invalid"}, {"reason", "op 3"}}}, {"perf", {{"verdict", "valid"}}}}}},
      "results.json");
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].name, "linearizable");
  EXPECT_EQ(outcomes[0].verdict, checkers::Verdict::invalid);
  EXPECT_EQ(outcomes[0].reason, "op 3");
  outcomes = read_checker_outcomes({{"checker", {{"linearizable", {{"verdict", "valid"}}}}}}, "results.json");
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].verdict, checkers::Verdict::valid);
  outcomes = read_checker_outcomes(
      {{"files", {{{"file", "a/x.log"}, {"checkers", {{"linearizable", {{"verdict", "unknown"}}}}}}}}}, "results.json");
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].verdict, checkers::Verdict::unknown);
  EXPECT_EQ(overall_verdict(json::object(), outcomes), checkers::Verdict::unknown);
  EXPECT_THROW(read_checker_outcomes(json::array(), "results.json"), ReportError);
}

TEST(LoadRunInputs, MissingOrMalformedFilesAreOneLineErrors) {
  TemporaryDirectory directory;
  const fs::path run = directory.path() / "t" / "r";
  fs::create_directories(run);
  auto message = [&] {
    try {
      load_run_inputs(run);
    } catch (const ReportError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message().find("results.json: missing"), std::string::npos) << message();
  std::ofstream(run / "results.json") << "{\"verdict\": ";
  EXPECT_NE(message().find("results.json: malformed JSON"), std::string::npos) << message();
  std::ofstream(run / "results.json") << "{\"verdict\": \"valid\"}";
  EXPECT_NE(message().find("history.jsonl: missing"), std::string::npos) << message();
  std::ofstream(run / "history.jsonl") << "{\"index\":0,\"type\":\"bogus\",\"process\":1,\"f\":\"read\"}\n";
  EXPECT_NE(message().find("history.jsonl:1"), std::string::npos) << message();
  EXPECT_EQ(message().find('\n'), std::string::npos);
  std::ofstream(run / "history.jsonl") << "{\"index\":0,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"time\":1}\n";
  // A completion without an invocation cannot be paired.
  try {
    write_run_report(run);
    ADD_FAILURE() << "no error";
  } catch (const ReportError& error) {
    EXPECT_NE(std::string(error.what()).find("history.jsonl"), std::string::npos) << error.what();
  }
  EXPECT_THROW(load_run_inputs(directory.path() / "absent"), ReportError);
}

TEST(HtmlReport, DataIsCompleteAndStringsCannotBreakOut) {
  TemporaryDirectory directory;
  const fs::path run = write_synthetic_run(directory.path() / "synthetic" / "20261126T120000", {.operations = 600});
  const RunInputs inputs = load_run_inputs(run);
  const std::string page = render_html_report(inputs);
  // Only the page's own two script elements close; the hostile strings are escaped.
  EXPECT_EQ(count(page, "</script"), 2u);
  EXPECT_EQ(count(page, "<script"), 2u);
  EXPECT_EQ(page.find("alert(1)</"), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no fetches, only the SVG namespace
  EXPECT_EQ(page.find("https://"), std::string::npos);

  const json data = embedded_data(page);
  EXPECT_EQ(data["verdict"], "valid");
  EXPECT_EQ(data["time"]["unit"], "us");
  EXPECT_EQ(data["ops"]["count"], 600);
  EXPECT_EQ(data["run"]["target"], "raft");
  EXPECT_EQ(data["run"]["nodes"], 3);
  EXPECT_NE(data["run"]["command_line"].get<std::string>().find("'" + kXss + "'"), std::string::npos);
  ASSERT_EQ(data["checkers"].size(), 2u);
  // Fault windows from the nemesis ops: partition, kill, and the check-offsets event.
  ASSERT_EQ(data["faults"].size(), 3u);
  EXPECT_EQ(data["faults"][0]["kind"], "partition");
  EXPECT_EQ(data["faults"][0]["label"], "halves: n1 x n2,n3; n2 x n1; n3 x n1");
  EXPECT_EQ(data["faults"][1]["kind"], "kill");
  EXPECT_TRUE(data["faults"][2]["instant"].get<bool>());
  EXPECT_EQ(data["availability"].size(), 3u);  // two windows and "no fault"
  // Columns decode back to the history: ops sorted by invocation time.
  const auto& ops = data["ops"];
  std::int64_t index = 0, previous_start = -1, start = 0;
  std::uint64_t ok = 0;
  for (std::size_t row = 0; row < 600; ++row) {
    index += ops["i"][row].get<std::int64_t>();
    start += ops["s"][row].get<std::int64_t>();
    EXPECT_GE(start, previous_start);
    previous_start = start;
    const auto& invocation = inputs.history.operations.at(static_cast<std::size_t>(index));
    EXPECT_EQ(invocation.type, checkers::OpType::invoke);
    if (ops["o"][row] == 0) ++ok;
  }
  EXPECT_EQ(ok, data["summary"]["ok"].get<std::uint64_t>());
  // The crashed node's log tail is inline, the healthy one's is not.
  ASSERT_EQ(data["node_logs"].size(), 2u);
  EXPECT_FALSE(data["node_logs"][0].contains("tail"));
  EXPECT_NE(data["node_logs"][1]["tail"].get<std::string>().find("terminate called"), std::string::npos);
}

TEST(HtmlReport, UntimedHistoriesUsePositions) {
  TemporaryDirectory directory;
  const fs::path run = directory.path() / "t" / "r";
  fs::create_directories(run);
  std::ofstream(run / "results.json") << R"({"files":[{"file":"x","checkers":{"linearizable":{"verdict":"valid"}}}]})";
  std::ofstream(run / "history.jsonl") << R"({"index":0,"type":"invoke","process":0,"f":"read","value":null}
{"index":1,"type":"ok","process":0,"f":"read","value":1}
)";
  const json data = build_report_data(load_run_inputs(run));
  EXPECT_EQ(data["time"]["unit"], "position");
  EXPECT_EQ(data["ops"]["d"][0], 1);
  EXPECT_EQ(data["verdict"], "valid");
}

TEST(NodeLogs, TailsOnlyForNodesThatLookCrashed) {
  TemporaryDirectory directory;
  const fs::path run = directory.path();
  fs::create_directories(run / "nodes" / "n10");
  fs::create_directories(run / "nodes" / "n2");
  fs::create_directories(run / "nodes" / "n3");
  std::ofstream(run / "nodes" / "n2" / "log") << "started\nleader\nsignal 15: shutting down\n";
  {
    std::ofstream log(run / "nodes" / "n3" / "log");
    for (int line = 0; line < 100; ++line) log << "line " << line << "\n";
    log << "fatal: WAL corrupted at offset 12\n";
  }
  auto logs = read_node_logs(run, json::object(), 5);
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].node, "n2");  // n2, n3, n10: numeric-looking order
  EXPECT_EQ(logs[2].node, "n10");
  EXPECT_FALSE(logs[0].tail.has_value());
  ASSERT_TRUE(logs[1].tail.has_value());
  EXPECT_EQ(*logs[1].tail, "line 96\nline 97\nline 98\nline 99\nfatal: WAL corrupted at offset 12\n");
  EXPECT_FALSE(logs[2].exists);
  EXPECT_NE(logs[2].tail_reason.find("no log"), std::string::npos);
  // When the harness failed every log's tail is shown.
  logs = read_node_logs(run, {{"harness_failed", true}}, 5);
  EXPECT_TRUE(logs[0].tail.has_value());
  EXPECT_EQ(logs[0].relative_path, "nodes/n2/log");
}

TEST(JunitReport, OneTestcasePerCheckerWithFailureReason) {
  TemporaryDirectory directory;
  const fs::path run =
      write_synthetic_run(directory.path() / "synthetic" / "r1", {.operations = 50, .verdict = "invalid"});
  const std::string xml = render_junit_report(load_run_inputs(run));
  EXPECT_EQ(count(xml, "<testsuite "), 1u);
  EXPECT_EQ(count(xml, "<testcase "), 2u);
  EXPECT_EQ(count(xml, "<failure "), 1u);
  EXPECT_NE(xml.find("message=\"synthetic: &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""), std::string::npos)
      << xml;
  EXPECT_EQ(xml.find(kXss), std::string::npos);
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos);
}

TEST(SuiteReport, ToleratedMissesPassWithTheirTallyAndOthersFailOrError) {
  const json suite{
      {"suite", "zoo"},
      {"started", "20261127T080000"},
      {"passed", 2},
      {"tolerated", 1},
      {"mismatched", 1},
      {"harness_failures", 1},
      {"entries",
       {{{"id", "bug-s1"}, {"target", "raft"}, {"expect", "invalid"}, {"verdict", "invalid"}, {"passed", true}},
        {{"id", "bug-s2"},
         {"target", "raft"},
         {"expect", "invalid"},
         {"verdict", "valid"},
         {"passed", true},
         {"tolerated", true},
         {"message", "valid on this seed; invalid on 1 of 2 seed(s), at least 1 required (tolerated)"}},
        {{"id", "other-s1"},
         {"target", "zab"},
         {"expect", "invalid"},
         {"verdict", "valid"},
         {"passed", false},
         {"message", "expected invalid, got valid"}},
        {{"id", "slow-s1"},
         {"target", "zab"},
         {"expect", "valid"},
         {"verdict", "timed-out"},
         {"passed", false},
         {"message", "killed after the entry's timeout of 6 s"}}}}};
  const std::string junit = render_suite_junit(suite);
  EXPECT_NE(junit.find("tests=\"4\" failures=\"1\" errors=\"1\""), std::string::npos) << junit;
  EXPECT_NE(
      junit.find("expected invalid, got valid; seed ; run ; valid on this seed; invalid on 1 of 2 seed(s), at least 1 "
                 "required (tolerated)</system-out>"),
      std::string::npos)
      << junit;
  EXPECT_NE(junit.find("<failure message=\"expected invalid, got valid\" type=\"valid\">"), std::string::npos) << junit;
  EXPECT_NE(junit.find("<error message=\"killed after the entry&apos;s timeout of 6 s\" type=\"timed-out\">"),
            std::string::npos)
      << junit;
  const std::string html = render_suite_html(suite);
  EXPECT_NE(html.find("2 passed (1 of them misses tolerated by expect_on_at_least)"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge tolerated\">tolerated</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge fail\">fail</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge error\">error</span>"), std::string::npos);
}

TEST(StoreIndex, ListsRunsNewestFirstAndBrokenRunsWithTheirError) {
  TemporaryDirectory directory;
  const fs::path store = directory.path() / "store";
  write_synthetic_run(store / "alpha" / "20261126T120000", {.operations = 40});
  const fs::path newer =
      write_synthetic_run(store / "beta" / "20261127T080000", {.operations = 40, .verdict = "invalid"});
  json test = json::parse(read_file(newer / "test.json"));
  test["started_at"] = "2026-11-27T08:00:00+0000";
  std::ofstream(newer / "test.json") << test.dump();
  fs::create_directories(store / "gamma" / "20261125T000000");
  std::ofstream(store / "gamma" / "20261125T000000" / "results.json") << "not json";
  fs::create_directory_symlink("beta/20261127T080000", store / "latest");
  write_run_report(newer);

  const auto runs = list_store_runs(store);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].directory, fs::path("beta/20261127T080000"));
  EXPECT_EQ(runs[0].verdict, "invalid");
  EXPECT_TRUE(runs[0].has_report);
  EXPECT_EQ(runs[0].operations, 40u);
  EXPECT_EQ(runs[0].p99_ms, 12.5);
  EXPECT_EQ(runs[1].directory, fs::path("alpha/20261126T120000"));
  EXPECT_NE(runs[2].error.find("malformed JSON"), std::string::npos);

  const fs::path index = write_store_index(store);
  const std::string html = read_file(index);
  EXPECT_LT(html.find("beta/20261127T080000/report.html"), html.find("alpha/20261126T120000/results.json"));
  EXPECT_EQ(html.find(kXss), std::string::npos);
  EXPECT_NE(html.find("broken"), std::string::npos);
  EXPECT_THROW(write_store_index(directory.path() / "no-store"), ReportError);
}

TEST(ReportSize, HundredThousandOperationsUnderTenMegabytes) {
  TemporaryDirectory directory;
  const fs::path run = write_synthetic_run(directory.path() / "big" / "r", {.operations = 100'000, .processes = 20});
  const auto files = write_run_report(run);
  const auto size = fs::file_size(files.html);
  std::cout << "report.html for 100,000 operations: " << size << " bytes (history.jsonl "
            << fs::file_size(run / "history.jsonl") << " bytes)\n";
  EXPECT_LT(size, 10u * 1000 * 1000);
}

}  // namespace
}  // namespace chaosbench::reports
