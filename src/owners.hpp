// Who holds a mutex: the calling thread's identity (tid and start time), and
// whether the thread an identity names is still alive.
#pragma once

#include <cstdint>

#include "sync_thread.hpp"

namespace ipcshm::core::sync {

// This thread's identity as a mutex owner word ((start << 32) | tid), worked
// out at the thread's first call and cached (a forked child works it out
// anew). 0 on success, or -errno with a message naming `call` (no /proc, or a
// /proc of another pid namespace).
//
// A reused tid must never pass for a dead owner: the kernel dates threads in
// clock ticks (10 ms), so a thread that asks within the tick it started in
// waits for the next tick. Every thread that later gets the same tid then
// starts in a later tick than any lock this one takes, and its start differs.
inline int self_identity(uint64_t* id, const char* call) noexcept;

// The identity if this thread has one already, else 0 (no system call).
inline uint64_t cached_identity() noexcept { return t_sync.self; }

// The first call's part of self_identity.
int compute_identity(uint64_t* id, const char* call) noexcept;

inline int self_identity(uint64_t* id, const char* call) noexcept {
  if (uint64_t self = t_sync.self) [[likely]] {
    *id = self;
    return 0;
  }
  return compute_identity(id, call);
}

enum class Liveness { alive, dead, unknown };

// Reads /proc/<tid>/stat: dead if no such task, a zombie, or a task that
// started at another time. unknown when the kernel will not say (for example
// /proc mounted with hidepid and kill(2) says the task exists): callers treat
// that as alive.
Liveness owner_liveness(uint64_t owner) noexcept;

// owner_liveness, but an owner this thread found alive less than
// kOwnerCheckNs ago counts as alive without asking again (for try-locks and
// timeouts, which may come in fast loops).
Liveness owner_liveness_cached(uint64_t owner) noexcept;

}  // namespace ipcshm::core::sync
