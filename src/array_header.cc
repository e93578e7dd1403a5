// The "WA-1" array header as bytes (SPEC §3): its layout, the writer's encoding
// and the reader's checks. Pure functions, no system call, so the fuzzer
// (tests/hardening/fuzz_array_header.cc) links this file and errors.cc alone.
#include <cerrno>
#include <cstring>

#include "arrays.hpp"
#include "errors.hpp"

namespace ipcshm::core::arrays {
namespace {

// Byte positions in the header, native-endian.
constexpr uint64_t kMagicAt = 0;
constexpr uint64_t kEtypeAt = 4;
constexpr uint64_t kNdimsAt = 6;
constexpr uint64_t kOffsetAt = 8;
constexpr uint64_t kDimsAt = kFixedBytes;

constexpr uint64_t kElementSizes[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 8, 16};

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

uint64_t element_size(uint32_t etype) noexcept {
  return etype < sizeof kElementSizes / sizeof kElementSizes[0] ? kElementSizes[etype] : 0;
}

uint64_t data_offset(uint32_t ndims) noexcept {
  const uint64_t end = kDimsAt + 8 * uint64_t{ndims};  // at most 16 + 8 * 2^32: no overflow
  return (end + kDataAlign - 1) / kDataAlign * kDataAlign;
}

bool element_count(const int64_t* dims, uint32_t ndims, int64_t* count) noexcept {
  // A zero anywhere empties the array, even if the other dimensions' product
  // alone would overflow.
  for (uint32_t i = 0; i < ndims; ++i)
    if (dims[i] == 0) {
      *count = 0;
      return true;
    }
  int64_t n = 1;
  for (uint32_t i = 0; i < ndims; ++i)
    if (__builtin_mul_overflow(n, dims[i], &n)) return false;
  *count = n;
  return true;
}

bool total_bytes(uint32_t etype, uint32_t ndims, const int64_t* dims, uint64_t* total,
                 uint64_t* data) noexcept {
  int64_t count = 0;
  uint64_t bytes = 0;
  if (!element_count(dims, ndims, &count) ||
      __builtin_mul_overflow(static_cast<uint64_t>(count), element_size(etype), &bytes) ||
      __builtin_add_overflow(data_offset(ndims), bytes, total))
    return false;
  *data = bytes;
  return true;
}

void write_header_body(void* base, uint32_t etype, uint32_t ndims, const int64_t* dims) noexcept {
  auto* p = static_cast<unsigned char*>(base);
  const uint16_t etype16 = static_cast<uint16_t>(etype);
  const uint16_t ndims16 = static_cast<uint16_t>(ndims);
  const int64_t offset = static_cast<int64_t>(data_offset(ndims));
  std::memcpy(p + kEtypeAt, &etype16, sizeof etype16);
  std::memcpy(p + kNdimsAt, &ndims16, sizeof ndims16);
  std::memcpy(p + kOffsetAt, &offset, sizeof offset);
  std::memcpy(p + kDimsAt, dims, 8 * size_t{ndims});
}

int parse_header(const void* base, uint64_t size, const char* id, Header* out) {
  if (!id) id = "?";
  const auto* p = static_cast<const unsigned char*>(base);
  if (!p || size < kFixedBytes)
    return fail_msg(EBADMSG,
                    "array header of \"%s\": the mapping has %llu bytes, fewer than the %llu "
                    "of a header",
                    id, ull(size), ull(kFixedBytes));

  // Copies, each read once: another process may change the bytes meanwhile, and
  // what is checked must be what is used.
  uint32_t magic;
  uint16_t etype;
  uint16_t ndims;
  int64_t offset;
  std::memcpy(&magic, p + kMagicAt, sizeof magic);
  std::memcpy(&etype, p + kEtypeAt, sizeof etype);
  std::memcpy(&ndims, p + kNdimsAt, sizeof ndims);
  std::memcpy(&offset, p + kOffsetAt, sizeof offset);

  if (magic != kMagic)
    return fail_msg(EBADMSG, "array header of \"%s\": magic 0x%08x is not 0x%08X (\"WA-1\")",
                    id, magic, kMagic);
  const uint64_t esize = element_size(etype);
  if (esize == 0)
    return fail_msg(EBADMSG,
                    "array header of \"%s\": element type %u is not an IPCSHM_* code (1..12)",
                    id, unsigned{etype});
  if (ndims == 0)
    return fail_msg(EBADMSG, "array header of \"%s\": ndims is 0 (an array has at least 1)",
                    id);
  const uint64_t dims_end = kDimsAt + 8 * uint64_t{ndims};
  if (dims_end > size)
    return fail_msg(EBADMSG,
                    "array header of \"%s\": its %u dimensions end at byte %llu but the "
                    "mapping has %llu",
                    id, unsigned{ndims}, ull(dims_end), ull(size));
  const uint64_t expected_offset = data_offset(ndims);
  if (offset < 0 || static_cast<uint64_t>(offset) != expected_offset)
    return fail_msg(EBADMSG,
                    "array header of \"%s\": offset %lld is not %llu, where the elements of "
                    "%u dimensions start",
                    id, static_cast<long long>(offset), ull(expected_offset), unsigned{ndims});

  std::vector<int64_t> dims(ndims);
  std::memcpy(dims.data(), p + kDimsAt, 8 * size_t{ndims});
  for (uint32_t i = 0; i < ndims; ++i)
    if (dims[i] < 0)  // numbered from 1, as Julia's size(A, d)
      return fail_msg(EBADMSG, "array header of \"%s\": dimension %u is %lld", id, i + 1,
                      static_cast<long long>(dims[i]));
  int64_t count = 0;
  if (!element_count(dims.data(), ndims, &count))
    return fail_msg(EBADMSG,
                    "array header of \"%s\": the product of its %u dimensions overflows int64",
                    id, unsigned{ndims});
  uint64_t bytes = 0;
  uint64_t end = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(count), esize, &bytes) ||
      __builtin_add_overflow(expected_offset, bytes, &end))
    return fail_msg(EBADMSG,
                    "array header of \"%s\": %lld elements of %llu bytes past offset %llu "
                    "overflow uint64",
                    id, static_cast<long long>(count), ull(esize), ull(expected_offset));
  if (end > size)
    return fail_msg(EBADMSG,
                    "array header of \"%s\": the elements need %llu bytes past offset %llu "
                    "but the mapping has %llu",
                    id, ull(bytes), ull(expected_offset), ull(size));

  if (out) {
    out->etype = etype;
    out->ndims = ndims;
    out->offset = expected_offset;
    out->data_bytes = bytes;
    out->dims = std::move(dims);
  }
  return 0;
}

}  // namespace ipcshm::core::arrays
