#include "chaosbench/harness/control/faketime.h"

#include <dlfcn.h>
#include <elf.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {
namespace {

// The directory of the libc this process runs with, e.g. /lib/x86_64-linux-gnu.
std::filesystem::path libc_directory() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&::malloc), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code error;
  auto resolved = std::filesystem::canonical(info.dli_fname, error);
  return (error ? std::filesystem::path(info.dli_fname) : resolved).parent_path();
}

template <typename Header, typename ProgramHeader>
bool has_interpreter(std::ifstream& file, const std::filesystem::path& path) {
  Header header{};
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(&header), sizeof header))
    throw ControlError(fmt::format("cannot read the ELF header of {}", path.string()));
  for (unsigned index = 0; index < header.e_phnum; ++index) {
    ProgramHeader program{};
    file.seekg(static_cast<std::streamoff>(header.e_phoff + static_cast<std::uint64_t>(index) * header.e_phentsize));
    if (!file.read(reinterpret_cast<char*>(&program), sizeof program))
      throw ControlError(fmt::format("cannot read the program headers of {}", path.string()));
    if (program.p_type == PT_INTERP) return true;
  }
  return false;
}

}  // namespace

std::filesystem::path find_libfaketime() {
  if (const char* configured = std::getenv("CHAOSBENCH_LIBFAKETIME"); configured && *configured) {
    if (!std::filesystem::exists(configured))
      throw ControlError(fmt::format("libfaketime: CHAOSBENCH_LIBFAKETIME={} does not exist", configured));
    return configured;
  }
  std::vector<std::filesystem::path> candidates;
  std::filesystem::path libc_dir = libc_directory();
  if (!libc_dir.empty()) {
    std::filesystem::path multiarch = libc_dir.filename();  // e.g. x86_64-linux-gnu
    candidates.push_back(libc_dir / "faketime" / "libfaketime.so.1");
    candidates.push_back(std::filesystem::path("/usr/lib") / multiarch / "faketime" / "libfaketime.so.1");
  }
  candidates.push_back("/usr/lib/faketime/libfaketime.so.1");
  candidates.push_back("/usr/local/lib/faketime/libfaketime.so.1");
  std::string tried;
  for (const auto& candidate : candidates) {
    std::error_code error;
    if (std::filesystem::exists(candidate, error)) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  throw ControlError(fmt::format(
      "libfaketime not found (tried {}); install the Debian package libfaketime or set CHAOSBENCH_LIBFAKETIME", tried));
}

std::map<std::string, std::string> faketime_environment(const std::filesystem::path& library,
                                                        const std::filesystem::path& offset_file,
                                                        const std::string& existing_preload) {
  std::string preload = library.string();
  if (!existing_preload.empty()) preload += " " + existing_preload;
  return {{"LD_PRELOAD", preload},
          {"FAKETIME_TIMESTAMP_FILE", offset_file.string()},
          {"FAKETIME_NO_CACHE", "1"},
          {"DONT_FAKE_MONOTONIC", "1"}};
}

std::string format_clock_offset(double seconds) {
  if (!std::isfinite(seconds)) throw ControlError(fmt::format("clock offset {} is not a finite number", seconds));
  std::string text = fmt::format("{:+.6f}", seconds);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0") text = "+0";
  return text;
}

void set_clock_offset(Host& host, const std::filesystem::path& offset_file, double seconds) {
  host.write_file(offset_file, format_clock_offset(seconds) + "\n");
}

bool honours_ld_preload(const std::filesystem::path& executable) {
  std::ifstream file(executable, std::ios::binary);
  if (!file) throw ControlError(fmt::format("cannot open {}: {}", executable.string(), std::strerror(errno)));
  unsigned char identity[EI_NIDENT] = {};
  if (!file.read(reinterpret_cast<char*>(identity), EI_NIDENT)) return true;  // too short for ELF: a script
  if (std::memcmp(identity, ELFMAG, SELFMAG) != 0) return true;
  if (identity[EI_CLASS] == ELFCLASS64) return has_interpreter<Elf64_Ehdr, Elf64_Phdr>(file, executable);
  if (identity[EI_CLASS] == ELFCLASS32) return has_interpreter<Elf32_Ehdr, Elf32_Phdr>(file, executable);
  throw ControlError(fmt::format("{}: unknown ELF class {}", executable.string(), identity[EI_CLASS]));
}

}  // namespace chaosbench::harness::control
