// Robust mutexes: the owner's identity (tid and start time) in one atomic word,
// sleepers counted, and waiters that check in bounded slices whether the owner
// still lives, so that its death, however it came, never wedges the others.
//
// States, as POSIX robust mutexes: a lock taken from a dead owner is handed to
// the taker with -EOWNERDEAD and marked inconsistent; ipcshm_mutex_consistent
// repairs the mark; unlocking without it poisons the lock (owner word
// kPoisoned), and every later or waiting lock gets -ENOTRECOVERABLE.
#include <cerrno>
#include <climits>

#include "errors.hpp"
#include "futex.hpp"
#include "owners.hpp"
#include "sync.hpp"
#include "sync_layout.hpp"
#include "writable_pages.hpp"

namespace ipcshm::core::sync {
namespace {

Mutex* as_mutex(void* p) noexcept { return static_cast<Mutex*>(p); }

const uint32_t* owner_word(Mutex* m) noexcept { return low_half(&m->owner); }

unsigned long long ull(uint64_t v) noexcept { return static_cast<unsigned long long>(v); }

int impossible(void* p, uint64_t owner, const char* call) noexcept {
  return fail_msg(EBADMSG, "%s(%p): the mutex's owner word 0x%016llx is impossible (overwritten?)",
                  call, p, ull(owner));
}

int not_recoverable(void* p, const char* call) noexcept {
  return fail_msg(ENOTRECOVERABLE,
                  "%s(%p): the mutex is not recoverable (unlocked after -EOWNERDEAD without "
                  "ipcshm_mutex_consistent); ipcshm_mutex_init makes a new one",
                  call, p);
}

// Makes the mutex -ENOTRECOVERABLE for everyone, and wakes its sleepers to say so.
void poison(Mutex* m) noexcept {
  at(m->state).store(kNotRecoverable, std::memory_order_relaxed);
  at(m->owner).store(kPoisoned, std::memory_order_seq_cst);
  futex_wake(owner_word(m), INT_MAX);
}

// This thread just took the mutex while it was free.
int after_acquire(void* p, Mutex* m, const char* call) noexcept {
  const uint32_t state = at(m->state).load(std::memory_order_acquire);
  if (state == kConsistent) return 0;
  if (state == kInconsistent)
    return fail_msg(EOWNERDEAD,
                    "%s(%p): the mutex is marked inconsistent (an owner died holding it); "
                    "this thread holds it now: repair the data, then call "
                    "ipcshm_mutex_consistent",
                    call, p);
  if (state == kNotRecoverable) {
    poison(m);
    return not_recoverable(p, call);
  }
  at(m->owner).store(kFree, std::memory_order_seq_cst);  // not kept by this thread
  if (at(m->sleepers).load(std::memory_order_seq_cst) != 0) futex_wake(owner_word(m), 1);
  return fail_msg(EBADMSG, "%s(%p): the mutex's state word %u is impossible (overwritten?)", call,
                  p, state);
}

// This thread just took the mutex from the dead owner `dead`.
int after_takeover(void* p, Mutex* m, uint64_t dead, const char* call) noexcept {
  if (at(m->state).load(std::memory_order_acquire) == kNotRecoverable) {
    poison(m);
    return not_recoverable(p, call);
  }
  at(m->state).store(kInconsistent, std::memory_order_release);
  return fail_msg(EOWNERDEAD,
                  "%s(%p): its owner (thread %u) died holding it; this thread holds it now: "
                  "repair the data, then call ipcshm_mutex_consistent (unlocking without it "
                  "makes the mutex unrecoverable)",
                  call, p, tid_of(dead));
}

int lock_contended(void* p, Mutex* m, uint64_t me, uint64_t seen, int64_t timeout_ns,
                   const char* call) noexcept {
  if (seen == me)
    return fail_msg(EDEADLK, "%s(%p): this thread holds the mutex already", call, p);
  auto owner = at(m->owner);
  auto sleepers = at(m->sleepers);
  const Deadline deadline(timeout_ns);
  bool spun = false, counted = false, woken = false;
  uint64_t watched = kFree;  // the owner this thread has been waiting on ...
  int64_t watched_since = 0; // ... since then, or since it last found it alive
  enum { kWaiting, kAcquired, kTakenOver, kFailed } outcome = kWaiting;
  uint64_t dead = 0;
  int rc = 0;
  while (outcome == kWaiting) {
    uint64_t w = kFree;
    if (woken) {
      // An unlock woke this thread: the mutex is most likely free. Try at once
      // (one cache-line transfer, where a read and then a swap take two).
      woken = false;
      if (owner.compare_exchange_strong(w, me, std::memory_order_seq_cst,
                                        std::memory_order_seq_cst)) {
        outcome = kAcquired;
        continue;
      }
    } else {
      w = owner.load(std::memory_order_seq_cst);
    }
    if (w == kFree) {
      uint64_t expected = kFree;
      if (owner.compare_exchange_strong(expected, me, std::memory_order_acquire,
                                        std::memory_order_relaxed))
        outcome = kAcquired;
      continue;
    }
    if (w == kPoisoned) {
      rc = not_recoverable(p, call);
      outcome = kFailed;
      continue;
    }
    if (impossible_owner(w)) {
      rc = impossible(p, w, call);
      outcome = kFailed;
      continue;
    }
    if (w == me) {
      rc = fail_msg(EDEADLK, "%s(%p): this thread holds the mutex already", call, p);
      outcome = kFailed;
      continue;
    }
    const int64_t now = monotonic_ns();
    if (w != watched) {
      watched = w;
      watched_since = now;
    }
    const bool expired = deadline.try_only() || deadline.passed(now);
    // Ask whether the owner lives: before the first sleep and before giving up
    // on a timeout (a dead owner's mutex is taken at once, never "busy"; an
    // owner this thread found alive a moment ago is not asked again), and
    // whenever it has held the mutex a whole check period while this thread
    // slept.
    const bool periodic = now - watched_since >= kOwnerCheckNs;
    if (expired || (spun && !counted) || periodic) {
      Liveness alive = periodic ? owner_liveness(w) : owner_liveness_cached(w);
      if (alive == Liveness::dead) {
        uint64_t expected = w;
        if (owner.compare_exchange_strong(expected, me, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
          dead = w;
          outcome = kTakenOver;
        }
        continue;  // taken, or someone else moved first: look again
      }
      watched_since = now;
    }
    if (expired) {
      rc = deadline.try_only()
               ? fail_msg(EAGAIN, "%s(%p): held by thread %u (timeout 0: not waiting)", call, p,
                          tid_of(w))
               : fail_msg(ETIMEDOUT, "%s(%p): still held by thread %u after %lld ns", call, p,
                          tid_of(w), static_cast<long long>(timeout_ns));
      outcome = kFailed;
      continue;
    }
    if (!spun) {
      spun = true;
      spin_until([&] { return owner.load(std::memory_order_relaxed) != w; });
      continue;
    }
    if (!counted) {
      // Counted before the owner word is read again: an unlock after that
      // read sees the count and wakes this thread.
      sleepers.fetch_add(1, std::memory_order_seq_cst);
      counted = true;
      continue;
    }
    int64_t until = watched_since + kOwnerCheckNs;
    if (!deadline.forever() && deadline.at_ns() < until) until = deadline.at_ns();
    const int r = futex_wait(owner_word(m), tid_of(w), until);
    if (r == 0) {
      woken = true;
    } else if (r == -EINTR) {
      rc = fail_msg(EINTR, "%s(%p): interrupted by a signal", call, p);
      outcome = kFailed;
    } else if (r != -EAGAIN && r != -ETIMEDOUT) {
      rc = fail(-r, "%s(%p): futex(FUTEX_WAIT)", call, p);
      outcome = kFailed;
    } else if ((rc = check_header(p, kMutexMagic, call)) < 0) {
      // (checked when a sleep ends without a wake: garbage written over the
      // mutex is seen within a slice)
      outcome = kFailed;
    }
  }
  if (counted) sleepers.fetch_sub(1, std::memory_order_seq_cst);
  switch (outcome) {
    case kAcquired:
      return after_acquire(p, m, call);
    case kTakenOver:
      return after_takeover(p, m, dead, call);
    default:
      // This waiter may have been the one an unlock woke: pass the wake-up on.
      if (owner.load(std::memory_order_seq_cst) == kFree &&
          sleepers.load(std::memory_order_seq_cst) != 0)
        futex_wake(owner_word(m), 1);
      return rc;
  }
}

}  // namespace

int mutex_init(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_mutex_init";
  if (int rc = require_writable(p, IPCSHM_MUTEX_SIZE, kCall, Probe::overwrite); rc < 0) return rc;
  Mutex* m = as_mutex(p);
  at(m->magic).store(0, std::memory_order_relaxed);
  at(m->owner).store(kFree, std::memory_order_relaxed);
  at(m->sleepers).store(0, std::memory_order_relaxed);
  at(m->state).store(kConsistent, std::memory_order_relaxed);
  for (uint32_t& r : m->reserved) at(r).store(0, std::memory_order_relaxed);
  at(m->version).store(kLayoutVersion, std::memory_order_relaxed);
  at(m->magic).store(kMutexMagic, std::memory_order_release);
  return 0;
}

int mutex_lock(void* p, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_mutex_lock";
  if (int rc = require_writable(p, IPCSHM_MUTEX_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kMutexMagic, kCall); rc < 0) return rc;
  uint64_t me;
  if (int rc = self_identity(&me, kCall); rc < 0) return rc;
  Mutex* m = as_mutex(p);
  uint64_t expected = kFree;
  if (at(m->owner).compare_exchange_strong(expected, me, std::memory_order_acquire,
                                           std::memory_order_relaxed))
    return after_acquire(p, m, kCall);
  return lock_contended(p, m, me, expected, timeout_ns, kCall);
}

int mutex_unlock(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_mutex_unlock";
  if (int rc = require_writable(p, IPCSHM_MUTEX_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kMutexMagic, kCall); rc < 0) return rc;
  Mutex* m = as_mutex(p);
  auto owner = at(m->owner);
  const uint64_t me = cached_identity();
  uint64_t w = owner.load(std::memory_order_relaxed);
  if (me == 0 || w != me) {
    if (w == kFree) return fail_msg(EPERM, "%s(%p): the mutex is not locked", kCall, p);
    if (w == kPoisoned) return fail_msg(EPERM, "%s(%p): the mutex is not recoverable", kCall, p);
    return fail_msg(EPERM, "%s(%p): thread %u holds the mutex, not this one", kCall, p, tid_of(w));
  }
  if (at(m->state).load(std::memory_order_relaxed) == kInconsistent) {
    poison(m);
    return 0;
  }
  if (!owner.compare_exchange_strong(w, kFree, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
    return fail_msg(EPERM, "%s(%p): the mutex was taken from this thread (found dead?)", kCall, p);
  if (at(m->sleepers).load(std::memory_order_seq_cst) != 0) futex_wake(owner_word(m), 1);
  return 0;
}

int mutex_consistent(void* p) noexcept {
  static constexpr const char* kCall = "ipcshm_mutex_consistent";
  if (int rc = require_writable(p, IPCSHM_MUTEX_SIZE, kCall); rc < 0) return rc;
  if (int rc = check_header(p, kMutexMagic, kCall); rc < 0) return rc;
  Mutex* m = as_mutex(p);
  const uint64_t me = cached_identity();
  if (me == 0 || at(m->owner).load(std::memory_order_relaxed) != me)
    return fail_msg(EINVAL, "%s(%p): this thread does not hold the mutex", kCall, p);
  if (at(m->state).load(std::memory_order_relaxed) != kInconsistent)
    return fail_msg(EINVAL,
                    "%s(%p): the mutex is not marked inconsistent (call this only after "
                    "ipcshm_mutex_lock returned -EOWNERDEAD)",
                    kCall, p);
  at(m->state).store(kConsistent, std::memory_order_release);
  return 0;
}

}  // namespace ipcshm::core::sync
