#include "sim/simulated_disk.h"

namespace chaosbench::sim {

class SimulatedDisk::Appender final : public targets::AppendableFile {
 public:
  Appender(SimulatedDisk& disk, std::filesystem::path path) : disk_(disk), path_(std::move(path)) {}
  void append(std::string_view bytes) override { disk_.files_[path_].contents.append(bytes); }
  void sync() override {
    File& file = disk_.files_[path_];
    file.durable = file.contents;
  }

 private:
  SimulatedDisk& disk_;
  std::filesystem::path path_;
};

std::optional<std::string> SimulatedDisk::read_file(const std::filesystem::path& path) {
  auto found = files_.find(path);
  if (found == files_.end()) return std::nullopt;
  return found->second.contents;
}

std::unique_ptr<targets::AppendableFile> SimulatedDisk::open_appendable(const std::filesystem::path& path) {
  files_.try_emplace(path);  // created, not durable until synced
  return std::make_unique<Appender>(*this, path);
}

void SimulatedDisk::truncate_file(const std::filesystem::path& path, std::uint64_t size) {
  auto found = files_.find(path);
  if (found != files_.end() && found->second.contents.size() > size) found->second.contents.resize(size);
}

void SimulatedDisk::replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) {
  File& file = files_[path];
  file.contents = std::string(contents);
  if (sync) file.durable = file.contents;
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
}

}  // namespace chaosbench::sim
