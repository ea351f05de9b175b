// faultfs's core on a plain directory (no FUSE): lose_unsynced against a model
// of POSIX durability over random sequences of writes, truncates, creates,
// renames, links, unlinks, mkdir/rmdir and fsyncs; tear, corrupt, the
// injected errors, and the control protocol.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <variant>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "chaosbench/nemesis/faultfs/control_protocol.h"
#include "chaosbench/nemesis/faultfs/fault_filesystem.h"

namespace {

using chaosbench::nemesis::faultfs::FaultError;
using chaosbench::nemesis::faultfs::FaultFilesystem;
using chaosbench::nemesis::faultfs::handle_control_request;
using chaosbench::nemesis::faultfs::OperationSet;
namespace fs = std::filesystem;

class TemporaryTree {
 public:
  TemporaryTree() {
    root_ = fs::temp_directory_path() / fmt::format("faultfs-test-{}-{}", ::getpid(), counter_++);
    fs::remove_all(root_);
    fs::create_directories(root_ / "backing");
    fs::create_directories(root_ / "state");
  }
  ~TemporaryTree() { fs::remove_all(root_); }
  fs::path backing() const { return root_ / "backing"; }
  fs::path state() const { return root_ / "state"; }

 private:
  static inline int counter_ = 0;
  fs::path root_;
};

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// path -> "dir" or "file:<contents>" or "link:<target>", for the whole tree.
std::map<std::string, std::string> describe_tree(const fs::path& root) {
  std::map<std::string, std::string> tree;
  for (const auto& item : fs::recursive_directory_iterator(root)) {
    const std::string path = fs::relative(item.path(), root).string();
    if (item.is_symlink()) {
      tree[path] = "link:" + fs::read_symlink(item.path()).string();
    } else if (item.is_directory()) {
      tree[path] = "dir";
    } else {
      tree[path] = "file:" + read_whole(item.path());
    }
  }
  return tree;
}

// --- the model: POSIX durability as faultfs promises it ---
struct ModelFile {
  std::string contents;
  std::string durable;  // contents at its last fsync (never synced: empty)
};
struct ModelDirectory;
using ModelNode = std::variant<std::shared_ptr<ModelFile>, std::shared_ptr<ModelDirectory>>;
struct ModelDirectory {
  std::map<std::string, ModelNode> entries;
  std::map<std::string, ModelNode> durable;  // entries at its last fsync
};

class Model {
 public:
  explicit Model(bool journaled = false) : journaled_(journaled), root_(std::make_shared<ModelDirectory>()) {}

  // An fsync of anything: with journaled metadata every entry is durable now.
  void after_fsync() {
    if (!journaled_) return;
    std::function<void(const std::shared_ptr<ModelDirectory>&)> commit = [&](const std::shared_ptr<ModelDirectory>& d) {
      d->durable = d->entries;
      for (auto& [name, node] : d->entries) {
        if (auto* child = std::get_if<std::shared_ptr<ModelDirectory>>(&node)) commit(*child);
      }
    };
    commit(root_);
  }

  std::shared_ptr<ModelDirectory> directory(const std::string& path) {
    if (path.empty()) return root_;
    auto node = find(path);
    if (!node || !std::holds_alternative<std::shared_ptr<ModelDirectory>>(*node)) return nullptr;
    return std::get<std::shared_ptr<ModelDirectory>>(*node);
  }
  std::optional<ModelNode> find(const std::string& path) {
    auto [parent, name] = split(path);
    auto directory_node = directory(parent);
    if (!directory_node) return std::nullopt;
    auto found = directory_node->entries.find(name);
    if (found == directory_node->entries.end()) return std::nullopt;
    return found->second;
  }
  std::shared_ptr<ModelFile> file(const std::string& path) {
    auto node = find(path);
    if (!node || !std::holds_alternative<std::shared_ptr<ModelFile>>(*node)) return nullptr;
    return std::get<std::shared_ptr<ModelFile>>(*node);
  }
  static std::pair<std::string, std::string> split(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
  }

