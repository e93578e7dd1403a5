// The C ABI of objects (1.0, 1.1): argument checks, handle lookup, and the
// error adapter (c_api.hpp). Everything else lives in the core. No exception
// and no C++ type crosses this file's functions (all noexcept). Signalling is
// in c_api_sync.cc, channels in c_api_channels.cc.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#include "arrays.hpp"
#include "c_api.hpp"
#include "descriptors.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "ipcshm.h"
#include "objects.hpp"
#include "sysv_shm.hpp"

static_assert(IPCSHM_BUILD_MAJOR == IPCSHM_VERSION_MAJOR &&
                  IPCSHM_BUILD_MINOR == IPCSHM_VERSION_MINOR &&
                  IPCSHM_BUILD_PATCH == IPCSHM_VERSION_PATCH,
              "meson.build's project version and ipcshm.h's macros differ");
static_assert(sizeof(ipcshm_info_t) == 88, "ipcshm_info_t has padding or changed");

namespace core = ipcshm::core;
namespace handles = ipcshm::core::handles;

// ipcshm_t is never defined: its values are entries of the segment table, not
// addresses (handles.hpp).
struct ipcshm_handle;

namespace {

handles::Table<core::Segment>& segments() {
  return handles::table<core::Segment, handles::kSegmentTag>();
}

// fn(segment) if h is a live handle, else fallback.
template <typename R, typename Fn>
R with_segment(const ipcshm_t* h, R fallback, Fn&& fn) {
  if (!h) return fallback;
  return segments().with(handles::value_of(h), fallback, std::forward<Fn>(fn));
}

constexpr uint32_t kInfoFirstSize = 88;  // sizeof(ipcshm_info_t) in version 1.0
using ipcshm::capi::check_flags;
using ipcshm::capi::guarded;
using ipcshm::capi::kAttachFlags;
using ipcshm::capi::kCreateFlags;

int check_info(const ipcshm_info_t* info, const char* call) {
  return ipcshm::capi::check_info_struct(info, kInfoFirstSize, "ipcshm_info_t", call);
}

void deliver_info(const ipcshm_info_t& full, ipcshm_info_t* out) {
  ipcshm::capi::deliver_info_struct(full, out);
}

// What handles::with gives back for a handle that is not live: no errno value.
constexpr int kNotLive = INT_MIN;

int not_live(const char* call) {
  return core::fail_msg(EBADF, "%s: not a live handle (detached?)", call);
}

int pinned(const char* call) {
  return core::fail_msg(EBUSY,
                        "%s: the handle is a channel's object (ipcshm_channel_handle); it "
                        "goes with ipcshm_channel_close",
                        call);
}

// Registers seg and stores its handle in *out. If the handle values are spent
// (2^48 of them), seg is detached again and nothing is stored.
int hand_out(core::SegmentPtr seg, ipcshm_t** out) {
  handles::Value value = segments().add(std::move(seg));
  if (value == 0)
    return core::fail_msg(EMFILE, "no handle value left in this process (2^48 used)");
  *out = handles::handle_of<ipcshm_t>(value);
  return 0;
}

}  // namespace

extern "C" {

int ipcshm_create(const char* id, uint64_t size, uint32_t perms, uint32_t flags,
                  ipcshm_t** out) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_create: id is NULL");
    if (!out) return core::fail_msg(EINVAL, "ipcshm_create(\"%.64s\"): out is NULL", id);
    if (size == 0)
      return core::fail_msg(EINVAL, "ipcshm_create(\"%.64s\"): size must be at least 1", id);
    if (perms & ~core::kPermMask)
      return core::fail_msg(EINVAL, "ipcshm_create(\"%.64s\"): perms 0%o has bits above 0777",
                            id, perms);
    if (int rc = check_flags(flags, kCreateFlags, "ipcshm_create"); rc < 0) return rc;
    core::SegmentPtr seg;
    int rc = core::create(id, size, perms, flags, &seg);
    if (rc < 0) return rc;
    if (int handed = hand_out(std::move(seg), out); handed < 0) return handed;
    return rc;
  });
}

int ipcshm_attach(const char* id, uint32_t flags, ipcshm_t** out) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_attach: id is NULL");
    if (!out) return core::fail_msg(EINVAL, "ipcshm_attach(\"%.64s\"): out is NULL", id);
    if (int rc = check_flags(flags, kAttachFlags, "ipcshm_attach"); rc < 0) return rc;
    core::SegmentPtr seg;
    if (int rc = core::attach(id, flags, &seg); rc < 0) return rc;
    return hand_out(std::move(seg), out);
  });
}

