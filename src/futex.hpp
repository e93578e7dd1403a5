// Futex waits and wakes on shared words, deadlines on CLOCK_MONOTONIC, and the
// bounded spin that comes before a sleep.
#pragma once

#include <time.h>

#include <cstdint>

namespace ipcshm::core::sync {

// How long a sleeper sleeps at most before it looks again at what it waits
// for: a mutex waiter checks that the owner still lives (SPEC: a dead owner is
// seen within 100 ms); other waiters check that the primitive is still one
// (garbage written over it is an error, not a hang).
constexpr int64_t kOwnerCheckNs = 20'000'000;
constexpr int64_t kSliceNs = 100'000'000;

int64_t monotonic_ns() noexcept;

// A wait's end: timeout_ns < 0 never, 0 now (only try), > 0 that much from now.
class Deadline {
 public:
  explicit Deadline(int64_t timeout_ns) noexcept;
  bool forever() const noexcept { return forever_; }
  bool try_only() const noexcept { return try_only_; }
  int64_t at_ns() const noexcept { return at_; }
  bool passed(int64_t now) const noexcept { return !forever_ && now >= at_; }
  // The earlier of this deadline and now + slice_ns.
  int64_t slice_end(int64_t now, int64_t slice_ns) const noexcept;

 private:
  bool forever_ = false;
  bool try_only_ = false;
  int64_t at_ = 0;
};

// FUTEX_WAIT_BITSET on a shared (never FUTEX_PRIVATE_FLAG) word until the
// absolute CLOCK_MONOTONIC time until_ns (< 0: no end). 0 when woken (or
// spuriously), -EAGAIN if *word != expected, -ETIMEDOUT, -EINTR (a signal
// handler ran, with or without SA_RESTART), -EFAULT.
int futex_wait(const uint32_t* word, uint32_t expected, int64_t until_ns) noexcept;

// FUTEX_WAKE of up to n sleepers; the number woken, or -errno.
int futex_wake(const uint32_t* word, int n) noexcept;

// Spins while `ready()` is false, pausing and then yielding the CPU (with two
// CPUs a spinner that never yields can starve the very peer it waits for), for
// a few microseconds at most. True as soon as ready() is.
template <typename Ready>
bool spin_until(Ready&& ready) noexcept;

void cpu_relax() noexcept;
void yield_cpu() noexcept;

constexpr int kSpinPauses = 64;   // rounds of a few `pause` instructions
constexpr int kSpinYields = 8;    // then rounds of sched_yield

template <typename Ready>
bool spin_until(Ready&& ready) noexcept {
  for (int i = 0; i < kSpinPauses; ++i) {
    if (ready()) return true;
    for (int k = 0; k < 4; ++k) cpu_relax();
  }
  for (int i = 0; i < kSpinYields; ++i) {
    if (ready()) return true;
    yield_cpu();
  }
  return ready();
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

}  // namespace ipcshm::core::sync