  // The power loss: the durable tree becomes the tree. A directory durably
  // named in two places (renamed between two directories synced at different
  // times) stays where it is now if that entry is durable, else at the first
  // durable entry met, depth first by name.
  void lose_unsynced() {
    std::map<ModelDirectory*, std::pair<ModelDirectory*, std::string>> where_now;
    std::function<void(const std::shared_ptr<ModelDirectory>&)> locate = [&](const std::shared_ptr<ModelDirectory>& d) {
      for (auto& [name, node] : d->entries) {
        if (auto* child = std::get_if<std::shared_ptr<ModelDirectory>>(&node)) {
          where_now[child->get()] = {d.get(), name};
          locate(*child);
        }
      }
    };
    locate(root_);
    auto durable_where_it_is = [&](ModelDirectory* d) -> bool {
      auto now = where_now.find(d);
      if (now == where_now.end()) return false;
      auto& durable = now->second.first->durable;
      auto entry = durable.find(now->second.second);
      return entry != durable.end() && std::holds_alternative<std::shared_ptr<ModelDirectory>>(entry->second) &&
             std::get<std::shared_ptr<ModelDirectory>>(entry->second).get() == d;
    };
    std::map<ModelDirectory*, bool> built;
    std::vector<std::pair<std::shared_ptr<ModelDirectory>, std::map<std::string, ModelNode>>> new_entries;
    std::function<void(const std::shared_ptr<ModelDirectory>&)> restore =
        [&](const std::shared_ptr<ModelDirectory>& d) {
          std::map<std::string, ModelNode> entries;
          for (auto& [name, node] : d->durable) {
            if (auto* child = std::get_if<std::shared_ptr<ModelDirectory>>(&node)) {
              if (built[child->get()]) continue;
              if (durable_where_it_is(child->get()) && where_now[child->get()] != std::make_pair(d.get(), name))
                continue;
              built[child->get()] = true;
              entries[name] = node;
              restore(*child);
            } else {
              entries[name] = node;
            }
          }
          new_entries.emplace_back(d, std::move(entries));
        };
    restore(root_);
    std::map<ModelFile*, bool> files_done;
    for (auto& [d, entries] : new_entries) {
      d->entries = entries;
      d->durable = entries;
      for (auto& [name, node] : entries) {
        if (auto* f = std::get_if<std::shared_ptr<ModelFile>>(&node)) {
          if (!files_done[f->get()]) (*f)->contents = (*f)->durable;
          files_done[f->get()] = true;
        }
      }
    }
  }

  std::map<std::string, std::string> describe() {
    std::map<std::string, std::string> tree;
    std::function<void(const std::shared_ptr<ModelDirectory>&, const std::string&)> walk =
        [&](const std::shared_ptr<ModelDirectory>& d, const std::string& prefix) {
          for (auto& [name, node] : d->entries) {
            const std::string path = prefix.empty() ? name : prefix + "/" + name;
            if (auto* f = std::get_if<std::shared_ptr<ModelFile>>(&node)) {
              tree[path] = "file:" + (*f)->contents;
            } else {
              tree[path] = "dir";
              walk(std::get<std::shared_ptr<ModelDirectory>>(node), path);
            }
          }
        };
    walk(root_, "");
    return tree;
  }

  // Every directory path and every file path, for drawing operands.
  void paths(std::vector<std::string>& directories, std::vector<std::string>& files) {
    directories = {""};
    files.clear();
    for (const auto& [path, kind] : describe()) (kind == "dir" ? directories : files).push_back(path);
  }

