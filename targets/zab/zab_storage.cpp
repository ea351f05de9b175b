#include "zab/zab_storage.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace chaosbench::zab {

using nlohmann::json;
using targets::WalCorruption;

namespace {

json zxid_json(const Zxid& zxid) { return json::array({zxid.epoch, zxid.counter}); }
Zxid zxid_from(const json& value) { return Zxid{value.at(0).get<std::uint64_t>(), value.at(1).get<std::uint64_t>()}; }
json binary(const std::string& bytes) { return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())); }

// {"p":[accepted, current]}
std::string epochs_record(const EpochState& epochs) {
  return targets::cbor_bytes(json{{"p", json::array({epochs.accepted_epoch, epochs.current_epoch})}});
}
// {"t":[[e,c] truncate after, [[[e,c], command, origin, context], ...]]}
std::string txns_record(const Zxid& truncate_after, const std::vector<Txn>& txns) {
  json list = json::array();
  for (const auto& txn : txns)
    list.push_back(json::array({zxid_json(txn.zxid), binary(txn.command), txn.origin, txn.context}));
  return targets::cbor_bytes(json{{"t", json::array({zxid_json(truncate_after), std::move(list)})}});
}
// {"s":[e,c]}: snapshot.bin holds the snapshot at this zxid
std::string snapshot_marker_record(const Zxid& zxid) { return targets::cbor_bytes(json{{"s", zxid_json(zxid)}}); }

}  // namespace

ZabStorage::ZabStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
                       targets::StorageEnv& env)
    : NodeStorage(data_directory, fsync_enabled, logger, env) {
  open_wal([this](const json& record) { replay(record); });
  recover_snapshot();
}

void ZabStorage::replay(const json& record) {
  if (record.contains("p")) {
    state_.epochs.accepted_epoch = record["p"].at(0).get<std::uint64_t>();
    state_.epochs.current_epoch = record["p"].at(1).get<std::uint64_t>();
  } else if (record.contains("t")) {
    std::vector<Txn> txns;
    for (const auto& item : record["t"].at(1)) {
      const auto& command = item.at(1).get_binary();
      txns.push_back(Txn{zxid_from(item.at(0)), std::string(command.begin(), command.end()),
                         item.at(2).get<std::string>(), item.at(3).get<std::uint64_t>()});
    }
    persist_txns(state_, zxid_from(record["t"].at(0)), txns);
  } else if (record.contains("s")) {
    persist_snapshot(state_, Snapshot{zxid_from(record["s"]), ""});
  } else {
    throw std::runtime_error("unknown record kind");
  }
}

void ZabStorage::recover_snapshot() {
  if (const auto stored = read_snapshot_file(2)) {
    const json& document = *stored;
    Snapshot snapshot;
    snapshot.zxid = zxid_from(document[0]);
    const auto& data = document[1].get_binary();
    snapshot.data.assign(data.begin(), data.end());
    if (snapshot.zxid < state_.snapshot.zxid) {
      throw WalCorruption(fmt::format("{} covers {} but the WAL expects a snapshot at {}", snapshot_path().string(),
                                      to_string(snapshot.zxid), to_string(state_.snapshot.zxid)));
    }
    if (snapshot.zxid == state_.snapshot.zxid) {
      state_.snapshot.data = std::move(snapshot.data);
    } else {
      persist_snapshot(state_, snapshot);  // crashed between writing the snapshot and rewriting the WAL
    }
  } else if (state_.snapshot.zxid != Zxid{}) {
    throw WalCorruption(fmt::format("the WAL refers to snapshot {} but {} is missing", to_string(state_.snapshot.zxid),
                                    snapshot_path().string()));
  }
  logger_.info("recovered: acceptedEpoch {} currentEpoch {} snapshot {} {} txns", state_.epochs.accepted_epoch,
               state_.epochs.current_epoch, to_string(state_.snapshot.zxid), state_.log.size());
}

void ZabStorage::stage(const Ready& ready) {
  if (ready.snapshot) {
    const Snapshot& snapshot = *ready.snapshot;
    write_snapshot_file(json::array({zxid_json(snapshot.zxid), binary(snapshot.data)}));
    persist_snapshot(state_, snapshot);
    if (ready.truncate_after) persist_txns(state_, *ready.truncate_after, ready.txns);
    if (ready.epochs) state_.epochs = *ready.epochs;
    wal_->rewrite(
        {snapshot_marker_record(snapshot.zxid), epochs_record(state_.epochs), txns_record(snapshot.zxid, state_.log)});
    return;
  }
  if (ready.truncate_after) {
    wal_->append(txns_record(*ready.truncate_after, ready.txns));
    persist_txns(state_, *ready.truncate_after, ready.txns);
  }
  if (ready.epochs) {
    wal_->append(epochs_record(*ready.epochs));
    state_.epochs = *ready.epochs;
  }
}

}  // namespace chaosbench::zab
