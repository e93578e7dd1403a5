// The layout of a channel in shared memory (header, publication entries,
// slots) and the check every end makes before it trusts a header.
//
// Every byte here may have been written by another process, on purpose or by
// accident. An end copies the geometry once, when it opens, checks it against
// the size of its own mapping, and from then on computes every address from
// its copy: nothing read later from shared memory can move an access outside
// the mapping (indices are reduced modulo slot_count, lengths checked against
// slot_size).
//
//   offset 0     Config      line 0: geometry, written once before the magic
//   offset 64    SenderLine  line 1: what the sender writes for each message
//   offset 128   ReceiverLine line 2: what the receiver writes for each message
//   offset 192   Roles       line 3: who has taken each role, how often
//   offset 256   entries     slot_count x 8 bytes, padded to 64
//   slots_offset slots       slot_count x slot_stride bytes, each 64-aligned
//
// A message i (counted from 0 since the channel was made) lives in slot
// i % slot_count. The sender writes its bytes, then publishes it with one
// 64-bit store to entries[i % slot_count]: the low 32 bits the sequence number
// i (truncated), the high 32 bits its length. The receiver knows the next i it
// expects, so an entry whose sequence is not i is not published (yet). The
// lengths thus live outside the 64-byte payload lines, and no separate "tail"
// index travels between the processes for each message. A sender that dies
// before that store leaves nothing the receiver would take: a half-written
// message is never delivered.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ipcshm::core::channel {

constexpr uint32_t kMagic = 0x43435049;  // "IPCC" in memory (little-endian)
constexpr uint32_t kVersion = 1;
constexpr uint64_t kLine = 64;

// Sizes a channel may have. slot_count stays below 2^31 so that the 32-bit
// sequences of a slot's successive messages (i, i + slot_count, ...) differ.
constexpr uint32_t kMaxSlotCount = 1u << 30;
constexpr uint64_t kMaxTotal = uint64_t{1} << 62;

// Line 0, immutable once the magic is there.
struct Config {
  uint32_t magic;
  uint32_t version;
  uint32_t slot_size;       // the largest message, in bytes
  uint32_t slot_count;
  uint64_t entries_offset;  // always sizeof(Header)
  uint64_t slots_offset;
  uint64_t slot_stride;     // slot_size rounded up to 64
  uint64_t total_size;      // the bytes the layout needs (the object may be larger)
  uint32_t reserved[4];
};

// Bits of the notes words: written by one side into the other side's line,
// read by that other side with every message.
constexpr uint32_t kSleeping = 1u << 0;        // the writer's end sleeps in FUTEX_WAIT
constexpr uint32_t kVacated = 1u << 1;         // the writer's role was closed
constexpr uint32_t kFences = 1u << 2;          // the writer cannot use membarrier: fence
constexpr uint32_t kHelperSleeping = 1u << 3;  // an ipcshm_channel_fd helper sleeps
constexpr uint32_t kAnySleeper = kSleeping | kHelperSleeping;

// Line 1: the sender writes `tail` after each message (nobody reads it on the
// way of a message: it is for a new sender after a crash, and for `ipcshm ls`);
// the receiver writes rx_notes on rare events, which the sender reads with
// every message (so the line rarely leaves the sender's cache).
struct SenderLine {
  uint64_t tail;       // messages published (the sender's next index)
  uint32_t rx_notes;   // kSleeping, kVacated, kFences, kHelperSleeping of the receiver
  uint32_t reserved[13];
};

// Line 2, the mirror image: the receiver writes `head` after each message it
// releases; the sender reads it only when its own copy says the ring is full.
// A sender that waits for room sleeps on head's low 32 bits.
struct ReceiverLine {
  uint64_t head;       // messages released (the receiver's next index)
  uint32_t tx_notes;   // the sender's notes
  uint32_t reserved[13];
};

// Line 3: for each role, (times taken << 1) | open. Written when an end opens
// or closes. A role taken and not open (or open, but its lock free: the end
// died) is vacant, and its peer gets -EPIPE.
struct Roles {
  uint32_t sender;
  uint32_t receiver;
  uint32_t reserved[14];
};

