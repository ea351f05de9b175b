#include "chaosbench/workloads/workload.h"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "chaosbench/workloads/bank_workload.h"
#include "chaosbench/workloads/counter_workload.h"
#include "chaosbench/workloads/kv_workload.h"
#include "chaosbench/workloads/list_append_workload.h"
#include "chaosbench/workloads/long_fork_workload.h"
#include "chaosbench/workloads/register_workload.h"
#include "chaosbench/workloads/rw_register_workload.h"
#include "chaosbench/workloads/set_workload.h"

namespace chaosbench::workloads {
namespace {

std::uint64_t parse_count(std::string_view text, std::string_view whole) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) {
    throw std::invalid_argument(
        fmt::format("--ops-per-key '{}': expected a positive count or a range like 100-300", whole));
  }
  return value;
}

}  // namespace

KeyRotation parse_key_rotation(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    const auto count = parse_count(text, text);
    return KeyRotation{count, count};
  }
  KeyRotation rotation{parse_count(text.substr(0, dash), text), parse_count(text.substr(dash + 1), text)};
  if (rotation.minimum > rotation.maximum) {
    throw std::invalid_argument(fmt::format("--ops-per-key '{}': the range's low end is above its high end", text));
  }
  return rotation;
}

bool uses_key_pool(std::string_view name) { return name == "list-append" || name == "rw-register"; }

std::string known_workloads_text() {
  std::string text;
  for (const std::string& name : workload_names()) text += (text.empty() ? "" : ", ") + name;
  return text;
}

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names = {
      "register", "unique-register", "register-delete", "kv",       "set", "counter",
      "bank",     "list-append",     "rw-register",     "long-fork"};
  return names;
}

std::unique_ptr<Workload> make_workload(std::string_view name, std::uint64_t seed, KeyRotation rotation,
                                        double read_fraction, const KeyPoolOptions& txn_keys, std::size_t group_size) {
  if (!(read_fraction >= 0 && read_fraction <= 1)) {
    throw std::invalid_argument(fmt::format("read fraction {} is not between 0 and 1", read_fraction));
  }
  if (name == "register") return std::make_unique<RegisterWorkload>(seed, rotation, read_fraction);
  if (name == "unique-register") {
    return std::make_unique<RegisterWorkload>(seed, rotation, read_fraction, RegisterWorkload::Updates::unique_writes);
  }
  if (name == "register-delete") {
    return std::make_unique<RegisterWorkload>(seed, rotation, read_fraction,
                                              RegisterWorkload::Updates::unique_writes_and_deletes);
  }
  if (name == "kv") return std::make_unique<KvWorkload>(seed, rotation, read_fraction);
  if (name == "set") return std::make_unique<SetWorkload>(seed, read_fraction);
  if (name == "counter") return std::make_unique<CounterWorkload>(seed, read_fraction);
  if (name == "bank") return std::make_unique<BankWorkload>(seed, read_fraction);
  if (name == "list-append") return std::make_unique<ListAppendWorkload>(seed, read_fraction, txn_keys);
  if (name == "rw-register") return std::make_unique<RwRegisterWorkload>(seed, read_fraction, txn_keys);
  if (name == "long-fork") return std::make_unique<LongForkWorkload>(seed, read_fraction, group_size);
  throw std::invalid_argument(fmt::format("unknown workload '{}' (known: {})", name, known_workloads_text()));
}

}  // namespace chaosbench::workloads
