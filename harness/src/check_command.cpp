#include "chaosbench/harness/check_command.h"

#include <algorithm>
#include <fstream>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/history_io.h"
#include "chaosbench/harness/checker_selection.h"
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
NilRead default_nil_read(HistoryFormat format) {
  return format == HistoryFormat::edn || format == HistoryFormat::json ? NilRead::any : NilRead::absent;
}

struct FileOutcome {
  checkers::Verdict verdict = checkers::Verdict::unknown;
  nlohmann::json json;
};

FileOutcome check_file(const std::string& file, const CheckCommandOptions& options,
                       std::chrono::milliseconds time_limit, HistoryFormat format, std::ostream& out) {
  FileOutcome outcome;
  HistoryFormat detected = format;
  checkers::History history = checkers::read_history_file(file, format, &detected);

  checkers::ModelOptions model;
  model.kind = options.model.empty() ? infer_model(history) : *checkers::parse_model_kind(options.model);
  model.nil_read = options.nil_read.empty() ? default_nil_read(detected) : *checkers::parse_nil_read(options.nil_read);
  if (!options.initial.empty()) model.initial = history.values.intern_json(nlohmann::json::parse(options.initial));

  std::vector<std::string> names = options.checkers;
  if (names.empty()) names.push_back("linearizable");
  bool only_linearizable = names.size() == 1 && names[0] == "linearizable";
  CheckerConfiguration configuration;
  configuration.model = model;
  configuration.partition_by_key = options.partition_by_key;
  configuration.check_every_partition = options.check_every_partition;
  configuration.time_limit = time_limit;
  configuration.memory_limit_bytes = options.memory_limit_megabytes << 20;
  configuration.threads = options.threads;
  configuration.consistency_model = *checkers::parse_consistency_model(options.consistency_model);
  configuration.bank.total = options.bank_total;
  configuration.long_fork_group_size = options.group_size;
  configuration.wfr_keys = options.wfr_keys;
  configuration.sequential_keys = options.sequential_keys;
  configuration.linearizable_keys = options.linearizable_keys;
  checkers::Verdict file_verdict = checkers::Verdict::valid;
  nlohmann::json results = nlohmann::json::object();
  for (const std::string& name : names) {
    if (results.contains(name)) continue;  // asked twice
    CheckerOutcome result = run_checker(name, history, configuration);
    // With only the default checker the line stays "FILE: VERDICT: REASON (...)".
    std::string label = only_linearizable ? file : fmt::format("{}: {}", file, name);
    out << fmt::format("{}: {}: {} ({} ops, {:.0f} ms)\n", label, to_string(result.verdict), result.reason,
                       history.size(), result.elapsed_seconds * 1000);
    if (!options.quiet && result.verdict != checkers::Verdict::valid) {
      for (std::size_t start = 0; start < result.evidence.size();) {
        std::size_t end = result.evidence.find('\n', start);
        if (end == std::string::npos) end = result.evidence.size();
        out << "  " << result.evidence.substr(start, end - start) << "\n";
        start = end + 1;
      }
    }
    file_verdict = checkers::combine(file_verdict, result.verdict);
    results[name] = std::move(result.json);
  }
  outcome.verdict = file_verdict;
  outcome.json = {{"file", file},
                  {"format", to_string(detected)},
                  {"model", to_string(model.kind)},
                  {"nil_read", to_string(model.nil_read)},
                  {"verdict", to_string(file_verdict)},
                  {"checkers", std::move(results)}};
  return outcome;
}

}  // namespace

