// Typed arrays (SPEC §3, header "WA-1"): ipcshm_array_create, ipcshm_array_header
// and ipcshm_array_data, as the header's comments promise them. The expected bytes
// are written here from the SPEC's text, never by the library's encoder, and the
// hostile headers are written by hand into plain objects, as another process (or
// an older or broken writer) might leave them.
#include <gtest/gtest.h>

#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::Child;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::id_of;
using testutil::Kind;
using testutil::key_id;
using testutil::RemoveGuard;
using testutil::unique_key;
using testutil::unique_name;

constexpr uint32_t kMagic = 0x57412D31;  // "WA-1"

// Element sizes by code, from the SPEC's table (index 0 unused).
constexpr uint64_t kSizes[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 8, 16};

uint64_t round_up_64(uint64_t n) { return (n + 63) / 64 * 64; }

std::string last_error() { return ipcshm_last_error(); }

bool mentions(const std::string& text) { return last_error().find(text) != std::string::npos; }

bool exists(const std::string& id) {
  ipcshm_info_t info = testutil::fresh_info();
  return ipcshm_info(id.c_str(), &info) != -ENOENT;
}

// One object and its guards, removed and detached whatever way the test ends:
// the canonical id is removed first, then the handle detached, then the id asked
// for removed (in case create failed halfway and left something).
struct Obj {
  RemoveGuard asked{""};
  HandleGuard h;
  RemoveGuard canon{""};
  std::string id;  // canonical id, attachable from another process
  int rc = 0;

  ipcshm_t* get() const { return h.get(); }
  unsigned char* base() const { return static_cast<unsigned char*>(ipcshm_pointer(h.get())); }
  void guard(const std::string& asked_id) {
    if (asked_id != "private") asked.reset(asked_id);
    if (rc >= 0 && h.get()) {
      id = id_of(h.get());
      if (!id.empty()) canon.reset(id);
    }
  }
};

void make_array(Obj& o, const std::string& id, uint32_t etype, const std::vector<int64_t>& dims,
                uint32_t flags = 0) {
  o.rc = ipcshm_array_create(id.c_str(), etype, static_cast<uint32_t>(dims.size()), dims.data(),
                             0600, flags, o.h.out());
  o.guard(id);
}

void make_plain(Obj& o, const std::string& id, uint64_t size, uint32_t flags = 0) {
  o.rc = ipcshm_create(id.c_str(), size, 0600, flags, o.h.out());
  o.guard(id);
}

