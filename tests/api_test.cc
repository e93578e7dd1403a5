// Every operation and flag of the public C API, for both kinds of object: POSIX
// named objects ("/name") and System V segments ("key:0x...", "private"), volatile
// and persistent. The header's comments are the reference: each test checks what
// they promise, and nothing more.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::id_of;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::run_in_child;
using testutil::sysv_exists;
using testutil::unique_key;
using testutil::unique_name;

constexpr uint64_t kOddSize = 5000;  // not a multiple of the page size

using testutil::kUnderAsan;

// ---------------------------------------------------------------------------
// Helpers local to this file.

// N of "shmid:N", or -1 if the id has not that form.
int shmid_of(const std::string& id) {
  if (id.rfind("shmid:", 0) != 0 || id.size() == 6) return -1;
  for (size_t i = 6; i < id.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return -1;
  return std::atoi(id.c_str() + 6);
}

ipcshm_info_t fresh_info() {
  ipcshm_info_t info;
  std::memset(&info, 0xa5, sizeof info);
  info.struct_size = sizeof info;
  return info;
}

bool is_page_aligned(const void* p) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return p != nullptr && reinterpret_cast<uintptr_t>(p) % page == 0;
}

bool all_zero(const void* p, uint64_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (uint64_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

void fill_pattern(void* p, uint64_t n, unsigned seed) {
  auto* b = static_cast<unsigned char*>(p);
  for (uint64_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>((i * 31 + seed) & 0xff);
}

bool has_pattern(const void* p, uint64_t n, unsigned seed) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (uint64_t i = 0; i < n; ++i)
    if (b[i] != static_cast<unsigned char>((i * 31 + seed) & 0xff)) return false;
  return true;
}

// All pages of [p, p+n) are resident (mincore).
bool all_resident(void* p, uint64_t n) {
  const uint64_t page = ipcshm_page_size();
  const size_t pages = static_cast<size_t>((n + page - 1) / page);
  std::vector<unsigned char> vec(pages);
  if (mincore(p, static_cast<size_t>(n), vec.data()) != 0) return false;
  for (unsigned char v : vec)
    if (!(v & 1)) return false;
  return true;
}

// VmLck of this process in kB, from /proc/self/status.
long locked_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmLck:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

bool near_now(int64_t t) {
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  return t >= now - 120 && t <= now + 120;
}

void expect_same_info(const ipcshm_info_t& a, const ipcshm_info_t& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.nattch, b.nattch);
  EXPECT_EQ(a.atime, b.atime);
  EXPECT_EQ(a.dtime, b.dtime);
  EXPECT_EQ(a.ctime, b.ctime);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.cuid, b.cuid);
  EXPECT_EQ(a.cgid, b.cgid);
  EXPECT_EQ(a.cpid, b.cpid);
  EXPECT_EQ(a.lpid, b.lpid);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.shmid, b.shmid);
  EXPECT_EQ(a.flags, b.flags);
}

// One created object and its guards. Members are destroyed in reverse order: the
// canonical id is removed, then the handle detached, then the requested id removed
// (which cleans up even if create failed halfway and left something).
struct Made {
  RemoveGuard name{""};
  HandleGuard h;
  RemoveGuard canon{""};
  std::string id;  // canonical id
  int rc = 0;

  ipcshm_t* get() const { return h.get(); }
  unsigned char* ptr() const { return static_cast<unsigned char*>(ipcshm_pointer(h.get())); }
};

void make(Made& m, const std::string& id, uint64_t size, uint32_t perms, uint32_t flags) {
  if (id != "private") m.name.reset(id);
  m.rc = ipcshm_create(id.c_str(), size, perms, flags, m.h.out());
  if (m.rc >= 0 && m.h.get()) {
    m.id = id_of(m.h.get());
    if (!m.id.empty()) m.canon.reset(m.id);
  }
}

// ---------------------------------------------------------------------------
// The variants: every test below runs for each kind of object.

enum class Kind { Posix, SysvKey, SysvPrivate };

struct Variant {
  const char* label;
  Kind kind;
  bool persistent;
};

const Variant kVariants[] = {
    {"PosixVolatile", Kind::Posix, false},  {"PosixPersistent", Kind::Posix, true},
    {"KeyVolatile", Kind::SysvKey, false},  {"KeyPersistent", Kind::SysvKey, true},
    {"PrivateVolatile", Kind::SysvPrivate, false},
    {"PrivatePersistent", Kind::SysvPrivate, true},
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.label; }

class ApiTest : public ::testing::TestWithParam<Variant> {
 protected:
  Kind kind() const { return GetParam().kind; }
  bool persistent() const { return GetParam().persistent; }
  bool sysv() const { return kind() != Kind::Posix; }
  // A key segment that stays findable by its key (volatile ones lose it at once).
  bool findable_by_key() const { return kind() == Kind::SysvKey && persistent(); }
  uint32_t base_flags() const { return persistent() ? uint32_t{IPCSHM_PERSISTENT} : 0u; }

