// memfd objects. At creation they are sealed against shrinking (F_SEAL_SHRINK):
// whoever holds a descriptor can otherwise truncate the object and make every
// other holder's mapping fault (SIGBUS), which is the classic hazard of passing
// shared memory to a peer one does not trust. Growing stays allowed (resize);
// F_SEAL_GROW, F_SEAL_FUTURE_WRITE are for the caller to add (ipcshm.h).
#include "memfd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "errors.hpp"
#include "fd_segment.hpp"
#include "ids.hpp"

namespace ipcshm::core::memfd {
namespace {

auto ull(uint64_t v) { return static_cast<unsigned long long>(v); }

class MemfdSegment final : public FdSegment {
 public:
  MemfdSegment(std::string id, UniqueFd fd, Mapping map, uint32_t flags, uint64_t granule)
      : FdSegment(std::move(id), std::move(fd), std::move(map), flags, granule) {}

  int info(ipcshm_info_t* info) const override {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", id_.c_str());
    fill_stat_info(st, IPCSHM_KIND_MEMFD, granule_ > 1 ? IPCSHM_HUGEPAGES : 0, info);
    return 0;
  }
};

// A read-only descriptor of the object open as fd (a new open file, through
// /proc/self/fd), for a handle that is read-only from its creation.
int reopen_readonly(const std::string& id, UniqueFd* fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd->get());
  UniqueFd ro(::open(path, O_RDONLY | O_CLOEXEC));
  if (!ro) return IPCSHM_FAIL_ERRNO("open(\"%s\" as %s, O_RDONLY)", id.c_str(), path);
  *fd = std::move(ro);
  return 0;
}

}  // namespace

int create(const std::string& requested, bool is_template, uint64_t size, uint32_t perms,
           uint32_t flags, SegmentPtr* out) {
  if (flags & (IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE))
    return fail_msg(EINVAL,
                    "cannot create \"%s\" with %s: a memfd object is always new and lives "
                    "while a descriptor or mapping of it does",
                    requested.c_str(),
                    (flags & IPCSHM_PERSISTENT) ? "IPCSHM_PERSISTENT" : "IPCSHM_OPEN_OR_CREATE");
  std::string id = requested;
  if (is_template) fill_template(&id);
  const char* label = id.c_str() + 6;  // after "memfd:"
  const bool huge = flags & IPCSHM_HUGEPAGES;
  UniqueFd fd(::memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB : 0)));
  if (!fd) {
    if (huge && (errno == EINVAL || errno == ENOENT))
      return fail(errno, "memfd_create(\"%s\", MFD_HUGETLB; this kernel has no hugetlbfs "
                  "for it)", id.c_str());
    return IPCSHM_FAIL_ERRNO("memfd_create(\"%s\")", id.c_str());
  }
  // memfd_create makes the file 0777: apply perms exactly, as for every kind.
  if (::fchmod(fd.get(), perms | kOwnerReadWrite) != 0)
    return IPCSHM_FAIL_ERRNO("fchmod(\"%s\")", id.c_str());
  bool on_hugetlbfs = false;
  const uint64_t granule = size_granule(fd.get(), &on_hugetlbfs);
  if (size > static_cast<uint64_t>(INT64_MAX) - granule)
    return fail_msg(EINVAL, "size %llu of \"%s\" is above the largest file size (2^63-1)",
                    ull(size), id.c_str());
  size = round_up(size, granule);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return size_error(errno, fd.get(), id, size, "ftruncate");
  if (flags & IPCSHM_RESERVE) {
    if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); err != 0)
      return size_error(err, fd.get(), id, size, "fallocate");
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0)
    return IPCSHM_FAIL_ERRNO("fcntl(\"%s\", F_ADD_SEALS, F_SEAL_SHRINK)", id.c_str());
  if (flags & IPCSHM_READONLY) {
    if (int rc = reopen_readonly(id, &fd); rc < 0) return rc;
  }
  Mapping map;
  if (int rc = map_fd(fd.get(), size, flags, id, &map); rc < 0) return rc;
  *out = std::make_unique<MemfdSegment>(std::move(id), std::move(fd), std::move(map),
                                        flags & ~IPCSHM_HUGEPAGES, granule);
  return 1;
}

int attach_open(const std::string& id, UniqueFd fd, uint32_t flags, SegmentPtr* out) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IPCSHM_FAIL_ERRNO("fstat(\"%s\")", id.c_str());
  // Whoever holds a descriptor of an unsealed memfd can truncate it under this
  // mapping, which then faults (SIGBUS) where the object no longer reaches. The
  // library seals what it creates; a descriptor from elsewhere (a peer's forged
  // ipcshm_send frame, say) is taken unsealed only if the caller says so.
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (!(flags & IPCSHM_UNSEALED) && (seals < 0 || !(seals & F_SEAL_SHRINK)))
    return fail_msg(EPERM,
                    "\"%s\" is not sealed against shrinking (F_SEAL_SHRINK): any holder could "
                    "truncate it under this mapping (SIGBUS); not mapped. Seal it with "
                    "fcntl(F_ADD_SEALS, F_SEAL_SHRINK) before sending, or attach with "
                    "IPCSHM_UNSEALED to accept the risk",
                    id.c_str());
  if (st.st_size == 0)
    return fail_msg(EINVAL, "\"%s\" has size 0: an empty object cannot be mapped", id.c_str());
  bool huge = false;
  const uint64_t granule = size_granule(fd.get(), &huge);
  Mapping map;
  if (int rc = map_fd(fd.get(), static_cast<uint64_t>(st.st_size), flags, id, &map); rc < 0)
    return rc;
  *out = std::make_unique<MemfdSegment>(id, std::move(fd), std::move(map), flags, granule);
  return 0;
}

int no_name(const char* call, const std::string& id) {
  return fail_msg(EINVAL,
                  "%s(\"%.64s\"): a memfd object has no name in the system; it is reached "
                  "through its descriptor (ipcshm_fd, ipcshm_attach_fd, ipcshm_send, "
                  "ipcshm_recv, ipcshm_handle_info)",
                  call, id.c_str());
}

}  // namespace ipcshm::core::memfd
