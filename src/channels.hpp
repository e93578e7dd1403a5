// Channels behind the C API (SPEC §9): a bounded FIFO of messages from one
// sender to one receiver in a POSIX or memfd object. Handles are values of the
// channel table (kChannelTag); arguments were checked by the C layer (no NULL
// where a pointer is needed, a known role).
#pragma once

#include <cstdint>

#include "ipcshm.h"

namespace ipcshm::core::channel {

// ipcshm_channel_create: 1 created, 0 an existing channel (IPCSHM_OPEN_OR_CREATE).
int create(const char* id, uint32_t slot_size, uint32_t slot_count, uint32_t perms,
           uint32_t flags, uint32_t role, uint64_t* out) noexcept;
int open(const char* id, uint32_t role, uint64_t* out) noexcept;
int open_fd(int fd, uint32_t role, uint64_t* out) noexcept;

int send(uint64_t ch, const void* msg, uint64_t len, int64_t timeout_ns) noexcept;
int recv(uint64_t ch, void* buf, uint64_t cap, uint64_t* len, int64_t timeout_ns) noexcept;
int reserve(uint64_t ch, void** slot, int64_t timeout_ns) noexcept;
int commit(uint64_t ch, uint64_t len) noexcept;
int peek(uint64_t ch, const void** msg, uint64_t* len, int64_t timeout_ns) noexcept;
int release(uint64_t ch) noexcept;
int close(uint64_t ch) noexcept;

// The handle value of the end's object in the segment table.
int handle(uint64_t ch, uint64_t* segment) noexcept;

// ipcshm_channel_info (by id: a POSIX name, read without opening an end) and
// ipcshm_channel_handle_info; every field but struct_size.
int info(const char* id, ipcshm_channel_info_t* out) noexcept;
int handle_info(uint64_t ch, ipcshm_channel_info_t* out) noexcept;

// ipcshm_channel_fd.
int fd(uint64_t ch) noexcept;

}  // namespace ipcshm::core::channel
