// The fixed 64-byte layouts of events, semaphores and mutexes in shared memory,
// and the check every operation makes before it trusts one.
//
// Every word here may have been written by another process, on purpose or by
// accident: it is read through atomics, checked before use, and no value of it
// may make the library index out of bounds, crash, or wait without end.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "ipcshm.h"

namespace ipcshm::core::sync {

// A word of shared memory, accessed atomically.
template <typename T>
inline std::atomic_ref<T> at(T& word) noexcept {
  return std::atomic_ref<T>(word);
}

// The first two words of every primitive: a magic number that names its kind,
// then the version of its layout. A primitive that was never initialised, or is
// of another kind, fails the magic (-EINVAL); a known magic with an unknown
// version or impossible contents is -EBADMSG.
constexpr uint32_t kLayoutVersion = 1;
constexpr uint32_t kEventMagic = 0x45435049;      // "IPCE" in memory (little-endian)
constexpr uint32_t kSemaphoreMagic = 0x53435049;  // "IPCS"
constexpr uint32_t kMutexMagic = 0x4d435049;      // "IPCM"

struct Event {
  uint32_t magic;
  uint32_t version;
  uint64_t seq;        // the sequence; FUTEX_WAIT sleeps on its low 32 bits
  uint32_t sleepers;   // waiters in FUTEX_WAIT or about to be (over-counts a dead one)
  uint32_t reserved[11];
};

struct Semaphore {
  uint32_t magic;
  uint32_t version;
  uint32_t value;      // the count, and the futex word
  uint32_t sleepers;
  uint32_t reserved[12];
};

// The owner word holds the owner's identity in one atomic 64-bit value, so
// that taking the lock and saying who took it are one step: (start << 32) | tid,
// where tid is the owning thread's id and start the low 32 bits of its start
// time in clock ticks (/proc/<tid>/stat field 22). 0 is free; kPoisoned is
// not recoverable. FUTEX_WAIT sleeps on the tid half.
struct Mutex {
  uint32_t magic;
  uint32_t version;
  uint64_t owner;
  uint32_t sleepers;
  uint32_t state;      // kConsistent, kInconsistent, kNotRecoverable
  uint32_t reserved[10];
};

static_assert(sizeof(Event) == IPCSHM_EVENT_SIZE);
static_assert(sizeof(Semaphore) == IPCSHM_SEM_SIZE);
static_assert(sizeof(Mutex) == IPCSHM_MUTEX_SIZE);
static_assert(offsetof(Event, seq) % 8 == 0 && offsetof(Mutex, owner) % 8 == 0);
static_assert(std::atomic_ref<uint64_t>::required_alignment <= 8);

constexpr uint32_t kConsistent = 0;
constexpr uint32_t kInconsistent = 1;     // its owner died; the holder got -EOWNERDEAD
constexpr uint32_t kNotRecoverable = 2;

constexpr uint64_t kFree = 0;
constexpr uint64_t kPoisoned = ~uint64_t{0};
// Linux never gives out a tid above PID_MAX_LIMIT (2^22 on 64-bit systems).
constexpr uint32_t kMaxTid = 1u << 22;

inline uint32_t tid_of(uint64_t owner) noexcept { return static_cast<uint32_t>(owner); }

// An owner word that no lock operation could have written.
inline bool impossible_owner(uint64_t owner) noexcept {
  if (owner == kFree || owner == kPoisoned) return false;
  uint32_t tid = tid_of(owner);
  return tid == 0 || tid > kMaxTid;
}

// The 32-bit half of a 64-bit word that holds its low bits: the futex word.
inline uint32_t* low_half(uint64_t* word) noexcept {
  return reinterpret_cast<uint32_t*>(word) + (std::endian::native == std::endian::little ? 0 : 1);
}

// What kind of primitive a magic number names, for messages.
const char* kind_of_magic(uint32_t magic) noexcept;

// The message and error of check_header, out of line.
int header_error(const void* p, uint32_t magic, const char* call) noexcept;

// Checks the magic and the version of the primitive at p (8-aligned, not NULL:
// the C layer checked). 0, -EINVAL or -EBADMSG, with a message naming `call`.
inline int check_header(const void* p, uint32_t magic, const char* call) noexcept {
  auto* words = static_cast<uint32_t*>(const_cast<void*>(p));
  // Acquire: pairs with the initialiser's release of the magic, so that the
  // rest of the primitive is seen as it was initialised.
  if (at(words[0]).load(std::memory_order_acquire) == magic &&
      at(words[1]).load(std::memory_order_relaxed) == kLayoutVersion) [[likely]]
    return 0;
  return header_error(p, magic, call);
}

}  // namespace ipcshm::core::sync
