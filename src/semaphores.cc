// Counting semaphores: a 32-bit count that is also the futex word, with the
// sleepers counted so that a post nobody waits for makes no system call.
//
// The count is a count, not an ownership: a process that dies after taking a
// unit does not give it back (as POSIX semaphores). A waiter that dies asleep
// leaves the sleeper count one too high, which only costs later posts a
// system call each.
#include <cerrno>

#include "errors.hpp"
#include "futex.hpp"
#include "sync.hpp"
#include "sync_layout.hpp"
#include "writable_pages.hpp"

namespace ipcshm::core::sync {
namespace {

Semaphore* as_sem(void* p) noexcept { return static_cast<Semaphore*>(p); }

bool try_take(std::atomic_ref<uint32_t> value) noexcept {
  uint32_t v = value.load(std::memory_order_relaxed);
  while (v > 0)
    if (value.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return true;
  return false;
}

}  // namespace

int sem_init(void* p, uint32_t initial) noexcept {
  static constexpr const char* kCall = "ipcshm_sem_init";
  if (int rc = require_writable(p, IPCSHM_SEM_SIZE, kCall, Probe::overwrite); rc < 0) return rc;
  Semaphore* s = as_sem(p);
  at(s->magic).store(0, std::memory_order_relaxed);
  at(s->value).store(initial, std::memory_order_relaxed);
  at(s->sleepers).store(0, std::memory_order_relaxed);
  for (uint32_t& r : s->reserved) at(r).store(0, std::memory_order_relaxed);
  at(s->version).store(kLayoutVersion, std::memory_order_relaxed);
  at(s->magic).store(kSemaphoreMagic, std::memory_order_release);
  return 0;
}

int sem_post(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_sem_post";
  if (int rc = require_writable(p, IPCSHM_SEM_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kSemaphoreMagic, kCall); rc < 0) return rc;
  Semaphore* s = as_sem(p);
  auto value = at(s->value);
  uint32_t v = value.load(std::memory_order_relaxed);
  do {
    if (v == UINT32_MAX)
      return fail_msg(EOVERFLOW, "%s(%p): the count is at its maximum, %u", kCall, p, v);
  } while (!value.compare_exchange_weak(v, v + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed));
  if (at(s->sleepers).load(std::memory_order_seq_cst) != 0) {
    int rc = futex_wake(&s->value, 1);
    if (rc < 0) return fail(-rc, "%s(%p): futex(FUTEX_WAKE)", kCall, p);
  }
  return 0;
}

int sem_wait(void* p, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_sem_wait";
  if (int rc = require_writable(p, IPCSHM_SEM_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kSemaphoreMagic, kCall); rc < 0) return rc;
  Semaphore* s = as_sem(p);
  auto value = at(s->value);
  if (try_take(value)) return 0;
  Deadline deadline(timeout_ns);
  if (deadline.try_only())
    return fail_msg(EAGAIN, "%s(%p): the count is 0 (timeout 0: not waiting)", kCall, p);
  if (spin_until([&] { return value.load(std::memory_order_relaxed) > 0 && try_take(value); }))
    return 0;

  auto sleepers = at(s->sleepers);
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  int rc = 0;
  for (;;) {
    uint32_t v = value.load(std::memory_order_seq_cst);
    if (v > 0) {
      if (try_take(value)) break;
      continue;
    }
    const int64_t now = monotonic_ns();
    if (deadline.passed(now)) {
      rc = fail_msg(ETIMEDOUT, "%s(%p): the count stayed 0 for %lld ns", kCall, p,
                    static_cast<long long>(timeout_ns));
      break;
    }
    int w = futex_wait(&s->value, 0, deadline.slice_end(now, kSliceNs));
    if (w == -EINTR) {
      // A post may have woken this waiter at the same moment: take its unit
      // rather than strand it.
      if (try_take(value)) break;
      rc = fail_msg(EINTR, "%s(%p): interrupted by a signal", kCall, p);
      break;
    }
    if (w == 0) {
      // A post woke this thread: the count is most likely 1. Take it at once
      // (one cache-line transfer, where a read and then a swap take two).
      uint32_t one = 1;
      if (value.compare_exchange_strong(one, 0, std::memory_order_seq_cst,
                                        std::memory_order_seq_cst))
        break;
      continue;
    }
    if (w != -EAGAIN && w != -ETIMEDOUT) {
      rc = fail(-w, "%s(%p): futex(FUTEX_WAIT)", kCall, p);
      break;
    }
    // Garbage written over the semaphore is seen when a sleep ends unwoken.
    if ((rc = check_header(p, kSemaphoreMagic, kCall)) < 0) break;
  }
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
  // A waiter that leaves without a unit may have been the one a post woke:
  // pass the wake-up on, or another sleeper would wait for the next one.
  if (rc < 0 && value.load(std::memory_order_seq_cst) > 0 &&
      sleepers.load(std::memory_order_seq_cst) != 0)
    futex_wake(&s->value, 1);
  return rc;
}

int sem_value(const void* p, uint32_t* out) noexcept {
  if (int rc = check_header(p, kSemaphoreMagic, "ipcshm_sem_value"); rc < 0) return rc;
  *out = at(as_sem(const_cast<void*>(p))->value).load(std::memory_order_acquire);
  return 0;
}

}  // namespace ipcshm::core::sync
