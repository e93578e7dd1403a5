// The commands that make, remove and re-permission objects: create, rm, chmod.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli.hpp"
#include "commands.hpp"
#include "objects.hpp"
#include "options.hpp"
#include "text.hpp"

namespace ipcshm_cli {

// ---------------------------------------------------------------------------
// create

std::string create_help() {
  return "Create the object ID of SIZE bytes and print its canonical id (the name a\n"
         "template chose, or shmid:N for System V). ID is /name, /nameXXXXXX (a unique\n"
         "name), key:0x1234, key:4660 or private (a new System V segment). SIZE takes\n"
         "K, M, G, T, P, E suffixes (powers of 1024) and exact fractions: 4096, 64K, 1.5G.\n"
         "\n"
         "  --mode MODE    permission bits in octal (default 0600); the owner always\n"
         "                 keeps read and write; the umask does not apply\n"
         "  --persistent   the object stays until 'ipcshm rm' or reboot (the default)\n"
         "\n"
         "Objects made here are always persistent, as ipcmk makes them: a volatile object\n"
         "lives only as long as its users, and this command, its only user, exits at\n"
         "once. Programs make volatile objects through the library. An existing ID is an\n"
         "error (exit 1) and is left untouched.\n";
}

int cmd_create(int argc, char** argv) {
  uint32_t mode = 0600;
  bool go_on;
  auto ops = parse_options(
      argc, argv, {{"mode", true, 'm'}, {"persistent", false, 'P'}, {"volatile", false, 'V'}},
      [&](int key, const char* arg) {
        if (key == 'm') mode = mode_arg(arg);
        if (key == 'V')
          usage_error("--volatile: a volatile object would be destroyed as soon as this "
                      "command exits, its only user; objects made by 'ipcshm create' are "
                      "persistent (remove them with 'ipcshm rm')");
      },
      &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 2, 2, ops.empty() ? "ID and SIZE" : "SIZE");
  const std::string& id = ops[0];
  const uint64_t size = size_arg(ops[1].c_str(), "size", false);
  if (id != "private") {
    Object o;
    std::string why;
    // A malformed id is a usage error; a name taken by something that is not
    // an object is said as such (the library would only say "exists").
    if (resolve(id, &o, &why) == 0 && o.kind == 0) {
      complain("%s", not_an_object(o).c_str());
      return kExitFail;
    }
  }
  note_owner_bits(mode);
  ipcshm_t* h = nullptr;
  const int rc = ipcshm_create(id.c_str(), size, mode, IPCSHM_PERSISTENT, &h);
  if (rc < 0) return library_failure(rc);
  // The caller's own id (a template filled with letters and digits): printed
  // as it is, for scripts.
  std::printf("%s\n", ipcshm_id(h));
  ipcshm_detach(h);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// rm

std::string rm_help() {
  return "Remove the objects named (ipcrm): POSIX: shm_unlink; System V: IPC_RMID.\n"
         "Processes that have an object mapped keep their memory until they detach.\n"
         "Every ID is tried; the exit status is 1 if any of them was missing or could not\n"
         "be removed. ID is /name, key:0x1234, key:4660 or shmid:N.\n"
         "\n"
         "A name in /dev/shm that is not an object (a FIFO, socket, device node, symbolic\n"
         "link or directory squatting a name) is removed too, with a note on stderr that\n"
         "says what it was: a symbolic link itself, never what it points to; a directory\n"
         "with its contents, never following a symbolic link in it nor crossing into\n"
         "another file system. /dev/shm is sticky: only the owner of a name (or root) may\n"
         "remove it.\n";
}

namespace {

constexpr int kMaxDepth = 128;

std::string owner_of(const struct stat& st) {
  const std::string name = user_name(st.st_uid);
  return name.empty() ? format("uid %u", static_cast<unsigned>(st.st_uid)) : name;
}

// Why an unlink in a sticky directory failed, said for people.
std::string unlink_failure(const std::string& path, int err, const struct stat& st) {
  if (err == EPERM || err == EACCES)
    return format("unlink(\"%s\"): %s (it belongs to %s; in a sticky directory only its owner "
                  "or root may remove it)",
                  path.c_str(), std::strerror(err), owner_of(st).c_str());
  return format("unlink(\"%s\"): %s", path.c_str(), std::strerror(err));
}

// Removes the directory `name` in parent (whose identity is *expected) with all
// it holds. Opens every directory with O_NOFOLLOW and checks it is the one
// just seen, so a symbolic link swapped in meanwhile is never followed; stays
// on /dev/shm's file system. *entries counts what was removed. 0 or -1 (with a
// message).
int remove_tree(int parent, const std::string& name, const std::string& path,
                const struct stat& expected, dev_t shm_dev, int depth, unsigned* entries) {
  if (expected.st_dev != shm_dev) {
    complain("%s: a mount point of another file system: not removed", path.c_str());
    return -1;
  }
  if (depth > kMaxDepth) {
    complain("%s: directories nested deeper than %d levels: not removed", path.c_str(), kMaxDepth);
    return -1;
  }
  for (int pass = 0; pass < 3; ++pass) {
    const int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return 0;
      complain("open(\"%s\"): %s", path.c_str(), std::strerror(errno));
      return -1;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || st.st_dev != expected.st_dev || st.st_ino != expected.st_ino) {
      ::close(fd);
      complain("%s: replaced while being removed: not removed", path.c_str());
      return -1;
    }
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      ::close(fd);
      complain("opendir(\"%s\"): %s", path.c_str(), std::strerror(errno));
      return -1;
    }
    int rc = 0;
    while (struct dirent* de = ::readdir(dir)) {
      const std::string child = de->d_name;
      if (child == "." || child == "..") continue;
      const std::string child_path = path + "/" + child;
      struct stat cst;
      if (::fstatat(fd, child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
      if (S_ISDIR(cst.st_mode)) {
        if (remove_tree(fd, child, child_path, cst, shm_dev, depth + 1, entries) != 0) rc = -1;
      } else if (::unlinkat(fd, child.c_str(), 0) == 0) {
        ++*entries;
      } else if (errno != ENOENT) {
        complain("%s", unlink_failure(child_path, errno, cst).c_str());
        rc = -1;
      }
    }
    ::closedir(dir);
    if (rc != 0) return rc;
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
      ++*entries;
      return 0;
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
      complain("%s", unlink_failure(path, errno, expected).c_str());
      return -1;
    }
    // Something was added meanwhile: go again, a few times.
  }
  complain("%s: keeps being filled while being removed: not removed", path.c_str());
  return -1;
}

// Removes a name in /dev/shm that is not an object. kExitOk or kExitFail.
int remove_non_object(const Object& o) {
  const int shm = ::open(kShmDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (shm < 0) {
    complain("open(\"%s\"): %s", kShmDir, std::strerror(errno));
    return kExitFail;
  }
  const std::string name = o.id.substr(1);
  const std::string path = std::string(kShmDir) + o.id;
  struct stat shm_st, st;
  int status = kExitOk;
  if (::fstat(shm, &shm_st) != 0 || ::fstatat(shm, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) {  // gone meanwhile: removed, as ipcshm_remove says
      complain("stat(\"%s\"): %s", path.c_str(), std::strerror(errno));
      status = kExitFail;
    }
  } else if (S_ISREG(st.st_mode)) {
    // An object now, made meanwhile: the library removes it.
    if (int rc = ipcshm_remove(o.id.c_str()); rc < 0) status = library_failure(rc);
  } else if (S_ISDIR(st.st_mode)) {
    unsigned entries = 0;
    if (remove_tree(shm, name, path, st, shm_st.st_dev, 0, &entries) != 0) {
      status = kExitFail;
    } else {
      complain("note: removed %s, which was a directory (with %u entries), not a shared memory "
               "object",
               path.c_str(), entries - 1);
    }
  } else if (::unlinkat(shm, name.c_str(), 0) == 0 || errno == ENOENT) {
    Object now = o;
    now.file_mode = st.st_mode;
    complain("note: removed %s, which was %s, not a shared memory object", path.c_str(),
             what_it_is(now).c_str());
  } else {
    complain("%s", unlink_failure(path, errno, st).c_str());
    status = kExitFail;
  }
  ::close(shm);
  return status;
}

}  // namespace

int cmd_rm(int argc, char** argv) {
  bool go_on;
  auto ops = parse_options(argc, argv, {}, [](int, const char*) {}, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, SIZE_MAX, "ID");
  // Every id is checked before anything is removed (a malformed one stops it
  // all); ipcshm_remove() says 0 for a missing object (as IPC.jl's shmrm), so
  // resolve() tells the missing ones.
  std::vector<Object> found(ops.size());
  std::vector<int> rcs(ops.size());
  std::vector<std::string> why(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) rcs[i] = resolve(ops[i], &found[i], &why[i]);
  int status = kExitOk;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (rcs[i] < 0) {
      complain("%s", why[i].c_str());
      status = kExitFail;
    } else if (found[i].kind == 0) {
      if (remove_non_object(found[i]) != kExitOk) status = kExitFail;
    } else if (int rc = ipcshm_remove(ops[i].c_str()); rc < 0) {
      status = library_failure(rc);
    }
  }
  return status;
}

// ---------------------------------------------------------------------------
// chmod

std::string chmod_help() {
  return "Set the permission bits of ID to MODE (octal, e.g. 0640): System V IPC_SET,\n"
         "POSIX fchmod (a volatile object stays volatile). The owner always keeps read and\n"
         "write. Only the owner or root may.\n";
}

int cmd_chmod(int argc, char** argv) {
  bool go_on;
  auto ops = parse_options(argc, argv, {}, [](int, const char*) {}, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 2, 2, ops.empty() ? "ID and MODE" : "MODE");
  const uint32_t mode = mode_arg(ops[1].c_str());
  Object o;
  std::string why;
  if (resolve(ops[0], &o, &why) < 0) {
    complain("%s", why.c_str());
    return kExitFail;
  }
  if (o.kind == 0) {
    complain("%s", not_an_object(o).c_str());
    return kExitFail;
  }
  note_owner_bits(mode);
  if (int rc = ipcshm_chmod(ops[0].c_str(), mode); rc < 0) return library_failure(rc);
  return kExitOk;
}

}  // namespace ipcshm_cli
