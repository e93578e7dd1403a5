// The ends of a channel: the OFD lock that holds a role, what an end writes
// when it takes or leaves one, how an end learns that its peer is gone, and
// the membarrier(2) registration behind the asymmetric fences.
//
// An end holds a write lock (fcntl F_OFD_SETLK) on one byte of the object (0:
// sender, 1: receiver) through an open file of its own (a new open of the
// object, never a duplicate: an OFD lock belongs to the open file, and is
// dropped only when the last descriptor of it closes). The kernel drops it
// when the end closes or its process dies, SIGKILL included; F_OFD_GETLK asks
// whether a lock is held without taking one. Only an end's own calls and
// `ipcshm ls` ask, and only when the shared words do not tell: a role word
// that says "taken, not open" (a close) or a kVacated note needs no system
// call.
#include <fcntl.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>

#include "channel.hpp"
#include "errors.hpp"
#include "futex.hpp"
#include "ipcshm.h"
#include "resources.hpp"

namespace ipcshm::core::channel {
namespace {

// -1: not tried yet; otherwise bit 0: MEMBARRIER_CMD_GLOBAL_EXPEDITED, bit 1:
// MEMBARRIER_CMD_PRIVATE_EXPEDITED registered for this process.
std::atomic<int> g_barriers{-1};
constexpr int kGlobal = 1;
constexpr int kPrivate = 2;

long membarrier(int cmd) noexcept { return ::syscall(SYS_membarrier, cmd, 0, 0); }

// How often a call that only tries (timeout 0) may ask the kernel whether
// the peer's lock is held: once per tick of the coarse clock (4 ms here).
constexpr int64_t kProbeEveryNs = 2'000'000;

int64_t coarse_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

const char* role_name(Role r) noexcept { return r == Role::sender ? "sender" : "receiver"; }

// What holds the lock on `byte` of the object open as fd: F_UNLCK, F_WRLCK
// (an end), F_RDLCK (not an end: anyone who may read the object can take a
// read lock), or -errno if the kernel would not say. It takes no lock and
// changes nothing.
int lock_holder(int fd, int64_t byte) noexcept {
  struct flock l = {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  l.l_start = byte;
  l.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &l) != 0) return -errno;
  return l.l_type;
}

// Whether no end holds the role of `byte` (1), one does (0), or the kernel
// would not say (-errno). A read lock is not an end's: a process that squats
// the byte of a dead end does not make it look alive.
int lock_free(int fd, int64_t byte) noexcept {
  const int holder = lock_holder(fd, byte);
  if (holder < 0) return holder;
  return holder == F_WRLCK ? 0 : 1;
}

}  // namespace

void init_barriers(bool again) noexcept {
  if (!again && g_barriers.load(std::memory_order_acquire) >= 0) return;
  int bits = 0;
  if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0) bits |= kGlobal;
  if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) bits |= kPrivate;
  g_barriers.store(bits, std::memory_order_release);
}

bool have_global_barrier() noexcept {
  return (g_barriers.load(std::memory_order_relaxed) & kGlobal) != 0;
}