int ipcshm_detach(ipcshm_t* h) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_detach: handle is NULL");
    if (with_segment(h, false, [](const core::Segment& s) { return s.pinned(); }))
      return pinned("ipcshm_detach");
    core::SegmentPtr seg = segments().take(handles::value_of(h));
    if (!seg)
      return core::fail_msg(EBADF, "ipcshm_detach: not a live handle (detached already?)");
    seg.reset();
    return 0;
  });
}

int ipcshm_remove(const char* id) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_remove: id is NULL");
    return core::remove(id);
  });
}

void* ipcshm_pointer(const ipcshm_t* h) noexcept {
  return with_segment(h, static_cast<void*>(nullptr),
                       [](const core::Segment& s) { return s.addr(); });
}

uint64_t ipcshm_size(const ipcshm_t* h) noexcept {
  return with_segment(h, uint64_t{0}, [](const core::Segment& s) { return s.size(); });
}

const char* ipcshm_id(const ipcshm_t* h) noexcept {
  return with_segment(h, static_cast<const char*>(nullptr),
                       [](const core::Segment& s) { return s.id().c_str(); });
}

int ipcshm_info(const char* id, ipcshm_info_t* info) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_info: id is NULL");
    if (int rc = check_info(info, "ipcshm_info"); rc < 0) return rc;
    ipcshm_info_t full{};
    if (int rc = core::info(id, &full); rc < 0) return rc;
    deliver_info(full, info);
    return 0;
  });
}

int ipcshm_handle_info(const ipcshm_t* h, ipcshm_info_t* info) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_handle_info: handle is NULL");
    if (int rc = check_info(info, "ipcshm_handle_info"); rc < 0) return rc;
    ipcshm_info_t full{};
    int rc = with_segment(h, kNotLive, [&](const core::Segment& s) { return s.info(&full); });
    if (rc == kNotLive) return not_live("ipcshm_handle_info");
    if (rc < 0) return rc;
    deliver_info(full, info);
    return 0;
  });
}

int ipcshm_chmod(const char* id, uint32_t perms) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_chmod: id is NULL");
    if (perms & ~core::kPermMask)
      return core::fail_msg(EINVAL, "ipcshm_chmod(\"%.64s\"): perms 0%o has bits above 0777",
                            id, perms);
    return core::chmod(id, perms);
  });
}

int ipcshm_fd(const ipcshm_t* h) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_fd: handle is NULL");
    int rc = with_segment(h, kNotLive, [](const core::Segment& s) { return s.dup_fd(); });
    if (rc == kNotLive) return not_live("ipcshm_fd");
    return rc;
  });
}

int ipcshm_attach_fd(int fd, uint32_t flags, ipcshm_t** out) noexcept {
  return guarded([&] {
    if (!out) return core::fail_msg(EINVAL, "ipcshm_attach_fd(%d): out is NULL", fd);
    if (fd < 0) return core::fail_msg(EBADF, "ipcshm_attach_fd(%d): not a descriptor", fd);
    if (int rc = check_flags(flags, kAttachFlags, "ipcshm_attach_fd"); rc < 0) return rc;
    core::SegmentPtr seg;
    if (int rc = core::attach_fd(fd, flags, &seg); rc < 0) return rc;
    return hand_out(std::move(seg), out);
  });
}

int ipcshm_resize(ipcshm_t* h, uint64_t size) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_resize: handle is NULL");
    if (size == 0) return core::fail_msg(EINVAL, "ipcshm_resize: size must be at least 1");
    // Exclusive: the address and size change under the readers' feet otherwise.
    int rc = segments().with_exclusive(handles::value_of(h), kNotLive, [&](core::Segment& s) {
      return s.pinned() ? pinned("ipcshm_resize") : s.resize(size);
    });
    if (rc == kNotLive) return not_live("ipcshm_resize");
    return rc;
  });
}

int ipcshm_send(int sock, const ipcshm_t* h) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_send: handle is NULL");
    if (sock < 0) return core::fail_msg(EBADF, "ipcshm_send: socket %d is not a descriptor", sock);
    // The descriptor is duplicated under the registry's lock and sent outside
    // it: a blocking send must not hold up every other handle.
    int fd = with_segment(h, kNotLive, [](const core::Segment& s) { return s.dup_fd(); });
    if (fd == kNotLive) return not_live("ipcshm_send");
    if (fd < 0) return fd;
    return core::send_fd(sock, fd);
  });
}

int ipcshm_recv(int sock, uint32_t flags, ipcshm_t** out) noexcept {
  return guarded([&] {
    if (!out) return core::fail_msg(EINVAL, "ipcshm_recv(%d): out is NULL", sock);
    if (sock < 0) return core::fail_msg(EBADF, "ipcshm_recv: socket %d is not a descriptor", sock);
    if (int rc = check_flags(flags, kAttachFlags, "ipcshm_recv"); rc < 0) return rc;
    core::SegmentPtr seg;
    if (int rc = core::recv(sock, flags, &seg); rc < 0) return rc;
    return hand_out(std::move(seg), out);
  });
}

