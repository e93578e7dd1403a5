// The C ABI of channels (since 1.2): pointers, roles and flags are checked
// here, handles and everything about the shared memory in the core
// (channels.hpp).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "c_api.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "ipcshm.h"
#include "channels.hpp"

namespace {

namespace core = ipcshm::core;
namespace chan = ipcshm::core::channel;
namespace handles = ipcshm::core::handles;
using ipcshm::capi::check_flags;
using ipcshm::capi::guarded;
using ipcshm::capi::kCreateFlags;

constexpr uint32_t kChannelInfoFirstSize = 48;  // sizeof(ipcshm_channel_info_t) in 1.2
static_assert(sizeof(ipcshm_channel_info_t) == 48, "ipcshm_channel_info_t has padding or changed");

// Flags of ipcshm_create that a channel takes: a read-only end could not even
// say that it waits.
constexpr uint32_t kChannelFlags = kCreateFlags & ~IPCSHM_READONLY;

uint64_t value_of(const ipcshm_channel_t* ch) { return handles::value_of(ch); }

int null_channel(const char* call) {
  return core::fail_msg(EINVAL, "%s: the channel is NULL", call);
}

int check_role(uint32_t role, const char* call) {
  if (role == IPCSHM_SENDER || role == IPCSHM_RECEIVER) return 0;
  return core::fail_msg(EINVAL, "%s: role %u is neither IPCSHM_SENDER (1) nor IPCSHM_RECEIVER (2)",
                        call, role);
}

int check_channel_info(const ipcshm_channel_info_t* info, const char* call) {
  return ipcshm::capi::check_info_struct(info, kChannelInfoFirstSize, "ipcshm_channel_info_t",
                                         call);
}

void deliver_channel_info(const ipcshm_channel_info_t& full, ipcshm_channel_info_t* out) {
  ipcshm::capi::deliver_info_struct(full, out);
}

int hand_out_channel(int rc, uint64_t value, ipcshm_channel_t** out) {
  if (rc >= 0) *out = handles::handle_of<ipcshm_channel_t>(value);
  return rc;
}

}  // namespace

extern "C" {

int ipcshm_channel_create(const char* id, uint32_t slot_size, uint32_t slot_count, uint32_t perms,
                          uint32_t flags, uint32_t role, ipcshm_channel_t** out) noexcept {
  return guarded([&] {
    static constexpr const char* kCall = "ipcshm_channel_create";
    if (!id) return core::fail_msg(EINVAL, "%s: id is NULL", kCall);
    if (!out) return core::fail_msg(EINVAL, "%s(\"%.64s\"): out is NULL", kCall, id);
    if (perms & ~core::kPermMask)
      return core::fail_msg(EINVAL, "%s(\"%.64s\"): perms 0%o has bits above 0777", kCall, id,
                            perms);
    if (int rc = check_flags(flags, kChannelFlags, kCall); rc < 0) return rc;
    if (int rc = check_role(role, kCall); rc < 0) return rc;
    uint64_t value = 0;
    int rc = chan::create(id, slot_size, slot_count, perms, flags, role, &value);
    return hand_out_channel(rc, value, out);
  });
}

int ipcshm_channel_open(const char* id, uint32_t role, ipcshm_channel_t** out) noexcept {
  return guarded([&] {
    static constexpr const char* kCall = "ipcshm_channel_open";
    if (!id) return core::fail_msg(EINVAL, "%s: id is NULL", kCall);
    if (!out) return core::fail_msg(EINVAL, "%s(\"%.64s\"): out is NULL", kCall, id);
    if (int rc = check_role(role, kCall); rc < 0) return rc;
    uint64_t value = 0;
    const int rc = chan::open(id, role, &value);
    return hand_out_channel(rc, value, out);
  });
}

int ipcshm_channel_open_fd(int fd, uint32_t role, ipcshm_channel_t** out) noexcept {
  return guarded([&] {
    static constexpr const char* kCall = "ipcshm_channel_open_fd";
    if (!out) return core::fail_msg(EINVAL, "%s(%d): out is NULL", kCall, fd);
    if (fd < 0) return core::fail_msg(EBADF, "%s(%d): not a descriptor", kCall, fd);
    if (int rc = check_role(role, kCall); rc < 0) return rc;
    uint64_t value = 0;
    const int rc = chan::open_fd(fd, role, &value);
    return hand_out_channel(rc, value, out);
  });
}

int ipcshm_channel_send(ipcshm_channel_t* ch, const void* msg, uint64_t len,
                        int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (!ch) [[unlikely]]
      return null_channel("ipcshm_channel_send");
    if (!msg && len) [[unlikely]]
      return core::fail_msg(EINVAL, "ipcshm_channel_send: msg is NULL but len is %llu",
                            static_cast<unsigned long long>(len));
    return chan::send(value_of(ch), msg, len, timeout_ns);
  });
}

