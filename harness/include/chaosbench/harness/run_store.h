// The store layout (DESIGN.md): one directory per run,
// STORE/<test>/<YYYYMMDDTHHMMSS>/ with nodes/, and STORE/latest pointing at the
// newest run (a relative symlink, replaced atomically). Throws
// std::filesystem::filesystem_error / std::system_error on I/O failures.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace chaosbench::harness {

// Creates the run directory (a "-2", "-3"... suffix if that second is taken)
// with its nodes/ subdirectory, and repoints STORE/latest at it.
std::filesystem::path create_run_directory(const std::filesystem::path& store, const std::string& test_name,
                                           std::chrono::system_clock::time_point now);

// `when` as YYYYMMDDTHHMMSS in UTC, as suite and bench directories are named.
std::string utc_timestamp(std::chrono::system_clock::time_point when);

// Writes pretty-printed JSON via a temporary file and rename (readers never see half a file).
void write_json_file(const std::filesystem::path& path, const nlohmann::json& document);

}  // namespace chaosbench::harness