  std::string fresh_id() {
    switch (kind()) {
      case Kind::Posix:
        return unique_name("api");
      case Kind::SysvKey:
        key_ = unique_key();
        return key_id(key_);
      case Kind::SysvPrivate:
        return "private";
    }
    return "";
  }

  int32_t key_ = 0;  // the key of the last fresh_id() of a key variant
};

TEST_P(ApiTest, CreateMapsZeroedPageAlignedMemoryOfTheRequestedSize) {
  Made m;
  make(m, fresh_id(), kOddSize, 0640, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ASSERT_NE(nullptr, m.get());
  unsigned char* p = m.ptr();
  ASSERT_NE(nullptr, p);
  EXPECT_TRUE(is_page_aligned(p));
  EXPECT_EQ(kOddSize, ipcshm_size(m.get()));
  EXPECT_TRUE(all_zero(p, kOddSize));
  fill_pattern(p, kOddSize, 7);  // writable
  EXPECT_TRUE(has_pattern(p, kOddSize, 7));

  if (sysv()) {
    int shmid = shmid_of(m.id);
    ASSERT_GE(shmid, 0) << m.id;
    struct shmid_ds ds;
    ASSERT_EQ(0, shmctl(shmid, IPC_STAT, &ds));
    EXPECT_EQ(kOddSize, static_cast<uint64_t>(ds.shm_segsz));  // not rounded to pages
  } else {
    struct stat st;
    ASSERT_EQ(0, stat(("/dev/shm" + m.id).c_str(), &st));
    EXPECT_EQ(static_cast<off_t>(kOddSize), st.st_size);
  }
}

TEST_P(ApiTest, IdIsCanonical) {
  const std::string requested = fresh_id();
  Made m;
  make(m, requested, 4096, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  const char* id1 = ipcshm_id(m.get());
  ASSERT_NE(nullptr, id1);
  const char* id2 = ipcshm_id(m.get());
  ASSERT_NE(nullptr, id2);
  EXPECT_STREQ(id1, id2);  // stable while attached

  if (!sysv()) {
    EXPECT_EQ(requested, m.id);
    return;
  }
  const int shmid = shmid_of(m.id);
  ASSERT_GE(shmid, 0) << "expected shmid:N, got " << m.id;
  EXPECT_EQ("shmid:" + std::to_string(shmid), m.id);  // no sign, no leading zeros
  EXPECT_TRUE(sysv_exists(shmid));
  if (findable_by_key()) {
    EXPECT_EQ(shmid, shmget(key_, 0, 0));
  }
}

TEST_P(ApiTest, AttachByCanonicalIdSeesTheSameBytes) {
  Made m;
  make(m, fresh_id(), kOddSize, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  fill_pattern(m.ptr(), kOddSize, 11);

  HandleGuard h2;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), 0, h2.out())) << ipcshm_last_error();
  ASSERT_NE(nullptr, h2.get());
  EXPECT_NE(m.get(), h2.get());
  auto* p2 = static_cast<unsigned char*>(ipcshm_pointer(h2.get()));
  ASSERT_NE(nullptr, p2);
  EXPECT_TRUE(is_page_aligned(p2));
  EXPECT_EQ(kOddSize, ipcshm_size(h2.get()));
  EXPECT_EQ(m.id, id_of(h2.get()));
  EXPECT_TRUE(has_pattern(p2, kOddSize, 11));
  p2[0] = 0xee;
  p2[kOddSize - 1] = 0xdd;
  EXPECT_EQ(0xee, m.ptr()[0]);
  EXPECT_EQ(0xdd, m.ptr()[kOddSize - 1]);

  if (findable_by_key()) {
    HandleGuard h3;
    ASSERT_EQ(0, ipcshm_attach(key_id(key_).c_str(), 0, h3.out())) << ipcshm_last_error();
    EXPECT_EQ(m.id, id_of(h3.get()));  // the canonical id, not the key
    auto* p3 = static_cast<unsigned char*>(ipcshm_pointer(h3.get()));
    ASSERT_NE(nullptr, p3);
    EXPECT_EQ(0xee, p3[0]);
  }
}

