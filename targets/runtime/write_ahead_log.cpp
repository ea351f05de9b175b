#include "runtime/write_ahead_log.h"

#include <fmt/format.h>

#include "runtime/crc32c.h"

namespace chaosbench::targets {
namespace {

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

std::uint32_t get_u32(const char* data) {
  std::uint32_t value = 0;
  for (int position = 3; position >= 0; --position) {
    value = (value << 8) | static_cast<unsigned char>(data[position]);
  }
  return value;
}

void encode_record(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out.append(payload);
}

}  // namespace

WriteAheadLog::WriteAheadLog(std::filesystem::path path, bool fsync_enabled, StorageEnv& env)
    : path_(std::move(path)), fsync_enabled_(fsync_enabled), env_(env) {
  recover();
  file_ = env_.open_appendable(path_);
}

WriteAheadLog::~WriteAheadLog() = default;

void WriteAheadLog::recover() {
  const std::optional<std::string> existing = env_.read_file(path_);
  if (!existing) return;
  const std::string& contents = *existing;
  std::size_t offset = 0;
  while (offset < contents.size()) {
    const std::size_t remaining = contents.size() - offset;
    if (remaining < 8) break;  // torn header
    const std::uint32_t length = get_u32(contents.data() + offset);
    const std::uint32_t checksum = get_u32(contents.data() + offset + 4);
    if (length > kMaxRecordBytes) {
      throw WalCorruption(fmt::format("{}: record at offset {} claims {} bytes", path_.string(), offset, length));
    }
    if (remaining - 8 < length) break;  // torn body
    std::string_view payload(contents.data() + offset + 8, length);
    if (crc32c(payload) != checksum) {
      if (offset + 8 + length == contents.size()) break;  // the last write was torn mid-record
      throw WalCorruption(
          fmt::format("{}: checksum mismatch in record at offset {} ({} bytes follow): refusing to "
                      "start on a corrupted log",
                      path_.string(), offset, contents.size() - offset - 8 - length));
    }
    recovered_.emplace_back(payload);
    offset += 8 + length;
  }
  if (offset < contents.size()) {
    truncated_tail_bytes_ = contents.size() - offset;
    env_.truncate_file(path_, offset);
  }
  file_size_ = offset;
}

void WriteAheadLog::append(std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) throw std::length_error("WAL record too large");
  encode_record(buffer_, payload);
}

void WriteAheadLog::sync() {
  if (buffer_.empty()) return;
  file_->append(buffer_);
  file_size_ += buffer_.size();
  buffer_.clear();
  if (fsync_enabled_) file_->sync();
  ++sync_count_;
}

void WriteAheadLog::rewrite(const std::vector<std::string>& records) {
  sync();
  std::string contents;
  for (const auto& record : records) encode_record(contents, record);
  file_.reset();
  env_.replace_file(path_, contents, fsync_enabled_);
  file_ = env_.open_appendable(path_);
  file_size_ = contents.size();
}

void WriteAheadLog::write_file_atomically(const std::filesystem::path& path, std::string_view payload,
                                          bool fsync_enabled, StorageEnv& env) {
  std::string contents;
  encode_record(contents, payload);
  env.replace_file(path, contents, fsync_enabled);
}

std::optional<std::string> WriteAheadLog::read_checked_file(const std::filesystem::path& path, StorageEnv& env) {
  const std::optional<std::string> existing = env.read_file(path);
  if (!existing) return std::nullopt;
  const std::string& contents = *existing;
  if (contents.size() < 8) throw WalCorruption(fmt::format("{}: too short for a record", path.string()));
  const std::uint32_t length = get_u32(contents.data());
  const std::uint32_t checksum = get_u32(contents.data() + 4);
  if (contents.size() != 8 + static_cast<std::size_t>(length)) {
    throw WalCorruption(
        fmt::format("{}: length {} does not match file size {}", path.string(), length, contents.size()));
  }
  std::string payload = contents.substr(8);
  if (crc32c(payload) != checksum) throw WalCorruption(fmt::format("{}: checksum mismatch", path.string()));
  return payload;
}

}  // namespace chaosbench::targets
