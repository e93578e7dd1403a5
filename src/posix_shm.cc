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
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "errors.hpp"
#include "fd_segment.hpp"
#include "ids.hpp"
#include "process_id.hpp"
#include "resources.hpp"

namespace ipcshm::core::posix {
namespace {

constexpr const char* kShmDir = "/dev/shm";
constexpr int kCreateAttempts = 100;

std::string path_of(const std::string& name) { return kShmDir + name; }

bool is_volatile(const struct stat& st) { return (st.st_mode & S_ISVTX) != 0; }

class PosixSegment final : public FdSegment {
 public:
  // st: the object as fstat(2) saw it (for a volatile object, its st_dev and
  // st_ino identify the file at detach). user: whether this handle counts as a
  // user of a volatile object (false when it shares another's open file).
  PosixSegment(std::string name, UniqueFd fd, Mapping map, const struct stat& st,
               uint32_t flags, bool user = true)
      : FdSegment(std::move(name), std::move(fd), std::move(map), flags, 1),
        volatile_(is_volatile(st)),
        // Only a volatile object needs the owner.
        owner_(volatile_ && user ? process_id() : -1), dev_(st.st_dev), ino_(st.st_ino) {}

  ~PosixSegment() override {
    map_.reset();
    // A forked child shares its parent's open file, lock included: it would
    // always find itself "last". Only the process that attached may end the
    // object's life; a child that wants a say attaches anew.
    if (volatile_ && owner_ >= 0 && process_id() == owner_ &&
        ::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0)
      unlink_if_named(id_, dev_, ino_);
  }

  int info(ipcshm_info_t* info) const override;

  // Shrinking a volatile object that other handles map would make their
  // mappings fault past the new end: refused (-EBUSY) unless this handle is
  // the only user, which it then stays, alone, until the size has changed.
  int resize(uint64_t size) override;

  // Unlinks `name` if it still names the file open as `fd` (and not an object
  // created under the same name since). 0 if the name is gone or names another
  // file now; -errno if shm_unlink failed (another user's object, say).
  static int unlink_if_same(const std::string& name, int fd) {
    struct stat mine;
    if (::fstat(fd, &mine) != 0 || mine.st_nlink == 0) return 0;
    return unlink_if_named(name, mine.st_dev, mine.st_ino);
  }

  // The same for a file whose identity is known: the st_dev and st_ino of an
  // open file never change, and a file with no link left (st_nlink == 0) has no
  // name that stat(2) could find, so no fstat(2) is needed.
  static int unlink_if_named(const std::string& name, dev_t dev, ino_t ino) {
    struct stat named;
    if (::lstat(path_of(name).c_str(), &named) != 0) return 0;
    if (named.st_dev != dev || named.st_ino != ino) return 0;
    return ::shm_unlink(name.c_str()) == 0 || errno == ENOENT ? 0 : -errno;
  }

