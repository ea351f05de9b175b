#include "raft/raft_storage.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace chaosbench::raft {

using nlohmann::json;
using targets::WalCorruption;
using targets::WriteAheadLog;

namespace {

std::string to_bytes(const json& document) {
  auto bytes = json::to_cbor(document);
  return std::string(bytes.begin(), bytes.end());
}

std::string hard_state_record(const HardState& hard_state) {
  return to_bytes(json{{"h", json::array({hard_state.term, hard_state.voted_for})}});
}

std::string entries_record(const std::vector<LogEntry>& entries) {
  json list = json::array();
  for (const auto& entry : entries) list.push_back(entry_to_json(entry));
  return to_bytes(json{{"e", std::move(list)}});
}

std::string snapshot_marker_record(const Snapshot& snapshot) {
  return to_bytes(json{{"s", json::array({snapshot.index, snapshot.term})}});
}

}  // namespace

RaftStorage::RaftStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
                         targets::StorageEnv& env)
    : data_directory_(data_directory), fsync_enabled_(fsync_enabled), logger_(logger), env_(env) {
  env_.create_directories(data_directory_);
  wal_ = std::make_unique<WriteAheadLog>(data_directory_ / "wal.log", fsync_enabled_, env_);
  if (wal_->truncated_tail_bytes() > 0) {
    logger_.info("wal: truncated a torn tail of {} bytes", wal_->truncated_tail_bytes());
  }
  recover();
  wal_->release_recovered();
}

void RaftStorage::recover() {
  const auto& records = wal_->recovered();
  for (std::size_t position = 0; position < records.size(); ++position) {
    try {
      json record = json::from_cbor(records[position]);
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
    } catch (const std::exception& error) {
      throw WalCorruption(fmt::format("{}: record {} has a valid checksum but cannot be replayed: {}",
                                      (data_directory_ / "wal.log").string(), position, error.what()));
    }
  }
  const auto snapshot_path = data_directory_ / "snapshot.bin";
  if (const auto payload = WriteAheadLog::read_checked_file(snapshot_path, env_)) {
    json document = json::from_cbor(*payload, true, false);
    if (document.is_discarded() || !document.is_array() || document.size() != 3) {
      throw WalCorruption(fmt::format("{}: not a snapshot", snapshot_path.string()));
    }
    Snapshot snapshot;
    snapshot.index = document[0].get<std::uint64_t>();
    snapshot.term = document[1].get<std::uint64_t>();
    const auto& data = document[2].get_binary();
    snapshot.data.assign(data.begin(), data.end());
    if (snapshot.index < state_.snapshot.index) {
      throw WalCorruption(fmt::format("{} covers index {} but the WAL expects a snapshot at {}", snapshot_path.string(),
                                      snapshot.index, state_.snapshot.index));
    }
    if (snapshot.index == state_.snapshot.index) {
      state_.snapshot.data = std::move(snapshot.data);
    } else {
      persist_snapshot(state_, snapshot);  // crashed between writing the snapshot and rewriting the WAL
    }
  } else if (state_.snapshot.index > 0) {
    throw WalCorruption(
        fmt::format("the WAL refers to snapshot {} but {} is missing", state_.snapshot.index, snapshot_path.string()));
  }
  logger_.info("recovered: term {} vote '{}' snapshot {} entries {}..{}", state_.hard_state.term,
               state_.hard_state.voted_for, state_.snapshot.index, state_.snapshot.index + 1,
               state_.snapshot.index + state_.entries.size());
}

void RaftStorage::stage(const Ready& ready) {
  if (ready.snapshot) {
    const Snapshot& snapshot = *ready.snapshot;
    WriteAheadLog::write_file_atomically(
        data_directory_ / "snapshot.bin",
        to_bytes(json::array({snapshot.index, snapshot.term,
                              json::binary(std::vector<std::uint8_t>(snapshot.data.begin(), snapshot.data.end()))})),
        fsync_enabled_, env_);
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
