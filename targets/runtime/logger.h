// Logger: one line per event on stderr, "<UTC time> <node> <role> term=<t> <text>",
// written with a single write so lines from concurrent processes do not mix.
// The runtime updates role and term as they change. Single-threaded use.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace chaosbench::targets {

class Logger {
 public:
  // A silent logger (`enabled` false) drops every line: simulations run
  // thousands of node restarts through the real storage code.
  explicit Logger(std::string node_id, bool enabled = true) : node_id_(std::move(node_id)), enabled_(enabled) {}

  void set_state(std::string role, std::uint64_t term) {
    role_ = std::move(role);
    term_ = term;
  }

  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled_) write(fmt::format(format, std::forward<Args>(args)...));
  }

  void write(std::string_view text);

 private:
  std::string node_id_;
  std::string role_ = "starting";
  std::uint64_t term_ = 0;
  bool enabled_ = true;
};

}  // namespace chaosbench::targets