int ipcshm_channel_recv(ipcshm_channel_t* ch, void* buf, uint64_t cap, uint64_t* len,
                        int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (!ch) [[unlikely]]
      return null_channel("ipcshm_channel_recv");
    if (!len) [[unlikely]]
      return core::fail_msg(EINVAL, "ipcshm_channel_recv: len is NULL");
    if (!buf && cap) [[unlikely]]
      return core::fail_msg(EINVAL, "ipcshm_channel_recv: buf is NULL but cap is %llu",
                            static_cast<unsigned long long>(cap));
    return chan::recv(value_of(ch), buf, cap, len, timeout_ns);
  });
}

int ipcshm_channel_reserve(ipcshm_channel_t* ch, void** slot, int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_reserve");
    if (!slot) return core::fail_msg(EINVAL, "ipcshm_channel_reserve: slot is NULL");
    return chan::reserve(value_of(ch), slot, timeout_ns);
  });
}

int ipcshm_channel_commit(ipcshm_channel_t* ch, uint64_t len) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_commit");
    return chan::commit(value_of(ch), len);
  });
}

int ipcshm_channel_peek(ipcshm_channel_t* ch, const void** msg, uint64_t* len,
                        int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_peek");
    if (!msg) return core::fail_msg(EINVAL, "ipcshm_channel_peek: msg is NULL");
    if (!len) return core::fail_msg(EINVAL, "ipcshm_channel_peek: len is NULL");
    return chan::peek(value_of(ch), msg, len, timeout_ns);
  });
}

int ipcshm_channel_release(ipcshm_channel_t* ch) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_release");
    return chan::release(value_of(ch));
  });
}

int ipcshm_channel_close(ipcshm_channel_t* ch) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_close");
    return chan::close(value_of(ch));
  });
}

int ipcshm_channel_handle(const ipcshm_channel_t* ch, const ipcshm_t** h) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_handle");
    if (!h) return core::fail_msg(EINVAL, "ipcshm_channel_handle: h is NULL");
    uint64_t segment = 0;
    if (int rc = chan::handle(value_of(ch), &segment); rc < 0) return rc;
    *h = handles::handle_of<ipcshm_t>(segment);
    return 0;
  });
}

int ipcshm_channel_info(const char* id, ipcshm_channel_info_t* info) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_channel_info: id is NULL");
    if (int rc = check_channel_info(info, "ipcshm_channel_info"); rc < 0) return rc;
    ipcshm_channel_info_t full{};
    if (int rc = chan::info(id, &full); rc < 0) return rc;
    deliver_channel_info(full, info);
    return 0;
  });
}

int ipcshm_channel_handle_info(const ipcshm_channel_t* ch, ipcshm_channel_info_t* info) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_handle_info");
    if (int rc = check_channel_info(info, "ipcshm_channel_handle_info"); rc < 0) return rc;
    ipcshm_channel_info_t full{};
    if (int rc = chan::handle_info(value_of(ch), &full); rc < 0) return rc;
    deliver_channel_info(full, info);
    return 0;
  });
}

int ipcshm_channel_fd(ipcshm_channel_t* ch) noexcept {
  return guarded([&] {
    if (!ch) return null_channel("ipcshm_channel_fd");
    return chan::fd(value_of(ch));
  });
}

}  // extern "C"
