// The calling process's id without a system call: read once, and again in a
// child made by fork(2).
#pragma once

#include <sys/types.h>

namespace ipcshm::core {

// getpid(), cached. glibc makes a system call of every getpid(); a volatile
// handle asks twice per life (at attach, to know its process, and at detach,
// to know whether it is still in it). The cache is refreshed by a
// pthread_atfork handler, which fork(2) and every libc wrapper of it run.
pid_t process_id() noexcept;

}  // namespace ipcshm::core