void heavy_barrier() noexcept {
  if ((g_barriers.load(std::memory_order_relaxed) & kGlobal) &&
      membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
    return;
  full_fence();
}

void heavy_local_barrier() noexcept {
  if ((g_barriers.load(std::memory_order_relaxed) & kPrivate) &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
    return;
  full_fence();
}

void light_local_barrier() noexcept {
  if (g_barriers.load(std::memory_order_relaxed) & kPrivate)
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the compiler's order only
  else
    full_fence();
}

int take_role(Channel& ch, const Segment& seg, const char* call) noexcept {
  const bool sender = ch.role == Role::sender;
  Header* h = ch.hdr;
  ch.own_role = sender ? &h->roles.sender : &h->roles.receiver;
  ch.peer_role = sender ? &h->roles.receiver : &h->roles.sender;
  ch.my_notes = sender ? &h->rx.tx_notes : &h->tx.rx_notes;
  ch.peer_notes = sender ? &h->tx.rx_notes : &h->rx.tx_notes;
  ch.peer_lock_byte = sender ? kReceiverLockByte : kSenderLockByte;

  int fd = seg.dup_fd();
  if (fd < 0) return fd;
  UniqueFd lock(fd);
  struct flock l = {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  l.l_start = sender ? kSenderLockByte : kReceiverLockByte;
  l.l_len = 1;
  if (::fcntl(lock.get(), F_OFD_SETLK, &l) != 0) {
    if ((errno == EAGAIN || errno == EACCES) && lock_holder(lock.get(), l.l_start) == F_RDLCK)
      return fail_msg(EBUSY,
                      "%s(\"%s\"): another process holds a read lock on byte %lld of the "
                      "object, where the %s's end takes its lock: not an end of this "
                      "library, but it keeps the role from being taken (find it in "
                      "/proc/locks)",
                      call, ch.id.c_str(), static_cast<long long>(l.l_start),
                      role_name(ch.role));
    if (errno == EAGAIN || errno == EACCES)
      return fail_msg(EBUSY,
                      "%s(\"%s\"): the %s role is taken by an end that is open (a channel has "
                      "one live sender and one live receiver; the role is free again once "
                      "that end closes or its process dies)",
                      call, ch.id.c_str(), role_name(ch.role));
    return fail(errno, "%s(\"%s\"): fcntl(F_OFD_SETLK)", call, ch.id.c_str());
  }

  // Where the previous end of this role left the indices. A sender that died
  // between publishing a message and counting it in `tail` leaves tail one
  // behind: the entries tell.
  const uint64_t n = ch.g.slot_count;
  const uint64_t tail = shared(h->tx.tail).load(std::memory_order_acquire);
  const uint64_t head = shared(h->rx.head).load(std::memory_order_acquire);
  if (!indices_possible(tail, head, ch.g.slot_count))
    return fail_msg(EBADMSG,
                    "%s(\"%s\"): the channel's indices are impossible (%llu sent, %llu "
                    "received, %llu slots): the header was overwritten",
                    call, ch.id.c_str(), static_cast<unsigned long long>(tail),
                    static_cast<unsigned long long>(head), static_cast<unsigned long long>(n));
  if (sender) {
    const uint64_t pos = resume_position(ch.entries, ch.g.slot_count, tail, head);
    ch.pos = pos;
    ch.peer_pos = head;
    shared(h->tx.tail).store(pos, std::memory_order_release);
  } else {
    ch.pos = head;
    ch.peer_pos = head;  // nothing known published yet
  }
  ch.slot = static_cast<uint32_t>(ch.pos % n);

  // Open: the role word counts one more taker; this side's notes start
  // afresh (a dead predecessor may have left kSleeping, kVacated after a
  // close), asking the peer to fence if this process cannot membarrier.
  uint32_t taken = role_taken(shared(*ch.own_role).load(std::memory_order_acquire)) + 1;
  if (taken >= (1u << 31)) taken = 1;
  shared(*ch.own_role).store((taken << 1) | 1, std::memory_order_release);
  const bool fences_needed = !have_global_barrier();
  shared(*ch.my_notes).exchange(fences_needed ? kFences : 0, std::memory_order_seq_cst);
  ch.fence = fences_needed ||
             (shared(*ch.peer_notes).load(std::memory_order_acquire) & kFences) != 0;
  ch.lock_fd = lock.release();
  return 0;
}

void leave_role(Channel& ch) noexcept {
  if (ch.lock_fd < 0 || !ch.own_role) return;
  const uint32_t word = shared(*ch.own_role).load(std::memory_order_acquire);
  shared(*ch.own_role).store(word & ~1u, std::memory_order_release);
  shared(*ch.my_notes).fetch_or(kVacated, std::memory_order_seq_cst);
  full_fence();
  // The peer sleeps, if it does, on the entry this sender would publish next
  // (the ring is empty), or on the head (the ring is full).
  if (ch.role == Role::sender)
    sync::futex_wake(low_word(ch.entry()), INT_MAX);
  else
    sync::futex_wake(low_word(&ch.hdr->rx.head), INT_MAX);
  ::close(ch.lock_fd);
  ch.lock_fd = -1;
}

bool peer_vacant(Channel& ch, bool probe) noexcept {
  if (shared(*ch.peer_notes).load(std::memory_order_acquire) & kVacated) return true;
  const uint32_t word = shared(*ch.peer_role).load(std::memory_order_acquire);
  const uint32_t taken = role_taken(word);
  if (taken == 0) return false;  // never opened: no -EPIPE before a peer came
  if (!role_open(word)) return true;
  if (taken == ch.dead_taken) return true;
  if (!probe || ch.lock_fd < 0) return false;
  ch.last_probe = coarse_ns();
  if (lock_free(ch.lock_fd, ch.peer_lock_byte) != 1) return false;
  // Free now. The word was read before the probe: a new peer takes the lock
  // before it counts itself, so the count it writes will differ.
  ch.dead_taken = taken;
  return true;
}

bool peer_vacant_rate_limited(Channel& ch) noexcept {
  if (peer_vacant(ch, false)) return true;
  if (role_taken(shared(*ch.peer_role).load(std::memory_order_relaxed)) == 0) return false;
  if (coarse_ns() - ch.last_probe < kProbeEveryNs) return false;
  return peer_vacant(ch, true);
}

uint32_t end_state(uint32_t word, int fd, int64_t byte) noexcept {
  if (role_taken(word) == 0) return IPCSHM_END_NEVER;
  if (!role_open(word)) return IPCSHM_END_CLOSED;
  const int free = lock_free(fd, byte);
  if (free < 0) return IPCSHM_END_OPEN;  // the kernel would not say: taken as alive
  return free ? IPCSHM_END_DIED : IPCSHM_END_OPEN;
}

}  // namespace ipcshm::core::channel
