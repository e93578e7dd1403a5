// Making and opening channels (by id or descriptor), their object's handle,
// and what ipcshm_channel_info tells about one.
#include "channels.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "channel.hpp"
#include "descriptors.hpp"
#include "errors.hpp"
#include "ids.hpp"
#include "objects.hpp"
#include "resources.hpp"

namespace ipcshm::core::channel {
namespace {

// How long an opener waits for the header of an object whose creator is
// still writing it (a zero magic).
constexpr int kHeaderWaitMs = 1000;

int no_sysv(const char* call, const char* id) noexcept {
  return fail_msg(EOPNOTSUPP,
                  "%s(\"%.64s\"): channels live in POSIX (\"/name\") or memfd objects, not "
                  "System V segments: the ends' liveness is told by locks on a descriptor, "
                  "which a System V segment has not",
                  call, id);
}

// The id, parsed, must name a kind a channel can live in; memfd ids only
// where one is made (open: they have no name).
int check_id(const char* id, bool creating, const char* call, Id* parsed) noexcept {
  try {
    if (int rc = parse_id(id, parsed); rc < 0) return rc;
  } catch (...) {
    return fail_msg(ENOMEM, "%s: out of memory", call);
  }
  switch (parsed->kind) {
    case IdKind::Posix:
      return 0;
    case IdKind::Memfd:
      if (creating) return 0;
      return fail_msg(EINVAL,
                      "%s(\"%.64s\"): a memfd object has no name in the system; open its "
                      "channel from a descriptor (ipcshm_channel_handle + ipcshm_send, then "
                      "ipcshm_recv or ipcshm_channel_open_fd)",
                      call, id);
    default:
      return no_sysv(call, id);
  }
}

// Waits (kHeaderWaitMs at most) while the object's magic is 0: its creator
// is between sizing it and publishing its header.
void wait_for_header(const Header* h) noexcept {
  for (int i = 0; i < kHeaderWaitMs; ++i) {
    if (shared(const_cast<Header*>(h)->config.magic).load(std::memory_order_acquire) != 0) return;
    timespec ts{0, 1'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

// Makes an end of role on the mapped object seg. fresh: the object was just
// created with geometry *fresh (its header is written here); otherwise the
// header is checked, and must match *want if given (IPCSHM_OPEN_OR_CREATE).
int make_end(SegmentPtr seg, uint32_t role, const Geometry* fresh, const Geometry* want,
             const char* call, uint64_t* out) noexcept {
  Channel* ch = new_end();
  if (!ch) return fail_msg(ENOMEM, "%s: out of memory", call);
  bool registered_segment = false;
  auto undo = [&](int rc) {
    if (ch->lock_fd >= 0) leave_role(*ch);
    if (registered_segment) {
      try {
        segment_table().take(ch->segment).reset();
      } catch (...) {
      }
    }
    free_end(ch);
    return rc;
  };
  try {
    ch->role = static_cast<Role>(role);
    ch->id = seg->id();
  } catch (...) {
    return undo(fail_msg(ENOMEM, "%s: out of memory", call));
  }
  ch->base = static_cast<char*>(seg->addr());
  ch->hdr = reinterpret_cast<Header*>(ch->base);
  const char* id = ch->id.c_str();
  if (fresh) {
    ch->g = *fresh;
    init_header(ch->base, ch->g);
  } else {
    if (seg->size() < sizeof(Header))
      return undo(fail_msg(EBADMSG, "%s(\"%s\"): not a channel (%llu bytes, fewer than a "
                           "channel header's %zu)",
                           call, id, static_cast<unsigned long long>(seg->size()),
                           sizeof(Header)));
    wait_for_header(ch->hdr);
    Config copy;
    std::memcpy(&copy, &ch->hdr->config, sizeof copy);
    copy.magic = shared(ch->hdr->config.magic).load(std::memory_order_acquire);
    if (int rc = check_config(copy, seg->size(), &ch->g, call, id); rc < 0) return undo(rc);
    if (want && (want->slot_size != ch->g.slot_size || want->slot_count != ch->g.slot_count))
      return undo(fail_msg(EEXIST,
                           "%s(\"%s\"): the channel exists with %u slots of %u bytes, not %u "
                           "of %u",
                           call, id, ch->g.slot_count, ch->g.slot_size, want->slot_count,
                           want->slot_size));
  }
  ch->entries = reinterpret_cast<uint64_t*>(ch->base + ch->g.entries_offset);
  ch->slots = ch->base + ch->g.slots_offset;
  if (int rc = take_role(*ch, *seg, call); rc < 0) return undo(rc);
  if (fresh) publish_header(ch->base);

  seg->pin();
  try {
    ch->segment = segment_table().add(std::move(seg));
  } catch (...) {
    return undo(fail_msg(ENOMEM, "%s: out of memory", call));
  }
  if (ch->segment == 0)
    return undo(fail_msg(EMFILE, "%s: no handle value left in this process (2^48 used)", call));
  registered_segment = true;
  const uint64_t value = register_end(ch);
  if (value == 0) return undo(-EMFILE);
  *out = value;
  return 0;
}

uint32_t kind_of(const std::string& id) noexcept {
  return id.rfind("memfd:", 0) == 0 ? IPCSHM_KIND_MEMFD : IPCSHM_KIND_POSIX;
}

void fill_counts(uint64_t tail, uint64_t head, uint32_t count, ipcshm_channel_info_t* out) {
  out->sent = tail;
  out->received = head;
  // A sender that died between publishing and counting leaves tail behind.
  out->queued = tail >= head && tail - head <= count ? tail - head : 0;
}

}  // namespace

int create(const char* id, uint32_t slot_size, uint32_t slot_count, uint32_t perms,
           uint32_t flags, uint32_t role, uint64_t* out) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_create";
  Id parsed;
  if (int rc = check_id(id, true, kCall, &parsed); rc < 0) return rc;
  Geometry g;
  if (int rc = geometry_for(slot_size, slot_count, &g, kCall, id); rc < 0) return rc;
  SegmentPtr seg;
  int made;
  try {
    made = core::create_shaped(id, g.total_size, perms, flags, kCall, "slot size or count", &seg);
  } catch (...) {
    return fail_msg(ENOMEM, "%s: out of memory", kCall);
  }
  if (made < 0) return made;
  std::string name;
  const bool persistent_new = made == 1 && (flags & IPCSHM_PERSISTENT);
  if (persistent_new) name = seg->id();
  int rc = make_end(std::move(seg), role, made == 1 ? &g : nullptr, &g, kCall, out);
  if (rc < 0) {
    // Nothing half-made stays behind: a volatile object went with its
    // mapping; a persistent one is removed.
    if (persistent_new) (void)core::remove(name.c_str());
    return rc;
  }
  return made;
}

int open(const char* id, uint32_t role, uint64_t* out) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_open";
  Id parsed;
  if (int rc = check_id(id, false, kCall, &parsed); rc < 0) return rc;
  SegmentPtr seg;
  try {
    if (int rc = core::attach(id, 0, &seg); rc < 0) return rc;
  } catch (...) {
    return fail_msg(ENOMEM, "%s: out of memory", kCall);
  }
  return make_end(std::move(seg), role, nullptr, nullptr, kCall, out);
}

int open_fd(int fd, uint32_t role, uint64_t* out) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_open_fd";
  SegmentPtr seg;
  try {
    if (int rc = core::attach_fd(fd, 0, &seg); rc < 0) return rc;
  } catch (...) {
    return fail_msg(ENOMEM, "%s: out of memory", kCall);
  }
  return make_end(std::move(seg), role, nullptr, nullptr, kCall, out);
}

int handle(uint64_t value, uint64_t* segment) noexcept {
  return with_end(value, "ipcshm_channel_handle", [&](Channel& ch) {
    *segment = ch.segment;
    return 0;
  });
}

int handle_info(uint64_t value, ipcshm_channel_info_t* out) noexcept {
  return with_end(value, "ipcshm_channel_handle_info", [&](Channel& ch) {
    Header* h = ch.hdr;
    out->kind = kind_of(ch.id);
    out->slot_size = ch.g.slot_size;
    out->slot_count = ch.g.slot_count;
    fill_counts(shared(h->tx.tail).load(std::memory_order_acquire),
                shared(h->rx.head).load(std::memory_order_acquire), ch.g.slot_count, out);
    const uint32_t own = shared(*ch.own_role).load(std::memory_order_acquire);
    const uint32_t peer = shared(*ch.peer_role).load(std::memory_order_acquire);
    // This end's own lock does not conflict with itself: its state is known.
    const uint32_t own_state =
        ch.inherited ? end_state(own, -1, 0) : static_cast<uint32_t>(IPCSHM_END_OPEN);
    const uint32_t peer_state = end_state(peer, ch.lock_fd, ch.peer_lock_byte);
    const bool sender = ch.role == Role::sender;
    out->sender = sender ? own_state : peer_state;
    out->receiver = sender ? peer_state : own_state;
    return 0;
  });
}

int info(const char* id, ipcshm_channel_info_t* out) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_info";
  Id parsed;
  if (int rc = check_id(id, false, kCall, &parsed); rc < 0) return rc;
  if (parsed.is_template)
    return fail_msg(EINVAL, "%s(\"%.64s\"): a name ending in XXXXXX is a template", kCall, id);
  // Read, never mapped nor locked: a look at a channel changes nothing
  // (O_NOATIME where this user may: not even the access time).
  const std::string path = "/dev/shm" + parsed.name;
  const int base_flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::open(path.c_str(), base_flags | O_NOATIME));
  if (!fd && errno == EPERM) fd.reset(::open(path.c_str(), base_flags));
  if (!fd) return fail(errno, "%s: open(\"%s\")", kCall, path.c_str());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail(errno, "%s(\"%s\"): fstat", kCall, id);
  if (!S_ISREG(st.st_mode))
    return fail_msg(EINVAL, "%s(\"%s\"): not a shared memory object", kCall, id);
  Header h;
  ssize_t n;
  do n = ::pread(fd.get(), &h, sizeof h, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail(errno, "%s(\"%s\"): pread", kCall, id);
  if (static_cast<size_t>(n) < sizeof h)
    return fail_msg(EBADMSG, "%s(\"%s\"): not a channel (%lld bytes)", kCall, id,
                    static_cast<long long>(st.st_size));
  Geometry g;
  if (int rc = check_config(h.config, static_cast<uint64_t>(st.st_size), &g, kCall, id); rc < 0)
    return rc;
  out->kind = IPCSHM_KIND_POSIX;
  out->slot_size = g.slot_size;
  out->slot_count = g.slot_count;
  fill_counts(h.tx.tail, h.rx.head, g.slot_count, out);
  out->sender = end_state(h.roles.sender, fd.get(), kSenderLockByte);
  out->receiver = end_state(h.roles.receiver, fd.get(), kReceiverLockByte);
  return 0;
}

}  // namespace ipcshm::core::channel
