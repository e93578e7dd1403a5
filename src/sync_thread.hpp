// What each thread keeps for the fast paths of the signalling primitives: its
// identity as a mutex owner and the pages it found writable.
#pragma once

#include <cstdint>

namespace ipcshm::core::sync {

struct ThreadState {
  uint64_t self;        // owner word of this thread, 0 until worked out (owners.cc)
  uint64_t generation;  // g_unmap_generation when `pages` were found writable
  uintptr_t pages[4];   // page numbers (address >> kPageShift); pages[0] the latest
};

// Initial-exec TLS: a plain %fs-relative access, where the default model for a
// shared library calls __tls_get_addr on every lock and unlock. It takes a few
// dozen bytes of the static TLS that glibc keeps for libraries loaded later
// (dlopen, as ctypes does).
extern thread_local ThreadState t_sync __attribute__((tls_model("initial-exec")));

}  // namespace ipcshm::core::sync
