// sudo_broker: what `sudo -n` does for the SSH tests, where sshd runs as an
// unprivileged uid of a nested user namespace (docs/ssh.md) and so cannot gain
// root over the node's network namespace itself.
//   sudo_broker serve SOCKET        runs as the sandbox's root in the node's namespaces
//   sudo_broker run SOCKET ARGV...  (the stand-in `sudo`) has ARGV run by the server
// with the caller's stdin/stdout/stderr (passed over the Unix socket) and exits with
// its status (128+N when killed by signal N), as sudo does.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int connect_or_listen(const char* path, bool listen_side) {
  int socket_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_fd < 0) return -1;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof address.sun_path) return -1;
  std::strcpy(address.sun_path, path);
  if (listen_side) {
    ::unlink(path);
    if (::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return -1;
    ::chmod(path, 0666);
    if (::listen(socket_fd, 64) != 0) return -1;
  } else if (::connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return -1;
  }
  return socket_fd;
}

bool read_exactly(int fd, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    ssize_t count = ::read(fd, bytes, size);
    if (count <= 0) return false;
    bytes += count;
    size -= static_cast<std::size_t>(count);
  }
  return true;
}

// One request: [u32 length][cwd \0 argv0 \0 argv1 \0 ...] with fds 0, 1, 2 attached.
void handle(int connection) {
  std::signal(SIGCHLD, SIG_DFL);
  std::uint32_t length = 0;
  int fds[3] = {-1, -1, -1};
  iovec vector{&length, sizeof length};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)];
  msghdr message{};
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  // Close-on-exec: a daemon the command leaves behind must not hold the caller's pipes.
  if (::recvmsg(connection, &message, MSG_WAITALL | MSG_CMSG_CLOEXEC) != sizeof length) _exit(1);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS) _exit(1);
  std::memcpy(fds, CMSG_DATA(header), sizeof fds);
  std::string payload(length, '\0');
  if (!read_exactly(connection, payload.data(), length)) _exit(1);
  std::vector<std::string> words;
  for (std::size_t begin = 0; begin < payload.size();) {
    std::size_t end = payload.find('\0', begin);
    words.push_back(payload.substr(begin, end - begin));
    begin = end + 1;
  }
  if (words.size() < 2) _exit(1);
  pid_t child = ::fork();
  if (child == 0) {
    for (int target = 0; target < 3; ++target) ::dup2(fds[target], target);
    if (::chdir(words[0].c_str()) != 0 && ::chdir("/") != 0) _exit(127);
    ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    std::vector<char*> argv;
    for (std::size_t index = 1; index < words.size(); ++index) argv.push_back(words[index].data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "sudo: %s: command not found\n", argv[0]);
    _exit(127);
  }
  for (int fd : fds) ::close(fd);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  std::int32_t reply = status;
  if (::write(connection, &reply, sizeof reply) != sizeof reply) _exit(1);
  _exit(0);
}

int serve(const char* path) {
  int listener = connect_or_listen(path, true);
  if (listener < 0) {
    std::perror("sudo_broker: cannot listen");
    return 1;
  }
  std::signal(SIGCHLD, SIG_IGN);  // handlers are reaped by the kernel
  while (true) {
    int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    pid_t handler = ::fork();
    if (handler == 0) {
      ::close(listener);
      handle(connection);
    }
    ::close(connection);
  }
}

int run(const char* path, int argc, char** argv) {
  int connection = connect_or_listen(path, false);
  if (connection < 0) {
    std::perror("sudo: cannot reach the broker");
    return 1;
  }
  char directory[4096];
  std::string payload = ::getcwd(directory, sizeof directory) != nullptr ? directory : "/";
  payload += '\0';
  for (int index = 0; index < argc; ++index) payload += std::string(argv[index]) + '\0';
  std::uint32_t length = static_cast<std::uint32_t>(payload.size());
  int fds[3] = {0, 1, 2};
  iovec vector{&length, sizeof length};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)];
  msghdr message{};
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(header), fds, sizeof fds);
  if (::sendmsg(connection, &message, 0) != sizeof length ||
      ::write(connection, payload.data(), payload.size()) != static_cast<ssize_t>(payload.size())) {
    std::perror("sudo: cannot send the command to the broker");
    return 1;
  }
  std::int32_t status = 0;
  if (!read_exactly(connection, &status, sizeof status)) {
    std::fprintf(stderr, "sudo: the broker closed the connection\n");
    return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "serve") == 0) return serve(argv[2]);
  if (argc >= 4 && std::strcmp(argv[1], "run") == 0) return run(argv[2], argc - 3, argv + 3);
  std::fprintf(stderr, "usage: sudo_broker serve SOCKET | sudo_broker run SOCKET COMMAND...\n");
  return 2;
}
