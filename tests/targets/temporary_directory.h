// TemporaryDirectory: a fresh directory under /tmp (chaosbench-<prefix>-XXXXXX)
// for storage tests, removed with everything in it when it goes out of scope.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace chaosbench::testing {

class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& prefix = "storage") {
    std::string pattern = "/tmp/chaosbench-" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored_because_best_effort;
    std::filesystem::remove_all(path_, ignored_because_best_effort);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace chaosbench::testing
