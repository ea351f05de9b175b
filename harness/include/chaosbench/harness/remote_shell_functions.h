// Shell functions (POSIX sh; dash runs them) shared by the scripts the
// controller runs on SSH hosts, harness cleanup's and the lease supervisor's
// (host_lease.h); with_remote_shell_functions(script) puts them before a script.
//   kill_pid_file FILE NAME: SIGKILLs the process group (else the process) of
//     the pid in FILE, only if its command line names NAME (a recycled PID of
//     something else is left alone); status 0 when it sent the signal.
//   remove_chain CHAIN: removes the iptables chain and its jumps from INPUT
//     where it exists, and appends " CHAIN" to $removed_chains when it did.
#pragma once

#include <string>

namespace chaosbench::harness {

inline constexpr const char* kRemoteShellFunctions = R"sh(
kill_pid_file() {
  read -r pid 2>/dev/null < "$1" || return 1
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$2" || return 1
  # (dash's kill takes no "--": -PID is the group)
  kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
}
removed_chains=""
remove_chain() {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -w 5 -n -L "$1" >/dev/null 2>&1 || return 0
  while iptables -w 5 -D INPUT -j "$1" 2>/dev/null; do :; done
  iptables -w 5 -F "$1" && iptables -w 5 -X "$1" && removed_chains="$removed_chains $1"
}
)sh";

inline std::string with_remote_shell_functions(const char* script) {
  return std::string(kRemoteShellFunctions) + script;
}

}  // namespace chaosbench::harness
