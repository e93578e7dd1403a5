// The event descriptor bridge (ipcshm_event_fd): the read end of a pipe, fed by
// a helper thread that waits on the event and writes the sequence it saw.
//
// The helper waits on its own second mapping of the event's page(s), made with
// mremap(old_size = 0), so the caller may detach the object while the
// descriptor is open. It ends when the caller closes the read end (seen within
// one wait slice, or at the next notify), or when the event is overwritten
// (the caller then reads end of file).
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <new>

#include "errors.hpp"
#include "futex.hpp"
#include "helper_thread.hpp"
#include "sync.hpp"
#include "sync_layout.hpp"
#include "writable_pages.hpp"

namespace ipcshm::core::sync {
namespace {

struct Bridge {
  void* mapping = nullptr;  // the helper's own mapping of the event's page(s)
  size_t mapping_len = 0;
  void* ev = nullptr;       // the event inside it
  int write_fd = -1;
  uint64_t seen = 0;
};

bool reader_gone(int fd) noexcept {
  struct pollfd pfd = {fd, 0, 0};
  return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
}

void* bridge_main(void* arg) noexcept {
  auto* b = static_cast<Bridge*>(arg);
  for (;;) {
    int rc = event_wait_quiet(b->ev, &b->seen, kSliceNs);
    if (rc == 0) {
      // One value waits at most: notifies that come before the reader reads
      // coalesce into it.
      int pending = 0;
      if (::ioctl(b->write_fd, FIONREAD, &pending) != 0 || pending == 0) {
        const uint64_t seq = b->seen;
        if (::write(b->write_fd, &seq, sizeof seq) < 0 && errno == EPIPE) break;
      }
    } else if (rc != -ETIMEDOUT && rc != -EINTR) {
      break;  // no longer an event: the reader gets end of file
    }
    if (reader_gone(b->write_fd)) break;
  }
  ::munmap(b->mapping, b->mapping_len);
  note_unmap();
  ::close(b->write_fd);
  delete b;
  return nullptr;
}

}  // namespace

int event_fd(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_event_fd";
  if (int rc = require_writable(p, IPCSHM_EVENT_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kEventMagic, kCall); rc < 0) return rc;

  auto* b = new (std::nothrow) Bridge;
  if (!b) return fail_msg(ENOMEM, "%s(%p): out of memory", kCall, p);
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = addr & ~(page - 1);
  const uintptr_t end = (addr + IPCSHM_EVENT_SIZE + page - 1) & ~(page - 1);
  void* dup = ::mremap(reinterpret_cast<void*>(first), 0, end - first, MREMAP_MAYMOVE);
  if (dup == MAP_FAILED) {
    int err = errno;
    delete b;
    if (err == EINVAL)
      return fail_msg(EOPNOTSUPP,
                      "%s(%p): the event's memory cannot be mapped a second time (huge "
                      "pages, or memory that is not a shared mapping); the descriptor needs "
                      "that to outlive a detach",
                      kCall, p);
    return fail(err, "%s(%p): mremap", kCall, p);
  }
  b->mapping = dup;
  b->mapping_len = end - first;
  b->ev = static_cast<char*>(dup) + (addr - first);
  b->seen = at(static_cast<Event*>(b->ev)->seq).load(std::memory_order_acquire);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    int err = errno;
    ::munmap(dup, b->mapping_len);
    note_unmap();
    delete b;
    return fail(err, "%s(%p): pipe2", kCall, p);
  }
  b->write_fd = fds[1];

  int err = start_helper_thread(bridge_main, b);
  if (err != 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    ::munmap(dup, b->mapping_len);
    note_unmap();
    delete b;
    return fail(err, "%s(%p): pthread_create", kCall, p);
  }
  return fds[0];
}

}  // namespace ipcshm::core::sync
