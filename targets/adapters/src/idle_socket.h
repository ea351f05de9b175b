// What an idle client connection's socket shows without blocking: nothing yet
// (still open), bytes the server sent unasked, or end-of-file / an error (the
// server closed or reset it: killed, restarted, or it dropped its clients).
// Pooled connections are probed before reuse, so a request is not sent into a
// connection that is already gone (which would make its outcome unknown).
#pragma once

#include <sys/socket.h>

#include <cerrno>

namespace chaosbench::targets::adapters {

enum class IdleSocket { quiet, unexpected_data, closed };

inline IdleSocket probe_idle_socket(int descriptor) {
  char byte = 0;
  const ssize_t peeked = ::recv(descriptor, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (peeked > 0) return IdleSocket::unexpected_data;
  if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return IdleSocket::quiet;
  return IdleSocket::closed;
}

}  // namespace chaosbench::targets::adapters
