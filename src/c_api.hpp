// What the files of the C ABI share: the one error adapter, the flag sets,
// the check of flags, and the versioned info structs' size check and copy.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// An info struct the caller passes (ipcshm_info_t, ipcshm_channel_info_t):
// not NULL, and struct_size at least the struct's first version's size.
template <typename Info>
int check_info_struct(const Info* info, uint32_t first_size, const char* type, const char* call) {
  if (!info) return core::fail_msg(EINVAL, "%s: info is NULL", call);
  if (info->struct_size < first_size)
    return core::fail_msg(EINVAL,
                          "%s: info->struct_size is %u; set it to sizeof(%s) (at least %u)",
                          call, info->struct_size, type, first_size);
  return 0;
}

// Copies what both the caller's and the library's struct have.
template <typename Info>
void deliver_info_struct(const Info& full, Info* out) {
  const uint32_t caller_size = out->struct_size;
  std::memcpy(out, &full, std::min<size_t>(caller_size, sizeof full));
  out->struct_size = caller_size;
}

}  // namespace ipcshm::capi
