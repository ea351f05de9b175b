// SimulatedDisk: a node's disk in a simulation, behind the same StorageEnv the
// real WAL and snapshot code use. Each file holds what the process sees and
// what is durable (synced); crash() is a power loss: every file goes back to
// its durable contents, and files never synced vanish. In memory, one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/storage_env.h"

namespace chaosbench::sim {

class SimulatedDisk final : public targets::StorageEnv {
 public:
  std::optional<std::string> read_file(const std::filesystem::path& path) override;
  std::unique_ptr<targets::AppendableFile> open_appendable(const std::filesystem::path& path) override;
  void truncate_file(const std::filesystem::path& path, std::uint64_t size) override;
  void replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) override;
  void create_directories(const std::filesystem::path&) override {}

  // Drops everything written since its file's last sync.
  void crash();
  // Bytes crash() has dropped so far (tests check that unsynced data is lost).
  std::uint64_t bytes_lost() const { return bytes_lost_; }

 private:
  struct File {
    std::string contents;                // what the process reads
    std::optional<std::string> durable;  // what survives a crash; nullopt: the file does not
  };
  class Appender;

  std::map<std::filesystem::path, File> files_;
  std::uint64_t bytes_lost_ = 0;
};

}  // namespace chaosbench::sim
