// Messages through a channel: send and recv (copies), reserve/commit and
// peek/release (in place), and the wait for room or for a message, which
// spins, then sleeps, and notices a peer that closed or died.
//
// The way of a message has no atomic read-modify-write and no fence: the
// sender copies the bytes, publishes the entry (a release store), counts it in
// `tail` (its own line) and reads the receiver's notes (its own line, which
// the receiver writes only to say that it sleeps, closed, or cannot fence).
// The receiver mirrors it with the entry, the bytes, `head` and the sender's
// notes. The price of the missing fence is paid by an end that goes to sleep:
// it sets kSleeping, then runs membarrier(2), which makes the peer's every
// store before it visible and the peer's every later load see kSleeping, then
// looks once more before FUTEX_WAIT. The peer that sees kSleeping clears it
// and wakes, so the next message makes no system call.
#include <cerrno>
#include <climits>
#include <cstring>

#include "channel.hpp"
#include "channels.hpp"
#include "errors.hpp"
#include "futex.hpp"

namespace ipcshm::core::channel {
namespace {

using sync::Deadline;

// A sleeping end looks at its peer's lock this often: a peer's death is seen
// within this (SPEC: within 100 ms).
constexpr int64_t kProbeSliceNs = 20'000'000;

unsigned long long ull(uint64_t v) noexcept { return static_cast<unsigned long long>(v); }

const char* peer_name(const Channel& ch) noexcept {
  return ch.role == Role::sender ? "receiver" : "sender";
}

[[gnu::cold]] int wrong_role(const Channel& ch, const char* call) noexcept {
  return fail_msg(EBADF, "%s(\"%s\"): this end is the %s; the call is for a %s", call,
                  ch.id.c_str(), ch.role == Role::sender ? "sender" : "receiver",
                  ch.role == Role::sender ? "receiver" : "sender");
}

[[gnu::cold]] int broken_pipe(const Channel& ch, const char* call) noexcept {
  return fail_msg(EPIPE,
                  "%s(\"%s\"): the %s has gone (closed, or its process died) and no new one "
                  "has opened",
                  call, ch.id.c_str(), peer_name(ch));
}

[[gnu::cold]] int closed_meanwhile(const Channel& ch, const char* call) noexcept {
  return fail_msg(EBADF, "%s(\"%s\"): the end was closed by another thread meanwhile", call,
                  ch.id.c_str());
}

[[gnu::cold]] int bad_length(const Channel& ch, uint32_t len, const char* call) noexcept {
  return fail_msg(EBADMSG,
                  "%s(\"%s\"): message %llu says it has %u bytes, more than the slot size "
                  "(%u): the channel was overwritten",
                  call, ch.id.c_str(), ull(ch.pos), len, ch.g.slot_size);
}

[[gnu::cold]] int bad_head(const Channel& ch, uint64_t head, const char* call) noexcept {
  return fail_msg(EBADMSG,
                  "%s(\"%s\"): the receiver's index (%llu) is impossible for a sender at %llu "
                  "with %u slots: the channel was overwritten",
                  call, ch.id.c_str(), ull(head), ull(ch.pos), ch.g.slot_count);
}

// Orders this side's index or entry store before its read of the peer's
// notes: for the compiler only, since the sleeper's membarrier(2) orders the
// processor (a full fence where the peer asked for one).
inline void before_notes(const Channel& ch) noexcept {
  if (ch.fence) [[unlikely]]
    full_fence();
  else
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

[[gnu::noinline]] void wake_peer(Channel& ch, uint32_t* word, uint32_t notes) noexcept {
  if (notes & kFences) ch.fence = true;
  if (notes & kAnySleeper) {
    shared(*ch.peer_notes).fetch_and(~kAnySleeper, std::memory_order_relaxed);
    sync::futex_wake(word, INT_MAX);
  }
}

// Receiver: whether the next message is published; *e gets its entry.
inline int message_ready(Channel& ch, uint64_t* e) noexcept {
  *e = shared(*ch.entry()).load(std::memory_order_acquire);
  return entry_seq(*e) == static_cast<uint32_t>(ch.pos) ? 1 : 0;
}

// Sender: whether the receiver's head leaves a slot free (refreshing the
// copy of it); -EBADMSG for an impossible head.
inline int room_ready(Channel& ch, const char* call) noexcept {
  const uint64_t head = shared(ch.hdr->rx.head).load(std::memory_order_acquire);
  if (ch.pos - head > ch.g.slot_count) [[unlikely]]
    return bad_head(ch, head, call);
  ch.peer_pos = head;
  return ch.pos - head < ch.g.slot_count ? 1 : 0;
}

void stop_sleeping(Channel& ch) noexcept {
  if (shared(*ch.my_notes).load(std::memory_order_relaxed) & kSleeping)
    shared(*ch.my_notes).fetch_and(~kSleeping, std::memory_order_relaxed);
}

// Waits until the next message is published (receiver; *e its entry) or a
// slot is free (sender): 0, or -EPIPE, -EAGAIN, -ETIMEDOUT, -EINTR, -EBADF
// (closed by another thread), -EBADMSG.
[[gnu::noinline]] int wait_ready(Channel& ch, int64_t timeout_ns, const char* call,
                                 uint64_t* e) noexcept {
  const bool rx = ch.role == Role::receiver;
  int r = 0;
  auto ready = [&]() noexcept { return r = rx ? message_ready(ch, e) : room_ready(ch, call); };
  // A vacant peer: -EPIPE, but only once what it published is taken (a
  // sender's last messages may become visible just before its close does).
  auto gone = [&]() noexcept {
    return ready() != 0 ? (r < 0 ? r : 0) : broken_pipe(ch, call);
  };
  if (ready() != 0) return r < 0 ? r : 0;
  Deadline deadline(timeout_ns);
  if (deadline.try_only()) {
    if (peer_vacant_rate_limited(ch)) return gone();
    // Polling (timeout 0) may come in a tight loop: a constant message.
    return fail_static(EAGAIN, rx ? "ipcshm_channel: no message (timeout 0: not waiting)"
                                  : "ipcshm_channel: no free slot (timeout 0: not waiting)");
  }
  if (peer_vacant(ch, false)) return gone();
  sync::spin_until([&]() noexcept {
    return ready() != 0 || ch.closing.load(std::memory_order_relaxed) ||
           (shared(*ch.peer_notes).load(std::memory_order_relaxed) & kVacated);
  });
  for (;;) {
    if (r != 0) return r < 0 ? r : 0;
    if (ch.closing.load(std::memory_order_acquire)) return closed_meanwhile(ch, call);
    if (peer_vacant(ch, true)) return gone();
    const int64_t now = sync::monotonic_ns();
    if (deadline.passed(now))
      return fail_msg(ETIMEDOUT, "%s(\"%s\"): %s after %lld ns", call, ch.id.c_str(),
                      rx ? "no message" : "no free slot", static_cast<long long>(timeout_ns));
    // The word to sleep on, and the value that means "nothing yet".
    const uint32_t* word = rx ? low_word(ch.entry()) : low_word(&ch.hdr->rx.head);
    const uint32_t expect = rx ? entry_seq(*e) : static_cast<uint32_t>(ch.peer_pos);
    shared(*ch.my_notes).fetch_or(kSleeping, std::memory_order_seq_cst);
    heavy_barrier();
    if (ready() != 0 || ch.closing.load(std::memory_order_acquire) ||
        (shared(*ch.peer_notes).load(std::memory_order_acquire) & kVacated)) {
      stop_sleeping(ch);
      continue;
    }
    ch.sleeping_on.store(word, std::memory_order_release);
    const int w = sync::futex_wait(word, expect, deadline.slice_end(now, kProbeSliceNs));
    ch.sleeping_on.store(nullptr, std::memory_order_relaxed);
    if (w == -EINTR) {
      stop_sleeping(ch);
      return fail_msg(EINTR, "%s(\"%s\"): interrupted by a signal", call, ch.id.c_str());
    }
    if (w < 0 && w != -EAGAIN && w != -ETIMEDOUT) {
      stop_sleeping(ch);
      return fail(-w, "%s(\"%s\"): futex(FUTEX_WAIT)", call, ch.id.c_str());
    }
    ready();
    if (r != 0) stop_sleeping(ch);
  }
}

// Sender: a slot to write, waiting for one if the ring is full.
inline int claim(Channel& ch, int64_t timeout_ns, const char* call) noexcept {
  if (shared(*ch.peer_notes).load(std::memory_order_relaxed) & kVacated) [[unlikely]]
    return broken_pipe(ch, call);
  if (ch.pos - ch.peer_pos < ch.g.slot_count) [[likely]]
    return 0;
  uint64_t unused;
  return wait_ready(ch, timeout_ns, call, &unused);
}

// Sender: publishes the message in the current slot.
inline void publish(Channel& ch, uint32_t len) noexcept {
  uint64_t* e = ch.entry();
  shared(*e).store(entry_of(ch.pos, len), std::memory_order_release);
  ++ch.pos;
  if (++ch.slot == ch.g.slot_count) ch.slot = 0;
  shared(ch.hdr->tx.tail).store(ch.pos, std::memory_order_relaxed);
  before_notes(ch);
  const uint32_t notes = shared(*ch.peer_notes).load(std::memory_order_relaxed);
  if (notes & (kAnySleeper | kFences)) [[unlikely]]
    wake_peer(ch, low_word(e), notes);
}

// Receiver: after the entry of message pos (its length in known_len), the
// entries that follow it in the same cache line, as far as they are
// published: their lengths are kept, so that the receiver reads a line of
// entries once for up to 8 messages
// rather than once per message (while the sender writes into it). An entry
// once published stays until the receiver releases its slot, so a length
// known early is the length read later; each is loaded with acquire, so the
// message's bytes are visible before they are read.
inline void look_ahead(Channel& ch) noexcept {
  uint64_t p = ch.pos + 1;
  uint32_t s = ch.slot + 1;
  while (s % 8 != 0 && s < ch.g.slot_count) {
    const uint64_t e = shared(ch.entries[s]).load(std::memory_order_acquire);
    if (entry_seq(e) != static_cast<uint32_t>(p)) break;
    ch.known_len[p % 8] = entry_len(e);
    ++p;
    ++s;
  }
  ch.peer_pos = p;
}

// Receiver: the next message, published, waiting for it if there is none.
inline int next_message(Channel& ch, int64_t timeout_ns, const char* call, uint32_t* len) noexcept {
  if (ch.pos < ch.peer_pos) {
    *len = ch.known_len[ch.pos % 8];
  } else {
    uint64_t e = shared(*ch.entry()).load(std::memory_order_acquire);
    if (entry_seq(e) != static_cast<uint32_t>(ch.pos)) [[unlikely]] {
      if (int rc = wait_ready(ch, timeout_ns, call, &e); rc < 0) return rc;
    }
    *len = entry_len(e);
    ch.known_len[ch.pos % 8] = *len;  // kept while the message is (EMSGSIZE, peek)
    look_ahead(ch);
  }
  if (*len > ch.g.slot_size) [[unlikely]] {
    ch.peer_pos = ch.pos;  // read the entries again next time (repaired, perhaps)
    return bad_length(ch, *len, call);
  }
  return 0;
}

// Receiver: releases the current slot to the sender.
inline void consume(Channel& ch) noexcept {
  ++ch.pos;
  if (++ch.slot == ch.g.slot_count) ch.slot = 0;
  shared(ch.hdr->rx.head).store(ch.pos, std::memory_order_release);
  before_notes(ch);
  const uint32_t notes = shared(*ch.peer_notes).load(std::memory_order_relaxed);
  if (notes & (kAnySleeper | kFences)) [[unlikely]]
    wake_peer(ch, low_word(&ch.hdr->rx.head), notes);
}

[[gnu::cold]] int too_long(const Channel& ch, uint64_t len, const char* call) noexcept {
  return fail_msg(EMSGSIZE, "%s(\"%s\"): a message of %llu bytes is longer than a slot (%u bytes)",
                  call, ch.id.c_str(), ull(len), ch.g.slot_size);
}

}  // namespace

int send(uint64_t value, const void* msg, uint64_t len, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_send";
  Call c(value, kCall);
  if (c.error()) [[unlikely]]
    return c.error();
  Channel& ch = *c;
  if (ch.role != Role::sender) [[unlikely]]
    return wrong_role(ch, kCall);
  if (ch.reserved) [[unlikely]]
    return fail_msg(EBUSY,
                    "%s(\"%s\"): a slot is reserved (ipcshm_channel_reserve): commit it first",
                    kCall, ch.id.c_str());
  if (len > ch.g.slot_size) [[unlikely]]
    return too_long(ch, len, kCall);
  if (int rc = claim(ch, timeout_ns, kCall); rc < 0) [[unlikely]]
    return rc;
  if (len) std::memcpy(ch.slot_address(), msg, len);
  publish(ch, static_cast<uint32_t>(len));
  return 0;
}

int recv(uint64_t value, void* buf, uint64_t cap, uint64_t* len, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_recv";
  Call c(value, kCall);
  if (c.error()) [[unlikely]]
    return c.error();
  Channel& ch = *c;
  if (ch.role != Role::receiver) [[unlikely]]
    return wrong_role(ch, kCall);
  if (ch.peeked) [[unlikely]]
    return fail_msg(EBUSY,
                    "%s(\"%s\"): a message is peeked (ipcshm_channel_peek): release it first",
                    kCall, ch.id.c_str());
  uint32_t n = 0;
  if (int rc = next_message(ch, timeout_ns, kCall, &n); rc < 0) [[unlikely]]
    return rc;
  if (n > cap) [[unlikely]] {
    *len = n;
    return fail_msg(EMSGSIZE,
                    "%s(\"%s\"): the next message has %u bytes, more than the buffer's %llu "
                    "(it stays in the channel)",
                    kCall, ch.id.c_str(), n, ull(cap));
  }
  if (n) std::memcpy(buf, ch.slot_address(), n);
  *len = n;
  consume(ch);
  return 0;
}

int reserve(uint64_t value, void** slot, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_reserve";
  Call c(value, kCall);
  if (c.error()) return c.error();
  Channel& ch = *c;
  if (ch.role != Role::sender) return wrong_role(ch, kCall);
  if (!ch.reserved) {
    if (int rc = claim(ch, timeout_ns, kCall); rc < 0) return rc;
    ch.reserved = true;
  }
  *slot = ch.slot_address();
  return 0;
}

int commit(uint64_t value, uint64_t len) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_commit";
  Call c(value, kCall);
  if (c.error()) return c.error();
  Channel& ch = *c;
  if (ch.role != Role::sender) return wrong_role(ch, kCall);
  if (!ch.reserved)
    return fail_msg(EINVAL, "%s(\"%s\"): no slot is reserved (ipcshm_channel_reserve first)",
                    kCall, ch.id.c_str());
  if (len > ch.g.slot_size) return too_long(ch, len, kCall);  // still reserved
  if (shared(*ch.peer_notes).load(std::memory_order_relaxed) & kVacated) {
    ch.reserved = false;  // not sent, as a send would not be
    return broken_pipe(ch, kCall);
  }
  ch.reserved = false;
  publish(ch, static_cast<uint32_t>(len));
  return 0;
}

int peek(uint64_t value, const void** msg, uint64_t* len, int64_t timeout_ns) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_peek";
  Call c(value, kCall);
  if (c.error()) return c.error();
  Channel& ch = *c;
  if (ch.role != Role::receiver) return wrong_role(ch, kCall);
  if (!ch.peeked) {
    uint32_t n = 0;
    if (int rc = next_message(ch, timeout_ns, kCall, &n); rc < 0) return rc;
    ch.peeked = true;
    ch.peeked_len = n;
  }
  *msg = ch.slot_address();
  *len = ch.peeked_len;
  return 0;
}

int release(uint64_t value) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_release";
  Call c(value, kCall);
  if (c.error()) return c.error();
  Channel& ch = *c;
  if (ch.role != Role::receiver) return wrong_role(ch, kCall);
  if (!ch.peeked)
    return fail_msg(EINVAL, "%s(\"%s\"): no message is peeked (ipcshm_channel_peek first)",
                    kCall, ch.id.c_str());
  ch.peeked = false;
  consume(ch);
  return 0;
}

}  // namespace ipcshm::core::channel