 private:
  bool journaled_;
  std::shared_ptr<ModelDirectory> root_;
};

std::string join(const std::string& directory, const std::string& name) {
  return directory.empty() ? name : directory + "/" + name;
}

// One random operation applied to both; returns a description for failures.
std::string random_step(std::mt19937_64& random, Model& model, FaultFilesystem& filesystem) {
  std::vector<std::string> directories, files;
  model.paths(directories, files);
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
  };
  const char* names[] = {"a", "b", "c", "d"};
  auto fresh_name = [&] { return std::string(names[std::uniform_int_distribution<int>(0, 3)(random)]); };
  auto bytes = [&](std::size_t length) {
    std::string result;
    for (std::size_t i = 0; i < length; ++i) result += static_cast<char>('A' + random() % 26);
    return result;
  };
  const int choice = std::uniform_int_distribution<int>(0, 11)(random);
  if (choice <= 1 && !files.empty()) {  // write inside or at the end
    const std::string path = pick(files);
    auto file = model.file(path);
    const std::size_t offset = std::uniform_int_distribution<std::size_t>(0, file->contents.size())(random);
    const std::string data = bytes(std::uniform_int_distribution<std::size_t>(1, 12)(random));
    std::uint64_t handle = 0;
    EXPECT_EQ(filesystem.open("/" + path, O_WRONLY, handle), 0) << path;
    EXPECT_EQ(filesystem.write(handle, data.data(), data.size(), static_cast<off_t>(offset)),
              static_cast<long>(data.size()));
    const bool synced = random() % 4 == 0;
    if (synced) {
      EXPECT_EQ(filesystem.fsync(handle, random() % 2), 0);
    }
    filesystem.release(handle);
    if (file->contents.size() < offset + data.size()) file->contents.resize(offset + data.size());
    file->contents.replace(offset, data.size(), data);
    if (synced) {
      file->durable = file->contents;
      model.after_fsync();
    }
    return fmt::format("write {} at {} ({} bytes){}", path, offset, data.size(), synced ? " + fsync" : "");
  }
  if (choice == 2 && !files.empty()) {
    const std::string path = pick(files);
    auto file = model.file(path);
    const std::size_t size = std::uniform_int_distribution<std::size_t>(0, file->contents.size() + 3)(random);
    EXPECT_EQ(filesystem.truncate("/" + path, static_cast<off_t>(size)), 0);
    file->contents.resize(size, '\0');
    return fmt::format("truncate {} to {}", path, size);
  }
  if (choice == 3 && !files.empty()) {
    const std::string path = pick(files);
    std::uint64_t handle = 0;
    EXPECT_EQ(filesystem.open("/" + path, O_RDONLY, handle), 0);
    EXPECT_EQ(filesystem.fsync(handle, false), 0);
    filesystem.release(handle);
    auto file = model.file(path);
    file->durable = file->contents;
    model.after_fsync();
    return "fsync " + path;
  }
  if (choice == 4) {
    const std::string directory = pick(directories);
    EXPECT_EQ(filesystem.fsync_directory("/" + directory), 0);
    auto node = model.directory(directory);
    node->durable = node->entries;
    model.after_fsync();
    return "fsync directory /" + directory;
  }
  if (choice == 5) {  // create
    const std::string path = join(pick(directories), fresh_name());
    if (model.find(path)) return "skip";
    std::uint64_t handle = 0;
    EXPECT_EQ(filesystem.create("/" + path, 0644, O_WRONLY | O_CREAT, handle), 0) << path;
    const std::string data = random() % 2 ? bytes(5) : "";
    if (!data.empty()) {
      EXPECT_EQ(filesystem.write(handle, data.data(), data.size(), 0), 5);
    }
    filesystem.release(handle);
    auto [parent, name] = Model::split(path);
    model.directory(parent)->entries[name] = std::make_shared<ModelFile>(ModelFile{data, ""});
    return "create " + path;
  }
  if (choice == 6 && !files.empty()) {
    const std::string path = pick(files);
    EXPECT_EQ(filesystem.unlink("/" + path), 0);
    auto [parent, name] = Model::split(path);
    model.directory(parent)->entries.erase(name);
    return "unlink " + path;
  }
  if (choice == 7 && !files.empty()) {  // rename a file, maybe over another
    const std::string from = pick(files);
    const std::string to = join(pick(directories), fresh_name());
    auto existing = model.find(to);
    if (existing && !std::holds_alternative<std::shared_ptr<ModelFile>>(*existing)) return "skip";
    if (model.file(to) == model.file(from)) return "skip";  // hard links of one file: rename does nothing
    EXPECT_EQ(filesystem.rename("/" + from, "/" + to, 0), 0) << from << " -> " << to;
    auto [from_parent, from_name] = Model::split(from);
    auto [to_parent, to_name] = Model::split(to);
    auto node = model.directory(from_parent)->entries.at(from_name);
    model.directory(from_parent)->entries.erase(from_name);
    model.directory(to_parent)->entries[to_name] = node;
    return "rename " + from + " -> " + to;
  }
  if (choice == 8 && !files.empty()) {
    const std::string from = pick(files);
    const std::string to = join(pick(directories), fresh_name());
    if (model.find(to)) return "skip";
    EXPECT_EQ(filesystem.link("/" + from, "/" + to), 0);
    auto [to_parent, to_name] = Model::split(to);
    model.directory(to_parent)->entries[to_name] = *model.find(from);
    return "link " + from + " -> " + to;
  }
  if (choice == 9 && directories.size() < 5) {
    const std::string directory = pick(directories);
    if (std::count(directory.begin(), directory.end(), '/') >= 1) return "skip";
    const std::string path = join(directory, std::string("dir") + fresh_name());
    if (model.find(path)) return "skip";
    EXPECT_EQ(filesystem.mkdir("/" + path, 0755), 0);
    auto [parent, name] = Model::split(path);
    model.directory(parent)->entries[name] = std::make_shared<ModelDirectory>();
    return "mkdir " + path;
  }
  if (choice == 10 && directories.size() > 1) {
    const std::string path = pick(directories);
    if (path.empty() || !model.directory(path)->entries.empty()) return "skip";
    EXPECT_EQ(filesystem.rmdir("/" + path), 0);
    auto [parent, name] = Model::split(path);
    model.directory(parent)->entries.erase(name);
    return "rmdir " + path;
  }
  if (choice == 11 && directories.size() > 1) {  // rename a directory to a new name at the top
    const std::string from = pick(directories);
    if (from.empty()) return "skip";
    const std::string to = std::string("dir") + fresh_name() + "x";
    if (model.find(to)) return "skip";
    EXPECT_EQ(filesystem.rename("/" + from, "/" + to, 0), 0);
    auto [from_parent, from_name] = Model::split(from);
    auto node = model.directory(from_parent)->entries.at(from_name);
    model.directory(from_parent)->entries.erase(from_name);
    model.directory("")->entries[to] = node;
    return "rename directory " + from + " -> " + to;
  }
  return "skip";
}

