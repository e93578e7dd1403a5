// Events: a 64-bit sequence that notify increments and waiters watch (an
// eventcount), with the sleepers counted so that a notify nobody waits for
// makes no system call.
//
// No wake-up is lost between a waiter's check and its sleep: the waiter counts
// itself a sleeper before it reads the sequence the last time, the notifier
// increments the sequence before it reads the count (both sequentially
// consistent, so one of them sees the other), and FUTEX_WAIT itself refuses to
// sleep once the sequence moved.
#include <cerrno>
#include <climits>
#include <cstring>

#include "errors.hpp"
#include "futex.hpp"
#include "sync.hpp"
#include "sync_layout.hpp"
#include "writable_pages.hpp"

namespace ipcshm::core::sync {
namespace {

Event* as_event(void* p) noexcept { return static_cast<Event*>(p); }

unsigned long long ull(uint64_t v) noexcept { return static_cast<unsigned long long>(v); }

int wait_impl(void* p, uint64_t* seen, int64_t timeout_ns, bool spin, const char* call) noexcept {
  if (int rc = require_writable(p, IPCSHM_EVENT_SIZE, call); rc < 0) return rc;
  if (int rc = check_header(p, kEventMagic, call); rc < 0) return rc;
  Event* ev = as_event(p);
  auto seq = at(ev->seq);
  const uint64_t old = *seen;
  uint64_t now_seq = seq.load(std::memory_order_acquire);
  if (now_seq != old) {
    *seen = now_seq;
    return 0;
  }
  Deadline deadline(timeout_ns);
  if (deadline.try_only())
    return fail_msg(EAGAIN, "%s(%p): the sequence is still %llu (timeout 0: not waiting)", call,
                    p, ull(old));
  if (spin && spin_until([&] { return (now_seq = seq.load(std::memory_order_acquire)) != old; })) {
    *seen = now_seq;
    return 0;
  }

  auto sleepers = at(ev->sleepers);
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  const uint32_t* word = low_half(&ev->seq);
  int rc = 0;
  for (;;) {
    now_seq = seq.load(std::memory_order_seq_cst);
    if (now_seq != old) break;
    const int64_t now = monotonic_ns();
    if (deadline.passed(now)) {
      rc = fail_msg(ETIMEDOUT, "%s(%p): the sequence is still %llu after %lld ns", call, p,
                    ull(old), static_cast<long long>(timeout_ns));
      break;
    }
    int w = futex_wait(word, static_cast<uint32_t>(old), deadline.slice_end(now, kSliceNs));
    if (w == -EINTR) {
      rc = fail_msg(EINTR, "%s(%p): interrupted by a signal", call, p);
      break;
    }
    if (w == 0) continue;  // woken: the sequence most likely moved
    if (w != -EAGAIN && w != -ETIMEDOUT) {
      rc = fail(-w, "%s(%p): futex(FUTEX_WAIT)", call, p);
      break;
    }
    // Something written over the event must end the wait, not prolong it:
    // looked at whenever a sleep ends without a wake.
    if ((rc = check_header(p, kEventMagic, call)) < 0) break;
  }
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
  if (rc < 0) return rc;
  *seen = now_seq;
  return 0;
}

}  // namespace

int event_init(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_event_init";
  if (int rc = require_writable(p, IPCSHM_EVENT_SIZE, kCall, Probe::overwrite); rc < 0) return rc;
  Event* ev = as_event(p);
  at(ev->magic).store(0, std::memory_order_relaxed);
  at(ev->seq).store(0, std::memory_order_relaxed);
  at(ev->sleepers).store(0, std::memory_order_relaxed);
  for (uint32_t& r : ev->reserved) at(r).store(0, std::memory_order_relaxed);
  at(ev->version).store(kLayoutVersion, std::memory_order_relaxed);
  at(ev->magic).store(kEventMagic, std::memory_order_release);
  return 0;
}

int event_notify(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_event_notify";
  if (int rc = require_writable(p, IPCSHM_EVENT_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kEventMagic, kCall); rc < 0) return rc;
  Event* ev = as_event(p);
  at(ev->seq).fetch_add(1, std::memory_order_seq_cst);
  if (at(ev->sleepers).load(std::memory_order_seq_cst) != 0) {
    int rc = futex_wake(low_half(&ev->seq), INT_MAX);
    if (rc < 0) return fail(-rc, "%s(%p): futex(FUTEX_WAKE)", kCall, p);
  }
  return 0;
}

int event_sequence(const void* p, uint64_t* seq) noexcept {
  if (int rc = check_header(p, kEventMagic, "ipcshm_event_sequence"); rc < 0) return rc;
  *seq = at(as_event(const_cast<void*>(p))->seq).load(std::memory_order_acquire);
  return 0;
}

int event_wait(void* p, uint64_t* seen, int64_t timeout_ns) noexcept {
  return wait_impl(p, seen, timeout_ns, true, "ipcshm_event_wait");
}

int event_wait_quiet(void* p, uint64_t* seen, int64_t timeout_ns) noexcept {
  return wait_impl(p, seen, timeout_ns, false, "ipcshm_event_fd bridge");
}

}  // namespace ipcshm::core::sync
