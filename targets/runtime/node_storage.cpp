#include "runtime/node_storage.h"

#include <fmt/format.h>

namespace chaosbench::targets {

using nlohmann::json;

std::string cbor_bytes(const json& document) {
  auto bytes = json::to_cbor(document);
  return std::string(bytes.begin(), bytes.end());
}

NodeStorage::NodeStorage(const std::filesystem::path& data_directory, bool fsync_enabled, Logger& logger,
                         StorageEnv& env)
    : data_directory_(data_directory), fsync_enabled_(fsync_enabled), logger_(logger), env_(env) {}

void NodeStorage::open_wal(const std::function<void(const json& record)>& replay) {
  const auto path = data_directory_ / "wal.log";
  env_.create_directories(data_directory_);
  wal_ = std::make_unique<WriteAheadLog>(path, fsync_enabled_, env_);
  if (wal_->truncated_tail_bytes() > 0)
    logger_.info("wal: truncated a torn tail of {} bytes", wal_->truncated_tail_bytes());
  const auto& records = wal_->recovered();
  for (std::size_t position = 0; position < records.size(); ++position) {
    try {
      replay(json::from_cbor(records[position]));
    } catch (const std::exception& error) {
      throw WalCorruption(fmt::format("{}: record {} has a valid checksum but cannot be replayed: {}", path.string(),
                                      position, error.what()));
    }
  }
  wal_->release_recovered();
}

std::optional<json> NodeStorage::read_snapshot_file(std::size_t fields) const {
  const auto payload = WriteAheadLog::read_checked_file(snapshot_path(), env_);
  if (!payload) return std::nullopt;
  json document = json::from_cbor(*payload, true, false);
  if (document.is_discarded() || !document.is_array() || document.size() != fields) {
    throw WalCorruption(fmt::format("{}: not a snapshot", snapshot_path().string()));
  }
  return document;
}

void NodeStorage::write_snapshot_file(const json& fields) {
  WriteAheadLog::write_file_atomically(snapshot_path(), cbor_bytes(fields), fsync_enabled_, env_);
}

}  // namespace chaosbench::targets
