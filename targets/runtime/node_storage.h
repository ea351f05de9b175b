// NodeStorage: what every protocol's stable storage is made of, in its data
// directory: wal.log (a WriteAheadLog, replayed record by record when opened)
// and snapshot.bin (one CBOR array, replaced atomically), through a
// StorageEnv, with group commit by sync(). A protocol's storage derives from
// it and says what its records and snapshot fields mean. Errors as the WAL's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/logger.h"
#include "runtime/storage_env.h"
#include "runtime/write_ahead_log.h"

namespace chaosbench::targets {

class NodeStorage {
 public:
  // Makes everything staged durable with one fsync.
  void sync() { wal_->sync(); }
  std::uint64_t sync_count() const { return wal_->sync_count(); }
  // Bytes of a torn tail the WAL's recovery cut off when it was opened.
  std::uint64_t truncated_tail_bytes() const { return wal_->truncated_tail_bytes(); }

 protected:
  NodeStorage(const std::filesystem::path& data_directory, bool fsync_enabled, Logger& logger, StorageEnv& env);
  ~NodeStorage() = default;

  // Creates the directory, opens (recovering) wal.log, logs a torn tail it
  // cut, and hands each record, decoded from CBOR, to `replay` in order;
  // anything `replay` throws becomes WalCorruption naming the record.
  void open_wal(const std::function<void(const nlohmann::json& record)>& replay);
  // snapshot.bin as an array of `fields` values, or nullopt when there is
  // none; anything else throws WalCorruption.
  std::optional<nlohmann::json> read_snapshot_file(std::size_t fields) const;
  void write_snapshot_file(const nlohmann::json& fields);
  std::filesystem::path snapshot_path() const { return data_directory_ / "snapshot.bin"; }

  std::filesystem::path data_directory_;
  bool fsync_enabled_;
  Logger& logger_;
  StorageEnv& env_;
  std::unique_ptr<WriteAheadLog> wal_;
};

// CBOR bytes of a record, as the WAL stores them.
std::string cbor_bytes(const nlohmann::json& document);

}  // namespace chaosbench::targets