// Native-endian stores into a mapping, as a writer in another language would.
void put_u32(unsigned char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put_u16(unsigned char* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put_i64(unsigned char* p, int64_t v) { std::memcpy(p, &v, 8); }

// A header written field by field: magic, etype, ndims, offset, dims.
void write_header(unsigned char* p, uint32_t magic, uint16_t etype, uint16_t ndims,
                  int64_t offset, const std::vector<int64_t>& dims) {
  put_u32(p, magic);
  put_u16(p + 4, etype);
  put_u16(p + 6, ndims);
  put_i64(p + 8, offset);
  for (size_t i = 0; i < dims.size(); ++i) put_i64(p + 16 + 8 * i, dims[i]);
}

class ArraysTest : public ::testing::TestWithParam<Kind> {
 protected:
  std::string fresh_id() {
    switch (GetParam()) {
      case Kind::Posix:
        return unique_name("arr");
      case Kind::SysvPrivate:
        return "private";
      case Kind::SysvKey:
        return key_id(unique_key());
    }
    return "";
  }
};

INSTANTIATE_TEST_SUITE_P(Kinds, ArraysTest,
                         ::testing::Values(Kind::Posix, Kind::SysvPrivate, Kind::SysvKey),
                         testutil::kind_name);

// ---------------------------------------------------------------------------
// The layout, byte for byte.

TEST_P(ArraysTest, GoldenBytesOfA3x2Float64Array) {
  if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
    GTEST_SKIP() << "the bytes below are little-endian";
  Obj a;
  const std::string asked = fresh_id();
  make_array(a, asked, IPCSHM_FLOAT64, {3, 2});
  ASSERT_EQ(1, a.rc) << last_error();
  ASSERT_EQ(64u + 6 * 8, ipcshm_size(a.get()));

  const unsigned char expected[64] = {
      0x31, 0x2D, 0x41, 0x57,                          // magic 0x57412D31 ("WA-1")
      10,   0,                                         // etype IPCSHM_FLOAT64
      2,    0,                                         // ndims
      64,   0,    0,    0,    0, 0, 0, 0,              // offset
      3,    0,    0,    0,    0, 0, 0, 0,              // dims[0]
      2,    0,    0,    0,    0, 0, 0, 0,              // dims[1]
      0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,  // padding up to the offset
      0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  };
  unsigned char* base = a.base();
  ASSERT_NE(nullptr, base);
  EXPECT_EQ(0, std::memcmp(base, expected, sizeof expected));
  EXPECT_EQ(static_cast<void*>(base + 64), ipcshm_array_data(a.get()));

  // Column-major: A[i, j] is element i + 3 * j.
  auto* elems = static_cast<double*>(ipcshm_array_data(a.get()));
  ASSERT_NE(nullptr, elems);
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 3; ++i) EXPECT_EQ(0.0, elems[i + 3 * j]);  // created zeroed
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 3; ++i) elems[i + 3 * j] = 10.0 * (i + 1) + (j + 1);
  const double column_major[6] = {11, 21, 31, 12, 22, 32};
  EXPECT_EQ(0, std::memcmp(base + 64, column_major, sizeof column_major));

  uint32_t etype = 0, ndims = 0;
  int64_t dims[4] = {-1, -1, -1, -1};
  uint64_t offset = 0;
  ASSERT_EQ(0, ipcshm_array_header(a.get(), &etype, &ndims, dims, 4, &offset)) << last_error();
  EXPECT_EQ(uint32_t{IPCSHM_FLOAT64}, etype);
  EXPECT_EQ(2u, ndims);
  EXPECT_EQ(3, dims[0]);
  EXPECT_EQ(2, dims[1]);
  EXPECT_EQ(-1, dims[2]);  // beyond ndims: untouched
  EXPECT_EQ(64u, offset);
}

TEST_P(ArraysTest, AnotherProcessReadsAndWritesThroughItsOwnAttach) {
  Obj a;
  make_array(a, fresh_id(), IPCSHM_INT32, {4, 5, 2});
  ASSERT_EQ(1, a.rc) << last_error();
  auto* elems = static_cast<int32_t*>(ipcshm_array_data(a.get()));
  ASSERT_NE(nullptr, elems);
  for (int k = 0; k < 40; ++k) elems[k] = 1000 + k;
  const std::string id = a.id;

  Child child([&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 10;
    uint32_t etype = 0, ndims = 0;
    int64_t dims[3] = {0, 0, 0};
    uint64_t offset = 0;
    if (ipcshm_array_header(h, &etype, &ndims, dims, 3, &offset) != 0) return 11;
    if (etype != IPCSHM_INT32 || ndims != 3 || offset != 64) return 12;
    if (dims[0] != 4 || dims[1] != 5 || dims[2] != 2) return 13;
    auto* mine = static_cast<int32_t*>(ipcshm_array_data(h));
    if (mine != reinterpret_cast<int32_t*>(static_cast<char*>(ipcshm_pointer(h)) + 64)) return 14;
    for (int k = 0; k < 40; ++k)
      if (mine[k] != 1000 + k) return 15;
    mine[39] = -7;  // last element: A[4, 5, 2]
    return ipcshm_detach(h) == 0 ? 0 : 16;
  });
  const int status = child.wait();
  ASSERT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
  EXPECT_EQ(-7, elems[39]);
}

