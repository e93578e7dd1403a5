// Whether this process may write the memory of a primitive: asked of the kernel
// once per page and thread, remembered until the library unmaps anything.
//
// A primitive is a raw pointer into any mapping (the library's, or one the
// caller made), so no handle flag says whether it is read-only, and a write
// through a read-only mapping kills the process. FUTEX_WAKE_OP adds 0 to the
// word through the kernel, which reports EFAULT instead of faulting. That is
// a system call, too slow for every uncontended lock; so each thread keeps the
// last few pages it found writable, and forgets them all whenever the library
// unmaps or moves a mapping (note_unmap), after which the same addresses may
// hold a read-only mapping.
#pragma once

#include <atomic>
#include <cstdint>

#include "sync_thread.hpp"

namespace ipcshm::core {

// Bumped by every munmap, shmdt and moving mremap the library makes.
extern std::atomic<uint64_t> g_unmap_generation;

inline void note_unmap() noexcept { g_unmap_generation.fetch_add(1, std::memory_order_release); }

namespace sync {

constexpr unsigned kPageShift = 12;  // the smallest page: a larger one only costs misses

// How a probe may touch the memory: keep its contents (FUTEX_WAKE_OP adds 0),
// or, for an initialisation that overwrites them anyway, store into it through
// a system call (memory checkers then see a write, not a read of memory that
// may never have been written).
enum class Probe { keep, overwrite };

// The out-of-line part: asks the kernel, remembers a writable page; -EACCES
// (mapped, not writable), -EFAULT (not mapped) with a message naming `call`.
int probe_writable(const void* p, unsigned len, const char* call, Probe how) noexcept;

// 0 if the `len` bytes at p (4-aligned) may be written by this process.
inline int require_writable(const void* p, unsigned len, const char* call,
                            Probe how = Probe::keep) noexcept {
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) >> kPageShift;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + len - 1) >> kPageShift;
  const ThreadState& t = t_sync;
  if (t.generation == g_unmap_generation.load(std::memory_order_acquire)) [[likely]] {
    if (t.pages[0] == first && first == last) [[likely]]
      return 0;
    bool first_known = false, last_known = false;
    for (uintptr_t page : t.pages) {
      first_known |= page == first;
      last_known |= page == last;
    }
    if (first_known && last_known) return 0;
  }
  return probe_writable(p, len, call, how);
}

}  // namespace sync
}  // namespace ipcshm::core
