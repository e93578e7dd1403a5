// System V segments (shmget/shmat), managed and low level.
#pragma once

#include <cstdint>

#include "ids.hpp"
#include "segment.hpp"

namespace ipcshm::core::sysv {

// id: SysvKey or SysvPrivate. 1: created; 0: attached (IPCSHM_OPEN_OR_CREATE).
int create(const Id& id, uint64_t size, uint32_t perms, uint32_t flags, SegmentPtr* out);
// id: SysvKey or SysvShmid.
int attach(const Id& id, uint32_t flags, SegmentPtr* out);
int remove(const Id& id);
int info(const Id& id, ipcshm_info_t* info);
int chmod(const Id& id, uint32_t perms);

// The low-level calls, as the C API has them.
int get(int32_t key, uint64_t size, int32_t shmflg, int32_t* shmid);
int attach_raw(int32_t shmid, bool readonly, void** ptr);
int detach_raw(const void* ptr);
int ctl(int32_t shmid, int32_t cmd, void* buf, uint64_t bufsize);
int remove_raw(int32_t shmid);
int ftok(const char* path, int32_t proj, int32_t* key);
uint64_t shmid_ds_size();

}  // namespace ipcshm::core::sysv
