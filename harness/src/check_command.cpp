#include "chaosbench/harness/check_command.h"

#include <fstream>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>

#include "chaosbench/checkers/history_io.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"

namespace chaosbench::harness {
namespace {

using checkers::HistoryFormat;
using checkers::ModelKind;
using checkers::NilRead;

// The model whose functions the history uses (kv for get/put/append, mutex for
// acquire/release, otherwise cas-register).
ModelKind infer_model(const checkers::History& history) {
  bool appends = history.functions.find("append").has_value();
  bool gets = history.functions.find("get").has_value() || history.functions.find("put").has_value();
  if (appends || (gets && !history.functions.find("cas"))) return ModelKind::kv;
  if (history.functions.find("acquire") || history.functions.find("release")) return ModelKind::mutex;
  return ModelKind::cas_register;
}

// Jepsen's Knossos treats a nil read as "any value"; etcd, Porcupine and our own
// nodes mean "absent".
NilRead default_nil_read(HistoryFormat format) { return format == HistoryFormat::edn ? NilRead::any : NilRead::absent; }

struct FileOutcome {
  int exit_code = kExitHarnessFailed;
  nlohmann::json json;
};

FileOutcome check_file(const std::string& file, const CheckCommandOptions& options, std::chrono::milliseconds time_limit,
                       HistoryFormat format, std::ostream& out) {
  FileOutcome outcome;
  HistoryFormat detected = format;
  checkers::History history = checkers::read_history_file(file, format, &detected);

  checkers::LinearizabilityOptions check;
  if (options.model.empty()) {
    check.model.kind = infer_model(history);
  } else {
    check.model.kind = *checkers::parse_model_kind(options.model);
  }
  check.model.nil_read = options.nil_read.empty() ? default_nil_read(detected) : *checkers::parse_nil_read(options.nil_read);
  if (!options.initial.empty()) check.model.initial = history.values.intern_json(nlohmann::json::parse(options.initial));
  check.partition_by_key = options.partition_by_key;
  check.check_every_partition = options.check_every_partition;
  check.time_limit = time_limit;
  check.memory_limit_bytes = options.memory_limit_megabytes << 20;
  check.threads = options.threads;

  checkers::LinearizabilityResult result = checkers::check_linearizability(history, check);
  out << fmt::format("{}: {}: {} ({} ops, {:.0f} ms)\n", file, to_string(result.verdict), result.reason,
                     history.size(), result.elapsed_seconds * 1000);
  if (!options.quiet && result.verdict != checkers::Verdict::valid) {
    std::string evidence = checkers::describe(result, history);
    // The first line repeats the summary; indent the rest under the file's line.
    std::size_t first_break = evidence.find('\n');
    for (std::size_t start = first_break + 1; start < evidence.size();) {
      std::size_t end = evidence.find('\n', start);
      out << "  " << evidence.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
  outcome.exit_code = exit_code_for(result.verdict);
  outcome.json = {{"file", file},
                  {"format", to_string(detected)},
                  {"model", to_string(check.model.kind)},
                  {"nil_read", to_string(check.model.nil_read)},
                  {"verdict", to_string(result.verdict)},
                  {"checkers", {{"linearizable", checkers::to_json(result)}}}};
  return outcome;
}

}  // namespace

int run_check_command(const CheckCommandOptions& options, std::ostream& out, std::ostream& errors) {
  // Validate every flag before touching any file.
  auto format = checkers::parse_history_format(options.format);
  if (!format) {
    errors << fmt::format("harness check: --format '{}': expected auto, jsonl, edn or porcupine-log\n", options.format);
    return kExitHarnessFailed;
  }
  if (!options.model.empty() && !checkers::parse_model_kind(options.model)) {
    errors << fmt::format("harness check: --model '{}': expected cas-register, kv or mutex\n", options.model);
    return kExitHarnessFailed;
  }
  if (!options.nil_read.empty() && !checkers::parse_nil_read(options.nil_read)) {
    errors << fmt::format("harness check: --nil-read '{}': expected absent or any\n", options.nil_read);
    return kExitHarnessFailed;
  }
  if (!options.initial.empty() && !nlohmann::json::accept(options.initial)) {
    errors << fmt::format("harness check: --initial '{}': not a JSON value (e.g. 0, \"x\", null)\n", options.initial);
    return kExitHarnessFailed;
  }
  std::chrono::milliseconds time_limit;
  try {
    time_limit = parse_duration(options.time_limit);
  } catch (const std::invalid_argument& error) {
    errors << "harness check: --time-limit " << error.what() << "\n";
    return kExitHarnessFailed;
  }

  int worst = kExitValid;
  bool failed = false;
  nlohmann::json files = nlohmann::json::array();
  checkers::Verdict overall = checkers::Verdict::valid;
  for (const std::string& file : options.files) {
    try {
      FileOutcome outcome = check_file(file, options, time_limit, *format, out);
      overall = checkers::combine(overall, *checkers::parse_verdict(outcome.json["verdict"].get<std::string>()));
      worst = std::max(worst, outcome.exit_code);
      files.push_back(std::move(outcome.json));
    } catch (const std::exception& error) {
      // HistoryError messages already name the file and line; others get the file name.
      std::string message = error.what();
      if (message.rfind(file, 0) != 0) message = file + ": " + message;
      errors << "harness check: " << message << "\n";
      files.push_back({{"file", file}, {"verdict", "error"}, {"error", message}});
      failed = true;
    }
  }
  if (!options.output.empty()) {
    std::ofstream stream(options.output);
    stream << nlohmann::json{{"verdict", failed ? "error" : std::string(to_string(overall))}, {"files", files}}.dump(2)
           << "\n";
    if (!stream) {
      errors << fmt::format("harness check: --output '{}': cannot write\n", options.output);
      return kExitHarnessFailed;
    }
  }
  return failed ? kExitHarnessFailed : worst;
}

}  // namespace chaosbench::harness