class LoseUnsynced : public ::testing::TestWithParam<chaosbench::nemesis::faultfs::MetadataDurability> {};

TEST_P(LoseUnsynced, LeavesExactlyTheLastSyncedStateOverRandomSequences) {
  const auto metadata = GetParam();
  int losses = 0;
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    TemporaryTree tree;
    // A file and a directory that exist before the mount are durable as they are.
    fs::create_directories(tree.backing() / "dira");
    std::ofstream(tree.backing() / "a") << "initial";
    std::ofstream(tree.backing() / "dira" / "b") << "inner";
    FaultFilesystem filesystem(tree.backing(), tree.state(), seed, metadata);
    Model model(metadata == chaosbench::nemesis::faultfs::MetadataDurability::journaled);
    auto root = model.directory("");
    auto inner = std::make_shared<ModelDirectory>();
    auto a = std::make_shared<ModelFile>(ModelFile{"initial", "initial"});
    auto b = std::make_shared<ModelFile>(ModelFile{"inner", "inner"});
    inner->entries["b"] = b;
    inner->durable = inner->entries;
    root->entries["a"] = a;
    root->entries["dira"] = inner;
    root->durable = root->entries;

    std::mt19937_64 random(seed);
    std::vector<std::string> steps;
    for (int step = 0; step < 60; ++step) {
      steps.push_back(random_step(random, model, filesystem));
      if (random() % 15 == 0) {
        filesystem.lose_unsynced();
        model.lose_unsynced();
        steps.push_back("lose-unsynced");
        ++losses;
      }
      const auto expected = model.describe();
      const auto actual = describe_tree(tree.backing());
      if (expected != actual) {
        std::string history;
        for (const auto& line : steps) history += "  " + line + "\n";
        auto show = [](const std::map<std::string, std::string>& tree) {
          std::string text;
          for (const auto& [path, what] : tree) text += "  " + path + " = " + what + "\n";
          return text;
        };
        FAIL() << "seed " << seed << ": the tree differs from the model after:\n"
               << history << "model:\n"
               << show(expected) << "tree:\n"
               << show(actual);
      }
    }
    filesystem.lose_unsynced();
    model.lose_unsynced();
    ASSERT_EQ(model.describe(), describe_tree(tree.backing())) << "seed " << seed << " after the final loss";
    ASSERT_TRUE(fs::is_empty(tree.state() / "kept")) << "seed " << seed;
  }
  EXPECT_GT(losses, 150);
}

INSTANTIATE_TEST_SUITE_P(FaultFilesystem, LoseUnsynced,
                         ::testing::Values(chaosbench::nemesis::faultfs::MetadataDurability::strict,
                                           chaosbench::nemesis::faultfs::MetadataDurability::journaled),
                         [](const auto& info) {
                           return info.param == chaosbench::nemesis::faultfs::MetadataDurability::strict
                                      ? std::string("StrictMetadata")
                                      : std::string("JournaledMetadata");
                         });