TEST_P(ArraysTest, AReadOnlyAttachReadsTheHeader) {
  Obj a;
  make_array(a, fresh_id(), IPCSHM_UINT8, {7});
  ASSERT_EQ(1, a.rc) << last_error();
  HandleGuard ro;
  ASSERT_EQ(0, ipcshm_attach(a.id.c_str(), IPCSHM_READONLY, ro.out())) << last_error();
  uint32_t ndims = 0;
  int64_t dim = 0;
  EXPECT_EQ(0, ipcshm_array_header(ro.get(), nullptr, &ndims, &dim, 1, nullptr));
  EXPECT_EQ(1u, ndims);
  EXPECT_EQ(7, dim);
  EXPECT_EQ(static_cast<char*>(ipcshm_pointer(ro.get())) + 64, ipcshm_array_data(ro.get()));
}

// ---------------------------------------------------------------------------
// Element types, dimensions, offsets.

TEST_P(ArraysTest, EveryElementTypeHasItsSize) {
  for (uint32_t etype = IPCSHM_INT8; etype <= IPCSHM_COMPLEX128; ++etype) {
    SCOPED_TRACE("etype " + std::to_string(etype));
    Obj a;
    make_array(a, fresh_id(), etype, {5});
    ASSERT_EQ(1, a.rc) << last_error();
    EXPECT_EQ(64 + 5 * kSizes[etype], ipcshm_size(a.get()));
    uint32_t got = 0;
    int64_t dim = 0;
    EXPECT_EQ(0, ipcshm_array_header(a.get(), &got, nullptr, &dim, 1, nullptr));
    EXPECT_EQ(etype, got);
    EXPECT_EQ(5, dim);
    uint16_t stored = 0;
    std::memcpy(&stored, a.base() + 4, 2);
    EXPECT_EQ(etype, stored);
    EXPECT_EQ(a.base() + 64, ipcshm_array_data(a.get()));
  }
}

TEST_P(ArraysTest, OffsetIsRoundUp64Of16Plus8PerDimension) {
  for (uint32_t n = 1; n <= 9; ++n) {
    SCOPED_TRACE("ndims " + std::to_string(n));
    const uint64_t expected = n <= 6 ? 64 : 128;  // 16 + 8n <= 64 up to n = 6
    ASSERT_EQ(round_up_64(16 + 8 * n), expected);
    Obj a;
    std::vector<int64_t> dims(n, 2);
    make_array(a, fresh_id(), IPCSHM_INT16, dims);
    ASSERT_EQ(1, a.rc) << last_error();
    EXPECT_EQ(expected + (uint64_t{2} << n), ipcshm_size(a.get()));
    uint64_t offset = 0;
    uint32_t ndims = 0;
    std::vector<int64_t> got(n, -1);
    EXPECT_EQ(0, ipcshm_array_header(a.get(), nullptr, &ndims, got.data(), n, &offset));
    EXPECT_EQ(n, ndims);
    EXPECT_EQ(expected, offset);
    EXPECT_EQ(dims, got);
    int64_t stored = 0;
    std::memcpy(&stored, a.base() + 8, 8);
    EXPECT_EQ(static_cast<int64_t>(expected), stored);
    EXPECT_EQ(a.base() + expected, ipcshm_array_data(a.get()));
  }
}

TEST_P(ArraysTest, TheMostDimensions) {
  Obj a;
  std::vector<int64_t> dims(65535, 1);
  make_array(a, fresh_id(), IPCSHM_INT8, dims);
  ASSERT_EQ(1, a.rc) << last_error();
  const uint64_t offset = round_up_64(16 + 8 * 65535);
  EXPECT_EQ(offset + 1, ipcshm_size(a.get()));
  EXPECT_EQ(a.base() + offset, ipcshm_array_data(a.get()));
  uint32_t ndims = 0;
  EXPECT_EQ(-ERANGE, ipcshm_array_header(a.get(), nullptr, &ndims, nullptr, 0, nullptr));
  EXPECT_EQ(65535u, ndims);
}

TEST_P(ArraysTest, AZeroLengthDimensionHoldsNoElements) {
  Obj a;
  make_array(a, fresh_id(), IPCSHM_COMPLEX128, {4, 0, 3});
  ASSERT_EQ(1, a.rc) << last_error();
  EXPECT_EQ(64u, ipcshm_size(a.get()));
  int64_t dims[3] = {-1, -1, -1};
  ASSERT_EQ(0, ipcshm_array_header(a.get(), nullptr, nullptr, dims, 3, nullptr)) << last_error();
  EXPECT_EQ(4, dims[0]);
  EXPECT_EQ(0, dims[1]);
  EXPECT_EQ(3, dims[2]);
  EXPECT_EQ(a.base() + 64, ipcshm_array_data(a.get()));  // one past the end: never read
}

