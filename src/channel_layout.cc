// The geometry of a channel, the check of a header read from shared memory,
// and the initial header.
#include "channel_layout.hpp"

#include <cerrno>

#include "errors.hpp"

namespace ipcshm::core::channel {
namespace {

unsigned long long ull(uint64_t v) noexcept { return static_cast<unsigned long long>(v); }

uint64_t round_up(uint64_t v, uint64_t to) noexcept { return (v + to - 1) / to * to; }

}  // namespace

int geometry_for(uint32_t slot_size, uint32_t slot_count, Geometry* out, const char* call,
                 const char* id) noexcept {
  if (slot_size == 0)
    return fail_msg(EINVAL, "%s(\"%.64s\"): slot_size must be at least 1", call, id);
  if (slot_count == 0 || slot_count > kMaxSlotCount)
    return fail_msg(EINVAL, "%s(\"%.64s\"): slot_count %u is outside 1..%u", call, id,
                    slot_count, kMaxSlotCount);
  Geometry g;
  g.slot_size = slot_size;
  g.slot_count = slot_count;
  g.entries_offset = sizeof(Header);
  g.slot_stride = round_up(slot_size, kLine);           // <= 2^32
  g.slots_offset = round_up(g.entries_offset + 8 * uint64_t{slot_count}, kLine);  // < 2^34
  const uint64_t slots = g.slot_stride * slot_count;    // <= 2^62
  if (slots > kMaxTotal - g.slots_offset)
    return fail_msg(EINVAL,
                    "%s(\"%.64s\"): %u slots of %u bytes need %llu bytes, more than a "
                    "channel may have (2^62)",
                    call, id, slot_count, slot_size, ull(slots));
  g.total_size = g.slots_offset + slots;
  *out = g;
  return 0;
}

int check_config(const Config& c, uint64_t mapped, Geometry* out, const char* call,
                 const char* id) noexcept {
  if (c.magic != kMagic)
    return fail_msg(EBADMSG,
                    "%s(\"%.64s\"): not a channel (its first word is 0x%08x, not the "
                    "channel magic 0x%08x)",
                    call, id, c.magic, kMagic);
  if (c.version != kVersion)
    return fail_msg(EBADMSG,
                    "%s(\"%.64s\"): channel layout version %u; this library knows version %u "
                    "(overwritten, or made by a newer library)",
                    call, id, c.version, kVersion);
  Geometry g;
  if (c.slot_size == 0 || c.slot_count == 0 || c.slot_count > kMaxSlotCount ||
      geometry_for(c.slot_size, c.slot_count, &g, call, id) != 0)
    return fail_msg(EBADMSG,
                    "%s(\"%.64s\"): the channel header is corrupt (slot size %u, %u slots)", call,
                    id, c.slot_size, c.slot_count);
  if (c.entries_offset != g.entries_offset || c.slots_offset != g.slots_offset ||
      c.slot_stride != g.slot_stride || c.total_size != g.total_size)
    return fail_msg(EBADMSG,
                    "%s(\"%.64s\"): the channel header is corrupt (offsets %llu/%llu, stride "
                    "%llu, size %llu do not follow from %u slots of %u bytes)",
                    call, id, ull(c.entries_offset), ull(c.slots_offset), ull(c.slot_stride),
                    ull(c.total_size), c.slot_count, c.slot_size);
  if (g.total_size > mapped)
    return fail_msg(EBADMSG,
                    "%s(\"%.64s\"): the channel header says %llu bytes, but the object has "
                    "only %llu",
                    call, id, ull(g.total_size), ull(mapped));
  *out = g;
  return 0;
}

void init_header(void* base, const Geometry& g) noexcept {
  auto* h = static_cast<Header*>(base);
  Config& c = h->config;
  shared(c.magic).store(0, std::memory_order_relaxed);
  c.version = kVersion;
  c.slot_size = g.slot_size;
  c.slot_count = g.slot_count;
  c.entries_offset = g.entries_offset;
  c.slots_offset = g.slots_offset;
  c.slot_stride = g.slot_stride;
  c.total_size = g.total_size;
  auto* entries = reinterpret_cast<uint64_t*>(static_cast<char*>(base) + g.entries_offset);
  // Slot i's first message is i; what is there before is "message i - count".
  for (uint32_t i = 0; i < g.slot_count; ++i)
    shared(entries[i]).store(entry_of(uint64_t{i} - g.slot_count, 0), std::memory_order_relaxed);
  shared(h->tx.tail).store(0, std::memory_order_relaxed);
  shared(h->rx.head).store(0, std::memory_order_relaxed);
}

void publish_header(void* base) noexcept {
  shared(static_cast<Header*>(base)->config.magic).store(kMagic, std::memory_order_release);
}

}  // namespace ipcshm::core::channel