TEST(FaultFilesystem, AFileCreatedAndSyncedButNotItsDirectoryVanishes) {
  TemporaryTree tree;
  FaultFilesystem filesystem(tree.backing(), tree.state(), 1);
  std::uint64_t handle = 0;
  ASSERT_EQ(filesystem.create("/wal", 0644, O_WRONLY | O_CREAT, handle), 0);
  ASSERT_EQ(filesystem.write(handle, "record", 6, 0), 6);
  ASSERT_EQ(filesystem.fsync(handle, true), 0);
  const auto report = filesystem.lose_unsynced();
  EXPECT_FALSE(fs::exists(tree.backing() / "wal"));
  EXPECT_EQ(report.entries_dropped, std::vector<std::string>{"wal"});
  // The handle of the process that "lost power" is dead.
  EXPECT_EQ(filesystem.write(handle, "x", 1, 6), -EIO);
  filesystem.release(handle);

  ASSERT_EQ(filesystem.create("/wal", 0644, O_WRONLY | O_CREAT, handle), 0);
  ASSERT_EQ(filesystem.write(handle, "record", 6, 0), 6);
  ASSERT_EQ(filesystem.fsync(handle, true), 0);
  ASSERT_EQ(filesystem.fsync_directory("/"), 0);
  ASSERT_EQ(filesystem.write(handle, "-unsynced", 9, 6), 9);
  filesystem.release(handle);
  const auto second = filesystem.lose_unsynced();
  EXPECT_EQ(read_whole(tree.backing() / "wal"), "record");
  ASSERT_EQ(second.files.size(), 1u);
  EXPECT_EQ(second.files[0].path, "wal");
  EXPECT_EQ(second.files[0].size_before, 15u);
  EXPECT_EQ(second.files[0].size_after, 6u);
}

TEST(FaultFilesystem, JournaledMetadataMakesEveryEntryDurableAtAnyFsync) {
  TemporaryTree tree;
  FaultFilesystem filesystem(tree.backing(), tree.state(), 1,
                             chaosbench::nemesis::faultfs::MetadataDurability::journaled);
  ASSERT_EQ(filesystem.mkdir("/member", 0755), 0);
  std::uint64_t handle = 0;
  ASSERT_EQ(filesystem.create("/member/wal", 0644, O_WRONLY | O_CREAT, handle), 0);
  ASSERT_EQ(filesystem.write(handle, "record", 6, 0), 6);
  ASSERT_EQ(filesystem.fsync(handle, true), 0);  // no directory fsync at all
  filesystem.release(handle);
  ASSERT_EQ(filesystem.create("/later", 0644, O_WRONLY | O_CREAT, handle), 0);  // after the last fsync
  filesystem.release(handle);
  filesystem.lose_unsynced();
  EXPECT_EQ(read_whole(tree.backing() / "member" / "wal"), "record");
  EXPECT_FALSE(fs::exists(tree.backing() / "later"));
}

TEST(FaultFilesystem, ALossWithTornTailsKeepsAPrefixOfWhatWasAppended) {
  std::set<std::size_t> sizes;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    TemporaryTree tree;
    std::ofstream(tree.backing() / "wal") << "SYNCED";
    FaultFilesystem filesystem(tree.backing(), tree.state(), seed);
    std::uint64_t handle = 0;
    ASSERT_EQ(filesystem.open("/wal", O_WRONLY, handle), 0);
    ASSERT_EQ(filesystem.write(handle, "XY", 2, 0), 2);  // an overwrite of synced bytes always goes back
    ASSERT_EQ(filesystem.write(handle, "0123456789", 10, 6), 10);
    filesystem.release(handle);
    const auto report = filesystem.lose_unsynced(true);
    const std::string after = read_whole(tree.backing() / "wal");
    ASSERT_GE(after.size(), 6u);
    EXPECT_EQ(after, std::string("SYNCED0123456789").substr(0, after.size()));
    ASSERT_EQ(report.files.size(), 1u);
    EXPECT_EQ(report.files[0].size_after, after.size());
    sizes.insert(after.size());
  }
  EXPECT_GT(sizes.size(), 5u) << "the surviving prefix is drawn";
}