// Zero elements whatever the other dimensions are, even if their product alone
// would overflow.
TEST_P(ArraysTest, AZeroDimensionBesidesHugeOnesIsEmpty) {
  Obj a;
  make_array(a, fresh_id(), IPCSHM_UINT64, {INT64_MAX, INT64_MAX, 0});
  ASSERT_EQ(1, a.rc) << last_error();
  EXPECT_EQ(64u, ipcshm_size(a.get()));
  EXPECT_NE(nullptr, ipcshm_array_data(a.get())) << last_error();
}

// ---------------------------------------------------------------------------
// IPCSHM_OPEN_OR_CREATE.

class OpenOrCreateTest : public ArraysTest {};
INSTANTIATE_TEST_SUITE_P(Kinds, OpenOrCreateTest, ::testing::Values(Kind::Posix, Kind::SysvKey),
                         testutil::kind_name);

TEST_P(OpenOrCreateTest, TheSameArrayIsAttached) {
  const std::string id = fresh_id();
  Obj a;
  make_array(a, id, IPCSHM_FLOAT32, {8, 3}, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, a.rc) << last_error();
  static_cast<float*>(ipcshm_array_data(a.get()))[23] = 2.5f;

  Obj b;
  make_array(b, id, IPCSHM_FLOAT32, {8, 3}, IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE);
  ASSERT_EQ(0, b.rc) << last_error();
  auto* elems = static_cast<float*>(ipcshm_array_data(b.get()));
  ASSERT_NE(nullptr, elems);
  EXPECT_EQ(2.5f, elems[23]);
}

TEST_P(OpenOrCreateTest, ItCreatesWhenNothingExists) {
  Obj a;
  make_array(a, fresh_id(), IPCSHM_INT64, {2}, IPCSHM_OPEN_OR_CREATE);
  ASSERT_EQ(1, a.rc) << last_error();
  EXPECT_NE(nullptr, ipcshm_array_data(a.get()));
}

TEST_P(OpenOrCreateTest, ADifferentArrayIsEexistAndUntouched) {
  const std::string id = fresh_id();
  Obj a;
  make_array(a, id, IPCSHM_FLOAT64, {3, 2}, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, a.rc) << last_error();
  auto* elems = static_cast<double*>(ipcshm_array_data(a.get()));
  for (int k = 0; k < 6; ++k) elems[k] = k + 0.5;
  const uint64_t size = ipcshm_size(a.get());
  std::vector<unsigned char> before(a.base(), a.base() + size);

  struct Case {
    const char* what;
    uint32_t etype;
    std::vector<int64_t> dims;
  };
  const Case cases[] = {
      {"another type of the same size", IPCSHM_INT64, {3, 2}},
      {"the dimensions swapped", IPCSHM_FLOAT64, {2, 3}},
      {"fewer elements", IPCSHM_FLOAT64, {2, 2}},
      {"more elements", IPCSHM_FLOAT64, {30, 20}},
      {"another ndims", IPCSHM_FLOAT64, {6}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Obj b;
    make_array(b, id, c.etype, c.dims, IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE);
    EXPECT_EQ(-EEXIST, b.rc) << last_error();
    EXPECT_TRUE(mentions("different element type or dimensions")) << last_error();
    EXPECT_EQ(nullptr, b.get());
    b.asked.reset("");  // the object is a's
  }
  EXPECT_EQ(size, ipcshm_size(a.get()));
  EXPECT_EQ(0, std::memcmp(before.data(), a.base(), size));
  ipcshm_info_t info = testutil::fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &info));
  EXPECT_EQ(size, info.size);
}