 private:
  bool volatile_;
  pid_t owner_;  // the process that attached (see the destructor); volatile only
  dev_t dev_;    // the file's identity (see unlink_if_named)
  ino_t ino_;
};

void fill_info(const struct stat& st, ipcshm_info_t* info) {
  fill_stat_info(st, IPCSHM_KIND_POSIX, is_volatile(st) ? 0 : IPCSHM_PERSISTENT, info);
}

int PosixSegment::info(ipcshm_info_t* info) const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", id_.c_str());
  fill_info(st, info);
  return 0;
}

// Maps an open object of st.st_size bytes and wraps it in a segment, which then
// owns fd (left open on failure, for the caller's cleanup).
int map_segment(const std::string& name, UniqueFd& fd, const struct stat& st,
                uint32_t flags, SegmentPtr* out, bool user = true) {
  Mapping map;
  if (int rc = map_fd(fd.get(), static_cast<uint64_t>(st.st_size), flags, name, &map); rc < 0)
    return rc;
  // /dev/shm mounted with huge=advise gives huge pages to those who ask.
  if (flags & IPCSHM_HUGEPAGES) (void)::madvise(map.get(), map.size(), MADV_HUGEPAGE);
  *out = std::make_unique<PosixSegment>(name, std::move(fd), std::move(map), st, flags, user);
  return 0;
}

// Opens an existing object without blocking (a FIFO planted in /dev/shm would
// block open(2) for good) and refuses anything but a regular file.
int open_object(const std::string& name, int oflag, UniqueFd* fd, struct stat* st) {
  UniqueFd opened(::shm_open(name.c_str(), oflag | O_NONBLOCK, 0));
  if (!opened) return IPCSHM_FAIL_ERRNO("shm_open(\"%s\")", name.c_str());
  if (::fstat(opened.get(), st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  if (!S_ISREG(st->st_mode))
    return fail_msg(EINVAL, "\"%s\" is not a shared memory object (not a regular file in %s)",
                    name.c_str(), kShmDir);
  *fd = std::move(opened);
  return 0;
}

// True if no process holds the volatile object open as fd: its users are all
// gone. Then the name is removed (if it still names this file), and *unlinked
// tells how that went (0, or -errno when this user may not remove it).
bool is_dead(const std::string& name, int fd, int* unlinked) {
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return false;  // held by a user
  *unlinked = PosixSegment::unlink_if_same(name, fd);
  ::flock(fd, LOCK_UN);
  return true;
}

int dead_error(const std::string& name, int unlinked) {
  if (unlinked == 0)
    return fail_msg(ENOENT,
                    "shm_open(\"%s\"): No such file or directory (a volatile object whose "
                    "users are all gone; removed)",
                    name.c_str());
  return fail_msg(ENOENT,
                  "shm_open(\"%s\"): No such file or directory (a volatile object whose "
                  "users are all gone; not removed: %s)",
                  name.c_str(), error_text(unlinked));
}

int empty_error(const std::string& name) {
  return fail_msg(EINVAL,
                  "\"%s\" has size 0: an empty object cannot be mapped (its creator has "
                  "not sized it)",
                  name.c_str());
}

// The flock(2) locks on the file (dev, ino) as /proc/locks lists them (reading
// it takes no lock and changes none): how many shared ones, and the pid of a
// process holding an exclusive one (0 if none). Locks of processes in another
// pid namespace are not listed there.
struct FlockCensus {
  int shared = 0;
  long exclusive_pid = 0;
};

FlockCensus flock_census(dev_t dev, ino_t ino) {
  FlockCensus census;
  std::ifstream in("/proc/locks");
  std::string line;
  char want[64];
  std::snprintf(want, sizeof want, "%02x:%02x:%llu", major(dev), minor(dev),
                static_cast<unsigned long long>(ino));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string n, type, advisory, access, where;
    long pid = 0;
    fields >> n >> type;
    if (type == "->") continue;  // a waiter, listed under the holder
    fields >> advisory >> access >> pid >> where;
    if (type != "FLOCK" || where != want) continue;
    if (access == "READ") ++census.shared;
    if (access == "WRITE") census.exclusive_pid = pid;
  }
  return census;
}

// Takes the shared lock that makes this handle a user of a volatile object.
// libipcshm holds an exclusive lock only for microseconds (a detaching user's
// "am I the last?" probe, an attacher's "are its users all gone?"), so the
// wait for one is short; an exclusive lock held for longer is another process
// squatting the object (anyone who can open it can flock it), and waiting for
// it without bound would hang attachers, creators and `ipcshm gc` for good:
// after kLockWaitMs, -EBUSY.
constexpr int kLockWaitMs = 1000;

int join_lock(const std::string& name, int fd) {
  struct timespec start, now;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  long pause_ns = 20000;
  for (;;) {
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return IPCSHM_FAIL_ERRNO("flock(\"%s\", LOCK_SH)", name.c_str());
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const long long waited_ms =
        (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waited_ms >= kLockWaitMs) {
      struct stat st;
      long holder = ::fstat(fd, &st) == 0 ? flock_census(st.st_dev, st.st_ino).exclusive_pid : 0;
      char who[48] = "another process";
      if (holder > 0) std::snprintf(who, sizeof who, "process %ld", holder);
      return fail_msg(EBUSY,
                      "flock(\"%s\", LOCK_SH): %s has held an exclusive lock on it for "
                      "%d ms or more (libipcshm holds one for microseconds only): not "
                      "joined; try again, or find the holder with `ipcshm fuser`",
                      name.c_str(), who, kLockWaitMs);
    }
    struct timespec pause = {0, pause_ns};
    ::nanosleep(&pause, nullptr);
    pause_ns = std::min(pause_ns * 2, 10000000L);
  }
}

// A handle that took the shared lock of a volatile object and then failed
// (too small, not the caller's, mmap or mlock refused) leaves as a detach
// does: if it was the last user, the object goes. Without this, a failed
// attach could leave an object with no user behind.
class Membership {
 public:
  Membership(const std::string& name, int fd) : name_(name), fd_(fd) {}
  ~Membership() {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0)
      PosixSegment::unlink_if_same(name_, fd_);
  }
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;
  void keep() { fd_ = -1; }

 private:
  const std::string& name_;
  int fd_;
};

// An object has size 0 only while its creator is between shm_open and
// ftruncate: wait a little (200 ms at most) for it. A volatile object is waited
// for without holding its lock, so that a creator that dies meanwhile leaves it
// dead (and removed here), not held by this waiter. Then joins the users of a
// volatile object with a shared lock (*joined tells). A dead object: -ENOENT,
// and *unlinked tells whether its name could be removed.
int wait_and_join(const std::string& name, int fd, struct stat* st, int* unlinked,
                  bool* joined) {
  const bool volatile_object = is_volatile(*st);
  *joined = false;
  for (int i = 0;; ++i) {
    if (volatile_object && is_dead(name, fd, unlinked)) return dead_error(name, *unlinked);
    if (st->st_size > 0 || i == 200) break;
    struct timespec pause = {0, 1000000};  // 1 ms
    ::nanosleep(&pause, nullptr);
    if (::fstat(fd, st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  }
  if (volatile_object) {
    if (int rc = join_lock(name, fd); rc < 0) return rc;
    *joined = true;
    if (::fstat(fd, st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
    if (st->st_nlink == 0)
      return fail_msg(ENOENT,
                      "shm_open(\"%s\"): No such file or directory (destroyed by its "
                      "last user meanwhile)",
                      name.c_str());
  }
  return st->st_size > 0 ? 0 : empty_error(name);
}

// For IPCSHM_OPEN_OR_CREATE: the existing object must be the caller's own, not
// merely one it may open. Owned by the caller, and its only name the one asked
// for: another user may hard-link an object of the caller's that it can open
// (a 0666 one, say) under the name the caller is about to use, and the caller
// would then take that object for its private one. (/dev/shm is sticky: no
// other user can rename or remove the caller's file afterwards.)
int check_own(const std::string& name, const struct stat& st) {
  if (st.st_uid != ::geteuid())
    return fail_msg(EACCES,
                    "shm_open(\"%s\"): Permission denied (it exists and belongs to uid "
                    "%u, not to uid %u)",
                    name.c_str(), static_cast<unsigned>(st.st_uid),
                    static_cast<unsigned>(::geteuid()));
  if (st.st_nlink > 1)
    return fail_msg(EACCES,
                    "shm_open(\"%s\"): Permission denied (it exists with %llu names: "
                    "another name was linked to this object, so it is not known to be the "
                    "caller's)",
                    name.c_str(), static_cast<unsigned long long>(st.st_nlink));
  return 0;
}

int PosixSegment::resize(uint64_t size) {
  if (!volatile_ || size >= map_.size()) return FdSegment::resize(size);
  if (owner_ < 0 || process_id() != owner_)
    return fail_msg(EBUSY,
                    "ipcshm_resize(\"%s\"): cannot shrink a volatile object through a "
                    "handle that is not a user of its own (inherited across fork, or "
                    "sharing a received descriptor): other processes may map it",
                    id_.c_str());
  // Other users are visible as shared flocks: say so without touching this
  // handle's lock. Then turn the lock exclusive (which fails, and drops it, if
  // a user the census cannot see holds one: take it back), so that no process
  // joins with the old size while it changes.
  const FlockCensus census = flock_census(dev_, ino_);
  bool others = census.shared > 1;
  if (!others && ::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    others = true;
    (void)join_lock(id_, fd_.get());
  }
  if (others) {
    return fail_msg(EBUSY,
                    "ipcshm_resize(\"%s\", %llu bytes): other handles map this volatile object "
                    "(%d users), and its bytes past %llu would fault (SIGBUS) for them; "
                    "shrink it when it has no other user, or grow it",
                    id_.c_str(), static_cast<unsigned long long>(size),
                    census.shared > 1 ? census.shared : 2,
                    static_cast<unsigned long long>(size));
  }
  const int rc = FdSegment::resize(size);
  // Shared again: nobody else holds a lock, so the change is atomic.
  if (::flock(fd_.get(), LOCK_SH) != 0 && rc == 0)
    return IPCSHM_FAIL_ERRNO("flock(\"%s\", LOCK_SH)", id_.c_str());
  return rc;
}

// Opens an existing object. min_size > 0 and owner_only: as IPCSHM_OPEN_OR_CREATE,
// where *unlinked (if given) tells a dead object that could not be removed, and
// persistent: the caller asked for IPCSHM_PERSISTENT, which a volatile object
// would not keep (-EEXIST).
int open_existing(const std::string& name, uint32_t flags, uint64_t min_size,
                  bool owner_only, SegmentPtr* out, int* unlinked = nullptr) {
  int ignored = 0;
  if (!unlinked) unlinked = &ignored;
  UniqueFd fd;
  struct stat st;
  const int oflag = (flags & IPCSHM_READONLY) ? O_RDONLY : O_RDWR;
  if (int rc = open_object(name, oflag, &fd, &st); rc < 0) return rc;
  if (owner_only) {
    // A dead object is gone whoever owned it (as for an exclusive create), so
    // the users are checked first; then the owner, before any wait.
    if (is_volatile(st) && is_dead(name, fd.get(), unlinked)) return dead_error(name, *unlinked);
    if (int rc = check_own(name, st); rc < 0) return rc;
    if ((flags & IPCSHM_PERSISTENT) && is_volatile(st))
      return fail_msg(EEXIST,
                      "\"%s\" exists as a volatile object, which does not outlive its users "
                      "as IPCSHM_PERSISTENT asks: not attached (attach it without "
                      "IPCSHM_PERSISTENT, or remove it first)",
                      name.c_str());
  }
  bool joined = false;
  int rc = wait_and_join(name, fd.get(), &st, unlinked, &joined);
  Membership member(name, joined ? fd.get() : -1);
  if (rc < 0) return rc;
  if (owner_only) {
    if (int own = check_own(name, st); own < 0) return own;
  }
  if (static_cast<uint64_t>(st.st_size) < min_size)
    return fail_msg(EINVAL, "\"%s\" exists with %llu bytes, fewer than the %llu asked for",
                    name.c_str(), static_cast<unsigned long long>(st.st_size),
                    static_cast<unsigned long long>(min_size));
  if (int mapped = map_segment(name, fd, st, flags, out); mapped < 0) return mapped;
  member.keep();
  return 0;
}

// For an exclusive create that found the name taken: removes it if it is a
// volatile object whose users all died. 1: the name is free now (create
// again); 0: it is taken (-EEXIST); < 0: dead but this user may not remove it.
int reclaim_orphan(const std::string& name) {
  UniqueFd fd(::shm_open(name.c_str(), O_RDONLY | O_NONBLOCK, 0));
  if (!fd) return errno == ENOENT ? 1 : 0;
  struct stat st;
  int unlinked = 0;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !is_volatile(st) ||
      !is_dead(name, fd.get(), &unlinked))
    return 0;
  if (unlinked == 0) return 1;
  return fail_msg(EEXIST,
                  "shm_open(\"%s\", O_CREAT|O_EXCL): File exists (a volatile object whose "
                  "users are all gone, which uid %u may not remove: %s)",
                  name.c_str(), static_cast<unsigned>(::geteuid()), error_text(unlinked));
}

// The huge= option of the tmpfs mounted on /dev/shm ("never" if none): tmpfs
// gives huge pages to its files only where it is mounted with huge=always,
// within_size or advise (then for madvise(MADV_HUGEPAGE)).
std::string shm_huge_option() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, option = "never";
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point != kShmDir) continue;
    option = "never";  // the last mount on /dev/shm is the one in effect
    auto at = line.find("huge=");
    if (at != std::string::npos) option = line.substr(at + 5, line.find_first_of(", \n", at) - at - 5);
  }
  return option;
}

int check_hugepages(const std::string& name) {
  const std::string option = shm_huge_option();
  if (option == "always" || option == "within_size" || option == "advise") return 0;
  return fail_msg(EOPNOTSUPP,
                  "cannot create \"%s\" with IPCSHM_HUGEPAGES: %s is mounted with "
                  "huge=%s, so its files get no huge pages (mount -o remount,"
                  "huge=within_size %s), or use a memfd: or key: id, which take huge pages "
                  "from /proc/sys/vm/nr_hugepages",
                  name.c_str(), kShmDir, option.c_str(), kShmDir);
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
  if (flags & IPCSHM_HUGEPAGES) {
    if (int rc = check_hugepages(requested); rc < 0) return rc;
  }
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
        int unlinked = 0;
        int rc = open_existing(name, flags, size, true, out, &unlinked);
        if (rc != -ENOENT) return rc;  // attached (0), or a real failure
        if (unlinked != 0)             // dead, and this user may not remove it
          return fail_msg(EACCES,
                          "shm_open(\"%s\"): Permission denied (a volatile object whose "
                          "users are all gone, which uid %u may not remove: %s)",
                          name.c_str(), static_cast<unsigned>(::geteuid()),
                          error_text(unlinked));
        continue;  // removed meanwhile: create it
      }
      if (int rc = reclaim_orphan(name); rc != 0) {
        if (rc < 0) return rc;
        continue;
      }
      return fail(EEXIST, "shm_open(\"%s\", O_CREAT|O_EXCL)", name.c_str());
    }
    CreateGuard guard(name, fd.get());
    struct stat st = {};
    // Hold the lock first: between shm_open and here, another process may have
    // taken the new name of a volatile object for an orphan and removed it.
    // Then start again.
    if (volatile_object) {
      if (int rc = join_lock(name, fd.get()); rc < 0) return rc;
    }
    if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
    if (volatile_object && st.st_nlink == 0) continue;
    // The umask may have narrowed shm_open's mode; perms are applied exactly.
    // fstat(2) costs less than fchmod(2), which is only needed when it did.
    const bool mode_exact = (st.st_mode & 07777) == mode;
    if (!mode_exact && ::fchmod(fd.get(), mode) != 0)
      return IPCSHM_FAIL_ERRNO("fchmod(\"%s\")", name.c_str());
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
      return size_error(errno, fd.get(), name, size, "ftruncate");
    if (flags & IPCSHM_RESERVE) {
      if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); err != 0)
        return size_error(err, fd.get(), name, size, "fallocate");
    }
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