TEST(FaultFilesystem, TearKeepsAPrefixOfTheLastWriteAndEverythingBefore) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    TemporaryTree tree;
    std::ofstream(tree.backing() / "log") << "SYNCED";
    FaultFilesystem filesystem(tree.backing(), tree.state(), seed);
    std::uint64_t handle = 0;
    ASSERT_EQ(filesystem.open("/log", O_WRONLY, handle), 0);
    ASSERT_EQ(filesystem.write(handle, "first", 5, 6), 5);
    ASSERT_EQ(filesystem.write(handle, "0123456789", 10, 11), 10);
    filesystem.release(handle);
    const auto torn = filesystem.tear("*");
    ASSERT_FALSE(torn.is_null());
    EXPECT_EQ(torn["file"], "log");
    const auto kept = torn["kept"].get<std::size_t>();
    ASSERT_LT(kept, 10u);
    EXPECT_EQ(read_whole(tree.backing() / "log"),
              std::string("SYNCEDfirst") + std::string("0123456789").substr(0, kept));
    EXPECT_TRUE(filesystem.tear("*").is_null()) << "the last write was torn already";
    filesystem.lose_unsynced();
    EXPECT_EQ(read_whole(tree.backing() / "log"), "SYNCED");
  }
}

TEST(FaultFilesystem, TearOfAnOverwriteRestoresTheBytesAfterTheCut) {
  TemporaryTree tree;
  std::ofstream(tree.backing() / "data") << "abcdefghij";
  FaultFilesystem filesystem(tree.backing(), tree.state(), 7);
  std::uint64_t handle = 0;
  ASSERT_EQ(filesystem.open("/data", O_WRONLY, handle), 0);
  ASSERT_EQ(filesystem.write(handle, "XYZW", 4, 2), 4);
  filesystem.release(handle);
  const auto kept = filesystem.tear("da*")["kept"].get<std::size_t>();
  std::string expected = "abcdefghij";
  expected.replace(2, kept, std::string("XYZW").substr(0, kept));
  EXPECT_EQ(read_whole(tree.backing() / "data"), expected);
}

TEST(FaultFilesystem, CorruptFlipsZeroesOrTruncatesAMatchingFile) {
  TemporaryTree tree;
  const std::string original(64, 'A');
  std::ofstream(tree.backing() / "wal") << original;
  std::ofstream(tree.backing() / "other") << original;
  FaultFilesystem filesystem(tree.backing(), tree.state(), 3);
  const auto flipped = filesystem.corrupt("w*", "bitflip", 1);
  EXPECT_EQ(flipped["file"], "wal");
  const std::string after = read_whole(tree.backing() / "wal");
  int differing_bits = 0;
  for (std::size_t i = 0; i < after.size(); ++i)
    differing_bits += __builtin_popcount(static_cast<unsigned char>(after[i] ^ original[i]));
  EXPECT_EQ(differing_bits, 1);
  EXPECT_EQ(read_whole(tree.backing() / "other"), original);

  const auto zeroed = filesystem.corrupt("other", "zero", 8);
  const auto range = zeroed["range"];
  EXPECT_EQ(read_whole(tree.backing() / "other").substr(range[0].get<std::size_t>(), range[1].get<std::size_t>()),
            std::string(range[1].get<std::size_t>(), '\0'));
  filesystem.corrupt("other", "truncate", 10);
  EXPECT_EQ(fs::file_size(tree.backing() / "other"), 54u);
  EXPECT_THROW(filesystem.corrupt("*.snap", "bitflip", 1), FaultError);
  EXPECT_THROW(filesystem.corrupt("*", "shred", 1), FaultError);
}

TEST(FaultFilesystem, InjectedErrorsFullDiskAndClear) {
  TemporaryTree tree;
  FaultFilesystem filesystem(tree.backing(), tree.state(), 1);
  std::uint64_t handle = 0;
  ASSERT_EQ(filesystem.create("/f", 0644, O_RDWR | O_CREAT, handle), 0);
  filesystem.set_error(OperationSet{false, true, false}, 1.0);
  EXPECT_EQ(filesystem.write(handle, "abc", 3, 0), -EIO);
  EXPECT_EQ(filesystem.fsync(handle, false), 0) << "only writes fail";
  filesystem.set_error(OperationSet{false, false, true}, 1.0);
  EXPECT_EQ(filesystem.fsync(handle, false), -EIO);
  filesystem.clear_faults();
  filesystem.set_space_left(5);
  EXPECT_EQ(filesystem.write(handle, "abc", 3, 0), 3);
  EXPECT_EQ(filesystem.write(handle, "defg", 4, 3), 2) << "a write that crosses the limit is short";
  EXPECT_EQ(filesystem.write(handle, "h", 1, 5), -ENOSPC);
  filesystem.clear_faults();
  EXPECT_EQ(filesystem.write(handle, "h", 1, 5), 1);
  char buffer[8] = {};
  EXPECT_EQ(filesystem.read(handle, buffer, sizeof buffer, 0), 6);
  EXPECT_EQ(std::string(buffer, 6), "abcdeh");
  filesystem.release(handle);
  EXPECT_THROW(filesystem.set_error(OperationSet{true, false, false}, 1.5), FaultError);
}