TEST_P(OpenOrCreateTest, APlainObjectWithoutAHeaderIsEbadmsgAfterAWait) {
  const std::string id = fresh_id();
  Obj plain;
  make_plain(plain, id, 4096, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, plain.rc) << last_error();
  const auto start = std::chrono::steady_clock::now();
  Obj b;
  make_array(b, id, IPCSHM_UINT8, {100}, IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(-EBADMSG, b.rc);
  EXPECT_TRUE(mentions("magic")) << last_error();
  EXPECT_EQ(nullptr, b.get());
  b.asked.reset("");
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_TRUE(testutil::is_zero(plain.base(), 4096));  // untouched
}

// A creator between its create and its header: the attacher waits for the
// magic, which is written last.
TEST_P(OpenOrCreateTest, AnAttacherWaitsForTheCreatorsHeader) {
  const std::string id = fresh_id();
  Obj plain;
  make_plain(plain, id, 64 + 4 * 10, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, plain.rc) << last_error();
  unsigned char* p = plain.base();
  std::thread late_writer([p] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    write_header(p, 0, IPCSHM_INT32, 1, 64, {10});
    __atomic_store_n(reinterpret_cast<uint32_t*>(p), kMagic, __ATOMIC_RELEASE);
  });
  Obj b;
  make_array(b, id, IPCSHM_INT32, {10}, IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE);
  late_writer.join();
  EXPECT_EQ(0, b.rc) << last_error();
  EXPECT_EQ(static_cast<unsigned char*>(ipcshm_pointer(b.get())) + 64,
            ipcshm_array_data(b.get()));
}

// ---------------------------------------------------------------------------
// Hostile headers, written by hand into plain objects.

class HostileTest : public ::testing::TestWithParam<Kind> {
 protected:
  // Creates a plain object of `size` bytes, lets `write` fill it, and expects
  // -EBADMSG with a message containing `says` from both readers.
  template <typename Write>
  void expect_rejected(uint64_t size, Write write, const std::string& says) {
    Obj o;
    make_plain(o, GetParam() == Kind::Posix ? unique_name("hostile") : std::string("private"),
               size);
    ASSERT_EQ(1, o.rc) << last_error();
    ASSERT_EQ(size, ipcshm_size(o.get()));
    write(o.base());
    uint32_t etype = 77, ndims = 77;
    int64_t dims[4] = {77, 77, 77, 77};
    uint64_t offset = 77;
    EXPECT_EQ(-EBADMSG, ipcshm_array_header(o.get(), &etype, &ndims, dims, 4, &offset));
    EXPECT_TRUE(mentions(says)) << "message: " << last_error() << "\nexpected: " << says;
    EXPECT_TRUE(mentions(o.id)) << last_error();
    EXPECT_EQ(77u, etype);  // nothing delivered from a rejected header
    EXPECT_EQ(77u, ndims);
    EXPECT_EQ(77, dims[0]);
    EXPECT_EQ(77u, offset);
    ipcshm_array_header(nullptr, nullptr, nullptr, nullptr, 0, nullptr);  // another message
    EXPECT_EQ(nullptr, ipcshm_array_data(o.get()));
    EXPECT_TRUE(mentions(says)) << last_error();
  }
};

INSTANTIATE_TEST_SUITE_P(Kinds, HostileTest, ::testing::Values(Kind::Posix, Kind::SysvPrivate),
                         testutil::kind_name);

TEST_P(HostileTest, AHandWrittenValidHeaderIsRead) {
  Obj o;
  make_plain(o, GetParam() == Kind::Posix ? unique_name("valid") : std::string("private"),
             128 + 2 * (2 * 3 * 4 * 5));
  ASSERT_EQ(1, o.rc) << last_error();
  write_header(o.base(), kMagic, IPCSHM_INT16, 7, 128, {1, 2, 1, 3, 1, 4, 5});
  uint32_t etype = 0, ndims = 0;
  int64_t dims[7];
  uint64_t offset = 0;
  ASSERT_EQ(0, ipcshm_array_header(o.get(), &etype, &ndims, dims, 7, &offset)) << last_error();
  EXPECT_EQ(uint32_t{IPCSHM_INT16}, etype);
  EXPECT_EQ(7u, ndims);
  EXPECT_EQ(128u, offset);
  EXPECT_EQ(5, dims[6]);
  EXPECT_EQ(o.base() + 128, ipcshm_array_data(o.get()));
}

