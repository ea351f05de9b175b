// faultfs: a FUSE file system that passes every operation through to a backing
// directory and injects storage faults when its control socket asks.
//   faultfs mount DIRECTORY --state DIR --control SOCKET [--seed N] [--metadata strict|journaled]
//     mounts over DIRECTORY, showing what it holds (the backing is reached
//     through a descriptor opened before the mount), in the foreground until
//     SIGTERM/SIGINT, then unmounts: the directory then holds the data again.
//     The control socket answers once the mount is ready. DIR must be on the
//     same file system, outside DIRECTORY.
//   faultfs control SOCKET REQUEST
//     sends one request (control_protocol.h), prints the reply line; exit 0 when
//     the reply is ok, 1 when faultfs refused, 3 when it could not be asked.
#define FUSE_USE_VERSION 35
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "chaosbench/nemesis/faultfs/control_protocol.h"
#include "chaosbench/nemesis/faultfs/fault_filesystem.h"

namespace {

using boost::asio::local::stream_protocol;
using chaosbench::nemesis::faultfs::FaultFilesystem;

struct MountContext {
  std::unique_ptr<FaultFilesystem> filesystem;
  std::string control_socket;
  std::thread control_thread;
  boost::asio::io_context io;
};

FaultFilesystem& filesystem() { return *static_cast<MountContext*>(fuse_get_context()->private_data)->filesystem; }

// One connection at a time, one request per line: the controller is the only client.
void serve_control(MountContext& context) {
  try {
    std::error_code error;
    std::filesystem::remove(context.control_socket, error);
    stream_protocol::acceptor acceptor(context.io, stream_protocol::endpoint(context.control_socket));
    while (true) {
      stream_protocol::socket socket(context.io);
      acceptor.accept(socket);
      boost::asio::streambuf buffer;
      boost::system::error_code read_error;
      while (boost::asio::read_until(socket, buffer, '\n', read_error) > 0 && !read_error) {
        std::istream input(&buffer);
        std::string line;
        std::getline(input, line);
        const std::string reply =
            chaosbench::nemesis::faultfs::handle_control_request(*context.filesystem, line).dump() + "\n";
        boost::system::error_code write_error;
        boost::asio::write(socket, boost::asio::buffer(reply), write_error);
        if (write_error) break;
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "faultfs: control socket %s: %s\n", context.control_socket.c_str(), error.what());
  }
}

void* on_init(struct fuse_conn_info*, struct fuse_config* config) {
  config->use_ino = 1;
  config->hard_remove = 1;  // unlinked open files stay reachable through their handle, not .fuse_hidden
  // No attribute or entry caching: a power loss changes the tree under the kernel's feet.
  config->attr_timeout = 0;
  config->entry_timeout = 0;
  config->negative_timeout = 0;
  auto* context = static_cast<MountContext*>(fuse_get_context()->private_data);
  context->control_thread = std::thread([context] { serve_control(*context); });
  context->control_thread.detach();
  std::fprintf(stderr, "faultfs: mounted; control socket %s\n", context->control_socket.c_str());
  return context;
}

int on_getattr(const char* path, struct stat* attributes, struct fuse_file_info* file) {
  return file ? filesystem().fgetattr(file->fh, attributes) : filesystem().getattr(path, attributes);
}

int on_readlink(const char* path, char* buffer, size_t size) {
  std::string target;
  if (int result = filesystem().readlink(path, target)) return result;
  if (size == 0) return -EINVAL;
  const std::size_t length = std::min(target.size(), size - 1);
  std::memcpy(buffer, target.data(), length);
  buffer[length] = '\0';
  return 0;
}

int on_mknod(const char* path, mode_t mode, dev_t device) { return filesystem().mknod(path, mode, device); }
int on_mkdir(const char* path, mode_t mode) { return filesystem().mkdir(path, mode); }
int on_unlink(const char* path) { return filesystem().unlink(path); }
int on_rmdir(const char* path) { return filesystem().rmdir(path); }
int on_symlink(const char* target, const char* path) { return filesystem().symlink(target, path); }
int on_rename(const char* from, const char* to, unsigned int flags) { return filesystem().rename(from, to, flags); }
int on_link(const char* from, const char* to) { return filesystem().link(from, to); }
int on_chmod(const char* path, mode_t mode, struct fuse_file_info*) { return filesystem().chmod(path, mode); }
int on_chown(const char* path, uid_t user, gid_t group, struct fuse_file_info*) {
  return filesystem().chown(path, user, group);
}
int on_truncate(const char* path, off_t size, struct fuse_file_info* file) {
  return file ? filesystem().ftruncate(file->fh, size) : filesystem().truncate(path, size);
}
int on_open(const char* path, struct fuse_file_info* file) {
  std::uint64_t handle = 0;
  if (int result = filesystem().open(path, file->flags, handle)) return result;
  file->fh = handle;
  return 0;
}
int on_create(const char* path, mode_t mode, struct fuse_file_info* file) {
  std::uint64_t handle = 0;
  if (int result = filesystem().create(path, mode, file->flags, handle)) return result;
  file->fh = handle;
  return 0;
}
int on_read(const char*, char* buffer, size_t size, off_t offset, struct fuse_file_info* file) {
  return static_cast<int>(filesystem().read(file->fh, buffer, size, offset));
}
int on_write(const char*, const char* buffer, size_t size, off_t offset, struct fuse_file_info* file) {
  return static_cast<int>(filesystem().write(file->fh, buffer, size, offset));
}
int on_statfs(const char*, struct statvfs* result) { return filesystem().statfs(result); }
int on_flush(const char*, struct fuse_file_info*) { return 0; }
int on_release(const char*, struct fuse_file_info* file) { return filesystem().release(file->fh); }
int on_fsync(const char*, int data_only, struct fuse_file_info* file) {
  return filesystem().fsync(file->fh, data_only != 0);
}
int on_fsyncdir(const char* path, int, struct fuse_file_info*) { return filesystem().fsync_directory(path); }
int on_readdir(const char* path, void* buffer, fuse_fill_dir_t fill, off_t, struct fuse_file_info*,
               enum fuse_readdir_flags) {
  return filesystem().readdir(path, [&](const std::string& name, const struct stat& attributes) {
    fill(buffer, name.c_str(), &attributes, 0, static_cast<fuse_fill_dir_flags>(0));
  });
}
int on_access(const char* path, int mask) { return filesystem().access(path, mask); }
int on_utimens(const char* path, const struct timespec times[2], struct fuse_file_info*) {
  return filesystem().utimens(path, times);
}
int on_fallocate(const char*, int mode, off_t offset, off_t length, struct fuse_file_info* file) {
  return filesystem().fallocate(file->fh, mode, offset, length);
}

fuse_operations operations() {
  fuse_operations result{};
  result.init = on_init;
  result.getattr = on_getattr;
  result.readlink = on_readlink;
  result.mknod = on_mknod;
  result.mkdir = on_mkdir;
  result.unlink = on_unlink;
  result.rmdir = on_rmdir;
  result.symlink = on_symlink;
  result.rename = on_rename;
  result.link = on_link;
  result.chmod = on_chmod;
  result.chown = on_chown;
  result.truncate = on_truncate;
  result.open = on_open;
  result.create = on_create;
  result.read = on_read;
  result.write = on_write;
  result.statfs = on_statfs;
  result.flush = on_flush;
  result.release = on_release;
  result.fsync = on_fsync;
  result.fsyncdir = on_fsyncdir;
  result.readdir = on_readdir;
  result.access = on_access;
  result.utimens = on_utimens;
  result.fallocate = on_fallocate;
  return result;
}

int run_mount(const std::string& mountpoint, const std::string& state, const std::string& control, std::uint64_t seed,
              const std::string& metadata) {
  MountContext context;
  try {
    std::filesystem::create_directories(state);
    // The directory under the mount stays reachable through this descriptor.
    const int backing = ::open(mountpoint.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (backing < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", mountpoint, std::strerror(errno)));
    const auto durability = chaosbench::nemesis::faultfs::parse_metadata_durability(metadata);
    if (!durability) throw std::runtime_error(fmt::format("--metadata: '{}' is not strict or journaled", metadata));
    context.filesystem =
        std::make_unique<FaultFilesystem>(fmt::format("/proc/self/fd/{}", backing), state, seed, *durability);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "faultfs: %s\n", error.what());
    return 3;
  }
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    std::fprintf(stderr, "faultfs: cannot use /dev/fuse (%s): FUSE is missing (Debian packages fuse3 and libfuse3-3)\n",
                 std::strerror(errno));
    return 3;
  }
  context.control_socket = control;
  ::umask(0);  // the kernel already applied the caller's umask to every mode it passes
  std::vector<std::string> arguments = {"faultfs", "-o", "fsname=faultfs,subtype=faultfs"};
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const fuse_operations table = operations();
  struct fuse* mount = fuse_new(&args, &table, sizeof table, &context);
  if (!mount) {
    std::fprintf(stderr, "faultfs: cannot set up FUSE for %s\n", mountpoint.c_str());
    return 3;
  }
  if (fuse_mount(mount, mountpoint.c_str()) != 0) {
    std::fprintf(stderr, "faultfs: cannot mount %s (is fuse3 installed and /dev/fuse usable?)\n", mountpoint.c_str());
    fuse_destroy(mount);
    return 3;
  }
  fuse_session* session = fuse_get_session(mount);
  fuse_set_signal_handlers(session);
  fuse_loop_config* loop = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(loop, 16);
  const int result = fuse_loop_mt(mount, loop);  // until SIGTERM/SIGINT/SIGHUP or an unmount
  fuse_loop_cfg_destroy(loop);
  fuse_remove_signal_handlers(session);
  fuse_unmount(mount);
  fuse_destroy(mount);
  std::error_code error;
  std::filesystem::remove(control, error);
  // A signal ends the loop with the signal's number; anything negative is a failure.
  if (result < 0) {
    std::fprintf(stderr, "faultfs: the FUSE loop of %s failed: %s\n", mountpoint.c_str(), std::strerror(-result));
    return 3;
  }
  // The control thread is detached and blocked in accept: end without joining it.
  std::fflush(nullptr);
  std::_Exit(0);
}

int run_control(const std::string& socket_path, const std::string& request) {
  try {
    boost::asio::io_context io;
    stream_protocol::socket socket(io);
    socket.connect(stream_protocol::endpoint(socket_path));
    boost::asio::write(socket, boost::asio::buffer(request + "\n"));
    boost::asio::streambuf buffer;
    boost::asio::read_until(socket, buffer, '\n');
    std::istream input(&buffer);
    std::string line;
    std::getline(input, line);
    std::printf("%s\n", line.c_str());
    const auto reply = nlohmann::json::parse(line, nullptr, false);
    return reply.is_object() && reply.value("ok", false) ? 0 : 1;
  } catch (const boost::system::system_error& error) {
    std::fprintf(stderr, "faultfs control: cannot ask %s: %s\n", socket_path.c_str(), error.code().message().c_str());
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultfs: a pass-through FUSE file system that injects storage faults"};
  app.require_subcommand(1);
  std::string mountpoint, state, control, request, metadata = "strict";
  std::uint64_t seed = 1;
  auto* mount = app.add_subcommand("mount", "mount over DIRECTORY, showing its contents, until SIGTERM");
  mount->add_option("directory", mountpoint, "the directory to put faults under")->required();
  mount->add_option("--state", state, "bookkeeping directory on the same file system as BACKING")->required();
  mount->add_option("--control", control, "Unix socket for fault requests")->required();
  mount->add_option("--seed", seed, "seed of every random choice");
  mount->add_option("--metadata", metadata,
                    "when directory entries become durable: strict (at their directory's fsync, POSIX) or "
                    "journaled (at any fsync, as ext4's journal)");
  auto* ask = app.add_subcommand("control", "send one request to a running faultfs");
  ask->add_option("socket", control, "its control socket")->required();
  ask->add_option("request", request, R"(a JSON request, e.g. {"op":"status"})")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    std::fprintf(stderr, "faultfs: %s\n", error.what());
    return 3;
  }
  if (mount->parsed()) return run_mount(mountpoint, state, control, seed, metadata);
  return run_control(control, request);
}
