#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "chaosbench/checkers/edn.h"
#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history_io.h"

namespace chaosbench::checkers {
namespace {

namespace filesystem = std::filesystem;

// The message of the HistoryError thrown by parsing `text`, or "" if none.
std::string parse_error(std::string_view text, HistoryFormat format, std::string_view source = "input") {
  try {
    parse_history(text, format, source);
  } catch (const HistoryError& error) {
    return error.what();
  }
  return "";
}

#define EXPECT_ERROR(text, format, expected_fragment)                            \
  do {                                                                           \
    std::string message = parse_error(text, format);                             \
    EXPECT_NE(message.find(expected_fragment), std::string::npos)                \
        << "message: '" << message << "' lacks '" << (expected_fragment) << "'"; \
  } while (false)

std::string value_text(const History& history, std::size_t index) {
  return history.values.to_text(history.operations.at(index).value);
}

std::string read_text(const filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream contents;
  contents << stream.rdbuf();
  return contents.str();
}

std::size_t count_non_blank_lines(const std::string& text) {
  std::istringstream stream(text);
  std::size_t count = 0;
  for (std::string line; std::getline(stream, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++count;
  }
  return count;
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    path_ = filesystem::temp_directory_path() / ("chaosbench_history_io_test_" + std::to_string(::getpid()) + "_" +
                                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    filesystem::remove_all(path_);
    filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    filesystem::remove_all(path_, ignored);
  }
  const filesystem::path& path() const { return path_; }

 private:
  filesystem::path path_;
};

// ---------------------------------------------------------------------------
// Format names and detection

TEST(HistoryFormat, NamesRoundTrip) {
  for (auto format : {HistoryFormat::automatic, HistoryFormat::jsonl, HistoryFormat::edn, HistoryFormat::porcupine_log,
                      HistoryFormat::json}) {
    EXPECT_EQ(parse_history_format(to_string(format)), format);
  }
  EXPECT_EQ(parse_history_format("JSON"), std::nullopt);
}

TEST(HistoryFormat, DetectsFromFirstCharacters) {
  EXPECT_EQ(detect_history_format("\n  {\"index\":0}"), HistoryFormat::jsonl);
  EXPECT_EQ(detect_history_format("{ \"type\":\"ok\"}"), HistoryFormat::jsonl);
  EXPECT_EQ(detect_history_format("{:type :ok}"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("[{:type :ok}]"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("#jepsen.history.Op{:type :ok}"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("; comment\n{:type :ok}"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("INFO  jepsen.util - 0\t:invoke\t:read\tnil"), HistoryFormat::porcupine_log);
  EXPECT_EQ(detect_history_format(""), HistoryFormat::jsonl);
  EXPECT_EQ(detect_history_format("hello"), HistoryFormat::automatic);
}

TEST(HistoryFormat, AutomaticReportsDetectedFormatAndRejectsUnknownText) {
  HistoryFormat detected = HistoryFormat::automatic;
  History history =
      parse_history("{:type :invoke, :f :read, :process 0}", HistoryFormat::automatic, "x.edn", &detected);
  EXPECT_EQ(detected, HistoryFormat::edn);
  EXPECT_EQ(history.size(), 1u);
  std::string message = parse_error("\n\nhello world", HistoryFormat::automatic, "mystery.txt");
  EXPECT_NE(message.find("mystery.txt:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot tell the history format"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------
// JSONL

TEST(JsonlReader, ReadsTheDesignExample) {
  const char* text =
      R"({"index":0,"type":"invoke","process":3,"f":"write","key":"k7","value":4,"time":1234567,"node":"n2"})"
      "\n"
      R"({"index":1,"type":"ok","process":3,"f":"write","key":"k7","value":4,"time":1299001,"node":"n2"})"
      "\n"
      "\n"
      R"({"index":2,"type":"invoke","process":"nemesis","f":"start-partition","value":{"n1":["n3","n4","n5"]},"time":1300000})"
      "\n";
  History history = parse_history(text, HistoryFormat::jsonl, "history.jsonl");
  ASSERT_EQ(history.size(), 3u);
  const Operation& first = history.operations[0];
  EXPECT_EQ(first.type, OpType::invoke);
  EXPECT_EQ(first.process, 3);
  EXPECT_EQ(history.function_name(first), "write");
  EXPECT_EQ(history.key_name(first), "k7");
  EXPECT_EQ(history.values.as_int(first.value), 4);
  EXPECT_EQ(first.time, 1234567);
  EXPECT_EQ(history.nodes.name(first.node), "n2");
  EXPECT_EQ(history.operations[1].type, OpType::ok);
  EXPECT_EQ(history.operations[1].value, first.value);
  const Operation& nemesis = history.operations[2];
  EXPECT_EQ(nemesis.process, kNemesisProcess);
  EXPECT_FALSE(history.has_key(nemesis));
  EXPECT_EQ(nemesis.node, 0);
  EXPECT_EQ(history.values.to_json(nemesis.value), nlohmann::json::parse(R"({"n1":["n3","n4","n5"]})"));
}

TEST(JsonlReader, ReadsValueKindsKeysAndIgnoresUnknownFields) {
  const char* text =
      R"({"type":"invoke","process":1,"f":"read","value":null,"key":17,"extra":{"a":[1,{"b":"}"}]},"more":"x"})"
      "\n"
      R"(  {"type" : "ok" , "process" : 1 , "f" : "read" , "value" : "a\"b\\c\n\u00e9\ud83d\ude00" , "key" : "17"}  )"
      "\r\n"
      R"({"type":"invoke","process":2,"f":"txn","value":[["append","x",3],["r","y",null]]})"
      "\n"
      R"({"type":"invoke","process":2,"f":"x","value":true})"
      "\n"
      R"({"type":"invoke","process":2,"f":"x","value":-1.5e3})"
      "\n"
      R"({"type":"invoke","process":2,"f":"x","value":-42,"node":null,"key":null})";
  History history = parse_history(text, HistoryFormat::jsonl, "h");
  ASSERT_EQ(history.size(), 6u);
  EXPECT_TRUE(history.operations[0].value.is_null());
  EXPECT_EQ(history.key_name(history.operations[0]), "17");
  EXPECT_EQ(history.operations[0].key, history.operations[1].key);
  EXPECT_EQ(history.values.as_string(history.operations[1].value), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(value_text(history, 2), R"([["append","x",3],["r","y",null]])");
  EXPECT_EQ(value_text(history, 3), "true");
  EXPECT_EQ(history.values.to_json(history.operations[4].value), nlohmann::json(-1500.0));
  EXPECT_EQ(history.values.as_int(history.operations[5].value), -42);
  EXPECT_FALSE(history.has_key(history.operations[5]));
  // No op has a time: time follows file order.
  for (std::size_t index = 0; index < history.size(); ++index) {
    EXPECT_EQ(history.operations[index].time, static_cast<std::int64_t>(index));
  }
}

TEST(JsonlReader, ErrorsNameSourceLineAndField) {
  const std::string good = R"({"type":"invoke","process":1,"f":"read","value":null})"
                           "\n";
  auto with_bad_third_line = [&](std::string_view bad) { return good + "\n" + std::string(bad) + "\n" + good; };
  auto check = [&](std::string_view bad, std::string_view fragment) {
    std::string message = parse_error(with_bad_third_line(bad), HistoryFormat::jsonl, "run/history.jsonl");
    EXPECT_NE(message.find("run/history.jsonl:3: "), std::string::npos) << bad << " -> " << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << bad << " -> " << message;
  };
  check(R"({"type":"invoke","process":1,"f":"read","value":[1,})", "field 'value': invalid JSON");
  check(R"({"type":"invoke","process":1,"f":"read","value":[1,2)", "field 'value': unterminated array");
  check(R"({"type":"invoke","process":1,"f":"read","value":nul})", "field 'value': invalid JSON value");
  check(R"({"type":"invoke","process":1,"f":"read)", "field 'f': unterminated string");
  check(R"({"type":"invoke","process":1,"f":"read","value":1)", "unterminated object");
  check(R"({"type":"invoke" "process":1})", "expected ',' or '}' after field 'type'");
  check(R"({"type":"invoke","process":1,"f":"read"} trailing)", "unexpected text after the object");
  check(R"(not json)", "expected a JSON object");
  check(R"({"type":"started","process":1,"f":"read"})", "field 'type': unknown op type \"started\"");
  check(R"({"type":3,"process":1,"f":"read"})", "field 'type': expected a string, got an integer");
  check(R"({"type":"ok","process":1,"value":3})", "field 'f': missing");
  check(R"({"process":1,"f":"read"})", "field 'type': missing");
  check(R"({"type":"ok","f":"read"})", "field 'process': missing");
  check(R"({"type":"ok","process":"controller","f":"read"})", "field 'process': expected an integer or \"nemesis\"");
  check(R"({"type":"ok","process":-3,"f":"read"})", "field 'process': negative process number -3");
  check(R"({"type":"ok","process":1.5,"f":"read"})",
        "field 'process': expected an integer or \"nemesis\", got a number");
  check(R"({"type":"ok","process":1,"f":"read","time":"soon"})", "field 'time': expected an integer");
  check(R"({"type":"ok","process":1,"f":"read","key":[1]})", "field 'key': expected a string or an integer");
  check(R"({"type":"ok","process":1,"f":"read","f":"write"})", "field 'f': appears twice");
  check(R"({"type":"ok","process":1,"f":"read","extra":[1,,2]})", "field 'extra': invalid JSON");
  check(R"({"type":"ok","process":1,"f":"read","value":"bad \q escape"})", "field 'value': invalid escape");
  check(R"({"index":7,"type":"ok","process":1,"f":"read"})", "field 'index': is 7 but the operation is at position 1");
}

TEST(JsonlReader, IndexMustEqualPosition) {
  const char* text = R"({"index":0,"type":"invoke","process":1,"f":"read"})"
                     "\n"
                     R"({"index":1,"type":"ok","process":1,"f":"read"})"
                     "\n";
  EXPECT_EQ(parse_history(text, HistoryFormat::jsonl, "h").size(), 2u);
  EXPECT_ERROR(R"({"index":1,"type":"invoke","process":1,"f":"read"})", HistoryFormat::jsonl,
               "input:1: field 'index': is 1 but the operation is at position 0");
}

// ---------------------------------------------------------------------------
// JSONL writing and round trips

History sample_history() {
  History history;
  auto add = [&](OpType type, std::int64_t process, std::string_view function, std::string_view key, Value value,
                 std::int64_t time, std::string_view node) {
    Operation op;
    op.type = type;
    op.process = process;
    op.function = history.functions.intern(function);
    op.key = key.empty() ? 0 : history.keys.intern(key);
    op.value = value;
    op.time = time;
    op.node = node.empty() ? 0 : static_cast<std::uint16_t>(history.nodes.intern(node));
    history.operations.push_back(op);
  };
  ValuePool& values = history.values;
  add(OpType::invoke, 3, "write", "k7", values.intern_int(4), 1234567, "n2");
  add(OpType::invoke, 4, "read", "k\"quoted\"\n", kNull, 1234600, "");
  add(OpType::ok, 3, "write", "k7", values.intern_int(4), 1299001, "n2");
  add(OpType::invoke, kNemesisProcess, "start-partition", "",
      values.intern_json(nlohmann::json::parse(R"({"n1":["n3","n4","n5"]})")), 1300000, "");
  add(OpType::info, 4, "read", "k\"quoted\"\n", values.intern_string("timed-out \u00e9\t"), 1400000, "n1");
  add(OpType::invoke, 5, "txn", "", values.intern_json(nlohmann::json::parse(R"([["append","x",3],["r","y",null]])")),
      1500000, "");
  add(OpType::fail, 5, "txn", "", values.intern_json(nlohmann::json::parse("[1.5,true,false]")), 1600000, "");
  add(OpType::invoke, 6, "cas", "", values.intern_json(nlohmann::json::parse("[1,2]")), 1700000, "");
  add(OpType::invoke, 7, "write", "big", values.intern_int(-9223372036854775807LL - 1), 1800000, "");
  return history;
}

void expect_same_operations(const History& expected, const History& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t index = 0; index < expected.size(); ++index) {
    const Operation& left = expected.operations[index];
    const Operation& right = actual.operations[index];
    SCOPED_TRACE("op " + std::to_string(index));
    EXPECT_EQ(left.type, right.type);
    EXPECT_EQ(left.process, right.process);
    EXPECT_EQ(expected.function_name(left), actual.function_name(right));
    EXPECT_EQ(expected.has_key(left), actual.has_key(right));
    EXPECT_EQ(expected.key_name(left), actual.key_name(right));
    EXPECT_EQ(expected.values.to_text(left.value), actual.values.to_text(right.value));
    EXPECT_EQ(left.time, right.time);
    EXPECT_EQ(expected.nodes.name(left.node), actual.nodes.name(right.node));
  }
}

TEST(JsonlWriter, FormatsLinesInTheDocumentedKeyOrder) {
  History history = sample_history();
  EXPECT_EQ(format_jsonl_line(history, 0),
            R"({"index":0,"type":"invoke","process":3,"f":"write","key":"k7","value":4,"time":1234567,"node":"n2"})");
  EXPECT_EQ(
      format_jsonl_line(history, 3),
      R"({"index":3,"type":"invoke","process":"nemesis","f":"start-partition","value":{"n1":["n3","n4","n5"]},"time":1300000})");
  EXPECT_EQ(format_jsonl_line(history, 1),
            R"({"index":1,"type":"invoke","process":4,"f":"read","key":"k\"quoted\"\n","value":null,"time":1234600})");
}

TEST(JsonlWriter, WriteHistoryFileRoundTrips) {
  TemporaryDirectory directory;
  History history = sample_history();
  filesystem::path path = directory.path() / "history.jsonl";
  write_history_file(history, path);
  HistoryFormat detected = HistoryFormat::automatic;
  History read_back = read_history_file(path, HistoryFormat::automatic, &detected);
  EXPECT_EQ(detected, HistoryFormat::jsonl);
  expect_same_operations(history, read_back);
  // Writing again replaces the file.
  write_history_file(history, path);
  EXPECT_EQ(read_history_file(path).size(), history.size());
}

TEST(JsonlWriter, ErrorsOfFailAndInfoCompletionsRoundTrip) {
  const std::string text =
      R"({"index":0,"type":"invoke","process":1,"f":"read","value":null,"time":1})"
      "\n"
      R"({"index":1,"type":"fail","process":1,"f":"read","value":null,"time":2,"error":"unavailable"})"
      "\n"
      R"({"index":2,"type":"invoke","process":1,"f":"read","value":null,"time":3})"
      "\n"
      R"({"index":3,"type":"info","process":1,"f":"read","value":null,"time":4,"error":{"jepsen":"timeout"}})";
  History history = parse_history(text, HistoryFormat::jsonl, "h");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history.error(0), nullptr);
  ASSERT_NE(history.error(1), nullptr);
  EXPECT_EQ(*history.error(1), "unavailable");
  EXPECT_EQ(*history.error(3), R"({"jepsen":"timeout"})") << "another tool's error object is kept as its text";
  EXPECT_EQ(format_jsonl_line(history, 1),
            R"({"index":1,"type":"fail","process":1,"f":"read","value":null,"time":2,"error":"unavailable"})");
  EXPECT_NE(format_jsonl_line(history, 3).find(R"("error":"{\"jepsen\":\"timeout\"}")"), std::string::npos);
  EXPECT_THROW(
      parse_history(R"({"type":"fail","process":1,"f":"read","error":"a","error":"b"})", HistoryFormat::jsonl, "h"),
      HistoryError);
}

TEST(JsonlWriter, StreamsLinesAndAppends) {
  TemporaryDirectory directory;
  History history = sample_history();
  filesystem::path path = directory.path() / "history.jsonl";
  {
    JsonlWriter writer(path, std::chrono::milliseconds(0));  // fsync on every write
    for (std::size_t index = 0; index < 4; ++index) {
      writer.write(history, index);
      // Every line is in the file as soon as write() returns.
      EXPECT_EQ(count_non_blank_lines(read_text(path)), index + 1);
    }
    writer.close();
    writer.close();  // idempotent
    EXPECT_THROW(writer.write(history, 4), std::system_error);
  }
  {
    JsonlWriter writer(path);  // appends to the existing file; the destructor closes
    for (std::size_t index = 4; index < history.size(); ++index) writer.write(history, index);
  }
  expect_same_operations(history, read_history_file(path, HistoryFormat::jsonl));
}

TEST(JsonlWriter, ReportsUnwritablePaths) {
  EXPECT_THROW(JsonlWriter("/nonexistent-directory/history.jsonl"), std::system_error);
  EXPECT_THROW(write_history_file(History{}, "/nonexistent-directory/history.jsonl"), std::system_error);
  try {
    read_history_file("/nonexistent-directory/history.jsonl");
    FAIL() << "expected HistoryError";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent-directory/history.jsonl: cannot open"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// EDN values

TEST(EdnParser, ReadsScalarsCollectionsAndTags) {
  EdnParser parser(
      "nil true false -12 +3 7N 1.5 2.5M 1/4 \"s\\\"\\n\" \\a \\newline :kw :ns/kw sym ; comment\n"
      "[1, 2] (3 4) #{:b :a} {:x 1 \"y\" [nil]} #inst \"2024-01-01\" #_ ignored ##Inf",
      "values.edn");
  std::vector<EdnValue> values;
  while (!parser.at_end()) values.push_back(parser.read());
  ASSERT_EQ(values.size(), 21u);
  EXPECT_EQ(values[0].kind, EdnKind::nil);
  EXPECT_TRUE(values[1].boolean);
  EXPECT_FALSE(values[2].boolean);
  EXPECT_EQ(values[3].integer, -12);
  EXPECT_EQ(values[4].integer, 3);
  EXPECT_EQ(values[5].integer, 7);
  EXPECT_DOUBLE_EQ(values[6].floating, 1.5);
  EXPECT_DOUBLE_EQ(values[7].floating, 2.5);
  EXPECT_DOUBLE_EQ(values[8].floating, 0.25);
  EXPECT_EQ(values[9].text, "s\"\n");
  EXPECT_EQ(values[10].text, "a");
  EXPECT_EQ(values[11].text, "\n");
  EXPECT_TRUE(values[12].is_keyword("kw"));
  EXPECT_TRUE(values[13].is_keyword("ns/kw"));
  EXPECT_EQ(values[14].kind, EdnKind::symbol);
  EXPECT_EQ(values[15].line, 2u);
  EXPECT_EQ(edn_to_json(values[15]), nlohmann::json::parse("[1,2]"));
  EXPECT_EQ(edn_to_json(values[16]), nlohmann::json::parse("[3,4]"));
  EXPECT_EQ(edn_to_json(values[17]), nlohmann::json::parse(R"(["a","b"])"));
  EXPECT_EQ(edn_to_json(values[18]), nlohmann::json::parse(R"({"x":1,"y":[null]})"));
  EXPECT_EQ(values[19].kind, EdnKind::tagged);
  EXPECT_EQ(values[19].text, "inst");
  EXPECT_EQ(edn_to_json(values[19]), nlohmann::json("2024-01-01"));
  EXPECT_EQ(values[20].kind, EdnKind::floating);
}

TEST(EdnParser, SyntaxErrorsNameTheLine) {
  auto error_of = [](std::string_view text) -> std::string {
    try {
      EdnParser parser(text, "f.edn");
      while (!parser.at_end()) parser.read();
    } catch (const HistoryError& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("\n\n\"abc\n"), "f.edn:3: unterminated string");
  EXPECT_EQ(error_of("1\n[1 2\n3"), "f.edn:2: unterminated vector (opened on this line)");
  EXPECT_EQ(error_of("{:a 1 :b}"), "f.edn:1: map literal has an odd number of forms");
  EXPECT_NE(error_of("[1 2)").find("f.edn:1: unexpected ')'"), std::string::npos);
  EXPECT_NE(error_of("\n]").find("f.edn:2: unexpected ']'"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(error_of(std::string(2000, '[')).find("nesting deeper"), std::string::npos);
}

// ---------------------------------------------------------------------------
// EDN histories

TEST(EdnReader, ReadsVectorFormWithTaggedOpsAndKeywordValues) {
  const char* text =
      "[{:type :invoke, :f :read, :process 0, :value nil, :time 10, :index 0}\n"
      " #jepsen.history.Op{:index 1, :time 20, :type :ok, :process 0, :f :read, :value 3}\n"
      " {:type :invoke, :f :cas, :process 1, :value [1 2], :time 30}\n"
      " {:type :info, :f :cas, :process 1, :value [1 2], :time 40, :error :timed-out}\n"
      " {:type :info, :f :start, :process :nemesis, :value {\"n1\" #{\"n3\" \"n2\"}, :n4 [:n5]}, :time 50}\n"
      " {:type :fail, :f :read, :process 2, :value :timed-out, :time 60, :node \"n3\"}]\n";
  HistoryFormat detected = HistoryFormat::automatic;
  History history = parse_history(text, HistoryFormat::automatic, "jepsen.edn", &detected);
  EXPECT_EQ(detected, HistoryFormat::edn);
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history.operations[0].type, OpType::invoke);
  EXPECT_EQ(history.function_name(history.operations[0]), "read");
  EXPECT_TRUE(history.operations[0].value.is_null());
  EXPECT_EQ(history.operations[1].type, OpType::ok);
  EXPECT_EQ(history.values.as_int(history.operations[1].value), 3);
  EXPECT_EQ(history.operations[1].time, 20);
  EXPECT_EQ(value_text(history, 2), "[1,2]");
  EXPECT_EQ(history.operations[3].type, OpType::info);
  EXPECT_EQ(history.operations[4].process, kNemesisProcess);
  EXPECT_EQ(history.values.to_json(history.operations[4].value),
            nlohmann::json::parse(R"({"n1":["n2","n3"],"n4":["n5"]})"));
  EXPECT_EQ(history.values.as_string(history.operations[5].value), "timed-out");
  EXPECT_EQ(history.nodes.name(history.operations[5].node), "n3");
  EXPECT_EQ(history.operations[5].time, 60);
}

TEST(EdnReader, ReadsOneMapPerLineWithKeysAndNoTimes) {
  const char* text =
      "; Porcupine kv style\n"
      "{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x 9 0 y\"}\n"
      "\n"
      "{:process 9, :type :ok, :f :append, :key \"0\", :value \"x 9 0 y\"}\n"
      "{:process 1, :type :invoke, :f :get, :key 12, :value nil}\n";
  History history = parse_history(text, HistoryFormat::automatic, "kv.txt");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history.key_name(history.operations[0]), "0");
  EXPECT_EQ(history.key_name(history.operations[2]), "12");
  EXPECT_EQ(history.values.as_string(history.operations[1].value), "x 9 0 y");
  for (std::size_t index = 0; index < history.size(); ++index) {
    EXPECT_EQ(history.operations[index].time, static_cast<std::int64_t>(index));
  }
}

TEST(EdnReader, SplitsIndependentTuples) {
  const char* text =
      "{:type :invoke, :f :write, :process 0, :value [:independent 5 3], :time 1}\n"
      "{:type :ok, :f :write, :process 0, :value #jepsen.independent/tuple [\"k\" 3], :time 2}\n"
      "{:type :ok, :f :read, :process 1, :value #jepsen.independent.Tuple{:key :a, :value [1 2]}, :time 3}\n"
      "{:type :ok, :f :cas, :process 2, :value [5 3], :time 4}\n"
      "{:type :ok, :f :write, :process 3, :key \"own\", :value [:independent 5 3]}\n";
  History history = parse_history(text, HistoryFormat::edn, "independent.edn");
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history.key_name(history.operations[0]), "5");
  EXPECT_EQ(history.values.as_int(history.operations[0].value), 3);
  EXPECT_EQ(history.key_name(history.operations[1]), "k");
  EXPECT_EQ(history.values.as_int(history.operations[1].value), 3);
  EXPECT_EQ(history.key_name(history.operations[2]), "a");
  EXPECT_EQ(value_text(history, 2), "[1,2]");
  // A plain pair is a value (cas [old new]), not a tuple.
  EXPECT_FALSE(history.has_key(history.operations[3]));
  EXPECT_EQ(value_text(history, 3), "[5,3]");
  // An explicit :key wins; the value is left alone.
  EXPECT_EQ(history.key_name(history.operations[4]), "own");
  EXPECT_EQ(value_text(history, 4), R"(["independent",5,3])");
  // Missing time among timed ops: the previous op's time.
  EXPECT_EQ(history.operations[4].time, 4);
}

TEST(EdnReader, ErrorsNameSourceLineAndField) {
  EXPECT_ERROR("{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :process 0, :value \"abc}\n",
               HistoryFormat::edn, "input:2: unterminated string");
  EXPECT_ERROR("[{:type :invoke, :f :read, :process 0}\n {:type :ok, :f :read, :process 0}\n", HistoryFormat::edn,
               "input:1: unterminated history vector");
  EXPECT_ERROR("{:type :invoke, :f :read, :process 0, :value [1 2}\n", HistoryFormat::edn,
               "input:1: unexpected '}' inside a vector");
  EXPECT_ERROR("{:type :invoke, :f :read, :process 0, :value [1 2\n\n", HistoryFormat::edn,
               "input:1: unterminated vector");
  EXPECT_ERROR("{:type :invoke, :f :read, :process 0}\n{:type :ok, :process 0}\n", HistoryFormat::edn,
               "input:2: field 'f': missing");
  EXPECT_ERROR("{:type :invoke, :f :read, :process 0}\n\n{:type :done, :f :read, :process 0}\n", HistoryFormat::edn,
               "input:3: field 'type': unknown op type :done");
  EXPECT_ERROR("{:type :invoke, :f :read, :process \"p1\"}\n", HistoryFormat::edn,
               "input:1: field 'process': expected a non-negative integer or :nemesis, got the string \"p1\"");
  EXPECT_ERROR("{:type :invoke, :f :read}\n", HistoryFormat::edn, "input:1: field 'process': missing");
  EXPECT_ERROR("{:type :invoke, :f :read, :process 1, :time 1.5}\n", HistoryFormat::edn,
               "input:1: field 'time': expected an integer");
  EXPECT_ERROR("{:type :invoke, :f [1], :process 1}\n", HistoryFormat::edn, "input:1: field 'f': expected a keyword");
  EXPECT_ERROR("[{:type :invoke, :f :read, :process 0}\n 17]", HistoryFormat::edn,
               "input:2: expected an op map like {:type :invoke, :f :read, ...}, got 17");
  EXPECT_ERROR("{:type :ok, :f :read, :process 1,\n :value [\"\xff\"]}", HistoryFormat::edn,
               "input:2: field 'value': cannot convert to JSON: invalid UTF-8");
  EXPECT_ERROR("[{:type :invoke, :f :read, :process 0}] {:type :ok}", HistoryFormat::edn,
               "input:1: unexpected form after the history vector");
}

// ---------------------------------------------------------------------------
// Porcupine logs

TEST(PorcupineLogReader, ReadsTabAndSpaceSeparatedLines) {
  const char* text =
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 4   :invoke :cas    [1 2]\n"
      "\n"
      "INFO  jepsen.util - 0\t:ok\t:read\t3\n"
      "INFO  jepsen.util - 4\t:info\t:cas\t:timed-out\n"
      "INFO  jepsen.util - 2\t:fail\t:read\t:timed-out   \r\n"
      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n";
  HistoryFormat detected = HistoryFormat::automatic;
  History history = parse_history(text, HistoryFormat::automatic, "etcd.log", &detected);
  EXPECT_EQ(detected, HistoryFormat::porcupine_log);
  ASSERT_EQ(history.size(), 6u);
  EXPECT_EQ(history.operations[1].process, 4);
  EXPECT_EQ(history.function_name(history.operations[1]), "cas");
  EXPECT_EQ(value_text(history, 1), "[1,2]");
  EXPECT_EQ(history.values.as_int(history.operations[2].value), 3);
  EXPECT_EQ(history.values.as_string(history.operations[3].value), "timed-out");
  EXPECT_EQ(history.operations[4].type, OpType::fail);
  EXPECT_EQ(history.operations[5].process, kNemesisProcess);
  for (std::size_t index = 0; index < history.size(); ++index) {
    EXPECT_EQ(history.operations[index].time, static_cast<std::int64_t>(index));
  }
}

TEST(PorcupineLogReader, RejectsGarbageLines) {
  const std::string good = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n";
  EXPECT_ERROR(good + "garbage here\n", HistoryFormat::porcupine_log, "input:2: expected 'INFO  jepsen.util - ");
  EXPECT_ERROR(good + "INFO  jepsen.core - starting\n", HistoryFormat::porcupine_log, "input:2: expected 'INFO");
  EXPECT_ERROR(good + good + "INFO  jepsen.util - x\t:invoke\t:read\tnil\n", HistoryFormat::porcupine_log,
               "input:3: field 'process': expected a non-negative integer or :nemesis, got 'x'");
  EXPECT_ERROR(good + "INFO  jepsen.util - 1\t:begin\t:read\tnil\n", HistoryFormat::porcupine_log,
               "input:2: field 'type': unknown op type ':begin'");
  EXPECT_ERROR(good + "INFO  jepsen.util - 1\t:invoke\tread\tnil\n", HistoryFormat::porcupine_log,
               "input:2: field 'f': expected a keyword");
  EXPECT_ERROR(good + "INFO  jepsen.util - 1\t:invoke\t:read\n", HistoryFormat::porcupine_log,
               "input:2: field 'value': missing");
  EXPECT_ERROR(good + "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2\n", HistoryFormat::porcupine_log,
               "input:2: unterminated vector");
  EXPECT_ERROR(good + "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2] 3\n", HistoryFormat::porcupine_log,
               "input:2: field 'value': unexpected text after the value");
}

// ---------------------------------------------------------------------------
// The Porcupine test data (tests/data/porcupine): every file parses with
// auto-detection, one op per non-blank line.

TEST(PorcupineTestDataFiles, EveryJepsenLogParses) {
  filesystem::path directory = filesystem::path(CHAOSBENCH_SOURCE_DIR) / "tests/data/porcupine/jepsen";
  std::size_t files = 0;
  for (const auto& entry : filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".log") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    HistoryFormat detected = HistoryFormat::automatic;
    History history = read_history_file(entry.path(), HistoryFormat::automatic, &detected);
    std::size_t lines = count_non_blank_lines(read_text(entry.path()));
    // etcd_095.log is empty: an empty text is an empty (JSONL) history.
    EXPECT_EQ(detected, lines == 0 ? HistoryFormat::jsonl : HistoryFormat::porcupine_log);
    EXPECT_EQ(history.size(), lines);
    EXPECT_NO_THROW(pair_operations(history));
  }
  EXPECT_GE(files, 102u);
}

TEST(PorcupineTestDataFiles, EveryKvLogParses) {
  filesystem::path directory = filesystem::path(CHAOSBENCH_SOURCE_DIR) / "tests/data/porcupine/kv";
  std::size_t files = 0;
  for (const auto& entry : filesystem::directory_iterator(directory)) {
    ++files;
    SCOPED_TRACE(entry.path().string());
    HistoryFormat detected = HistoryFormat::automatic;
    History history = read_history_file(entry.path(), HistoryFormat::automatic, &detected);
    EXPECT_EQ(detected, HistoryFormat::edn);
    EXPECT_EQ(history.size(), count_non_blank_lines(read_text(entry.path())));
    for (const Operation& op : history.operations) EXPECT_TRUE(history.has_key(op));
    EXPECT_NO_THROW(pair_operations(history));
  }
  EXPECT_EQ(files, 6u);
}

TEST(PorcupineTestDataFiles, ConvertedToJsonlRoundTrips) {
  TemporaryDirectory directory;
  for (const char* name : {"jepsen/etcd_000.log", "kv/c10-ok.txt"}) {
    SCOPED_TRACE(name);
    History original = read_history_file(filesystem::path(CHAOSBENCH_SOURCE_DIR) / "tests/data/porcupine" / name);
    filesystem::path path = directory.path() / "converted.jsonl";
    write_history_file(original, path);
    expect_same_operations(original, read_history_file(path));
  }
}

}  // namespace
}  // namespace chaosbench::checkers
