// POSIX named objects.
//
// Volatile lifetime (SPEC §4): every handle of a volatile object holds a shared
// flock(2) on its own descriptor. A detaching handle that can turn its lock
// exclusive is the last user anywhere and unlinks the name. A process that dies
// loses its locks with its descriptors, so an object whose holders all died has
// no lock at all: the next attach or create of the name finds that out (an
// exclusive lock succeeds) and removes it. The mark that says "volatile" is the
// sticky bit of the mode, which regular files do not use; it is set from the
// first instant (shm_open's mode), survives the creator, and works on every
// kernel (user xattrs on tmpfs need Linux 6.6).
#include "posix_shm.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "errors.hpp"
#include "ids.hpp"
#include "resources.hpp"

namespace ipcshm::core::posix {
namespace {

constexpr const char* kShmDir = "/dev/shm";
constexpr int kCreateAttempts = 100;

std::string path_of(const std::string& name) { return kShmDir + name; }

bool is_volatile(const struct stat& st) { return (st.st_mode & S_ISVTX) != 0; }

class PosixSegment final : public Segment {
 public:
  PosixSegment(std::string name, UniqueFd fd, Mapping map, bool volatile_object)
      : fd_(std::move(fd)), map_(std::move(map)), volatile_(volatile_object),
        owner_(::getpid()) {
    addr_ = map_.get();
    size_ = map_.size();
    id_ = std::move(name);
  }

  ~PosixSegment() override {
    map_.reset();
    // A forked child shares its parent's open file, lock included: it would
    // always find itself "last". Only the process that attached may end the
    // object's life; a child that wants a say attaches anew.
    if (volatile_ && ::getpid() == owner_ && ::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0)
      unlink_if_same(id_, fd_.get());
  }

  int info(ipcshm_info_t* info) const override;

  // Unlinks `name` if it still names the file open as `fd` (and not an object
  // created under the same name since).
  static void unlink_if_same(const std::string& name, int fd) {
    struct stat mine, named;
    if (::fstat(fd, &mine) != 0 || mine.st_nlink == 0) return;
    if (::stat(path_of(name).c_str(), &named) != 0) return;
    if (mine.st_dev == named.st_dev && mine.st_ino == named.st_ino)
      ::shm_unlink(name.c_str());
  }

