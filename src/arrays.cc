// Typed arrays (SPEC §3): creating an object that holds a "WA-1" header and its
// elements, and reading that header back from a mapping. The bytes themselves
// are array_header.cc's; this file adds the objects and the publication order.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "arrays.hpp"
#include "errors.hpp"
#include "objects.hpp"

namespace ipcshm::core::arrays {
namespace {

// How long an attacher waits for a creator that made the object but has not yet
// written its header, and how often it looks.
constexpr long kHeaderWaitNs = 1'000'000'000;
constexpr long kHeaderPollNs = 1'000'000;

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

std::atomic_ref<uint32_t> magic_of(const Segment& seg) {
  return std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(seg.addr()));
}

// Under IPCSHM_OPEN_OR_CREATE the object may be between its creator's create and
// its header's magic: wait a little for the magic (acquire, pairing with the
// creator's release) before reading the rest.
void wait_for_magic(const Segment& seg) {
  if (seg.size() < sizeof(uint32_t)) return;  // parse_header says what is wrong
  for (long waited = 0; waited < kHeaderWaitNs; waited += kHeaderPollNs) {
    if (magic_of(seg).load(std::memory_order_acquire) != 0) return;
    struct timespec ts = {0, kHeaderPollNs};
    ::nanosleep(&ts, nullptr);
  }
}

// "(3, 2)", for messages (the first 8 dimensions, then "...").
std::string shape(const int64_t* dims, uint32_t ndims) {
  std::string out = "(";
  for (uint32_t i = 0; i < ndims && i < 8; ++i)
    out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + (ndims > 8 ? ", ...)" : ")");
}

// An attached object must already hold the array asked for.
int check_same(const Segment& seg, uint32_t etype, uint32_t ndims, const int64_t* dims) {
  wait_for_magic(seg);
  Header h;
  if (int rc = parse_header(seg.addr(), seg.size(), seg.id().c_str(), &h); rc < 0) return rc;
  if (h.etype != etype || h.ndims != ndims ||
      !std::equal(h.dims.begin(), h.dims.end(), dims))
    return fail_msg(EEXIST,
                    "ipcshm_array_create(\"%s\"): exists with a different element type or "
                    "dimensions (etype %u, dims %s; asked for etype %u, dims %s)",
                    seg.id().c_str(), h.etype, shape(h.dims.data(), h.ndims).c_str(), etype,
                    shape(dims, ndims).c_str());
  return 0;
}

}  // namespace

int create(const char* id, uint32_t etype, uint32_t ndims, const int64_t* dims,
           uint32_t perms, uint32_t flags, SegmentPtr* out) {
  if (element_size(etype) == 0)
    return fail_msg(EINVAL,
                    "ipcshm_array_create(\"%.64s\"): etype %u is not an IPCSHM_* element type "
                    "code (1..12)",
                    id, etype);
  if (ndims < 1 || ndims > kMaxDims)
    return fail_msg(EINVAL, "ipcshm_array_create(\"%.64s\"): ndims %u is not in 1..%u", id,
                    ndims, kMaxDims);
  for (uint32_t i = 0; i < ndims; ++i)
    if (dims[i] < 0)
      return fail_msg(EINVAL, "ipcshm_array_create(\"%.64s\"): dims[%u] is %lld (must be >= 0)",
                      id, i, static_cast<long long>(dims[i]));
  if (flags & IPCSHM_READONLY)
    return fail_msg(EINVAL,
                    "ipcshm_array_create(\"%.64s\"): IPCSHM_READONLY cannot write the header",
                    id);
  uint64_t total = 0;
  uint64_t data_bytes = 0;
  if (!total_bytes(etype, ndims, dims, &total, &data_bytes))
    return fail_msg(EINVAL,
                    "ipcshm_array_create(\"%.64s\"): %u dimensions of %llu-byte elements: the "
                    "element count or the byte count overflows",
                    id, ndims, ull(element_size(etype)));

  int rc = core::create_shaped(id, total, perms, flags, "ipcshm_array_create",
                              "element type or dimensions", out);
  if (rc < 0) return rc;
  Segment& seg = **out;
  if (rc == 0) {
    if (int bad = check_same(seg, etype, ndims, dims); bad < 0) {
      out->reset();
      return bad;
    }
    return 0;
  }
  // A new object is all zeros: the body first, then the magic that publishes it.
  write_header_body(seg.addr(), etype, ndims, dims);
  magic_of(seg).store(kMagic, std::memory_order_release);
  return 1;
}

int header(const Segment& seg, uint32_t* etype, uint32_t* ndims, int64_t* dims,
           uint32_t maxdims, uint64_t* offset) {
  Header h;
  if (int rc = parse_header(seg.addr(), seg.size(), seg.id().c_str(), &h); rc < 0) return rc;
  if (etype) *etype = h.etype;
  if (ndims) *ndims = h.ndims;
  if (offset) *offset = h.offset;
  const uint32_t n = std::min(maxdims, h.ndims);
  if (dims && n > 0) std::memcpy(dims, h.dims.data(), sizeof(int64_t) * n);
  if (maxdims < h.ndims)
    return fail_msg(ERANGE,
                    "array header of \"%s\": %u dimensions, but room for only %u (maxdims)",
                    seg.id().c_str(), h.ndims, maxdims);
  return 0;
}

void* data(const Segment& seg) {
  Header h;
  if (parse_header(seg.addr(), seg.size(), seg.id().c_str(), &h) < 0) return nullptr;
  return static_cast<unsigned char*>(seg.addr()) + h.offset;
}

}  // namespace ipcshm::core::arrays
