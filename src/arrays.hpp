// Typed arrays with InterProcessCommunication.jl's "WA-1" header (SPEC §3).
// The header lives in shared memory, so every read copies it first and then
// checks it, trusting nothing of what another process may have written.
#pragma once

#include <cstdint>
#include <vector>

#include "segment.hpp"

namespace ipcshm::core::arrays {

// A header as read from shared memory, once checked (array_header.cc: pure
// functions on bytes, which the fuzzer links without the rest of the library).
struct Header {
  uint32_t etype = 0;
  uint32_t ndims = 0;
  uint64_t offset = 0;      // where the elements start
  uint64_t data_bytes = 0;  // elements x element size
  std::vector<int64_t> dims;
};

// Copies the header at the start of the `size` bytes at `base` (a mapping) and
// checks it: magic, etype, ndims >= 1, dims >= 0, offset as the layout says, and
// offset + data_bytes <= size without overflow. -EBADMSG with a message that
// names `id` and what is wrong. Never reads outside [base, base + size).
int parse_header(const void* base, uint64_t size, const char* id, Header* out);

// ipcshm_array_create: checks etype, ndims and dims, creates the object through
// core::create with room for the header and the elements, and writes the
// header (the magic last, so that a reader that sees it sees the rest). With
// IPCSHM_OPEN_OR_CREATE, an existing object must already hold the same array
// (-EEXIST otherwise). 1: created; 0: attached an existing array.
int create(const char* id, uint32_t etype, uint32_t ndims, const int64_t* dims,
           uint32_t perms, uint32_t flags, SegmentPtr* out);

// ipcshm_array_header on a live segment; every out-pointer may be NULL.
int header(const Segment& seg, uint32_t* etype, uint32_t* ndims, int64_t* dims,
           uint32_t maxdims, uint64_t* offset);

// ipcshm_array_data: the first element, or nullptr with this thread's message set.
void* data(const Segment& seg);

// ---------------------------------------------------------------------------
// The layout, shared by the writer (arrays.cc) and the reader (parse_header).

constexpr uint32_t kMagic = 0x57412D31;  // "WA-1" read as a native uint32
constexpr uint64_t kFixedBytes = 16;     // magic, etype, ndims, offset
constexpr uint64_t kDataAlign = 64;      // the elements start on a 64-byte boundary
constexpr uint32_t kMaxDims = 65535;     // ndims is a uint16

// Bytes of one element of type etype (IPCSHM_INT8..IPCSHM_COMPLEX128); 0 if etype
// is not one of them.
uint64_t element_size(uint32_t etype) noexcept;

// Where the elements start: round_up(16 + 8 * ndims, 64).
uint64_t data_offset(uint32_t ndims) noexcept;

// The number of elements, dims[0] x ... x dims[ndims-1], all >= 0 (any 0 makes
// it 0, whatever the others are); false if it does not fit an int64.
bool element_count(const int64_t* dims, uint32_t ndims, int64_t* count) noexcept;

// The bytes of the whole object (header, padding, elements) and of the
// elements alone; false if they do not fit a uint64. Inputs already checked.
bool total_bytes(uint32_t etype, uint32_t ndims, const int64_t* dims, uint64_t* total,
                 uint64_t* data) noexcept;

// Writes everything of the header at base but the magic (etype, ndims, offset,
// dims; the padding up to the offset is left as it is), for the caller to
// publish with a release store of kMagic at base.
void write_header_body(void* base, uint32_t etype, uint32_t ndims, const int64_t* dims) noexcept;

}  // namespace ipcshm::core::arrays
