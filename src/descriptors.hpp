// Objects as descriptors: mapping a descriptor of a POSIX or memfd object, and
// passing one over a UNIX-domain socket (SCM_RIGHTS).
#pragma once

#include <cstdint>

#include "segment.hpp"

namespace ipcshm::core {

// ipcshm_attach_fd: fd stays the caller's.
int attach_fd(int fd, uint32_t flags, SegmentPtr* out);

// ipcshm_send of the descriptor fd, which this call closes.
int send_fd(int sock, int fd);

// ipcshm_recv.
int recv(int sock, uint32_t flags, SegmentPtr* out);

}  // namespace ipcshm::core
