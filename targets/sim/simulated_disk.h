// SimulatedDisk: a node's disk in a simulation, behind the same StorageEnv the
// real WAL and snapshot code use. Each file holds what the process sees and
// what is durable. crash() is a power loss (every file back to its durable
// contents); crash_tearing() one with writes in flight (each file's unsynced
// appends survive as a seeded prefix, LevelDB fault_injection_test's torn
// write; an unsynced in-place overwrite of durable bytes survives whole or not
// at all, as one sector); flip_synced_bit() damages data a sync made durable. A file
// open_appendable creates is durable (empty) at once, as the POSIX env syncs
// its directory entry. In memory, one thread, seeded by the caller's generator.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "runtime/storage_env.h"

namespace chaosbench::sim {

// Thrown by the sync that lose_power_at_next_sync() armed: the power failed
// before it completed, so its bytes are written but not durable.
struct PowerLoss : std::runtime_error {
  PowerLoss() : std::runtime_error("simulated power loss during a sync") {}
};

class SimulatedDisk final : public targets::StorageEnv {
 public:
  std::optional<std::string> read_file(const std::filesystem::path& path) override;
  std::unique_ptr<targets::AppendableFile> open_appendable(const std::filesystem::path& path) override;
  void truncate_file(const std::filesystem::path& path, std::uint64_t size, bool sync) override;
  void replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) override;
  void create_directories(const std::filesystem::path&) override {}

  // Drops everything written since its file's last sync.
  void crash();
  // A power loss with writes in flight: a file whose unsynced bytes extend its
  // durable contents keeps a seeded random prefix of them (one byte to all),
  // the rest is lost; then crash().
  void crash_tearing(std::mt19937_64& random);
  // The next sync (an appendable file's, a synced replace_file or truncate_file)
  // throws PowerLoss instead of completing.
  void lose_power_at_next_sync() { lose_power_at_next_sync_ = true; }

  struct BitFlip {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    int bit = 0;
  };
  // Flips one seeded bit among the bytes syncs made durable (not a torn
  // prefix a crash kept), in every copy of the file; nullopt when no file
  // holds synced bytes.
  std::optional<BitFlip> flip_synced_bit(std::mt19937_64& random);

  // Bytes crash() has dropped so far (tests check that unsynced data is lost).
  std::uint64_t bytes_lost() const { return bytes_lost_; }
  // Unsynced bytes crash_tearing() kept as torn prefixes.
  std::uint64_t bytes_torn() const { return bytes_torn_; }

 private:
  struct File {
    std::string contents;                // what the process reads
    std::optional<std::string> durable;  // what survives a crash; nullopt: the file does not
    std::size_t synced_bytes = 0;        // the prefix of `durable` a sync wrote (the rest: a torn prefix)
  };
  class Appender;

  // Consumes an armed power loss: throws PowerLoss if lose_power_at_next_sync() was called.
  void sync_or_lose_power();
  static void make_durable(File& file);

  std::map<std::filesystem::path, File> files_;
  bool lose_power_at_next_sync_ = false;
  std::uint64_t bytes_lost_ = 0;
  std::uint64_t bytes_torn_ = 0;
};

}  // namespace chaosbench::sim
