// libFuzzer target for the typed-array header "WA-1" (SPEC §3): the internal
// reader ipcshm::core::arrays::parse_header, linked from src/array_header.cc and
// src/errors.cc only, so that the fuzzer never touches a real object. The input
// is copied into a heap buffer of exactly its size, as a mapping of that size
// would hold it, so AddressSanitizer catches any read past its end. Besides the
// sanitizers' checks, every result is checked against the header's rules, and
// a header accepted is encoded again and must give the same bytes.
//   Built and run by tests/hardening/fuzz.sh.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "arrays.hpp"
#include "errors.hpp"

namespace arrays = ipcshm::core::arrays;

namespace {

[[noreturn]] void broken(const char* rule, size_t size) {
  std::fprintf(stderr, "fuzz_array_header: %s (input of %zu bytes; last error: %s)\n", rule,
               size, ipcshm::core::last_error());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exactly `size` bytes (at least one allocated, so that 0 bytes still has a
  // valid address past which nothing may be read).
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(buf.get(), data, size);
  const void* base = size ? buf.get() : static_cast<void*>(buf.get() + 1);

  arrays::Header h;
  const int rc = arrays::parse_header(base, size, "fuzz", &h);
  if (rc == -EBADMSG) {
    if (ipcshm::core::last_error()[0] == '\0') broken("-EBADMSG without a message", size);
    return 0;
  }
  if (rc != 0) broken("a result other than 0 or -EBADMSG", size);

  // Accepted: the rules of the header hold.
  uint32_t magic;
  std::memcpy(&magic, data, sizeof magic);
  if (magic != arrays::kMagic) broken("accepted without the magic", size);
  if (arrays::element_size(h.etype) == 0) broken("accepted an unknown etype", size);
  if (h.ndims < 1 || h.ndims > arrays::kMaxDims || h.dims.size() != h.ndims)
    broken("accepted a wrong ndims", size);
  if (h.offset != arrays::data_offset(h.ndims) || h.offset % arrays::kDataAlign != 0 ||
      h.offset < arrays::kFixedBytes + 8 * uint64_t{h.ndims})
    broken("accepted a wrong offset", size);
  for (int64_t d : h.dims)
    if (d < 0) broken("accepted a negative dimension", size);
  uint64_t total = 0;
  uint64_t bytes = 0;
  if (!arrays::total_bytes(h.etype, h.ndims, h.dims.data(), &total, &bytes))
    broken("accepted dimensions whose size overflows", size);
  if (bytes != h.data_bytes || total != h.offset + h.data_bytes || total > size)
    broken("accepted elements past the end", size);

  // Encoded again, the header is the same bytes.
  const size_t header_bytes = arrays::kFixedBytes + 8 * size_t{h.ndims};
  std::unique_ptr<uint8_t[]> again(new uint8_t[header_bytes]());
  arrays::write_header_body(again.get(), h.etype, h.ndims, h.dims.data());
  std::memcpy(again.get(), &arrays::kMagic, sizeof arrays::kMagic);
  if (std::memcmp(again.get(), data, header_bytes) != 0)
    broken("an accepted header does not encode back to its bytes", size);
  return 0;
}