int ipcshm_array_create(const char* id, uint32_t etype, uint32_t ndims, const int64_t* dims,
                        uint32_t perms, uint32_t flags, ipcshm_t** out) noexcept {
  return guarded([&] {
    if (!id) return core::fail_msg(EINVAL, "ipcshm_array_create: id is NULL");
    if (!out)
      return core::fail_msg(EINVAL, "ipcshm_array_create(\"%.64s\"): out is NULL", id);
    if (!dims)
      return core::fail_msg(EINVAL, "ipcshm_array_create(\"%.64s\"): dims is NULL", id);
    if (perms & ~core::kPermMask)
      return core::fail_msg(EINVAL,
                            "ipcshm_array_create(\"%.64s\"): perms 0%o has bits above 0777",
                            id, perms);
    if (flags & IPCSHM_READONLY)
      return core::fail_msg(EINVAL,
                            "ipcshm_array_create(\"%.64s\"): IPCSHM_READONLY cannot write "
                            "the header",
                            id);
    if (int rc = check_flags(flags, kCreateFlags, "ipcshm_array_create"); rc < 0) return rc;
    core::SegmentPtr seg;
    int rc = core::arrays::create(id, etype, ndims, dims, perms, flags, &seg);
    if (rc < 0) return rc;
    if (int handed = hand_out(std::move(seg), out); handed < 0) return handed;
    return rc;
  });
}

int ipcshm_array_header(const ipcshm_t* h, uint32_t* etype, uint32_t* ndims, int64_t* dims,
                        uint32_t maxdims, uint64_t* offset) noexcept {
  return guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_array_header: handle is NULL");
    if (!dims && maxdims > 0)
      return core::fail_msg(EINVAL, "ipcshm_array_header: dims is NULL but maxdims is %u",
                            maxdims);
    int rc = with_segment(h, kNotLive, [&](const core::Segment& s) {
      return core::arrays::header(s, etype, ndims, dims, maxdims, offset);
    });
    if (rc == kNotLive) return not_live("ipcshm_array_header");
    return rc;
  });
}

void* ipcshm_array_data(const ipcshm_t* h) noexcept {
  void* data = nullptr;
  guarded([&] {
    if (!h) return core::fail_msg(EINVAL, "ipcshm_array_data: handle is NULL");
    bool live = with_segment(h, false, [&](const core::Segment& s) {
      data = core::arrays::data(s);
      return true;
    });
    if (!live) return not_live("ipcshm_array_data");
    return 0;
  });
  return data;
}

uint32_t ipcshm_version(void) noexcept { return IPCSHM_VERSION; }

const char* ipcshm_strerror(int err) noexcept { return core::error_text(err); }

const char* ipcshm_last_error(void) noexcept { return core::last_error(); }

uint64_t ipcshm_page_size(void) noexcept { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

int ipcshm_sysv_get(int32_t key, uint64_t size, int32_t shmflg, int32_t* shmid) noexcept {
  return guarded([&] {
    if (!shmid) return core::fail_msg(EINVAL, "ipcshm_sysv_get: shmid is NULL");
    return core::sysv::get(key, size, shmflg, shmid);
  });
}

int ipcshm_sysv_attach(int32_t shmid, int readonly, void** ptr) noexcept {
  return guarded([&] {
    if (!ptr) return core::fail_msg(EINVAL, "ipcshm_sysv_attach: ptr is NULL");
    return core::sysv::attach_raw(shmid, readonly != 0, ptr);
  });
}

int ipcshm_sysv_detach(const void* ptr) noexcept {
  return guarded([&] {
    if (!ptr) return core::fail_msg(EINVAL, "ipcshm_sysv_detach: ptr is NULL");
    return core::sysv::detach_raw(ptr);
  });
}

int ipcshm_sysv_ctl(int32_t shmid, int32_t cmd, void* buf, uint64_t bufsize) noexcept {
  return guarded([&] { return core::sysv::ctl(shmid, cmd, buf, bufsize); });
}

int ipcshm_sysv_remove(int32_t shmid) noexcept {
  return guarded([&] { return core::sysv::remove_raw(shmid); });
}

uint64_t ipcshm_sysv_shmid_ds_size(void) noexcept { return core::sysv::shmid_ds_size(); }

int ipcshm_ftok(const char* path, int32_t proj, int32_t* key) noexcept {
  return guarded([&] {
    if (!path) return core::fail_msg(EINVAL, "ipcshm_ftok: path is NULL");
    if (!key) return core::fail_msg(EINVAL, "ipcshm_ftok: key is NULL");
    return core::sysv::ftok(path, proj, key);
  });
}

}  // extern "C"
