// Whether an object is live, orphaned or removed, told from /proc without touching it.
#pragma once

#include <string>

#include "objects.hpp"
#include "proc_scan.hpp"

namespace ipcshm_cli {

enum class Liveness {
  kNotVolatile,  // persistent, or not an object: its users do not decide its life
  kLive,         // volatile, and a user holds its shared flock
  kOrphaned,     // volatile, and no flock at all: its users are all gone (gc removes it)
  kExclusive,    // volatile, held only with an exclusive flock (a last user removing
                 // it, gc reclaiming it, or someone keeping attachers waiting)
  kUnknown,      // volatile, no lock visible, but /proc/locks may hide some (a pid
                 // namespace other than the initial one, or /proc/locks unreadable)
};

// POSIX objects only; System V segments are kNotVolatile here (the kernel
// tells their state: see status_text).
Liveness posix_liveness(const Object& o, const LockTable& locks);

// The STATUS column: comma-separated words.
//   POSIX: live, orphaned, exclusive, unknown (above); empty (size 0: its creator
//     has not sized it yet, or a file that cannot be mapped); bad (a channel
//     whose indices its ends cannot have made: the header was overwritten).
//   System V, as lsipc: dest (removed, still attached: the kernel destroys it at
//     its last detach; volatile segments are so from their creator's first
//     attach), locked (SHM_LOCK), hugetlb, noreserve.
//   A name in /dev/shm that is not an object: not-shm.
std::string status_text(const Object& o, const LockTable& locks);

}  // namespace ipcshm_cli
