// The operations on objects named by an id, dispatched to the kind the id names.
#pragma once

#include <cstdint>

#include "segment.hpp"

namespace ipcshm::core {

int create(const char* id, uint64_t size, uint32_t perms, uint32_t flags, SegmentPtr* out);
int attach(const char* id, uint32_t flags, SegmentPtr* out);
// create() for an object that holds a structure of `size` bytes (an array, a
// channel): under IPCSHM_OPEN_OR_CREATE, an existing object too small for it
// holds a different one, -EEXIST (said as "call(\"id\"): exists with a
// different what"), where create() says -EINVAL.
int create_shaped(const char* id, uint64_t size, uint32_t perms, uint32_t flags,
                  const char* call, const char* what, SegmentPtr* out);
int remove(const char* id);
int info(const char* id, ipcshm_info_t* info);
int chmod(const char* id, uint32_t perms);

}  // namespace ipcshm::core