TEST_P(HostileTest, BadMagic) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, 0x31412D57, IPCSHM_INT8, 1, 64, {1}); },
      "magic 0x31412d57 is not 0x57412D31");
  expect_rejected(4096, [](unsigned char*) {}, "magic 0x00000000");
}

TEST_P(HostileTest, ElementTypeZeroOrThirteen) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, 0, 1, 64, {1}); },
      "element type 0 is not");
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, 13, 1, 64, {1}); },
      "element type 13 is not");
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, 0xffff, 1, 64, {1}); },
      "element type 65535 is not");
}

TEST_P(HostileTest, NoDimensions) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 0, 64, {}); },
      "ndims is 0");
}

TEST_P(HostileTest, ANegativeDimension) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 3, 64, {3, -5, 2}); },
      "dimension 2 is -5");
  expect_rejected(
      4096,
      [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 1, 64, {INT64_MIN}); },
      "dimension 1 is -9223372036854775808");
}

TEST_P(HostileTest, AWrongOffset) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 2, 128, {3, 2}); },
      "offset 128 is not 64");
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 2, 32, {3, 2}); },
      "offset 32 is not 64");
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 2, -64, {3, 2}); },
      "offset -64 is not 64");
  expect_rejected(
      4096,
      [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 7, 64, {1, 1, 1, 1, 1, 1, 1}); },
      "offset 64 is not 128");
}

TEST_P(HostileTest, DimensionsWhoseProductOverflows) {
  // 2^32 x 2^32 = 2^64: overflows int64 and uint64.
  expect_rejected(
      4096,
      [](unsigned char* p) {
        write_header(p, kMagic, IPCSHM_INT8, 2, 64, {int64_t{1} << 32, int64_t{1} << 32});
      },
      "overflows int64");
  // 2^32 x 2^31 = 2^63: fits a uint64, not an int64 (Julia's Int).
  expect_rejected(
      4096,
      [](unsigned char* p) {
        write_header(p, kMagic, IPCSHM_INT8, 2, 64, {int64_t{1} << 32, int64_t{1} << 31});
      },
      "overflows int64");
  // A product that wraps to a small number in 64 bits: 2^32 x 2^32 x 2^32 x 3.
  expect_rejected(
      4096,
      [](unsigned char* p) {
        write_header(p, kMagic, IPCSHM_INT8, 4, 64,
                     {int64_t{1} << 32, int64_t{1} << 32, int64_t{1} << 32, 3});
      },
      "overflows int64");
  // 2^62 elements fit an int64, their 2^66 bytes do not fit a uint64.
  expect_rejected(
      4096,
      [](unsigned char* p) {
        write_header(p, kMagic, IPCSHM_COMPLEX128, 1, 64, {int64_t{1} << 62});
      },
      "overflow uint64");
  // 2^63 - 1 bytes past offset 64: no overflow, but far past the mapping.
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 1, 64, {INT64_MAX}); },
      "but the mapping has 4096");
}

TEST_P(HostileTest, ElementsOneBytePastTheEnd) {
  expect_rejected(
      64 + 6 * 8 - 1,
      [](unsigned char* p) { write_header(p, kMagic, IPCSHM_FLOAT64, 2, 64, {3, 2}); },
      "the elements need 48 bytes past offset 64 but the mapping has 111");
}

TEST_P(HostileTest, DimensionsPastTheEnd) {
  expect_rejected(
      4096, [](unsigned char* p) { write_header(p, kMagic, IPCSHM_INT8, 65535, 64, {1, 1}); },
      "its 65535 dimensions end at byte 524296 but the mapping has 4096");
  // The dims of a 2-D header need 32 bytes; 31 have only part of the second.
  expect_rejected(
      31,
      [](unsigned char* p) {
        put_u32(p, kMagic);
        put_u16(p + 4, IPCSHM_INT8);
        put_u16(p + 6, 2);
        put_i64(p + 8, 64);
        put_i64(p + 16, 1);
      },
      "dimensions end at byte 32 but the mapping has 31");
}