TEST(FaultFilesystem, RemovedDirectoriesAndReplacedFilesComeBack) {
  TemporaryTree tree;
  fs::create_directories(tree.backing() / "snap");
  std::ofstream(tree.backing() / "snap" / "1.snap") << "one";
  std::ofstream(tree.backing() / "current") << "old";
  FaultFilesystem filesystem(tree.backing(), tree.state(), 1);
  // Replace `current` by rename (synced temp, directory not synced), and remove snap/.
  std::uint64_t handle = 0;
  ASSERT_EQ(filesystem.create("/current.tmp", 0644, O_WRONLY | O_CREAT, handle), 0);
  ASSERT_EQ(filesystem.write(handle, "new", 3, 0), 3);
  ASSERT_EQ(filesystem.fsync(handle, false), 0);
  filesystem.release(handle);
  ASSERT_EQ(filesystem.rename("/current.tmp", "/current", 0), 0);
  ASSERT_EQ(filesystem.unlink("/snap/1.snap"), 0);
  ASSERT_EQ(filesystem.rmdir("/snap"), 0);
  EXPECT_EQ(filesystem.rename("/current", "/snap", RENAME_NOREPLACE), 0);
  EXPECT_EQ(filesystem.rename("/snap", "/x", RENAME_EXCHANGE), -EINVAL);
  const auto report = filesystem.lose_unsynced();
  EXPECT_EQ(read_whole(tree.backing() / "current"), "old");
  EXPECT_EQ(read_whole(tree.backing() / "snap" / "1.snap"), "one");
  EXPECT_FALSE(fs::exists(tree.backing() / "current.tmp"));
  EXPECT_EQ(report.entries_restored, (std::vector<std::string>{"current", "snap/1.snap"}));
}

TEST(FaultfsControlProtocol, AnswersEveryRequestAndRefusesBadOnes) {
  TemporaryTree tree;
  FaultFilesystem filesystem(tree.backing(), tree.state(), 1);
  auto reply = handle_control_request(filesystem, R"({"op":"status"})");
  EXPECT_TRUE(reply["ok"]);
  EXPECT_EQ(reply["value"]["unsynced_files"], 0);
  reply = handle_control_request(filesystem, R"({"op":"error","operations":"write,fsync","probability":0.5})");
  EXPECT_TRUE(reply["ok"]) << reply.dump();
  reply = handle_control_request(filesystem, R"({"op":"status"})");
  EXPECT_EQ(reply["value"]["faults"]["error"]["probability"], 0.5);
  EXPECT_TRUE(handle_control_request(filesystem, R"({"op":"full","space_left":10})")["ok"]);
  EXPECT_TRUE(handle_control_request(filesystem, R"({"op":"slow","delay_ms":1})")["ok"]);
  EXPECT_TRUE(handle_control_request(filesystem, R"({"op":"clear"})")["ok"]);
  EXPECT_TRUE(handle_control_request(filesystem, R"({"op":"lose-unsynced"})")["ok"]);
  EXPECT_TRUE(handle_control_request(filesystem, R"({"op":"tear"})")["value"].is_null());
  for (const char* bad : {"not json", R"({"op":"melt"})", R"([1,2])", R"({"op":"error","probability":"x"})",
                          R"({"op":"error","operations":"seek","probability":0.1})", R"({"op":"full"})",
                          R"({"op":"corrupt","glob":"*"})"}) {
    reply = handle_control_request(filesystem, bad);
    EXPECT_FALSE(reply["ok"]) << bad;
    EXPECT_FALSE(reply["error"].get<std::string>().empty()) << bad;
  }
}

}  // namespace