TEST_P(ApiTest, InfoReportsTheObject) {
  Made m;
  make(m, fresh_id(), kOddSize, 0640, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();

  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(m.id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(sysv() ? uint32_t{IPCSHM_KIND_SYSV} : uint32_t{IPCSHM_KIND_POSIX}, info.kind);
  EXPECT_EQ(kOddSize, info.size);
  EXPECT_EQ(0640u, info.mode);  // exactly, no volatile mark and no SHM_DEST in it
  EXPECT_EQ(static_cast<uint32_t>(geteuid()), info.uid);
  EXPECT_EQ(static_cast<uint32_t>(getegid()), info.gid);
  EXPECT_EQ(static_cast<uint32_t>(geteuid()), info.cuid);
  EXPECT_EQ(static_cast<uint32_t>(getegid()), info.cgid);
  EXPECT_EQ(persistent() ? uint32_t{IPCSHM_PERSISTENT} : 0u, info.flags & IPCSHM_PERSISTENT);
  EXPECT_TRUE(near_now(info.ctime)) << info.ctime;

  if (!sysv()) {
    EXPECT_EQ(0u, info.nattch);
    EXPECT_EQ(-1, info.cpid);
    EXPECT_EQ(-1, info.lpid);
    EXPECT_EQ(-1, info.shmid);
    EXPECT_EQ(0, info.key);
    EXPECT_TRUE(near_now(info.atime)) << info.atime;
    EXPECT_TRUE(near_now(info.dtime)) << info.dtime;  // st_mtime
    return;
  }
  EXPECT_EQ(1u, info.nattch);
  EXPECT_EQ(static_cast<int32_t>(getpid()), info.cpid);
  EXPECT_EQ(static_cast<int32_t>(getpid()), info.lpid);
  EXPECT_EQ(shmid_of(m.id), info.shmid);
  EXPECT_TRUE(near_now(info.atime)) << info.atime;  // attached just now
  if (findable_by_key()) {
    EXPECT_EQ(key_, info.key);
    // By key and by shmid: the same segment.
    ipcshm_info_t by_key = fresh_info();
    ASSERT_EQ(0, ipcshm_info(key_id(key_).c_str(), &by_key)) << ipcshm_last_error();
    expect_same_info(info, by_key);
  } else {
    EXPECT_EQ(0, info.key);  // private, or a volatile segment (removed at once)
  }
}

TEST_P(ApiTest, HandleInfoEqualsInfoById) {
  Made m;
  make(m, fresh_id(), 8192, 0604, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ipcshm_info_t by_handle = fresh_info();
  ipcshm_info_t by_id = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(m.get(), &by_handle)) << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_info(m.id.c_str(), &by_id)) << ipcshm_last_error();
  expect_same_info(by_id, by_handle);
  EXPECT_EQ(8192u, by_handle.size);
  EXPECT_EQ(0604u, by_handle.mode);
}

TEST_P(ApiTest, InfoChecksStructSize) {
  Made m;
  make(m, fresh_id(), 4096, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  const char* id = m.id.c_str();

  ipcshm_info_t info = fresh_info();
  EXPECT_EQ(0, ipcshm_info(id, &info)) << ipcshm_last_error();
  info = fresh_info();
  info.struct_size = 88;  // the first version
  EXPECT_EQ(0, ipcshm_info(id, &info)) << ipcshm_last_error();
  EXPECT_EQ(4096u, info.size);

  for (uint32_t bad : {0u, 1u, 8u, 87u}) {
    info = fresh_info();
    info.struct_size = bad;
    EXPECT_EQ(-EINVAL, ipcshm_info(id, &info)) << "struct_size " << bad;
    EXPECT_STRNE("", ipcshm_last_error());
    info = fresh_info();
    info.struct_size = bad;
    EXPECT_EQ(-EINVAL, ipcshm_handle_info(m.get(), &info)) << "struct_size " << bad;
    EXPECT_STRNE("", ipcshm_last_error());
  }

  // A caller built against a later, larger struct: the library fills what it
  // knows and leaves the rest alone.
  struct Bigger {
    ipcshm_info_t info;
    unsigned char tail[32];
  } big;
  std::memset(&big, 0x5a, sizeof big);
  big.info.struct_size = sizeof big;
  ASSERT_EQ(0, ipcshm_info(id, &big.info)) << ipcshm_last_error();
  EXPECT_EQ(4096u, big.info.size);
  for (unsigned char c : big.tail) EXPECT_EQ(0x5a, c);
  std::memset(&big, 0x5a, sizeof big);
  big.info.struct_size = sizeof big;
  ASSERT_EQ(0, ipcshm_handle_info(m.get(), &big.info)) << ipcshm_last_error();
  EXPECT_EQ(4096u, big.info.size);
  for (unsigned char c : big.tail) EXPECT_EQ(0x5a, c);
}

TEST_P(ApiTest, NattchCountsAttachments) {
  Made m;
  make(m, fresh_id(), 4096, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(m.get(), &info));
  EXPECT_EQ(sysv() ? 1u : 0u, info.nattch);

  ipcshm_t* h2 = nullptr;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), 0, &h2)) << ipcshm_last_error();
  HandleGuard g2(h2);
  info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(m.id.c_str(), &info));
  EXPECT_EQ(sysv() ? 2u : 0u, info.nattch);

  ASSERT_EQ(0, ipcshm_detach(g2.release()));
  info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(m.get(), &info));
  EXPECT_EQ(sysv() ? 1u : 0u, info.nattch);
}