 private:
  UniqueFd fd_;
  Mapping map_;
  bool volatile_;
  pid_t owner_;  // the process that attached (see the destructor)
};

void fill_info(const struct stat& st, ipcshm_info_t* info) {
  info->kind = IPCSHM_KIND_POSIX;
  info->size = static_cast<uint64_t>(st.st_size);
  info->nattch = 0;
  info->atime = st.st_atime;
  info->dtime = st.st_mtime;
  info->ctime = st.st_ctime;
  info->mode = st.st_mode & kPermMask;
  info->uid = info->cuid = st.st_uid;
  info->gid = info->cgid = st.st_gid;
  info->cpid = info->lpid = -1;
  info->key = 0;
  info->shmid = -1;
  info->flags = is_volatile(st) ? 0 : IPCSHM_PERSISTENT;
}

int PosixSegment::info(ipcshm_info_t* info) const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", id_.c_str());
  fill_info(st, info);
  return 0;
}

// mmap's ENOMEM: the address space limit or the overcommit policy said no.
int map_error(int err, const std::string& name, size_t size) {
  struct rlimit as{};
  ::getrlimit(RLIMIT_AS, &as);
  char limit[32] = "unlimited";
  if (as.rlim_cur != RLIM_INFINITY)
    std::snprintf(limit, sizeof limit, "%llu bytes", static_cast<unsigned long long>(as.rlim_cur));
  if (err == ENOMEM)
    return fail(err, "mmap(\"%s\", %zu bytes; RLIMIT_AS is %s, see also "
                "/proc/sys/vm/overcommit_memory)", name.c_str(), size, limit);
  return fail(err, "mmap(\"%s\", %zu bytes)", name.c_str(), size);
}

// Maps an open object of st.st_size bytes and wraps it in a segment, which then
// owns fd (left open on failure, for the caller's cleanup).
int map_segment(const std::string& name, UniqueFd& fd, const struct stat& st,
                uint32_t flags, SegmentPtr* out) {
  const bool readonly = flags & IPCSHM_READONLY;
  const size_t size = static_cast<size_t>(st.st_size);
  int mflags = MAP_SHARED | ((flags & IPCSHM_PREFAULT) ? MAP_POPULATE : 0);
  void* addr = ::mmap(nullptr, size, readonly ? PROT_READ : PROT_READ | PROT_WRITE,
                      mflags, fd.get(), 0);
  if (addr == MAP_FAILED) return map_error(errno, name, size);
  Mapping map(addr, size);
  if (flags & IPCSHM_LOCKED) {
    if (int rc = lock_pages(addr, size, name); rc < 0) return rc;
  }
  *out = std::make_unique<PosixSegment>(name, std::move(fd), std::move(map),
                                        is_volatile(st));
  return 0;
}

// Takes a volatile object's shared lock, or finds that its users are all gone:
// then removes it and gives -ENOENT.
int join_volatile(const std::string& name, int fd, struct stat* st) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    PosixSegment::unlink_if_same(name, fd);
    return fail_msg(ENOENT,
                    "shm_open(\"%s\"): No such file or directory (a volatile object "
                    "whose users are all gone; removed)",
                    name.c_str());
  }
  if (::flock(fd, LOCK_SH) != 0) return IPCSHM_FAIL_ERRNO("flock(\"%s\")", name.c_str());
  if (::fstat(fd, st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  if (st->st_nlink == 0)
    return fail_msg(ENOENT,
                    "shm_open(\"%s\"): No such file or directory (destroyed by its last "
                    "user meanwhile)",
                    name.c_str());
  return 0;
}

// An object has size 0 only while its creator (in another process) is between
// shm_open and ftruncate: wait a little for it.
int wait_for_size(const std::string& name, int fd, struct stat* st) {
  for (int i = 0; st->st_size == 0 && i < 200; ++i) {
    struct timespec pause = {0, 1000000};  // 1 ms, 200 ms at most
    ::nanosleep(&pause, nullptr);
    if (::fstat(fd, st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  }
  if (st->st_size == 0)
    return fail_msg(EINVAL,
                    "\"%s\" has size 0: an empty object cannot be mapped (its creator "
                    "has not sized it)",
                    name.c_str());
  return 0;
}

// Opens an existing object. min_size > 0 and owner_only: as IPCSHM_OPEN_OR_CREATE.
int open_existing(const std::string& name, uint32_t flags, uint64_t min_size,
                  bool owner_only, SegmentPtr* out) {
  const bool readonly = flags & IPCSHM_READONLY;
  UniqueFd fd(::shm_open(name.c_str(), readonly ? O_RDONLY : O_RDWR, 0));
  if (!fd) return IPCSHM_FAIL_ERRNO("shm_open(\"%s\")", name.c_str());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  if (owner_only && st.st_uid != ::geteuid())
    return fail_msg(EACCES,
                    "shm_open(\"%s\"): Permission denied (it exists and belongs to uid "
                    "%u, not to uid %u)",
                    name.c_str(), static_cast<unsigned>(st.st_uid),
                    static_cast<unsigned>(::geteuid()));
  if (is_volatile(st)) {
    if (int rc = join_volatile(name, fd.get(), &st); rc < 0) return rc;
  }
  if (int rc = wait_for_size(name, fd.get(), &st); rc < 0) return rc;
  if (static_cast<uint64_t>(st.st_size) < min_size)
    return fail_msg(EINVAL, "\"%s\" exists with %llu bytes, fewer than the %llu asked for",
                    name.c_str(), static_cast<unsigned long long>(st.st_size),
                    static_cast<unsigned long long>(min_size));
  return map_segment(name, fd, st, flags, out);
}

// Removes a volatile object that no process holds any more (its users died).
// True if it did, so that the caller may create the name afresh.
bool reclaim_orphan(const std::string& name) {
  UniqueFd fd(::shm_open(name.c_str(), O_RDONLY, 0));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !is_volatile(st)) return false;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;
  PosixSegment::unlink_if_same(name, fd.get());
  return true;
}

int size_error(int err, const std::string& name, uint64_t size, const char* call) {
  struct statvfs vfs;
  if (err == ENOSPC && ::statvfs(kShmDir, &vfs) == 0)
    return fail(err, "%s(\"%s\", %llu bytes; %s has %llu bytes free)", call, name.c_str(),
                static_cast<unsigned long long>(size), kShmDir,
                static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize);
  return fail(err, "%s(\"%s\", %llu bytes)", call, name.c_str(),
              static_cast<unsigned long long>(size));
}

// Deletes a half-made object on every failure path of create.
class CreateGuard {
 public:
  CreateGuard(const std::string& name, int fd) : name_(name), fd_(fd) {}
  ~CreateGuard() {
    if (fd_ >= 0) PosixSegment::unlink_if_same(name_, fd_);
  }
  void release() { fd_ = -1; }

 private:
  const std::string& name_;
  int fd_;
};

}  // namespace

int create(const std::string& requested, bool is_template, uint64_t size, uint32_t perms,
           uint32_t flags, SegmentPtr* out) {
  if (size > static_cast<uint64_t>(INT64_MAX))
    return fail_msg(EINVAL, "size %llu of \"%s\" is above the largest file size (2^63-1)",
                    static_cast<unsigned long long>(size), requested.c_str());
  const bool volatile_object = !(flags & IPCSHM_PERSISTENT);
  const mode_t mode = (perms | kOwnerReadWrite) | (volatile_object ? S_ISVTX : 0);

  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    std::string name = requested;
    if (is_template) fill_template(&name);
    UniqueFd fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, mode));
    if (!fd) {
      if (errno != EEXIST) return IPCSHM_FAIL_ERRNO("shm_open(\"%s\")", name.c_str());
      if (is_template) continue;
      if (flags & IPCSHM_OPEN_OR_CREATE) {
        int rc = open_existing(name, flags, size, true, out);
        if (rc != -ENOENT) return rc;  // attached (0), or a real failure
        continue;                      // removed meanwhile: create it
      }
      if (reclaim_orphan(name)) continue;
      return fail(EEXIST, "shm_open(\"%s\", O_CREAT|O_EXCL)", name.c_str());
    }
    CreateGuard guard(name, fd.get());
    if (volatile_object) {
      // Hold the lock first: between shm_open and here, another process may have
      // taken the new name for an orphan and removed it. Then start again.
      if (::flock(fd.get(), LOCK_SH) != 0)
        return IPCSHM_FAIL_ERRNO("flock(\"%s\")", name.c_str());
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
      if (st.st_nlink == 0) continue;
    }
    // The umask has narrowed shm_open's mode; perms are applied exactly.
    if (::fchmod(fd.get(), mode) != 0) return IPCSHM_FAIL_ERRNO("fchmod(\"%s\")", name.c_str());
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
      return size_error(errno, name, size, "ftruncate");
    if (flags & IPCSHM_RESERVE) {
      if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); err != 0)
        return size_error(err, name, size, "fallocate");
    }
    struct stat st = {};
    st.st_size = static_cast<off_t>(size);
    st.st_mode = mode;
    if (int rc = map_segment(name, fd, st, flags, out); rc < 0) return rc;
    guard.release();
    return 1;
  }
  return fail_msg(EEXIST, "could not find a free name for \"%s\" in %d attempts",
                  requested.c_str(), kCreateAttempts);
}

int attach(const std::string& name, uint32_t flags, SegmentPtr* out) {
  return open_existing(name, flags, 0, false, out);
}

int remove(const std::string& name) {
  if (::shm_unlink(name.c_str()) == 0 || errno == ENOENT) return 0;
  return IPCSHM_FAIL_ERRNO("shm_unlink(\"%s\")", name.c_str());
}

int info(const std::string& name, ipcshm_info_t* info) {
  struct stat st;
  if (::stat(path_of(name).c_str(), &st) != 0)
    return IPCSHM_FAIL_ERRNO("stat(\"%s\")", name.c_str());
  fill_info(st, info);
  return 0;
}

int chmod(const std::string& name, uint32_t perms) {
  UniqueFd fd(::open(path_of(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return IPCSHM_FAIL_ERRNO("open(\"%s\")", name.c_str());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  const mode_t mode = (perms | kOwnerReadWrite) | (st.st_mode & S_ISVTX);
  if (::fchmod(fd.get(), mode) != 0) return IPCSHM_FAIL_ERRNO("fchmod(\"%s\")", name.c_str());
  return 0;
}

}  // namespace ipcshm::core::posix
