#include "raft/raft_storage.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace chaosbench::raft {

using nlohmann::json;
using targets::WalCorruption;

namespace {

std::string hard_state_record(const HardState& hard_state) {
  return targets::cbor_bytes(json{{"h", json::array({hard_state.term, hard_state.voted_for})}});
}

std::string entries_record(const std::vector<LogEntry>& entries) {
  json list = json::array();
  for (const auto& entry : entries) list.push_back(entry_to_json(entry));
  return targets::cbor_bytes(json{{"e", std::move(list)}});
}

std::string snapshot_marker_record(const Snapshot& snapshot) {
  return targets::cbor_bytes(json{{"s", json::array({snapshot.index, snapshot.term})}});
}

}  // namespace

RaftStorage::RaftStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
                         targets::StorageEnv& env)
    : NodeStorage(data_directory, fsync_enabled, logger, env) {
  open_wal([this](const json& record) { replay(record); });
  recover_snapshot();
}

void RaftStorage::replay(const json& record) {
  if (record.contains("h")) {
    state_.hard_state.term = record["h"].at(0).get<std::uint64_t>();
    state_.hard_state.voted_for = record["h"].at(1).get<std::string>();
  } else if (record.contains("e")) {
    std::vector<LogEntry> entries;
    for (const auto& entry : record["e"]) entries.push_back(entry_from_json(entry));
    persist_entries(state_, entries);
  } else if (record.contains("s")) {
    persist_snapshot(state_,
                     Snapshot{record["s"].at(0).get<std::uint64_t>(), record["s"].at(1).get<std::uint64_t>(), ""});
  } else {
    throw std::runtime_error("unknown record kind");
  }
}

void RaftStorage::recover_snapshot() {
  if (const auto stored = read_snapshot_file(3)) {
    const json& document = *stored;
    Snapshot snapshot;
    snapshot.index = document[0].get<std::uint64_t>();
    snapshot.term = document[1].get<std::uint64_t>();
    const auto& data = document[2].get_binary();
    snapshot.data.assign(data.begin(), data.end());
    if (snapshot.index < state_.snapshot.index) {
      throw WalCorruption(fmt::format("{} covers index {} but the WAL expects a snapshot at {}",
                                      snapshot_path().string(), snapshot.index, state_.snapshot.index));
    }
    if (snapshot.index == state_.snapshot.index) {
      state_.snapshot.data = std::move(snapshot.data);
    } else {
      persist_snapshot(state_, snapshot);  // crashed between writing the snapshot and rewriting the WAL
    }
  } else if (state_.snapshot.index > 0) {
    throw WalCorruption(fmt::format("the WAL refers to snapshot {} but {} is missing", state_.snapshot.index,
                                    snapshot_path().string()));
  }
  logger_.info("recovered: term {} vote '{}' snapshot {} entries {}..{}", state_.hard_state.term,
               state_.hard_state.voted_for, state_.snapshot.index, state_.snapshot.index + 1,
               state_.snapshot.index + state_.entries.size());
}

void RaftStorage::stage(const Ready& ready) {
  if (ready.snapshot) {
    const Snapshot& snapshot = *ready.snapshot;
    write_snapshot_file(
        json::array({snapshot.index, snapshot.term,
                     json::binary(std::vector<std::uint8_t>(snapshot.data.begin(), snapshot.data.end()))}));
    persist_snapshot(state_, snapshot);
    persist_entries(state_, ready.entries);
    if (ready.hard_state) state_.hard_state = *ready.hard_state;
    std::vector<std::string> records{snapshot_marker_record(snapshot), hard_state_record(state_.hard_state)};
    if (!state_.entries.empty()) records.push_back(entries_record(state_.entries));
    wal_->rewrite(records);
    return;
  }
  if (!ready.entries.empty()) {
    wal_->append(entries_record(ready.entries));
    persist_entries(state_, ready.entries);
  }
  if (ready.hard_state) {
    wal_->append(hard_state_record(*ready.hard_state));
    state_.hard_state = *ready.hard_state;
  }
}

}  // namespace chaosbench::raft
