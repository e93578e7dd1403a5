// What the files of the C ABI share: the one error adapter, the flag sets,
// and the check of flags.
#pragma once

#include <cstdint>
#include <new>

#include "errors.hpp"
#include "ipcshm.h"
#include "segment.hpp"

namespace ipcshm::capi {

namespace core = ipcshm::core;

constexpr uint32_t kCreateOnlyFlags =
    IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE | IPCSHM_RESERVE | IPCSHM_HUGEPAGES;
constexpr uint32_t kAttachOnlyFlags = IPCSHM_UNSEALED;
constexpr uint32_t kCreateFlags = core::kKnownFlags & ~kAttachOnlyFlags;
constexpr uint32_t kAttachFlags = core::kKnownFlags & ~kCreateOnlyFlags;

// The one adapter from C++ to C: a C++ failure becomes a negative errno.
template <typename Fn>
int guarded(Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return core::fail_msg(ENOMEM, "out of memory");
  } catch (...) {
    return core::fail_msg(EIO, "internal error (unexpected exception)");
  }
}

inline int check_flags(uint32_t flags, uint32_t allowed, const char* call) {
  if (flags & ~allowed)
    return core::fail_msg(EINVAL, "%s: unknown or misplaced flags 0x%x", call,
                          flags & ~allowed);
  return 0;
}

}  // namespace ipcshm::capi
