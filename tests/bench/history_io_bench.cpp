// History reading and writing throughput on a generated register history of
// ~1M operations (1000 keys, small integer values, 20% cas with [old,new]
// values). Target: >= 1,000,000 ops/s each way. items_per_second is ops/s of
// wall-clock time (UseRealTime: the file benchmarks wait on the disk).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "chaosbench/checkers/history_io.h"

namespace chaosbench::checkers {
namespace {

constexpr std::size_t kOperations = 1'000'000;
constexpr int kKeys = 1000;
constexpr int kProcesses = 50;

History generate_history() {
  History history;
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int> small_value(0, 9);
  std::uniform_int_distribution<int> key_choice(0, kKeys - 1);
  std::uniform_int_distribution<int> function_choice(0, 9);
  std::uint32_t read = history.functions.intern("read");
  std::uint32_t write = history.functions.intern("write");
  std::uint32_t cas = history.functions.intern("cas");
  std::int64_t time = 0;
  history.operations.reserve(kOperations);
  while (history.operations.size() + 2 <= kOperations) {
    Operation invocation;
    invocation.process = static_cast<std::int64_t>(history.operations.size() / 2 % kProcesses);
    invocation.key = history.keys.intern("k" + std::to_string(key_choice(random)));
    invocation.node =
        static_cast<std::uint16_t>(history.nodes.intern("n" + std::to_string(invocation.process % 5 + 1)));
    int choice = function_choice(random);
    Operation completion = invocation;
    completion.type = choice == 9 ? OpType::fail : OpType::ok;
    if (choice < 4) {
      invocation.function = completion.function = read;
      completion.value = history.values.intern_int(small_value(random));
    } else if (choice < 8) {
      invocation.function = completion.function = write;
      invocation.value = completion.value = history.values.intern_int(small_value(random));
    } else {
      invocation.function = completion.function = cas;
      invocation.value = completion.value =
          history.values.intern_json(nlohmann::json::array({small_value(random), small_value(random)}));
    }
    time += 1000 + static_cast<std::int64_t>(random() % 5000);
    invocation.time = time;
    time += 1000 + static_cast<std::int64_t>(random() % 50000);
    completion.time = time;
    history.operations.push_back(invocation);
    history.operations.push_back(completion);
  }
  return history;
}

const History& shared_history() {
  static const History history = generate_history();
  return history;
}

std::filesystem::path bench_path(std::string_view name) {
  return std::filesystem::temp_directory_path() /
         ("chaosbench_history_io_bench_" + std::to_string(::getpid()) + "_" + std::string(name));
}

std::string shared_text() {
  const History& history = shared_history();
  std::string text;
  for (std::size_t index = 0; index < history.size(); ++index) {
    append_jsonl_line(text, history, index);
    text.push_back('\n');
  }
  return text;
}

// Formatting only: JSONL lines into one memory buffer.
void BM_FormatJsonl(benchmark::State& state) {
  const History& history = shared_history();
  std::string text;
  for (auto _ : state) {
    text.clear();
    for (std::size_t index = 0; index < history.size(); ++index) {
      append_jsonl_line(text, history, index);
      text.push_back('\n');
    }
    benchmark::DoNotOptimize(text.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * history.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FormatJsonl)->Unit(benchmark::kMillisecond)->UseRealTime();

// write_history_file: format, write and one fsync.
void BM_WriteHistoryFile(benchmark::State& state) {
  const History& history = shared_history();
  auto path = bench_path("write.jsonl");
  for (auto _ : state) write_history_file(history, path);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * history.size()));
  std::filesystem::remove(path);
}
BENCHMARK(BM_WriteHistoryFile)->Unit(benchmark::kMillisecond)->UseRealTime();

// JsonlWriter: one write(2) per op, fsync once a second (the recorder's path).
void BM_JsonlWriterStreaming(benchmark::State& state) {
  const History& history = shared_history();
  auto path = bench_path("stream.jsonl");
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove(path);
    state.ResumeTiming();
    JsonlWriter writer(path);
    for (std::size_t index = 0; index < history.size(); ++index) writer.write(history, index);
    writer.close();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * history.size()));
  std::filesystem::remove(path);
}
BENCHMARK(BM_JsonlWriterStreaming)->Unit(benchmark::kMillisecond)->UseRealTime();

// Parsing only: JSONL text in memory to a History.
void BM_ParseJsonl(benchmark::State& state) {
  static const std::string text = shared_text();
  std::size_t operations = 0;
  for (auto _ : state) {
    History history = parse_history(text, HistoryFormat::jsonl, "bench");
    operations = history.size();
    benchmark::DoNotOptimize(history.operations.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * operations));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseJsonl)->Unit(benchmark::kMillisecond)->UseRealTime();

// read_history_file: read the file (page cache) and parse, auto-detecting.
void BM_ReadHistoryFile(benchmark::State& state) {
  const History& history = shared_history();
  auto path = bench_path("read.jsonl");
  write_history_file(history, path);
  for (auto _ : state) {
    History read_back = read_history_file(path);
    benchmark::DoNotOptimize(read_back.operations.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * history.size()));
  std::filesystem::remove(path);
}
BENCHMARK(BM_ReadHistoryFile)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same history as one-map-per-line EDN (no target; for comparison).
void BM_ParseEdn(benchmark::State& state) {
  const History& history = shared_history();
  static const std::string text = [&] {
    std::string edn;
    for (const Operation& op : history.operations) {
      edn += "{:type :" + std::string(to_string(op.type)) + ", :f :" + history.function_name(op) + ", :process " +
             std::to_string(op.process) + ", :key \"" + history.key_name(op) + "\", :value " +
             (op.value.is_null() ? std::string("nil") : history.values.to_text(op.value)) + ", :time " +
             std::to_string(op.time) + "}\n";
    }
    return edn;
  }();
  std::size_t operations = 0;
  for (auto _ : state) {
    History parsed = parse_history(text, HistoryFormat::edn, "bench");
    operations = parsed.size();
    benchmark::DoNotOptimize(parsed.operations.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * operations));
}
BENCHMARK(BM_ParseEdn)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace chaosbench::checkers

BENCHMARK_MAIN();