TEST_P(ApiTest, OpenOrCreateCreatesThenAttaches) {
  if (kind() == Kind::SysvKey && !persistent())
    GTEST_SKIP() << "a volatile key segment is not findable by its key once created";
  const std::string id = fresh_id();
  const uint32_t flags = base_flags() | IPCSHM_OPEN_OR_CREATE;
  Made first;
  make(first, id, 8192, 0600, flags);
  ASSERT_EQ(1, first.rc) << ipcshm_last_error();
  fill_pattern(first.ptr(), 8192, 3);

  if (kind() == Kind::SysvPrivate) {
    // "private" always names a fresh segment.
    Made second;
    make(second, id, 8192, 0600, flags);
    EXPECT_EQ(1, second.rc) << ipcshm_last_error();
    EXPECT_NE(first.id, second.id);
    return;
  }

  // Smaller or equal: attaches the existing object.
  for (uint64_t size : {uint64_t{4096}, uint64_t{8192}, uint64_t{1}}) {
    Made again;
    make(again, id, size, 0600, flags);
    ASSERT_EQ(0, again.rc) << "size " << size << ": " << ipcshm_last_error();
    EXPECT_EQ(first.id, again.id);
    EXPECT_GE(ipcshm_size(again.get()), size);
    EXPECT_LE(ipcshm_size(again.get()), uint64_t{8192});
    ASSERT_NE(nullptr, again.ptr());
    EXPECT_TRUE(has_pattern(again.ptr(), ipcshm_size(again.get()), 3));
    again.ptr()[0] = 0x42;
    EXPECT_EQ(0x42, first.ptr()[0]);
    first.ptr()[0] = static_cast<unsigned char>(3);  // restore the pattern
    // The guards of `again` must not remove the shared object: keep them off.
    again.canon.reset("");
    again.name.reset("");
  }

  // Larger than the existing object: -EINVAL, and the object is untouched.
  ipcshm_t* h = nullptr;
  EXPECT_EQ(-EINVAL, ipcshm_create(id.c_str(), 8193, 0600, flags, &h));
  EXPECT_EQ(nullptr, h);
  if (h) ipcshm_detach(h);
  EXPECT_STRNE("", ipcshm_last_error());
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(first.id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(8192u, info.size);
  EXPECT_TRUE(has_pattern(first.ptr(), 8192, 3));
}

TEST_P(ApiTest, CreateOnAnExistingIdIsEexistAndLeavesItUntouched) {
  if (kind() == Kind::SysvPrivate) GTEST_SKIP() << "\"private\" never names an existing segment";
  if (kind() == Kind::SysvKey && !persistent())
    GTEST_SKIP() << "a volatile key segment is not findable by its key once created";
  const std::string id = fresh_id();
  Made m;
  make(m, id, 8192, 0640, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  fill_pattern(m.ptr(), 8192, 5);

  struct Try {
    uint64_t size;
    uint32_t perms;
    uint32_t flags;
  };
  const Try tries[] = {
      {8192, 0640, base_flags()},
      {4096, 0600, 0},
      {16384, 0666, IPCSHM_PERSISTENT},
      {1, 0600, IPCSHM_READONLY},
      {8192, 0600, IPCSHM_PREFAULT},
  };
  for (const Try& t : tries) {
    auto* sentinel = reinterpret_cast<ipcshm_t*>(&m);
    ipcshm_t* h = sentinel;
    EXPECT_EQ(-EEXIST, ipcshm_create(id.c_str(), t.size, t.perms, t.flags, &h))
        << "size " << t.size;
    EXPECT_EQ(sentinel, h);  // out-parameters are untouched on failure
    if (h != sentinel && h) ipcshm_detach(h);
    EXPECT_STRNE("", ipcshm_last_error());
  }
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(m.id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(8192u, info.size);
  EXPECT_EQ(0640u, info.mode);
  EXPECT_EQ(persistent() ? uint32_t{IPCSHM_PERSISTENT} : 0u, info.flags & IPCSHM_PERSISTENT);
  EXPECT_TRUE(has_pattern(m.ptr(), 8192, 5));

  // And a fresh attach sees the old bytes too.
  HandleGuard h2;
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), 0, h2.out())) << ipcshm_last_error();
  EXPECT_EQ(uint64_t{8192}, ipcshm_size(h2.get()));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h2.get()), 8192, 5));
}

TEST_P(ApiTest, ReadonlyAttachIsReadableAndWritesFault) {
  Made m;
  make(m, fresh_id(), 8192, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  fill_pattern(m.ptr(), 8192, 9);

  HandleGuard ro;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), IPCSHM_READONLY, ro.out())) << ipcshm_last_error();
  auto* p = static_cast<unsigned char*>(ipcshm_pointer(ro.get()));
  ASSERT_NE(nullptr, p);
  EXPECT_EQ(uint64_t{8192}, ipcshm_size(ro.get()));
  EXPECT_TRUE(has_pattern(p, 8192, 9));
  m.ptr()[100] = 0x77;  // writes through the other handle show
  EXPECT_EQ(0x77, p[100]);
  m.ptr()[100] = static_cast<unsigned char>((100 * 31 + 9) & 0xff);

  int status = run_in_child([p] {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGSEGV, SIG_DFL);  // not a sanitizer's handler: die of the signal
    signal(SIGBUS, SIG_DFL);
    *reinterpret_cast<volatile unsigned char*>(p + 1) = 0x99;
    return 0;  // not reached: the write faults
  });
  EXPECT_TRUE(WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS))
      << "status " << status;
  EXPECT_TRUE(has_pattern(m.ptr(), 8192, 9));
}

