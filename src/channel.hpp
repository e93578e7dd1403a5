// One end of a channel as this process holds it, and what the channel files
// share: the handle protocol (channel_handles.cc), the ends' roles, locks and
// liveness (channel_ends.cc), the waits (channel_io.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "channel_layout.hpp"
#include "handles.hpp"
#include "segment.hpp"

namespace ipcshm::core::channel {

struct Bridge;  // an ipcshm_channel_fd helper (channel_fd.cc)

// Objects of this type are never freed: a closed end goes back to a pool and
// may serve a later one. A handle value that is stale therefore always points
// at readable memory, whose `serial` then says it is not that handle's any
// more (channel_handles.cc).
struct Channel {
  // The handle protocol.
  std::atomic<uint64_t> serial{0};     // the end's handle value while open; 0 closed
  std::atomic<bool> closing{false};    // ipcshm_channel_close has begun: waits end
  std::atomic<bool> in_call{false};    // a call runs on this end (catches two threads)
  std::atomic<const uint32_t*> sleeping_on{nullptr};  // the word a call sleeps on
  bool inherited = false;              // this process is a forked child of the opener

  // What the end opened.
  Role role = Role::sender;
  std::string id;                      // the object's id, for messages
  uint64_t segment = 0;                // its object's handle in the segment table
  int lock_fd = -1;                    // own open file holding the role's OFD lock
  Geometry g;
  char* base = nullptr;
  Header* hdr = nullptr;
  uint64_t* entries = nullptr;
  char* slots = nullptr;
  uint32_t* my_notes = nullptr;        // the word of this side's notes (in the peer's line)
  uint32_t* peer_notes = nullptr;      // the peer's notes (in this side's line)
  uint32_t* peer_role = nullptr;       // the peer's word in Roles
  uint32_t* own_role = nullptr;
  int64_t peer_lock_byte = 0;

  // The end's own state, touched by no other process.
  uint64_t pos = 0;          // sender: its next message; receiver: the next to release
  uint32_t slot = 0;         // pos % slot_count
  uint64_t peer_pos = 0;     // sender: the receiver's head as last read; receiver: the
                             // messages found published (below it) when it last read a
                             // line of entries
  uint32_t known_len[8] = {};  // receiver: lengths of messages pos..peer_pos-1, at [i % 8]
  bool fence = false;        // a full fence between publishing and reading peer_notes
  bool reserved = false;     // sender: a slot is reserved (ipcshm_channel_reserve)
  bool peeked = false;       // receiver: the next message is peeked (ipcshm_channel_peek)
  uint32_t peeked_len = 0;
  int64_t last_probe = 0;    // CLOCK_MONOTONIC_COARSE of the last lock probe, ns
  uint32_t dead_taken = 0;   // the peer's role count last found dead (0: none)
  Bridge* bridges = nullptr; // the end's ipcshm_channel_fd helpers (a list)

  char* slot_address() const noexcept { return slots + uint64_t{slot} * g.slot_stride; }
  uint64_t* entry() const noexcept { return entries + slot; }
};

// ---------------------------------------------------------------------------
// Handles (channel_handles.cc)

// What the channel table holds for a handle value: the end, from the pool.
struct EndRef {
  Channel* ch;
};
handles::Table<EndRef>& end_table();
handles::Table<Segment>& segment_table();

// -EBADF: "not a live channel".
int not_live_end(const char* call) noexcept;

// fn(end) under the table's shared lock if value is a live end, else -EBADF
// with a message naming `call`: for calls that only look, which may run
// while another thread is in a call on the end (or after a fork).
template <typename Fn>
int with_end(uint64_t value, const char* call, Fn&& fn) {
  constexpr int kNotLive = -1000000;
  int rc = end_table().with(value, kNotLive, [&](EndRef& r) { return fn(*r.ch); });
  if (rc == kNotLive) return not_live_end(call);
  return rc;
}
// Registers an end that is set up (everything above but serial) and gives
// its handle value; 0 when the values are spent (-EMFILE, message set).
uint64_t register_end(Channel* ch) noexcept;

// A fresh end from the pool (nullptr: out of memory), and back to it.
Channel* new_end() noexcept;
void free_end(Channel* ch) noexcept;

// The end of a handle value for one call: looks it up (a per-thread cache
// first, no lock), announces the call so that a close in another thread waits
// for it, and checks that the end is open, not inherited across fork and not
// in a call on another thread. The destructor ends the call.
class Call {
 public:
  Call(uint64_t value, const char* call) noexcept;
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  int error() const noexcept { return rc_; }
  Channel& operator*() const noexcept { return *ch_; }
  Channel* operator->() const noexcept { return ch_; }

 private:
  Channel* ch_ = nullptr;
  int rc_ = 0;
  bool busy_ = false;
};

// ipcshm_channel_close: unregisters the end, ends the calls that other
// threads are in (they return -EBADF), then releases the role and the object.
int close(uint64_t value) noexcept;

// A full memory fence. ThreadSanitizer does not model fences (GCC refuses
// them under -fsanitize=thread): there, a sequentially consistent
// read-modify-write of a word of this thread's own stands in for one (on
// x86-64 a locked instruction is such a fence).
#if defined(__SANITIZE_THREAD__)
inline void full_fence() noexcept {
  static thread_local std::atomic<int> word{0};
  word.fetch_add(0, std::memory_order_seq_cst);
}
#else
inline void full_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

// ---------------------------------------------------------------------------
// Roles, locks and the peer's liveness (channel_ends.cc)

// Once per process (again: in a forked child): registers for membarrier(2)
// (the asymmetric fences that keep a fence off the way of every message).
// Cheap after the first call.
void init_barriers(bool again = false) noexcept;

// A full barrier on every thread of every process that registered (the other
// end's process) and on this thread: the sleeper's side of the handshake with
// a waker that publishes without a fence. A full fence where membarrier(2) is
// not available (such an end then asks its peer to fence: kFences).
void heavy_barrier() noexcept;
bool have_global_barrier() noexcept;

// The same for the threads of this process (a close against calls in flight),
// and the callers' side of it.
void heavy_local_barrier() noexcept;
void light_local_barrier() noexcept;

// Takes the role for an end whose object `seg` is mapped and whose header
// was checked (g, base set): the OFD lock (-EBUSY if a live end holds it),
// the role word, the notes, and the indices where the previous end of that
// role left them (-EBADMSG if they are impossible).
int take_role(Channel& ch, const Segment& seg, const char* call) noexcept;

// Releases the role of an end that closes: marks it closed, tells the peer,
// wakes it, drops the lock.
void leave_role(Channel& ch) noexcept;

// Whether the peer's role was taken and is vacant now (closed, or its end
// died). probe: whether the lock may be asked of the kernel (a system call)
// if the shared words do not tell.
bool peer_vacant(Channel& ch, bool probe) noexcept;

// The same, asking the kernel at most every few milliseconds (for calls that
// only try, which may come in tight loops).
bool peer_vacant_rate_limited(Channel& ch) noexcept;

// The state of a role as ipcshm_channel_info reports it (IPCSHM_END_*), for
// the role word `word` of an object open as fd, whose lock is on `byte`.
uint32_t end_state(uint32_t word, int fd, int64_t byte) noexcept;

// ---------------------------------------------------------------------------
// The descriptor bridge (channel_fd.cc)

// Ends the end's helpers (their readers get end of file); for close.
void stop_bridges(Channel& ch) noexcept;

// Frees what a forked child inherited of its parent's helpers (their
// mappings and descriptors: the threads did not come along).
void drop_inherited_bridges(Channel& ch) noexcept;

}  // namespace ipcshm::core::channel
