// Clock faults through libfaketime: a daemon started with faketime_environment()
// reads its wall-clock offset from a timestamp file at every time call, so
// writing that file (set_clock_offset) moves its clock; the monotonic clock is
// left alone. Statically linked executables ignore LD_PRELOAD: check first.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

// libfaketime.so.1 for this machine's architecture: $CHAOSBENCH_LIBFAKETIME if
// set, else <multiarch lib dir>/faketime/libfaketime.so.1 with the multiarch
// directory taken from where the running libc lives. Throws ControlError
// (with the package to install) if it is absent.
std::filesystem::path find_libfaketime();

// LD_PRELOAD (prepended to existing_preload), FAKETIME_TIMESTAMP_FILE,
// FAKETIME_NO_CACHE=1, DONT_FAKE_MONOTONIC=1.
std::map<std::string, std::string> faketime_environment(const std::filesystem::path& library,
                                                        const std::filesystem::path& offset_file,
                                                        const std::string& existing_preload = "");

// libfaketime's relative offset syntax: 100 -> "+100", -2.5 -> "-2.5".
std::string format_clock_offset(double seconds);

// Writes the offset (seconds, may be negative or fractional) to offset_file on host.
void set_clock_offset(Host& host, const std::filesystem::path& offset_file, double seconds);

// False for an ELF executable without a program interpreter (statically
// linked: LD_PRELOAD, hence libfaketime, has no effect). Scripts count as true.
// Throws ControlError if the file cannot be read.
bool honours_ld_preload(const std::filesystem::path& executable);

}  // namespace chaosbench::harness::control