TEST_P(ApiTest, ReadonlyCreateMapsReadableZeros) {
  Made m;
  make(m, fresh_id(), kOddSize, 0600, base_flags() | IPCSHM_READONLY);
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ASSERT_NE(nullptr, m.ptr());
  EXPECT_EQ(kOddSize, ipcshm_size(m.get()));
  EXPECT_TRUE(all_zero(m.ptr(), kOddSize));
}

TEST_P(ApiTest, PrefaultPopulatesPages) {
  const uint64_t size = 16 * ipcshm_page_size();
  Made m;
  make(m, fresh_id(), size, 0600, base_flags() | IPCSHM_PREFAULT);
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ASSERT_NE(nullptr, m.ptr());
  EXPECT_TRUE(all_resident(m.ptr(), size));
  EXPECT_TRUE(all_zero(m.ptr(), size));

  // Attach with PREFAULT (and read-only with PREFAULT) work too.
  HandleGuard h2;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), IPCSHM_PREFAULT, h2.out())) << ipcshm_last_error();
  ASSERT_NE(nullptr, ipcshm_pointer(h2.get()));
  EXPECT_TRUE(all_resident(ipcshm_pointer(h2.get()), size));
  HandleGuard h3;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), IPCSHM_PREFAULT | IPCSHM_READONLY, h3.out()))
      << ipcshm_last_error();
  EXPECT_TRUE(all_zero(ipcshm_pointer(h3.get()), size));
}

TEST_P(ApiTest, PrefaultAttachPopulatesAnUntouchedObject) {
  const uint64_t size = 16 * ipcshm_page_size();
  Made m;
  make(m, fresh_id(), size, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  HandleGuard h2;
  ASSERT_EQ(0, ipcshm_attach(m.id.c_str(), IPCSHM_PREFAULT, h2.out())) << ipcshm_last_error();
  ASSERT_NE(nullptr, ipcshm_pointer(h2.get()));
  EXPECT_TRUE(all_resident(ipcshm_pointer(h2.get()), size));
}

TEST_P(ApiTest, LockedCreateAndAttach) {
  const uint64_t size = 4096;
  const long before = locked_kb();
  Made m;
  make(m, fresh_id(), size, 0600, base_flags() | IPCSHM_LOCKED);
  if (geteuid() != 0 && (m.rc == -EPERM || m.rc == -ENOMEM))
    GTEST_SKIP() << "RLIMIT_MEMLOCK too low: " << ipcshm_last_error();
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ASSERT_NE(nullptr, m.ptr());
  EXPECT_TRUE(all_zero(m.ptr(), size));
  EXPECT_TRUE(all_resident(m.ptr(), size));
  bool shm_locked = false;
  if (sysv()) {
    struct shmid_ds ds;
    if (shmctl(shmid_of(m.id), IPC_STAT, &ds) == 0) shm_locked = (ds.shm_perm.mode & SHM_LOCKED) != 0;
  }
  // AddressSanitizer turns mlock into a no-op: VmLck shows nothing there.
  if (!kUnderAsan) {
    EXPECT_TRUE(shm_locked || locked_kb() >= before + 4)
        << "VmLck " << before << " kB -> " << locked_kb() << " kB";
  }

  HandleGuard h2;
  int rc = ipcshm_attach(m.id.c_str(), IPCSHM_LOCKED, h2.out());
  ASSERT_EQ(0, rc) << ipcshm_last_error();
  ASSERT_NE(nullptr, ipcshm_pointer(h2.get()));
  EXPECT_TRUE(all_resident(ipcshm_pointer(h2.get()), size));
}

TEST_P(ApiTest, LockedPastRlimitMemlockFailsAndLeavesNothing) {
  if (kUnderAsan) GTEST_SKIP() << "AddressSanitizer turns mlock into a no-op";
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become an unprivileged user";
  if (testutil::nobody_uid() == static_cast<uid_t>(-1)) GTEST_SKIP() << "no user nobody";
  const std::string requested = fresh_id();
  RemoveGuard rg(requested == "private" ? "" : requested);
  const uint32_t flags = base_flags() | IPCSHM_LOCKED;
  // In a child that is nobody with RLIMIT_MEMLOCK 0 (root ignores the limit).
  int status = run_in_child([&] {
    if (!testutil::drop_to_nobody()) return 10;
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_MEMLOCK, &none) != 0) return 11;
    ipcshm_t* h = nullptr;
    int rc = ipcshm_create(requested.c_str(), 64 * 1024, 0600, flags, &h);
    if (h) {  // should not happen; leave nothing behind anyway
      if (const char* id = ipcshm_id(h)) ipcshm_remove(id);
      ipcshm_detach(h);
    }
    if (rc != -EPERM && rc != -ENOMEM) return 12;
    if (ipcshm_last_error()[0] == '\0') return 13;
    if (requested[0] == '/' && posix_exists(requested)) return 14;
    // Nothing System V made by this child is left either.
    for (const std::string& id : testutil::leaked_sysv(getpid())) {
      struct shmid_ds ds;
      if (shmctl(std::atoi(id.c_str() + 6), IPC_STAT, &ds) == 0 && !(ds.shm_perm.mode & SHM_DEST))
        return 15;
    }
    return 0;
  });
  EXPECT_TRUE(testutil::exited_with(status, 0)) << "child status " << status
                                                << " (12: not -EPERM/-ENOMEM, 14/15: left "
                                                   "an object behind)";
  if (kind() == Kind::SysvKey) {
    EXPECT_GT(0, shmget(key_, 0, 0));
  }
}

