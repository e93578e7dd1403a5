// Page-level options shared by every kind: locking and prefaulting.
#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>

#include "errors.hpp"
#include "segment.hpp"

namespace ipcshm::core {

int lock_pages(void* addr, uint64_t size, const std::string& id) {
  if (::mlock(addr, size) == 0) return 0;
  int err = errno;
  struct rlimit lim{};
  ::getrlimit(RLIMIT_MEMLOCK, &lim);
  if (lim.rlim_cur == RLIM_INFINITY)
    return fail(err, "mlock(\"%s\", %llu bytes)", id.c_str(),
                static_cast<unsigned long long>(size));
  return fail(err, "mlock(\"%s\", %llu bytes; RLIMIT_MEMLOCK is %llu bytes)", id.c_str(),
              static_cast<unsigned long long>(size),
              static_cast<unsigned long long>(lim.rlim_cur));
}

int populate_pages(void* addr, uint64_t size, bool writable, const std::string& id) {
  // MADV_POPULATE_* (Linux 5.14) report a failure to allocate, where touching
  // the pages would raise SIGBUS.
  if (::madvise(addr, size, writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) == 0)
    return 0;
  if (errno != EINVAL)
    return fail(errno, "madvise(\"%s\", %llu bytes, MADV_POPULATE_%s)", id.c_str(),
                static_cast<unsigned long long>(size), writable ? "WRITE" : "READ");
  // Older kernels: read one byte of every page.
  const long page = ::sysconf(_SC_PAGESIZE);
  auto* bytes = static_cast<volatile const unsigned char*>(addr);
  for (uint64_t off = 0; off < size; off += static_cast<uint64_t>(page)) (void)bytes[off];
  return 0;
}

}  // namespace ipcshm::core
