// libFuzzer target for the channel layout (SPEC §9: a header from shared
// memory is untrusted): the check an end makes when it opens
// (ipcshm::core::channel::check_config, indices_possible, resume_position),
// linked from src/channel_layout.cc and src/errors.cc only, so that the
// fuzzer never touches a real object. The input is the start of a channel
// object, copied into a heap buffer of exactly its size, as a mapping of that
// size would hold it, so AddressSanitizer catches any access past its end.
//
// A header accepted must describe a layout inside the buffer: then every
// entry and every slot (its whole stride) is read, a new sender's position is
// worked out from the indices, and a receiver drains the published messages
// as channel_io.cc does (its own index modulo slot_count, every length
// checked against slot_size), copying each one out of its slot.
//   Built and run by tests/hardening/fuzz.sh.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "channel_layout.hpp"
#include "errors.hpp"

namespace ch = ipcshm::core::channel;

namespace {

[[noreturn]] void broken(const char* rule, size_t size) {
  std::fprintf(stderr, "fuzz_channel_header: %s (input of %zu bytes; last error: %s)\n", rule,
               size, ipcshm::core::last_error());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(ch::Config)) return 0;  // an end never reads a shorter object's header
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size]);
  std::memcpy(buf.get(), data, size);
  uint8_t* base = buf.get();

  ch::Config copy;
  std::memcpy(&copy, base, sizeof copy);
  ch::Geometry g;
  const int rc = ch::check_config(copy, size, &g, "fuzz", "/fuzz");
  if (rc == -EBADMSG) {
    if (ipcshm::core::last_error()[0] == '\0') broken("-EBADMSG without a message", size);
    return 0;
  }
  if (rc != 0) broken("a result other than 0 or -EBADMSG", size);

  // Accepted: the layout is the one the sizes imply, and inside the buffer.
  if (copy.magic != ch::kMagic || copy.version != ch::kVersion)
    broken("accepted a foreign header", size);
  if (g.slot_size == 0 || g.slot_count == 0 || g.slot_count > ch::kMaxSlotCount)
    broken("accepted impossible sizes", size);
  if (g.slot_stride < g.slot_size || g.slot_stride % 64 != 0 || g.slots_offset % 64 != 0)
    broken("accepted a misaligned slot", size);
  if (g.entries_offset != sizeof(ch::Header) ||
      g.entries_offset + 8 * uint64_t{g.slot_count} > g.slots_offset)
    broken("accepted entries that overlap", size);
  if (g.total_size != g.slots_offset + g.slot_stride * g.slot_count || g.total_size > size)
    broken("accepted a layout past the end", size);

  auto* h = reinterpret_cast<ch::Header*>(base);
  auto* entries = reinterpret_cast<uint64_t*>(base + g.entries_offset);
  uint8_t* slots = base + g.slots_offset;
  // Every entry, and the last byte of every slot's stride, is inside.
  volatile uint64_t sink = 0;
  for (uint32_t i = 0; i < g.slot_count; ++i) {
    sink = sink + entries[i];
    sink = sink + slots[uint64_t{i} * g.slot_stride + g.slot_stride - 1];
  }

  // The indices a new end reads, and where a new sender goes on.
  const uint64_t tail = h->tx.tail;
  const uint64_t head = h->rx.head;
  if (!ch::indices_possible(tail, head, g.slot_count)) return 0;  // -EBADMSG at open
  const uint64_t resume = ch::resume_position(entries, g.slot_count, tail, head);
  if (resume - head > g.slot_count) broken("a sender would resume past a full ring", size);

  // A receiver from head: published messages, in order, lengths checked.
  std::vector<uint8_t> out(g.slot_size);
  uint64_t pos = head;
  for (uint32_t n = 0; n <= g.slot_count; ++n) {
    const uint64_t e = entries[pos % g.slot_count];
    if (ch::entry_seq(e) != static_cast<uint32_t>(pos)) break;  // not published
    const uint32_t len = ch::entry_len(e);
    if (len > g.slot_size) break;  // -EBADMSG
    std::memcpy(out.data(), slots + (pos % g.slot_count) * g.slot_stride, len);
    ++pos;
  }
  // A sender's next slot, written whole.
  std::memset(slots + (resume % g.slot_count) * g.slot_stride, 0xab, g.slot_size);
  return 0;
}