TEST_P(ApiTest, ChmodChangesTheMode) {
  Made m;
  make(m, fresh_id(), 4096, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  const char* id = m.id.c_str();

  ASSERT_EQ(0, ipcshm_chmod(id, 0644)) << ipcshm_last_error();
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id, &info));
  EXPECT_EQ(0644u, info.mode);
  EXPECT_EQ(persistent() ? uint32_t{IPCSHM_PERSISTENT} : 0u, info.flags & IPCSHM_PERSISTENT)
      << "chmod must keep the volatile/persistent nature";
  if (!sysv()) {
    struct stat st;
    ASSERT_EQ(0, stat(("/dev/shm" + m.id).c_str(), &st));
    EXPECT_EQ(0644u, static_cast<unsigned>(st.st_mode & 0777));
  }

  ASSERT_EQ(0, ipcshm_chmod(id, 0)) << ipcshm_last_error();  // owner rw always stays
  info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(m.get(), &info));
  EXPECT_EQ(0600u, info.mode);

  ASSERT_EQ(0, ipcshm_chmod(id, 0777)) << ipcshm_last_error();
  info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id, &info));
  EXPECT_EQ(0777u, info.mode);
  EXPECT_EQ(persistent() ? uint32_t{IPCSHM_PERSISTENT} : 0u, info.flags & IPCSHM_PERSISTENT);

  if (findable_by_key()) {
    ASSERT_EQ(0, ipcshm_chmod(key_id(key_).c_str(), 0640)) << ipcshm_last_error();
    info = fresh_info();
    ASSERT_EQ(0, ipcshm_info(id, &info));
    EXPECT_EQ(0640u, info.mode);
  }
}

TEST_P(ApiTest, PermsAreAppliedExactlyWithOwnerReadWrite) {
  const mode_t old = umask(077);
  struct Case {
    uint32_t perms, expected;
  };
  for (Case c : {Case{0666, 0666}, Case{0, 0600}, Case{0044, 0644}, Case{0400, 0600},
                 Case{0777, 0777}}) {
    Made m;
    make(m, fresh_id(), 4096, c.perms, base_flags());
    ASSERT_EQ(1, m.rc) << ipcshm_last_error();
    ipcshm_info_t info = fresh_info();
    ASSERT_EQ(0, ipcshm_handle_info(m.get(), &info)) << ipcshm_last_error();
    EXPECT_EQ(c.expected, info.mode) << "perms 0" << std::oct << c.perms;
  }
  umask(old);
}

TEST_P(ApiTest, RemoveThenRemoveAgain) {
  const std::string requested = fresh_id();
  Made m;
  make(m, requested, 4096, 0600, base_flags());
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  fill_pattern(m.ptr(), 4096, 13);

  // By the requested id where it names the object (a key), else the canonical id.
  const std::string rm_id = kind() == Kind::SysvKey ? requested : m.id;
  EXPECT_EQ(0, ipcshm_remove(rm_id.c_str())) << ipcshm_last_error();

  // The mapping stays usable.
  EXPECT_TRUE(has_pattern(m.ptr(), 4096, 13));
  m.ptr()[0] = 1;
  EXPECT_EQ(1, m.ptr()[0]);

  if (!sysv()) {
    EXPECT_FALSE(posix_exists(m.id));
    HandleGuard h;
    EXPECT_EQ(-ENOENT, ipcshm_attach(m.id.c_str(), 0, h.out()));
    ipcshm_info_t info = fresh_info();
    EXPECT_EQ(-ENOENT, ipcshm_info(m.id.c_str(), &info));
  } else {
    if (kind() == Kind::SysvKey) {
      EXPECT_GT(0, shmget(key_, 0, 0));
      HandleGuard h;
      EXPECT_EQ(-ENOENT, ipcshm_attach(requested.c_str(), 0, h.out()));
    }
    ipcshm_info_t info = fresh_info();
    ASSERT_EQ(0, ipcshm_handle_info(m.get(), &info)) << ipcshm_last_error();
    EXPECT_EQ(0u, info.flags & IPCSHM_PERSISTENT);  // marked for removal now
    EXPECT_EQ(0, info.key);                        // "0 once removed"
  }
  EXPECT_EQ(0, ipcshm_remove(rm_id.c_str())) << ipcshm_last_error();
  EXPECT_EQ(0, ipcshm_remove(m.id.c_str())) << ipcshm_last_error();

  ASSERT_EQ(0, ipcshm_detach(m.h.release()));
  EXPECT_EQ(0, ipcshm_remove(rm_id.c_str())) << ipcshm_last_error();
  if (!sysv()) {
    EXPECT_FALSE(posix_exists(m.id));
  } else {
    HandleGuard h;
    EXPECT_EQ(-ENOENT, ipcshm_attach(m.id.c_str(), 0, h.out()));  // destroyed now
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, ApiTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return std::string(info.param.label);
                         });