struct Header {
  Config config;
  SenderLine tx;
  ReceiverLine rx;
  Roles roles;
};

static_assert(sizeof(Config) == kLine && sizeof(SenderLine) == kLine &&
              sizeof(ReceiverLine) == kLine && sizeof(Roles) == kLine);
static_assert(sizeof(Header) == 4 * kLine);
static_assert(std::atomic_ref<uint64_t>::required_alignment <= 8);

// The byte of the object whose OFD lock (fcntl F_OFD_SETLK) an end of that
// role holds while it is open: the kernel drops it when the end's last
// descriptor closes, however its process ends.
constexpr int64_t kSenderLockByte = 0;
constexpr int64_t kReceiverLockByte = 1;

enum class Role : uint32_t { sender = 1, receiver = 2 };

inline uint32_t role_taken(uint32_t word) noexcept { return word >> 1; }
inline bool role_open(uint32_t word) noexcept { return (word & 1) != 0; }

// The geometry that slot_size and slot_count imply.
struct Geometry {
  uint32_t slot_size = 0;
  uint32_t slot_count = 0;
  uint64_t entries_offset = 0;
  uint64_t slots_offset = 0;
  uint64_t slot_stride = 0;
  uint64_t total_size = 0;
};

// 0, or -EINVAL with a message naming `call` and `id` when the sizes are out
// of range (slot_size 0, slot_count 0 or above kMaxSlotCount, a total above
// kMaxTotal).
int geometry_for(uint32_t slot_size, uint32_t slot_count, Geometry* out, const char* call,
                 const char* id) noexcept;

// Checks a copy of line 0 made from an object of `mapped` bytes: the magic,
// the version, and a geometry that is exactly the one its sizes imply and fits
// in those bytes. 0 and *out, or -EBADMSG with a message.
int check_config(const Config& copy, uint64_t mapped, Geometry* out, const char* call,
                 const char* id) noexcept;

// Writes a fresh header for `g` (the memory is zero, as a new object is):
// every entry marked unpublished, the indices 0, but not the magic yet.
void init_header(void* base, const Geometry& g) noexcept;

// Stores the magic (release): from then on the header may be opened.
void publish_header(void* base) noexcept;

// An entry: sequence in the low half (the futex word a receiver sleeps on),
// length in the high half.
inline uint64_t entry_of(uint64_t seq, uint32_t len) noexcept {
  return (static_cast<uint64_t>(len) << 32) | static_cast<uint32_t>(seq);
}
inline uint32_t entry_seq(uint64_t e) noexcept { return static_cast<uint32_t>(e); }
inline uint32_t entry_len(uint64_t e) noexcept { return static_cast<uint32_t>(e >> 32); }

// The 32-bit half of a 64-bit word that holds its low bits: the futex word.
inline uint32_t* low_word(uint64_t* word) noexcept {
  return reinterpret_cast<uint32_t*>(word) + (std::endian::native == std::endian::little ? 0 : 1);
}

template <typename T>
inline std::atomic_ref<T> shared(T& word) noexcept {
  return std::atomic_ref<T>(word);
}

// Whether the two indices a new end reads from shared memory are possible:
// the receiver's head at most slot_count behind the sender's tail, or one
// ahead of it (a sender died between publishing a message and counting it).
inline bool indices_possible(uint64_t tail, uint64_t head, uint32_t slot_count) noexcept {
  return tail - head <= slot_count || head - tail == 1;
}

// Where a new sender goes on: after the last message published, which is
// `tail`, or beyond it where a dead sender published without counting (the
// entries tell). indices_possible(tail, head) holds; entries has slot_count
// entries.
inline uint64_t resume_position(const uint64_t* entries, uint32_t slot_count, uint64_t tail,
                                uint64_t head) noexcept {
  uint64_t pos = head - tail == 1 ? head : tail;
  while (pos - head < slot_count &&
         entry_seq(shared(const_cast<uint64_t*>(entries)[pos % slot_count])
                       .load(std::memory_order_acquire)) == static_cast<uint32_t>(pos))
    ++pos;
  return pos;
}

}  // namespace ipcshm::core::channel
