#include "chaosbench/harness/run_store.h"

#include <ctime>
#include <fstream>
#include <system_error>

#include <unistd.h>

#include <fmt/format.h>

namespace chaosbench::harness {

namespace fs = std::filesystem;

fs::path create_run_directory(const fs::path& store, const std::string& test_name,
                              std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&seconds, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &local);
  const fs::path test_directory = store / test_name;
  fs::create_directories(test_directory);
  fs::path run = test_directory / stamp;
  for (int suffix = 2; !fs::create_directory(run); ++suffix) run = test_directory / fmt::format("{}-{}", stamp, suffix);
  fs::create_directories(run / "nodes");

  const fs::path latest = store / "latest";
  const fs::path temporary = store / fmt::format(".latest.{}", ::getpid());
  fs::remove(temporary);
  fs::create_directory_symlink(fs::path(test_name) / run.filename(), temporary);
  fs::rename(temporary, latest);
  return run;
}

std::string utc_timestamp(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%S", &utc);
  return text;
}

void write_json_file(const fs::path& path, const nlohmann::json& document) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream output(temporary, std::ios::trunc);
    if (!output) throw std::system_error(errno, std::generic_category(), "cannot create " + temporary.string());
    output << document.dump(2) << "\n";
    output.close();
    if (!output) throw std::system_error(errno, std::generic_category(), "cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
}

}  // namespace chaosbench::harness