// ---------------------------------------------------------------------------
// POSIX only.

TEST(ApiPosix, TemplateNamesAreFilledWithRandomCharacters) {
  for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}}) {
    const std::string tmpl = unique_name("tmpl") + "-XXXXXX";
    const std::string stem = tmpl.substr(0, tmpl.size() - 6);
    Made a, b;
    make(a, tmpl, 4096, 0600, flags);
    ASSERT_EQ(1, a.rc) << ipcshm_last_error();
    make(b, tmpl, 4096, 0600, flags);
    ASSERT_EQ(1, b.rc) << ipcshm_last_error();
    for (const std::string* id : {&a.id, &b.id}) {
      ASSERT_EQ(tmpl.size(), id->size()) << *id;
      EXPECT_EQ(stem, id->substr(0, stem.size())) << *id;
      for (size_t i = stem.size(); i < id->size(); ++i)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>((*id)[i])) &&
                    static_cast<unsigned char>((*id)[i]) < 0x80)
            << *id;
      EXPECT_NE(tmpl, *id);
      EXPECT_TRUE(posix_exists(*id)) << *id;
      ipcshm_info_t info = fresh_info();
      EXPECT_EQ(0, ipcshm_info(id->c_str(), &info)) << ipcshm_last_error();
    }
    EXPECT_NE(a.id, b.id);
    EXPECT_FALSE(posix_exists(tmpl));  // the template itself is no object

    // The chosen name attaches the same object.
    a.ptr()[0] = 0x61;
    b.ptr()[0] = 0x62;
    HandleGuard ha;
    ASSERT_EQ(0, ipcshm_attach(a.id.c_str(), 0, ha.out())) << ipcshm_last_error();
    EXPECT_EQ(0x61, static_cast<unsigned char*>(ipcshm_pointer(ha.get()))[0]);
  }
}

TEST(ApiPosix, ReserveAllocatesTheBackingStore) {
  const uint64_t size = 1u << 20;
  for (uint32_t flags : {uint32_t{IPCSHM_RESERVE}, uint32_t{IPCSHM_RESERVE | IPCSHM_PERSISTENT}}) {
    Made m;
    make(m, unique_name("reserve"), size, 0600, flags);
    ASSERT_EQ(1, m.rc) << ipcshm_last_error();
    ASSERT_NE(nullptr, m.ptr());
    EXPECT_EQ(size, ipcshm_size(m.get()));
    struct stat st;
    ASSERT_EQ(0, stat(("/dev/shm" + m.id).c_str(), &st));
    EXPECT_EQ(static_cast<off_t>(size), st.st_size);
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512u, size);  // allocated, not sparse
    EXPECT_TRUE(all_zero(m.ptr(), size));
  }
}

TEST(ApiPosix, RemoveOfAPersistentObjectLeavesNothing) {
  const std::string id = unique_name("rm");
  Made m;
  make(m, id, 4096, 0600, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_detach(m.h.release()));
  EXPECT_TRUE(posix_exists(id));  // persistent: still there without users
  EXPECT_EQ(0, ipcshm_remove(id.c_str())) << ipcshm_last_error();
  EXPECT_FALSE(posix_exists(id));
  EXPECT_EQ(0, ipcshm_remove(id.c_str())) << ipcshm_last_error();
}

// ---------------------------------------------------------------------------
// System V only.

TEST(ApiSysv, PersistentKeySegmentByKeyAndShmid) {
  const int32_t key = unique_key();
  const std::string kid = key_id(key);
  Made m;
  make(m, kid, 4096, 0600, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  const int shmid = shmid_of(m.id);
  ASSERT_GE(shmid, 0) << m.id;
  EXPECT_EQ(shmid, shmget(key, 0, 0));
  ASSERT_EQ(0, ipcshm_detach(m.h.release()));
  EXPECT_TRUE(sysv_exists(shmid));  // persistent: stays without users

  HandleGuard h;
  ASSERT_EQ(0, ipcshm_attach(kid.c_str(), 0, h.out())) << ipcshm_last_error();
  EXPECT_EQ(m.id, id_of(h.get()));
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
  EXPECT_EQ(1u, info.nattch);
  EXPECT_EQ(key, info.key);
  EXPECT_EQ(uint32_t{IPCSHM_PERSISTENT}, info.flags & IPCSHM_PERSISTENT);
  ASSERT_EQ(0, ipcshm_detach(h.release()));

  EXPECT_EQ(0, ipcshm_remove(kid.c_str())) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_remove(kid.c_str())) << ipcshm_last_error();
  EXPECT_EQ(0, ipcshm_remove(m.id.c_str())) << ipcshm_last_error();
}

