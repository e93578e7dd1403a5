// POSIX named objects (shm_open), with crash-safe volatile lifetimes.
#pragma once

#include <cstdint>
#include <string>

#include "resources.hpp"
#include "segment.hpp"

namespace ipcshm::core::posix {

// Creates `name` (a template if is_template). 1: created; 0: attached an
// existing object (IPCSHM_OPEN_OR_CREATE).
int create(const std::string& name, bool is_template, uint64_t size, uint32_t perms,
           uint32_t flags, SegmentPtr* out);
int attach(const std::string& name, uint32_t flags, SegmentPtr* out);
// Maps the object `name` open as fd (which the segment then owns). own_file:
// fd is an open file of its own (reopened), so the handle joins the users of a
// volatile object; otherwise it shares another's open file (and its lock) and
// stays out of the lifetime protocol.
int attach_open(const std::string& name, UniqueFd fd, bool own_file, uint32_t flags,
                SegmentPtr* out);
int remove(const std::string& name);
int info(const std::string& name, ipcshm_info_t* info);
int chmod(const std::string& name, uint32_t perms);

}  // namespace ipcshm::core::posix
