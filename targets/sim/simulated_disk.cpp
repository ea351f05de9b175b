#include "sim/simulated_disk.h"

#include <vector>

namespace chaosbench::sim {

class SimulatedDisk::Appender final : public targets::AppendableFile {
 public:
  Appender(SimulatedDisk& disk, std::filesystem::path path) : disk_(disk), path_(std::move(path)) {}
  void append(std::string_view bytes) override { disk_.files_[path_].contents.append(bytes); }
  void write_at(std::uint64_t offset, std::string_view bytes) override {
    std::string& contents = disk_.files_[path_].contents;
    if (contents.size() < offset + bytes.size()) contents.resize(offset + bytes.size(), '\0');
    contents.replace(offset, bytes.size(), bytes);
  }
  void sync() override {
    disk_.sync_or_lose_power();
    make_durable(disk_.files_[path_]);
  }

 private:
  SimulatedDisk& disk_;
  std::filesystem::path path_;
};

void SimulatedDisk::sync_or_lose_power() {
  if (!lose_power_at_next_sync_) return;
  lose_power_at_next_sync_ = false;
  throw PowerLoss();
}

void SimulatedDisk::make_durable(File& file) {
  file.durable = file.contents;
  file.synced_bytes = file.contents.size();
}

std::optional<std::string> SimulatedDisk::read_file(const std::filesystem::path& path) {
  auto found = files_.find(path);
  if (found == files_.end()) return std::nullopt;
  return found->second.contents;
}

std::unique_ptr<targets::AppendableFile> SimulatedDisk::open_appendable(const std::filesystem::path& path) {
  const bool created = files_.find(path) == files_.end();
  File& file = files_[path];
  if (created) file.durable.emplace();  // the directory entry is synced at creation; the data is not
  return std::make_unique<Appender>(*this, path);
}

void SimulatedDisk::truncate_file(const std::filesystem::path& path, std::uint64_t size, bool sync) {
  auto found = files_.find(path);
  if (found == files_.end()) return;
  File& file = found->second;
  if (sync) sync_or_lose_power();
  if (file.contents.size() > size) file.contents.resize(size);
  if (sync) make_durable(file);  // fsync after ftruncate: the whole file as it now is
}

void SimulatedDisk::replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) {
  if (sync) sync_or_lose_power();  // the temporary file's fsync: the old file stays
  File& file = files_[path];
  file.contents = std::string(contents);
  if (sync) make_durable(file);
}

void SimulatedDisk::crash() {
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    const std::size_t durable_size = file.durable ? file.durable->size() : 0;
    if (file.contents != file.durable.value_or(std::string())) {
      bytes_lost_ += file.contents.size() > durable_size ? file.contents.size() - durable_size : file.contents.size();
    }
    if (!file.durable) {
      it = files_.erase(it);
      continue;
    }
    file.contents = *file.durable;
    ++it;
  }
  lose_power_at_next_sync_ = false;
}

void SimulatedDisk::crash_tearing(std::mt19937_64& random) {
  for (auto& [path, file] : files_) {
    if (!file.durable) continue;
    std::string& durable = *file.durable;
    if (file.contents.size() <= durable.size()) continue;
    // An in-place overwrite of durable bytes (the WAL's header, one sector)
    // landed whole or not at all.
    if (file.contents.compare(0, durable.size(), durable) != 0 && random() % 2 == 0) {
      durable = file.contents.substr(0, durable.size());
    }
    const std::size_t unsynced = file.contents.size() - durable.size();
    const std::size_t kept = 1 + static_cast<std::size_t>(random() % unsynced);
    durable.append(file.contents, durable.size(), kept);
    bytes_torn_ += kept;
  }
  crash();
}

std::optional<SimulatedDisk::BitFlip> SimulatedDisk::flip_synced_bit(std::mt19937_64& random) {
  std::vector<std::map<std::filesystem::path, File>::iterator> synced;
  for (auto it = files_.begin(); it != files_.end(); ++it) {
    if (it->second.durable && it->second.synced_bytes > 0) synced.push_back(it);
  }
  if (synced.empty()) return std::nullopt;
  auto& [path, file] = *synced[random() % synced.size()];
  BitFlip flip{path, random() % file.synced_bytes, static_cast<int>(random() % 8)};
  const char mask = static_cast<char>(1 << flip.bit);
  (*file.durable)[flip.offset] ^= mask;
  if (flip.offset < file.contents.size()) file.contents[flip.offset] ^= mask;
  return flip;
}

}  // namespace chaosbench::sim