TEST(ApiSysv, RemoveByShmidTwice) {
  Made m;
  make(m, "private", 4096, 0600, IPCSHM_PERSISTENT);
  ASSERT_EQ(1, m.rc) << ipcshm_last_error();
  const int shmid = shmid_of(m.id);
  ASSERT_GE(shmid, 0);
  ASSERT_EQ(0, ipcshm_detach(m.h.release()));
  EXPECT_TRUE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_remove(m.id.c_str())) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_remove(m.id.c_str())) << ipcshm_last_error();
}

// ---------------------------------------------------------------------------
// Missing objects, out-parameters, the last error.

TEST(ApiErrors, MissingObjectsAreEnoent) {
  const std::string name = unique_name("missing");
  const std::string key = key_id(unique_key());
  for (const std::string& id : {name, key}) {
    ipcshm_t* h = nullptr;
    EXPECT_EQ(-ENOENT, ipcshm_attach(id.c_str(), 0, &h)) << id;
    EXPECT_EQ(nullptr, h);
    EXPECT_STRNE("", ipcshm_last_error());
    ipcshm_info_t info = fresh_info();
    EXPECT_EQ(-ENOENT, ipcshm_info(id.c_str(), &info)) << id;
    EXPECT_EQ(-ENOENT, ipcshm_chmod(id.c_str(), 0600)) << id;
    EXPECT_EQ(0, ipcshm_remove(id.c_str())) << id;  // already gone is fine
  }
  EXPECT_FALSE(posix_exists(name));
}

TEST(ApiErrors, OutParametersAreUntouchedOnFailure) {
  const std::string name = unique_name("untouched");
  int dummy = 0;
  auto* sentinel = reinterpret_cast<ipcshm_t*>(&dummy);
  ipcshm_t* h = sentinel;
  EXPECT_EQ(-ENOENT, ipcshm_attach(name.c_str(), 0, &h));
  EXPECT_EQ(sentinel, h);
  EXPECT_EQ(-EINVAL, ipcshm_create(name.c_str(), 0, 0600, 0, &h));
  EXPECT_EQ(sentinel, h);

  ipcshm_info_t info = fresh_info();
  ipcshm_info_t copy = info;
  EXPECT_EQ(-ENOENT, ipcshm_info(name.c_str(), &info));
  EXPECT_EQ(0, std::memcmp(&info, &copy, sizeof info));
  EXPECT_FALSE(posix_exists(name));
}

TEST(ApiErrors, LastErrorNamesTheCallAndIsNotClearedBySuccess) {
  const std::string name = unique_name("lasterr");
  HandleGuard h;
  ASSERT_EQ(-ENOENT, ipcshm_attach(name.c_str(), 0, h.out()));
  const std::string msg = ipcshm_last_error();
  EXPECT_NE(std::string::npos, msg.find(name)) << msg;  // names the object
  EXPECT_NE(std::string::npos, msg.find(std::strerror(ENOENT))) << msg;

  Made m;
  make(m, name, 4096, 0600, 0);
  ASSERT_EQ(1, m.rc);
  EXPECT_EQ(msg, std::string(ipcshm_last_error()));  // a success does not clear it
}

// ---------------------------------------------------------------------------
// Version, strerror, page size.

TEST(ApiMisc, Version) {
  EXPECT_EQ(static_cast<uint32_t>(IPCSHM_VERSION), ipcshm_version());
  EXPECT_EQ(1u, ipcshm_version() >> 16);
  EXPECT_EQ(1, IPCSHM_VERSION_MAJOR);
}

TEST(ApiMisc, Strerror) {
  const std::string expected = std::strerror(ENOENT);
  ASSERT_NE(nullptr, ipcshm_strerror(-ENOENT));
  ASSERT_NE(nullptr, ipcshm_strerror(ENOENT));
  EXPECT_EQ(expected, ipcshm_strerror(-ENOENT));
  EXPECT_EQ(expected, ipcshm_strerror(ENOENT));
  EXPECT_EQ(std::string(std::strerror(EEXIST)), ipcshm_strerror(-EEXIST));
  EXPECT_EQ(std::string(std::strerror(EACCES)), ipcshm_strerror(EACCES));
  for (int unknown : {4095, -4095, 100000, -100000, INT32_MAX}) {
    const char* text = ipcshm_strerror(unknown);
    ASSERT_NE(nullptr, text) << unknown;
    EXPECT_NE(std::string(), std::string(text)) << unknown;
  }
  EXPECT_NE(nullptr, ipcshm_strerror(0));
}

TEST(ApiMisc, PageSize) {
  EXPECT_EQ(static_cast<uint64_t>(sysconf(_SC_PAGESIZE)), ipcshm_page_size());
}

}  // namespace
