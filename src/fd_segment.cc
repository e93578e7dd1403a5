#include "fd_segment.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "errors.hpp"

namespace ipcshm::core {
namespace {

auto ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// A line "Name:   123 ..." of /proc/meminfo; 0 if absent.
unsigned long long meminfo(const char* name) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  unsigned long long value = 0;
  while (in >> key) {
    if (key.size() == std::strlen(name) + 1 && key.compare(0, key.size() - 1, name) == 0 &&
        key.back() == ':') {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

// Names the seals that forbid a size change ("F_SEAL_SHRINK", ...), or "".
std::string seals_of(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals <= 0) return {};
  std::string names;
  for (auto [bit, name] : {std::pair{F_SEAL_SHRINK, "F_SEAL_SHRINK"},
                           std::pair{F_SEAL_GROW, "F_SEAL_GROW"},
                           std::pair{F_SEAL_WRITE, "F_SEAL_WRITE"}}) {
    if (seals & bit) names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return names;
}

}  // namespace

uint64_t round_up(uint64_t size, uint64_t granule) {
  return granule <= 1 ? size : (size + granule - 1) / granule * granule;
}

FdSegment::FdSegment(std::string id, UniqueFd fd, Mapping map, uint32_t flags, uint64_t granule)
    : fd_(std::move(fd)), map_(std::move(map)), flags_(flags), granule_(granule) {
  addr_ = map_.get();
  size_ = map_.size();
  id_ = std::move(id);
}

// A descriptor of a new open file of the object, not a duplicate of the
// handle's own: flock(2) locks belong to an open file, and the handle's shared
// lock is what makes it a user of a volatile POSIX object. A duplicate handed
// to the caller (or, through ipcshm_send, to a peer) would let a flock(LOCK_UN)
// on it end that lock, and the live object would look dead to the next
// attacher. The new open file has the handle's access mode and no lock.
int FdSegment::dup_fd() const {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd_.get());
  const int access = (flags_ & IPCSHM_READONLY) ? O_RDONLY : O_RDWR;
  int fd = ::open(path, access | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno != EACCES && errno != EPERM)
    return IPCSHM_FAIL_ERRNO("open(\"%s\" as %s)", id_.c_str(), path);
  // The object's mode does not let this user open it: the handle maps a
  // descriptor received from another user, whose open file it shares and in
  // whose lifetime it takes no part (descriptors.cc). A duplicate of that
  // open file carries no lock of this handle's.
  fd = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return IPCSHM_FAIL_ERRNO("fcntl(\"%s\", F_DUPFD_CLOEXEC)", id_.c_str());
  return fd;
}

int FdSegment::resize(uint64_t requested) {
  if (flags_ & IPCSHM_READONLY)
    return fail_msg(EPERM, "ipcshm_resize(\"%s\"): the handle is read-only", id_.c_str());
  if (requested > static_cast<uint64_t>(INT64_MAX) - granule_ || requested > SIZE_MAX / 2)
    return fail_msg(EINVAL, "ipcshm_resize(\"%s\"): %llu bytes is above the largest file size",
                    id_.c_str(), ull(requested));
  const uint64_t size = round_up(requested, granule_);
  const uint64_t old = map_.size();
  if (size == old) return 0;
  if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0)
    return size_error(errno, fd_.get(), id_, size, "ftruncate");
  // On a later failure the object gets its old size back (the mapping never
  // changed), so that a failed resize changes nothing.
  auto undo = [&] { (void)!::ftruncate(fd_.get(), static_cast<off_t>(old)); };
  if (size > old && (flags_ & IPCSHM_RESERVE)) {
    if (int err = ::posix_fallocate(fd_.get(), static_cast<off_t>(old),
                                    static_cast<off_t>(size - old));
        err != 0) {
      undo();
      return size_error(err, fd_.get(), id_, size, "fallocate");
    }
  }
  void* addr = ::mremap(map_.get(), old, size, MREMAP_MAYMOVE);
  if (addr == MAP_FAILED && errno == EINVAL && granule_ > 1) {
    // hugetlbfs mappings do not grow with mremap: map the new length afresh.
    Mapping fresh;
    if (int rc = map_fd(fd_.get(), size, flags_, id_, &fresh); rc < 0) {
      if (size > old) undo();
      return rc;
    }
    map_ = std::move(fresh);
    addr_ = map_.get();
    size_ = size;
    return 0;
  }
  if (addr == MAP_FAILED) {
    const int err = errno;
    if (size > old) undo();
    if (err == EAGAIN)  // a locked mapping would pass RLIMIT_MEMLOCK
      return fail(ENOMEM, "mremap(\"%s\", %llu -> %llu bytes; locked memory past "
                  "RLIMIT_MEMLOCK)", id_.c_str(), ull(old), ull(size));
    if (err == ENOMEM && granule_ > 1)
      return hugepages_error(err, "mremap", id_, size);
    return fail(err, "mremap(\"%s\", %llu -> %llu bytes)", id_.c_str(), ull(old), ull(size));
  }
  map_.moved(addr, size);
  addr_ = addr;
  size_ = size;
  if (size > old && (flags_ & IPCSHM_PREFAULT))
    return populate_pages(static_cast<char*>(addr) + old, size - old, true, id_);
  return 0;
}

int map_fd(int fd, uint64_t size, uint32_t flags, const std::string& id, Mapping* out) {
  const bool readonly = flags & IPCSHM_READONLY;
  const int mflags = MAP_SHARED | ((flags & IPCSHM_PREFAULT) ? MAP_POPULATE : 0);
  void* addr = ::mmap(nullptr, size, readonly ? PROT_READ : PROT_READ | PROT_WRITE, mflags, fd, 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    bool huge = false;
    size_granule(fd, &huge);
    if (err == ENOMEM && huge) return hugepages_error(err, "mmap", id, size);
    if (err == ENOMEM) {
      struct rlimit as{};
      ::getrlimit(RLIMIT_AS, &as);
      char limit[32] = "unlimited";
      if (as.rlim_cur != RLIM_INFINITY)
        std::snprintf(limit, sizeof limit, "%llu bytes", ull(as.rlim_cur));
      return fail(err, "mmap(\"%s\", %llu bytes; RLIMIT_AS is %s, see also "
                  "/proc/sys/vm/overcommit_memory)", id.c_str(), ull(size), limit);
    }
    return fail(err, "mmap(\"%s\", %llu bytes)", id.c_str(), ull(size));
  }
  Mapping map(addr, size);
  if (flags & IPCSHM_LOCKED) {
    if (int rc = lock_pages(addr, size, id); rc < 0) return rc;
  }
  *out = std::move(map);
  return 0;
}

uint64_t size_granule(int fd, bool* huge) {
  struct statfs fs;
  *huge = ::fstatfs(fd, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC;
  return *huge ? static_cast<uint64_t>(fs.f_bsize) : 1;
}

int size_error(int err, int fd, const std::string& id, uint64_t size, const char* call) {
  struct statvfs vfs;
  if (err == ENOSPC && ::fstatvfs(fd, &vfs) == 0)
    return fail(err, "%s(\"%s\", %llu bytes; its file system has %llu bytes free)", call,
                id.c_str(), ull(size), ull(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize));
  if (err == EPERM) {
    std::string seals = seals_of(fd);
    if (!seals.empty())
      return fail(err, "%s(\"%s\", %llu bytes; the object is sealed: %s)", call, id.c_str(),
                  ull(size), seals.c_str());
  }
  bool huge = false;
  size_granule(fd, &huge);
  if (huge && (err == ENOSPC || err == ENOMEM)) return hugepages_error(err, call, id, size);
  return fail(err, "%s(\"%s\", %llu bytes)", call, id.c_str(), ull(size));
}

void fill_stat_info(const struct stat& st, uint32_t kind, uint32_t flags, ipcshm_info_t* info) {
  info->kind = kind;
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
  info->flags = flags;
}

int hugepages_error(int err, const char* call, const std::string& id, uint64_t size) {
  const unsigned long long page_kib = meminfo("Hugepagesize");
  const unsigned long long total = meminfo("HugePages_Total");
  const unsigned long long free = meminfo("HugePages_Free");
  const unsigned long long reserved = meminfo("HugePages_Rsvd");
  const unsigned long long available = free > reserved ? free - reserved : 0;
  const unsigned long long needed = page_kib ? (size + page_kib * 1024 - 1) / (page_kib * 1024) : 0;
  return fail(err,
              "%s(\"%s\", %llu bytes in %llu KiB huge pages: %llu needed, %llu of %llu "
              "available; raise /proc/sys/vm/nr_hugepages)",
              call, id.c_str(), ull(size), page_kib, needed, available, total);
}

}  // namespace ipcshm::core
