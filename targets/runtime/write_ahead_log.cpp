#include "runtime/write_ahead_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "runtime/crc32c.h"

namespace chaosbench::targets {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

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

void write_all(int descriptor, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t written = ::write(descriptor, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno(what);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

std::string read_whole_file(const std::filesystem::path& path) {
  int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) throw_errno(fmt::format("open {}", path.string()));
  std::string contents;
  char chunk[1 << 16];
  while (true) {
    ssize_t count = ::read(descriptor, chunk, sizeof chunk);
    if (count < 0) {
      if (errno == EINTR) continue;
      ::close(descriptor);
      throw_errno(fmt::format("read {}", path.string()));
    }
    if (count == 0) break;
    contents.append(chunk, static_cast<std::size_t>(count));
  }
  ::close(descriptor);
  return contents;
}

void sync_directory(const std::filesystem::path& directory) {
  int descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor < 0) throw_errno(fmt::format("open directory {}", directory.string()));
  if (::fsync(descriptor) != 0) {
    ::close(descriptor);
    throw_errno(fmt::format("fsync directory {}", directory.string()));
  }
  ::close(descriptor);
}

}  // namespace

WriteAheadLog::WriteAheadLog(std::filesystem::path path, bool fsync_enabled)
    : path_(std::move(path)), fsync_enabled_(fsync_enabled) {
  recover();
  descriptor_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (descriptor_ < 0) throw_errno(fmt::format("open {}", path_.string()));
}

WriteAheadLog::~WriteAheadLog() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

void WriteAheadLog::recover() {
  if (!std::filesystem::exists(path_)) return;
  const std::string contents = read_whole_file(path_);
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
    std::error_code error;
    std::filesystem::resize_file(path_, offset, error);
    if (error) throw std::system_error(error, fmt::format("truncate torn tail of {}", path_.string()));
  }
  file_size_ = offset;
}

void WriteAheadLog::append(std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) throw std::length_error("WAL record too large");
  encode_record(buffer_, payload);
}

void WriteAheadLog::sync() {
  if (buffer_.empty()) return;
  write_all(descriptor_, buffer_, fmt::format("write {}", path_.string()));
  file_size_ += buffer_.size();
  buffer_.clear();
  if (fsync_enabled_ && ::fdatasync(descriptor_) != 0) throw_errno(fmt::format("fdatasync {}", path_.string()));
  ++sync_count_;
}

void WriteAheadLog::rewrite(const std::vector<std::string>& records) {
  sync();
  const auto temporary = std::filesystem::path(path_.string() + ".rewrite");
  std::string contents;
  for (const auto& record : records) encode_record(contents, record);
  int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (descriptor < 0) throw_errno(fmt::format("open {}", temporary.string()));
  write_all(descriptor, contents, fmt::format("write {}", temporary.string()));
  if (fsync_enabled_ && ::fsync(descriptor) != 0) throw_errno(fmt::format("fsync {}", temporary.string()));
  ::close(descriptor);
  std::filesystem::rename(temporary, path_);
  if (fsync_enabled_) sync_directory(path_.parent_path());
  ::close(descriptor_);
  descriptor_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (descriptor_ < 0) throw_errno(fmt::format("reopen {}", path_.string()));
  file_size_ = contents.size();
}

void WriteAheadLog::write_file_atomically(const std::filesystem::path& path, std::string_view payload,
                                          bool fsync_enabled) {
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  std::string contents;
  encode_record(contents, payload);
  int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (descriptor < 0) throw_errno(fmt::format("open {}", temporary.string()));
  write_all(descriptor, contents, fmt::format("write {}", temporary.string()));
  if (fsync_enabled && ::fsync(descriptor) != 0) throw_errno(fmt::format("fsync {}", temporary.string()));
  ::close(descriptor);
  std::filesystem::rename(temporary, path);
  if (fsync_enabled) sync_directory(path.parent_path());
}

std::string WriteAheadLog::read_checked_file(const std::filesystem::path& path) {
  const std::string contents = read_whole_file(path);
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