TEST_P(HostileTest, ObjectsTooSmallForAHeader) {
  expect_rejected(1, [](unsigned char* p) { p[0] = 0x31; }, "the mapping has 1 bytes");
  expect_rejected(
      15,
      [](unsigned char* p) {
        put_u32(p, kMagic);
        put_u16(p + 4, IPCSHM_INT8);
        put_u16(p + 6, 1);
      },
      "the mapping has 15 bytes, fewer than the 16");
}

// ---------------------------------------------------------------------------
// Reading the header: maxdims, NULL out-pointers, bad handles.

TEST(ArraysHeaderTest, TooFewDimsIsErangeWithNdimsSet) {
  Obj a;
  make_array(a, unique_name("range"), IPCSHM_UINT16, {2, 3, 4});
  ASSERT_EQ(1, a.rc) << last_error();
  uint32_t etype = 0, ndims = 0;
  int64_t dims[3] = {-1, -1, -1};
  uint64_t offset = 0;
  EXPECT_EQ(-ERANGE, ipcshm_array_header(a.get(), &etype, &ndims, dims, 2, &offset));
  EXPECT_TRUE(mentions("3 dimensions")) << last_error();
  EXPECT_EQ(3u, ndims);
  EXPECT_EQ(uint32_t{IPCSHM_UINT16}, etype);
  EXPECT_EQ(64u, offset);
  EXPECT_EQ(2, dims[0]);
  EXPECT_EQ(3, dims[1]);
  EXPECT_EQ(-1, dims[2]);  // no room: untouched

  ndims = 0;
  EXPECT_EQ(-ERANGE, ipcshm_array_header(a.get(), nullptr, &ndims, nullptr, 0, nullptr));
  EXPECT_EQ(3u, ndims);
  // Asked again with room for all.
  int64_t all[3] = {0, 0, 0};
  EXPECT_EQ(0, ipcshm_array_header(a.get(), nullptr, nullptr, all, ndims, nullptr));
  EXPECT_EQ(4, all[2]);
}

TEST(ArraysHeaderTest, EveryOutPointerMayBeNull) {
  Obj a;
  make_array(a, unique_name("nulls"), IPCSHM_INT8, {9});
  ASSERT_EQ(1, a.rc) << last_error();
  EXPECT_EQ(-ERANGE, ipcshm_array_header(a.get(), nullptr, nullptr, nullptr, 0, nullptr));
  int64_t dim = 0;
  EXPECT_EQ(0, ipcshm_array_header(a.get(), nullptr, nullptr, &dim, 1, nullptr));
  EXPECT_EQ(9, dim);
  uint32_t etype = 0;
  EXPECT_EQ(-ERANGE, ipcshm_array_header(a.get(), &etype, nullptr, nullptr, 0, nullptr));
  EXPECT_EQ(uint32_t{IPCSHM_INT8}, etype);
  EXPECT_EQ(-EINVAL, ipcshm_array_header(a.get(), nullptr, nullptr, nullptr, 1, nullptr));
}

TEST(ArraysHeaderTest, NullAndDetachedHandles) {
  EXPECT_EQ(-EINVAL, ipcshm_array_header(nullptr, nullptr, nullptr, nullptr, 0, nullptr));
  EXPECT_TRUE(mentions("NULL")) << last_error();
  EXPECT_EQ(nullptr, ipcshm_array_data(nullptr));
  EXPECT_TRUE(mentions("NULL")) << last_error();

  const std::string id = unique_name("detached");
  RemoveGuard guard(id);
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_array_create(id.c_str(), IPCSHM_INT8, 1, std::vector<int64_t>{4}.data(),
                                   0600, 0, &h))
      << last_error();
  ASSERT_EQ(0, ipcshm_detach(h));
  uint32_t ndims = 0;
  EXPECT_EQ(-EBADF, ipcshm_array_header(h, nullptr, &ndims, nullptr, 0, nullptr));
  EXPECT_TRUE(mentions("not a live handle")) << last_error();
  EXPECT_EQ(nullptr, ipcshm_array_data(h));
  EXPECT_TRUE(mentions("not a live handle")) << last_error();
}