int attach_open(const std::string& name, UniqueFd fd, bool own_file, uint32_t flags,
                SegmentPtr* out) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", name.c_str());
  bool joined = false;
  if (own_file) {
    int unlinked = 0;
    if (int rc = wait_and_join(name, fd.get(), &st, &unlinked, &joined); rc < 0) {
      Membership leave(name, joined ? fd.get() : -1);
      return rc;
    }
  } else if (st.st_size == 0) {
    return empty_error(name);
  }
  Membership member(name, joined ? fd.get() : -1);
  if (st.st_nlink == 0)
    return fail_msg(ENOENT, "\"%s\": No such file or directory (removed; the descriptor "
                    "holds an object that is gone by name)", name.c_str());
  if (int rc = map_segment(name, fd, st, flags, out, own_file); rc < 0) return rc;
  member.keep();
  return 0;
}

int remove(const std::string& name) {
  if (::shm_unlink(name.c_str()) == 0 || errno == ENOENT) return 0;
  // glibc's shm_unlink turns unlink's EPERM (sticky /dev/shm, not the owner)
  // into EACCES; either way only the owner or root may.
  if (errno == EPERM || errno == EACCES) return not_owner("shm_unlink(\"" + name + "\")");
  return IPCSHM_FAIL_ERRNO("shm_unlink(\"%s\")", name.c_str());
}

