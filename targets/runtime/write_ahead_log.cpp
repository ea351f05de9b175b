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

std::uint64_t get_u64(const char* data) { return get_u32(data) | (std::uint64_t{get_u32(data + 4)} << 32); }

constexpr std::string_view kFileMagic = "chaoswal";

// The file header claiming that the first `synced_bytes` bytes are durable.
std::string encode_file_header(std::uint64_t synced_bytes) {
  std::string out(kFileMagic);
  put_u32(out, static_cast<std::uint32_t>(synced_bytes));
  put_u32(out, static_cast<std::uint32_t>(synced_bytes >> 32));
  put_u32(out, crc32c(out));
  return out;
}

void encode_record(std::string& out, std::string_view payload) {
  const std::size_t header = out.size();
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  put_u32(out, crc32c(std::string_view(out).substr(header, 8)));
  out.append(payload);
}

// The header at `data` (kHeaderBytes long) checks against its own checksum.
bool header_checks(const char* data) { return crc32c(std::string_view(data, 8)) == get_u32(data + 8); }

bool all_zero(std::string_view bytes) { return bytes.find_first_not_of('\0') == std::string_view::npos; }

}  // namespace

WriteAheadLog::WriteAheadLog(std::filesystem::path path, bool fsync_enabled, StorageEnv& env)
    : path_(std::move(path)), fsync_enabled_(fsync_enabled), env_(env) {
  recover();
  file_ = env_.open_appendable(path_);
}

// Created whole (a temporary file renamed into place), so a wal.log shorter
// than its header was damaged, not torn.
void WriteAheadLog::create_empty() {
  const std::string header = encode_file_header(fsync_enabled_ ? kFileHeaderBytes : 0);
  env_.replace_file(path_, header, fsync_enabled_);
  file_size_ = synced_size_ = header.size();
  claimed_synced_ = fsync_enabled_ ? header.size() : 0;
}

WriteAheadLog::~WriteAheadLog() = default;

// A torn write leaves a prefix of what was being written (or zeros, where a
// file system extended the file before the data reached it): the tail is
// too short for a header, ends inside a record whose header checks, or is
// zeros from a record boundary on. Anything else that fails a check holds
// every byte it was written with, so it was synced and then damaged: a
// flipped bit in the last record is as fatal as one in the first.
//
// The header's claim covers what a torn write cannot explain: synced bytes
// cut off the end, or zeroed from a record boundary on, look torn, but not
// when they lie before the claim.
void WriteAheadLog::recover() {
  const std::optional<std::string> existing = env_.read_file(path_);
  if (!existing) {
    create_empty();
    return;
  }
  const std::string& contents = *existing;
  const auto refuse = [&](const std::string& what) {
    return WalCorruption(fmt::format("{}: {}; refusing to start on corrupted synced data", path_.string(), what));
  };
  const auto corrupt = [&](std::size_t offset, const std::string& what) {
    return refuse(fmt::format("corrupt record at offset {} ({} bytes from there to the end): {}", offset,
                              contents.size() - offset, what));
  };
  if (contents.size() < kFileHeaderBytes) {
    throw refuse(fmt::format("{} bytes, too short for the file header", contents.size()));
  }
  if (std::string_view(contents).substr(0, kFileMagic.size()) != kFileMagic ||
      crc32c(std::string_view(contents).substr(0, 16)) != get_u32(contents.data() + 16)) {
    throw refuse("the file header's checksum does not match");
  }
  claimed_synced_ = get_u64(contents.data() + kFileMagic.size());
  std::size_t offset = kFileHeaderBytes;
  while (offset < contents.size()) {
    const std::size_t remaining = contents.size() - offset;
    if (remaining < kHeaderBytes) break;  // torn header
    const char* header = contents.data() + offset;
    if (!header_checks(header)) {
      if (all_zero(std::string_view(contents).substr(offset))) break;  // zero-filled tail
      throw corrupt(offset, "header checksum mismatch");
    }
    const std::uint32_t length = get_u32(header);
    if (length > kMaxRecordBytes) throw corrupt(offset, fmt::format("the header claims {} bytes", length));
    if (remaining - kHeaderBytes < length) break;  // torn body: the header made it, the rest did not
    std::string_view payload(header + kHeaderBytes, length);
    if (crc32c(payload) != get_u32(header + 4)) throw corrupt(offset, "checksum mismatch");
    recovered_.emplace_back(payload);
    offset += kHeaderBytes + length;
  }
  if (offset < claimed_synced_) {
    throw refuse(
        fmt::format("the records end at offset {}, but the header says {} bytes were synced ({} of them "
                    "missing or damaged at the end)",
                    offset, claimed_synced_, claimed_synced_ - offset));
  }
  if (offset < contents.size()) {
    truncated_tail_bytes_ = contents.size() - offset;
    // Durably, before anything is appended after it: a later power loss must
    // not bring back the torn bytes behind new records.
    env_.truncate_file(path_, offset, fsync_enabled_);
  }
  file_size_ = synced_size_ = offset;
}

void WriteAheadLog::append(std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) throw std::length_error("WAL record too large");
  encode_record(buffer_, payload);
}

// The header is rewritten before the records are appended, so the last
// write is the records' (a torn write tears them, not the header). It claims
// only what the previous fdatasync completed: claiming this batch too could
// refuse a log whose batch legitimately tore.
void WriteAheadLog::sync() {
  if (buffer_.empty()) return;
  if (fsync_enabled_ && claimed_synced_ != synced_size_) {
    file_->write_at(0, encode_file_header(synced_size_));
    claimed_synced_ = synced_size_;
  }
  file_->append(buffer_);
  file_size_ += buffer_.size();
  buffer_.clear();
  if (fsync_enabled_) {
    file_->sync();
    synced_size_ = file_size_;
  }
  ++sync_count_;
}

void WriteAheadLog::rewrite(const std::vector<std::string>& records) {
  sync();
  std::string contents;
  for (const auto& record : records) encode_record(contents, record);
  const std::uint64_t size = kFileHeaderBytes + contents.size();
  // Renamed into place only after its fsync: the whole file is synced.
  claimed_synced_ = fsync_enabled_ ? size : 0;
  contents.insert(0, encode_file_header(claimed_synced_));
  file_.reset();
  env_.replace_file(path_, contents, fsync_enabled_);
  file_ = env_.open_appendable(path_);
  file_size_ = synced_size_ = size;
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
  // Written whole and renamed into place: every mismatch is corruption.
  const std::string& contents = *existing;
  const auto corrupt = [&](const std::string& what) {
    return WalCorruption(
        fmt::format("{}: corrupt record at offset 0 ({} bytes): {}; refusing to start on corrupted "
                    "synced data",
                    path.string(), contents.size(), what));
  };
  if (contents.size() < kHeaderBytes) throw corrupt("too short for a record");
  if (!header_checks(contents.data())) throw corrupt("header checksum mismatch");
  const std::uint32_t length = get_u32(contents.data());
  if (contents.size() != kHeaderBytes + static_cast<std::size_t>(length)) {
    throw corrupt(fmt::format("length {} does not match the file size", length));
  }
  std::string payload = contents.substr(kHeaderBytes);
  if (crc32c(payload) != get_u32(contents.data() + 4)) throw corrupt("checksum mismatch");
  return payload;
}

}  // namespace chaosbench::targets