// ---------------------------------------------------------------------------
// Bad arguments to create: -EINVAL, and nothing left behind.

class ArraysCreateTest : public ArraysTest {
 protected:
  void expect_einval(uint32_t etype, uint32_t ndims, const int64_t* dims, uint32_t flags,
                     const std::string& says) {
    const std::string id = fresh_id();
    RemoveGuard guard(id == "private" ? "" : id);
    ipcshm_t* h = nullptr;
    EXPECT_EQ(-EINVAL, ipcshm_array_create(id.c_str(), etype, ndims, dims, 0600, flags, &h));
    EXPECT_TRUE(mentions(says)) << "message: " << last_error() << "\nexpected: " << says;
    EXPECT_EQ(nullptr, h);
    if (id != "private") {
      EXPECT_FALSE(exists(id)) << id << " was left behind";
    }
    if (h) ipcshm_detach(h);
  }
};

INSTANTIATE_TEST_SUITE_P(Kinds, ArraysCreateTest,
                         ::testing::Values(Kind::Posix, Kind::SysvPrivate, Kind::SysvKey),
                         testutil::kind_name);

TEST_P(ArraysCreateTest, BadArgumentsAreEinvalAndLeaveNothing) {
  const int64_t one[1] = {1};
  const int64_t negative[3] = {3, -1, 2};
  const int64_t overflow[2] = {INT64_MAX, 2};
  const int64_t too_many_bytes[1] = {INT64_MAX / 2};  // x 16 bytes: past 2^64
  std::vector<int64_t> many(65536, 1);
  expect_einval(0, 1, one, 0, "etype 0 is not an IPCSHM_* element type code (1..12)");
  expect_einval(13, 1, one, 0, "etype 13 is not an IPCSHM_* element type code (1..12)");
  expect_einval(0xffffffffu, 1, one, 0, "etype 4294967295 is not");
  expect_einval(IPCSHM_INT8, 0, one, 0, "ndims 0 is not in 1..65535");
  expect_einval(IPCSHM_INT8, 65536, many.data(), 0, "ndims 65536 is not in 1..65535");
  expect_einval(IPCSHM_INT8, 3, negative, 0, "dims[1] is -1");
  expect_einval(IPCSHM_INT8, 2, overflow, 0, "overflows");
  expect_einval(IPCSHM_COMPLEX128, 1, too_many_bytes, 0, "overflows");
  expect_einval(IPCSHM_INT8, 1, nullptr, 0, "dims is NULL");
  expect_einval(IPCSHM_INT8, 1, one, IPCSHM_READONLY, "IPCSHM_READONLY");
  expect_einval(IPCSHM_INT8, 1, one, 1u << 30, "flags");
}

TEST(ArraysCreateNullTest, NullIdOrOut) {
  const int64_t one[1] = {1};
  ipcshm_t* h = nullptr;
  EXPECT_EQ(-EINVAL, ipcshm_array_create(nullptr, IPCSHM_INT8, 1, one, 0600, 0, &h));
  const std::string id = unique_name("nullout");
  RemoveGuard guard(id);
  EXPECT_EQ(-EINVAL, ipcshm_array_create(id.c_str(), IPCSHM_INT8, 1, one, 0600, 0, nullptr));
  EXPECT_FALSE(exists(id));
}

TEST(ArraysCreateNullTest, AnExistingIdIsEexistWithoutOpenOrCreate) {
  const std::string id = unique_name("exists");
  Obj a;
  make_array(a, id, IPCSHM_INT8, {4});
  ASSERT_EQ(1, a.rc) << last_error();
  a.base()[64] = 42;
  Obj b;
  make_array(b, id, IPCSHM_INT8, {4});
  EXPECT_EQ(-EEXIST, b.rc);
  b.asked.reset("");
  EXPECT_EQ(42, a.base()[64]);
}

}  // namespace