int info(const std::string& name, ipcshm_info_t* info) {
  // lstat: a symbolic link in /dev/shm names no object (shm_open refuses it).
  struct stat st;
  if (::lstat(path_of(name).c_str(), &st) != 0)
    return IPCSHM_FAIL_ERRNO("stat(\"%s\")", name.c_str());
  if (S_ISLNK(st.st_mode))
    return fail(ELOOP, "stat(\"%s\"): a symbolic link, not a shared memory object",
                name.c_str());
  if (!S_ISREG(st.st_mode))
    return fail_msg(EINVAL, "\"%s\" is not a shared memory object (not a regular file in %s)",
                    name.c_str(), kShmDir);
  fill_info(st, info);
  return 0;
}

int chmod(const std::string& name, uint32_t perms) {
  UniqueFd fd;
  struct stat st;
  if (int rc = open_object(name, O_RDONLY, &fd, &st); rc < 0) return rc;
  const mode_t mode = (perms | kOwnerReadWrite) | (st.st_mode & S_ISVTX);
  if (::fchmod(fd.get(), mode) != 0) {
    if (errno == EPERM) return not_owner("fchmod(\"" + name + "\")");
    return IPCSHM_FAIL_ERRNO("fchmod(\"%s\")", name.c_str());
  }
  return 0;
}

}  // namespace ipcshm::core::posix
