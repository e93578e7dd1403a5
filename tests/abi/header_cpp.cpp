// The public header as a C++ user sees it, compiled as C++11 and as C++20
// (-pedantic -Werror): ipcshm.h comes first and alone, its layout and constants
// are frozen, and the functions have C linkage.
#include "ipcshm.h"

#include <cstddef>
#include <cstdio>
#include <type_traits>

static_assert(sizeof(ipcshm_info_t) >= 88, "ipcshm_info_t shrank");
static_assert(offsetof(ipcshm_info_t, struct_size) == 0, "ipcshm_info_t layout");
static_assert(offsetof(ipcshm_info_t, size) == 8, "ipcshm_info_t layout");
static_assert(offsetof(ipcshm_info_t, ctime) == 40, "ipcshm_info_t layout");
static_assert(offsetof(ipcshm_info_t, mode) == 48, "ipcshm_info_t layout");
static_assert(offsetof(ipcshm_info_t, flags) == 84, "ipcshm_info_t layout");
static_assert(std::is_standard_layout<ipcshm_info_t>::value, "ipcshm_info_t is plain C");
static_assert(std::is_trivial<ipcshm_info_t>::value, "ipcshm_info_t is plain C");
static_assert(IPCSHM_READONLY == 1 && IPCSHM_PERSISTENT == 2 && IPCSHM_OPEN_OR_CREATE == 4 &&
                  IPCSHM_PREFAULT == 8 && IPCSHM_LOCKED == 32 && IPCSHM_RESERVE == 64,
              "flag values are ABI");

// The C API's functions, as C++ sees their types: from C++17 on, noexcept is
// part of a function's type, and no function of the library throws.
#if __cplusplus >= 201703L
#define IPCSHM_TEST_NOEXCEPT noexcept
#else
#define IPCSHM_TEST_NOEXCEPT
#endif
static_assert(std::is_same<decltype(&ipcshm_size),
                           uint64_t (*)(const ipcshm_t*) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_size");
static_assert(std::is_same<decltype(&ipcshm_create),
                           int (*)(const char*, uint64_t, uint32_t, uint32_t,
                                   ipcshm_t**) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_create");
static_assert(std::is_same<decltype(&ipcshm_mutex_lock),
                           int (*)(void*, int64_t) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_mutex_lock");
static_assert(std::is_same<decltype(&ipcshm_wait),
                           int (*)(const uint32_t*, uint32_t, int64_t) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_wait");
static_assert(std::is_same<decltype(&ipcshm_channel_recv),
                           int (*)(ipcshm_channel_t*, void*, uint64_t, uint64_t*,
                                   int64_t) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_channel_recv");
static_assert(std::is_same<decltype(&ipcshm_channel_handle),
                           int (*)(const ipcshm_channel_t*,
                                   const ipcshm_t**) IPCSHM_TEST_NOEXCEPT>::value,
              "ipcshm_channel_handle");
static_assert(sizeof(ipcshm_channel_info_t) >= 48 &&
                  offsetof(ipcshm_channel_info_t, queued) == 24 &&
                  std::is_trivial<ipcshm_channel_info_t>::value,
              "ipcshm_channel_info_t layout");
static_assert(IPCSHM_EVENT_SIZE == 64 && IPCSHM_SEM_SIZE == 64 && IPCSHM_MUTEX_SIZE == 64,
              "the primitives' sizes are ABI");
static_assert(noexcept(ipcshm_detach(nullptr)), "the C API does not throw");

int main() {
  const uint32_t v = ipcshm_version();
  if (v != static_cast<uint32_t>(IPCSHM_VERSION)) {
    std::fprintf(stderr, "header_cpp: header 0x%06x, library 0x%06x\n",
                 static_cast<unsigned>(IPCSHM_VERSION), static_cast<unsigned>(v));
    return 1;
  }
  std::printf("header_cpp: C++%ld, version %u.%u.%u\n", static_cast<long>(__cplusplus),
              v >> 16, (v >> 8) & 0xffu, v & 0xffu);
  return 0;
}
