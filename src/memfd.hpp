// memfd objects: anonymous shared memory (memfd_create), shared by passing a
// descriptor. They live while any descriptor or mapping of them does.
#pragma once

#include <cstdint>
#include <string>

#include "resources.hpp"
#include "segment.hpp"

namespace ipcshm::core::memfd {

// Creates "memfd:label" (a template if is_template): always a new object, so 1.
int create(const std::string& id, bool is_template, uint64_t size, uint32_t perms,
           uint32_t flags, SegmentPtr* out);

// Maps the memfd open as fd (which the segment then owns); id: "memfd:label".
int attach_open(const std::string& id, UniqueFd fd, uint32_t flags, SegmentPtr* out);

// For the calls that take an id: a memfd object has none in the system.
int no_name(const char* call, const std::string& id);

}  // namespace ipcshm::core::memfd