int run_check_command(const CheckCommandOptions& options, std::ostream& out, std::ostream& errors) {
  // Validate every flag before touching any file.
  auto format = checkers::parse_history_format(options.format);
  if (!format) {
    errors << fmt::format("harness check: --format '{}': expected auto, jsonl, json, edn or porcupine-log\n",
                          options.format);
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
  for (const std::string& name : options.checkers) {
    if (!is_known_checker(name)) {
      errors << fmt::format("harness check: --checker '{}': expected one of {}\n", name, known_checkers_text());
      return kExitHarnessFailed;
    }
  }
  if (!checkers::parse_consistency_model(options.consistency_model)) {
    std::string known;
    for (checkers::ConsistencyModel model : checkers::all_consistency_models()) {
      known += fmt::format("{}{}", known.empty() ? "" : ", ", checkers::to_string(model));
    }
    errors << fmt::format("harness check: --consistency-model '{}': expected one of {} (or Elle's PL-* names)\n",
                          options.consistency_model, known);
    return kExitHarnessFailed;
  }
  if (options.group_size < 1 || options.group_size > kMostLongForkGroupSize) {
    errors << fmt::format("harness check: --group-size {}: expected 1 to {}\n", options.group_size,
                          kMostLongForkGroupSize);
    return kExitHarnessFailed;
  }
  std::chrono::milliseconds time_limit;
  try {
    time_limit = parse_duration(options.time_limit);
  } catch (const std::invalid_argument& error) {
    errors << "harness check: --time-limit " << error.what() << "\n";
    return kExitHarnessFailed;
  }

  bool failed = false;
  nlohmann::json files = nlohmann::json::array();
  checkers::Verdict overall = checkers::Verdict::valid;
  for (const std::string& file : options.files) {
    try {
      FileOutcome outcome = check_file(file, options, time_limit, *format, out);
      overall = checkers::combine(overall, outcome.verdict);
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
  // invalid anywhere is invalid, though another file is unknown (as the verdicts combine).
  return failed ? kExitHarnessFailed : exit_code_for(overall);
}

CLI::App* add_check_command(CLI::App& app, CheckCommandOptions& check) {
  CLI::App* check_app =
      app.add_subcommand("check", "Check history files (linearizability unless --checker says otherwise)");
  check_app
      ->add_option("files", check.files,
                   "History files (chaosbench JSONL, Jepsen EDN or JSON, Porcupine logs) or store directories "
                   "(ours, or Jepsen's store/<test>/latest)")
      ->required()
      ->check(CLI::ExistingPath);
  check_app->add_option("--format", check.format, "auto, jsonl, json (Jepsen's), edn or porcupine-log")
      ->capture_default_str();
  check_app->add_option("--model", check.model,
                        "cas-register, kv or mutex (default: inferred from the operations' functions)");
  check_app->add_option("--nil-read", check.nil_read,
                        "absent: a nil read means the key does not exist (etcd, Porcupine; default for JSONL and "
                        "Porcupine logs); any: a nil read matches any value (Knossos; default for EDN)");
  check_app->add_option("--initial", check.initial, "Initial register value as JSON, with --nil-read any");
  check_app->add_option("--time-limit", check.time_limit, "Give up with 'unknown' after this long per file (0: never)")
      ->capture_default_str();
  check_app
      ->add_option("--memory-limit", check.memory_limit_megabytes,
                   "Give up with 'unknown' when the search's memo tables exceed this many MiB")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  check_app->add_option("--threads", check.threads, "Worker threads for per-key partitions (0: all cores)")
      ->capture_default_str();
  check_app->add_flag("!--no-partition", check.partition_by_key,
                      "Check all keys as one object instead of one search per key");
  check_app->add_flag("--all-keys", check.check_every_partition,
                      "Keep checking the other keys after one is found invalid (to list every bad key)");
  check_app->add_flag("-q,--quiet", check.quiet, "Only the one-line verdict per file, no evidence");
  check_app->add_option("-o,--output", check.output, "Write machine-readable results (JSON) to this file");
  check_app->add_option("--checker", check.checkers,
                        "Checker to run, repeatable (default: linearizable): " + known_checkers_text());
  check_app
      ->add_option("--consistency-model", check.consistency_model,
                   "Model for the elle-* checkers: read-uncommitted, read-committed, snapshot-isolation, "
                   "repeatable-read, serializable, strong-session-serializable, strict-serializable, ...")
      ->capture_default_str();
  check_app->add_option("--bank-total", check.bank_total, "Expected total balance for the bank checker");
  check_app
      ->add_option("--group-size", check.group_size,
                   "long-fork: how many keys each read txn reads (Jepsen's and elle-cli's --group-size)")
      ->capture_default_str();
  check_app->add_flag("--wfr-keys", check.wfr_keys,
                      "elle-rw-register: assume a txn's write of a key follows its read of it (read v1, write v2: "
                      "v1 before v2), as Elle's :wfr-keys?");
  check_app->add_flag("--sequential-keys", check.sequential_keys,
                      "elle-rw-register: assume each key is sequentially consistent: a process's txns see its "
                      "versions in order (Elle's :sequential-keys?)");
  check_app->add_flag("--linearizable-keys", check.linearizable_keys,
                      "elle-rw-register: assume each key is linearizable: real-time order orders its versions "
                      "(Elle's :linearizable-keys?)");
  return check_app;
}

}  // namespace chaosbench::harness
