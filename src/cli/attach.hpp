// Attaching an object without waiting on another user's lock: cat, write, gc.
#pragma once

#include <cstdint>
#include <string>

#include "ipcshm.h"
#include "objects.hpp"
#include "proc_scan.hpp"

namespace ipcshm_cli {

// How long an attach may wait for a flock that another process holds.
constexpr int kLockWaitSeconds = 2;

// The processes that hold o's flock exclusively: "pid 12 (command), ...".
std::string exclusive_holders(const Object& o, const LockTable& locks);

// ipcshm_attach(), whose wait for a lock is cut short after kLockWaitSeconds:
// a timer's signal interrupts the library's blocking flock(2).
int attach_bounded(const std::string& id, uint32_t flags, ipcshm_t** h);

// True if rc says an attach gave up waiting for a lock (-EINTR from the timer;
// -EAGAIN, -EBUSY, -ETIMEDOUT from a library that bounds the wait itself).
bool gave_up_waiting(int rc);

}  // namespace ipcshm_cli
