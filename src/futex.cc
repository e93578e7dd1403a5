// Futex system calls on shared words, deadlines, and ipcshm_wait/ipcshm_wake.
#include "futex.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "errors.hpp"
#include "sync.hpp"

namespace ipcshm::core::sync {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

timespec to_timespec(int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)};
}

long futex(const uint32_t* word, int op, uint32_t val, const timespec* ts, uint32_t val3) noexcept {
  return ::syscall(SYS_futex, word, op, val, ts, nullptr, val3);
}

}  // namespace

int64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

Deadline::Deadline(int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) {
    forever_ = true;
  } else if (timeout_ns == 0) {
    try_only_ = true;
    at_ = 0;
  } else {
    int64_t now = monotonic_ns();
    if (timeout_ns > INT64_MAX - now)
      forever_ = true;  // past the year 2262: the same as never
    else
      at_ = now + timeout_ns;
  }
}

int64_t Deadline::slice_end(int64_t now, int64_t slice_ns) const noexcept {
  int64_t end = now > INT64_MAX - slice_ns ? INT64_MAX : now + slice_ns;
  return forever_ || end < at_ ? end : at_;
}

int futex_wait(const uint32_t* word, uint32_t expected, int64_t until_ns) noexcept {
  // The bitset variant takes an absolute CLOCK_MONOTONIC time. A wait "for
  // ever" waits until the year 2262: a futex wait with a timeout ends with
  // EINTR whenever a signal handler runs, SA_RESTART or not (the kernel
  // restarts only waits without one), which is the rule for every wait here.
  const timespec ts = to_timespec(until_ns < 0 ? INT64_MAX : until_ns);
  if (futex(word, FUTEX_WAIT_BITSET, expected, &ts, FUTEX_BITSET_MATCH_ANY) == 0) return 0;
  int err = errno;
  if (err == EWOULDBLOCK) return -EAGAIN;
  return -err;
}

int futex_wake(const uint32_t* word, int n) noexcept {
  long r = futex(word, FUTEX_WAKE, static_cast<uint32_t>(n), nullptr, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

void yield_cpu() noexcept { ::sched_yield(); }

int wait_word(const uint32_t* word, uint32_t expected, int64_t timeout_ns) noexcept {
  Deadline deadline(timeout_ns);
  if (deadline.try_only()) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected) return 0;
    return fail_msg(EAGAIN, "ipcshm_wait(%p): the word is %u (timeout 0: not waiting)",
                    static_cast<const void*>(word), expected);
  }
  int rc = futex_wait(word, expected, deadline.forever() ? -1 : deadline.at_ns());
  switch (rc) {
    case 0:
    case -EAGAIN:  // the word differed on entry
      return 0;
    case -ETIMEDOUT:
      return fail_msg(ETIMEDOUT, "ipcshm_wait(%p): timed out after %lld ns",
                      static_cast<const void*>(word), static_cast<long long>(timeout_ns));
    case -EINTR:
      return fail_msg(EINTR, "ipcshm_wait(%p): interrupted by a signal",
                      static_cast<const void*>(word));
    default:
      return fail(-rc, "futex(%p, FUTEX_WAIT)", static_cast<const void*>(word));
  }
}

int wake_word(uint32_t* word, uint32_t count) noexcept {
  int n = count > static_cast<uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(count);
  int rc = futex_wake(word, n);
  if (rc < 0) return fail(-rc, "futex(%p, FUTEX_WAKE)", static_cast<void*>(word));
  return rc;
}

}  // namespace ipcshm::core::sync
