#include "quorum/quorum_storage.h"

namespace chaosbench::quorum {

QuorumStorage::QuorumStorage(const std::filesystem::path& data_directory, bool fsync_enabled,
                             targets::StorageEnv& env) {
  env.create_directories(data_directory);
  wal_ = std::make_unique<targets::WriteAheadLog>(data_directory / "quorum.wal", fsync_enabled, env);
}

void QuorumStorage::append(const std::vector<std::string>& records) {
  for (const auto& record : records) wal_->append(record);
}

}  // namespace chaosbench::quorum
