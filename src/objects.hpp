// The operations on objects named by an id, dispatched to the kind the id names.
#pragma once

#include <cstdint>

#include "segment.hpp"

namespace ipcshm::core {

int create(const char* id, uint64_t size, uint32_t perms, uint32_t flags, SegmentPtr* out);
int attach(const char* id, uint32_t flags, SegmentPtr* out);
int remove(const char* id);
int info(const char* id, ipcshm_info_t* info);
int chmod(const char* id, uint32_t perms);

}  // namespace ipcshm::core
