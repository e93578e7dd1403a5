// SPEC §5, "bad input gets a clear error and loses nothing", for every public
// function: NULL handles, ids and out-pointers, detached and never-issued
// handles, sizes 0 and too large, unknown flags and permission bits, short
// buffers, bad System V identifiers and addresses, ftok's arguments. Every failing
// call must leave a message in ipcshm_last_error() and nothing behind.
#include <gtest/gtest.h>

#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::id_of;
using testutil::fresh_info;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::unique_key;
using testutil::unique_name;

int g_cases = 0;  // checks made, printed by the last test

// A name that never exists; a failure on it leaves a message that contains it.
const std::string& marker() {
  static const std::string name = unique_name("marker-never-created");
  return name;
}

// Leaves a known message in ipcshm_last_error(), so that the next check can tell
// whether the call under test wrote one of its own.
void prime_last_error() {
  ipcshm_t* h = nullptr;
  int rc = ipcshm_attach(marker().c_str(), 0, &h);
  if (h) ipcshm_detach(h);
  ASSERT_EQ(-ENOENT, rc);
}

void expect_own_message(const char* what) {
  const char* msg = ipcshm_last_error();
  ASSERT_NE(nullptr, msg) << what;
  EXPECT_STRNE("", msg) << what;
  EXPECT_EQ(std::string::npos, std::string(msg).find(marker()))
      << what << ": ipcshm_last_error() still holds the previous failure: " << msg;
}

// Runs `call` (an int-returning API call), expects the negative errno `expected`
// and a message of the call's own.
#define EXPECT_FAILS(expected, call)                                           \
  do {                                                                         \
    prime_last_error();                                                        \
    const int rc_ = (call);                                                    \
    ++g_cases;                                                                 \
    EXPECT_EQ((expected), rc_) << #call << ": " << ipcshm_last_error();       \
    if (rc_ < 0) expect_own_message(#call);                                    \
  } while (0)

// Counts a check that is not a failing int call (accessors and the like).
#define EXPECT_CASE(cond)    \
  do {                       \
    ++g_cases;               \
    EXPECT_TRUE(cond) << #cond; \
  } while (0)

// System V segments this process created that still exist.
size_t sysv_count() { return testutil::leaked_sysv(getpid()).size(); }

unsigned long long shmmax() {
  unsigned long long value = 0;
  std::ifstream in("/proc/sys/kernel/shmmax");
  in >> value;
  return value;
}

// A persistent POSIX object with a guard, for tests that need an existing one.
struct Existing {
  std::string id = unique_name("bad");
  RemoveGuard rg{id};
  HandleGuard h;
  Existing() {
    EXPECT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, IPCSHM_PERSISTENT, h.out()))
        << ipcshm_last_error();
  }
};

// A persistent System V segment with a guard.
struct ExistingSysv {
  HandleGuard h;
  RemoveGuard rg{""};
  std::string id;
  int shmid = -1;
  ExistingSysv() {
    EXPECT_EQ(1, ipcshm_create("private", 4096, 0600, IPCSHM_PERSISTENT, h.out()))
        << ipcshm_last_error();
    id = id_of(h.get());
    rg.reset(id);
    if (id.rfind("shmid:", 0) == 0) shmid = std::atoi(id.c_str() + 6);
  }
};

// ---------------------------------------------------------------------------
// NULL handles.

TEST(BadInput, NullHandle) {
  EXPECT_FAILS(-EINVAL, ipcshm_detach(nullptr));
  ipcshm_info_t info = fresh_info();
  EXPECT_FAILS(-EINVAL, ipcshm_handle_info(nullptr, &info));
  EXPECT_FAILS(-EINVAL, ipcshm_handle_info(nullptr, nullptr));
  EXPECT_CASE(ipcshm_pointer(nullptr) == nullptr);
  EXPECT_CASE(ipcshm_size(nullptr) == 0);
  EXPECT_CASE(ipcshm_id(nullptr) == nullptr);
}

// ---------------------------------------------------------------------------
// NULL ids.

TEST(BadInput, NullId) {
  HandleGuard h;
  EXPECT_FAILS(-EINVAL, ipcshm_create(nullptr, 4096, 0600, 0, h.out()));
  EXPECT_CASE(h.get() == nullptr);
  EXPECT_FAILS(-EINVAL, ipcshm_create(nullptr, 4096, 0600, IPCSHM_OPEN_OR_CREATE, h.out()));
  EXPECT_FAILS(-EINVAL, ipcshm_attach(nullptr, 0, h.out()));
  EXPECT_CASE(h.get() == nullptr);
  EXPECT_FAILS(-EINVAL, ipcshm_remove(nullptr));
  ipcshm_info_t info = fresh_info();
  EXPECT_FAILS(-EINVAL, ipcshm_info(nullptr, &info));
  EXPECT_FAILS(-EINVAL, ipcshm_info(nullptr, nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_chmod(nullptr, 0600));
  int32_t key = 0;
  EXPECT_FAILS(-EINVAL, ipcshm_ftok(nullptr, 1, &key));
}

// ---------------------------------------------------------------------------
// NULL out-pointers: -EINVAL and nothing created.

TEST(BadInput, NullOutOfCreateCreatesNothing) {
  const std::string name = unique_name("nullout");
  RemoveGuard rg(name);
  for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}, uint32_t{IPCSHM_OPEN_OR_CREATE},
                         uint32_t{IPCSHM_RESERVE | IPCSHM_PERSISTENT}}) {
    EXPECT_FAILS(-EINVAL, ipcshm_create(name.c_str(), 4096, 0600, flags, nullptr));
    EXPECT_CASE(!posix_exists(name));
  }

  const int32_t key = unique_key();
  const std::string kid = key_id(key);
  RemoveGuard rgk(kid);
  const size_t before = sysv_count();
  for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}}) {
    EXPECT_FAILS(-EINVAL, ipcshm_create(kid.c_str(), 4096, 0600, flags, nullptr));
    EXPECT_CASE(shmget(key, 0, 0) < 0);
    EXPECT_FAILS(-EINVAL, ipcshm_create("private", 4096, 0600, flags, nullptr));
  }
  EXPECT_CASE(sysv_count() == before);
}

TEST(BadInput, NullOutOfAttach) {
  Existing posix;
  EXPECT_FAILS(-EINVAL, ipcshm_attach(posix.id.c_str(), 0, nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_attach(posix.id.c_str(), IPCSHM_READONLY, nullptr));

  ExistingSysv sysv;
  ASSERT_GE(sysv.shmid, 0);
  EXPECT_FAILS(-EINVAL, ipcshm_attach(sysv.id.c_str(), 0, nullptr));
  struct shmid_ds ds;
  ASSERT_EQ(0, shmctl(sysv.shmid, IPC_STAT, &ds));
  EXPECT_CASE(ds.shm_nattch == 1);  // nothing attached behind our back
}

TEST(BadInput, NullInfo) {
  Existing posix;
  ExistingSysv sysv;
  for (const std::string* id : {&posix.id, &sysv.id}) {
    EXPECT_FAILS(-EINVAL, ipcshm_info(id->c_str(), nullptr));
  }
  EXPECT_FAILS(-EINVAL, ipcshm_handle_info(posix.h.get(), nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_handle_info(sysv.h.get(), nullptr));
  ipcshm_info_t info = fresh_info();
  info.struct_size = 0;
  EXPECT_FAILS(-EINVAL, ipcshm_info(posix.id.c_str(), &info));
  info.struct_size = 87;
  EXPECT_FAILS(-EINVAL, ipcshm_handle_info(sysv.h.get(), &info));
}

TEST(BadInput, NullOutOfLowLevelCalls) {
  const int32_t key = unique_key();
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_get(key, 4096, IPC_CREAT | IPC_EXCL | 0600, nullptr));
  EXPECT_CASE(shmget(key, 0, 0) < 0);  // nothing created
  if (shmget(key, 0, 0) >= 0) shmctl(shmget(key, 0, 0), IPC_RMID, nullptr);

  ExistingSysv sysv;
  ASSERT_GE(sysv.shmid, 0);
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_attach(sysv.shmid, 0, nullptr));
  struct shmid_ds ds;
  ASSERT_EQ(0, shmctl(sysv.shmid, IPC_STAT, &ds));
  EXPECT_CASE(ds.shm_nattch == 1);

  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", 1, nullptr));
}

// ---------------------------------------------------------------------------
// Detached and never-issued handles: -EBADF, NULL / 0, never a crash.

TEST(BadInput, DetachedHandle) {
  for (const char* kind : {"posix", "private"}) {
    std::string id = std::string(kind) == "posix" ? unique_name("detached") : "private";
    RemoveGuard rg(id == "private" ? "" : id);
    ipcshm_t* h = nullptr;
    ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, &h)) << ipcshm_last_error();
    RemoveGuard rg2(id_of(h));
    ASSERT_EQ(0, ipcshm_detach(h));
    // No handle is made from here on, so `h` cannot be reused by a new one.
    EXPECT_FAILS(-EBADF, ipcshm_detach(h));
    EXPECT_FAILS(-EBADF, ipcshm_detach(h));
    ipcshm_info_t info = fresh_info();
    EXPECT_FAILS(-EBADF, ipcshm_handle_info(h, &info));
    EXPECT_CASE(ipcshm_pointer(h) == nullptr);
    EXPECT_CASE(ipcshm_size(h) == 0);
    EXPECT_CASE(ipcshm_id(h) == nullptr);
  }
}

// A detached handle stays detached after new handles are made: handle values
// are never reused, so a second detach of h1 cannot end h2's life (1.1 gave
// h2 the freed address of h1, and the double detach destroyed h2's object).
TEST(BadInput, StaleHandleNeverReachesANewOne) {
  for (const char* kind : {"posix", "private", "memfd"}) {
    SCOPED_TRACE(kind);
    const std::string k = kind;
    const std::string id = k == "posix" ? unique_name("stale") : k == "memfd" ? "memfd:stale" : "private";
    ipcshm_t* h1 = nullptr;
    ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, &h1)) << ipcshm_last_error();
    ASSERT_EQ(0, ipcshm_detach(h1));
    HandleGuard h2;
    const std::string id2 = k == "posix" ? unique_name("stale-new") : id;
    RemoveGuard rg(k == "posix" ? id2 : "");
    ASSERT_EQ(1, ipcshm_create(id2.c_str(), 4096, 0600, 0, h2.out())) << ipcshm_last_error();
    RemoveGuard rg2(k == "private" ? id_of(h2.get()) : "");
    static_cast<char*>(ipcshm_pointer(h2.get()))[0] = 42;
    EXPECT_FAILS(-EBADF, ipcshm_detach(h1));
    // h2 is whole: its mapping, its id, and (POSIX) its object by name.
    EXPECT_CASE(ipcshm_pointer(h2.get()) != nullptr);
    EXPECT_CASE(static_cast<char*>(ipcshm_pointer(h2.get()))[0] == 42);
    ipcshm_info_t info = fresh_info();
    EXPECT_EQ(0, ipcshm_handle_info(h2.get(), &info)) << ipcshm_last_error();
    if (k == "posix") EXPECT_CASE(posix_exists(id2));
    EXPECT_EQ(0, ipcshm_detach(h2.release()));
  }
}

// Values are unique over many create/detach cycles and across threads, and
// none is an address of this process.
TEST(BadInput, HandleValuesAreNeverReused) {
  std::vector<uintptr_t> seen;
  for (int i = 0; i < 2000; ++i) {
    ipcshm_t* h = nullptr;
    ASSERT_EQ(1, ipcshm_create("memfd:values", 1, 0600, 0, &h)) << ipcshm_last_error();
    seen.push_back(reinterpret_cast<uintptr_t>(h));
    ASSERT_EQ(0, ipcshm_detach(h));
  }
  std::vector<uintptr_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_CASE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  // Every one of them stays invalid.
  for (uintptr_t v : seen) {
    auto* h = reinterpret_cast<ipcshm_t*>(v);
    ASSERT_EQ(-EBADF, ipcshm_detach(h));
    ASSERT_EQ(nullptr, ipcshm_pointer(h));
  }
  ++g_cases;
}

// A handle value taken from another process (a child made after the parent
// detached) or forged by adding to a live one is not live.
TEST(BadInput, ForgedNeighbourOfALiveHandle) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:neighbour", 4096, 0600, 0, h.out())) << ipcshm_last_error();
  const uintptr_t v = reinterpret_cast<uintptr_t>(h.get());
  for (uintptr_t delta : {uintptr_t{1}, uintptr_t{8}, uintptr_t{1} << 48, uintptr_t{1} << 56}) {
    EXPECT_FAILS(-EBADF, ipcshm_detach(reinterpret_cast<ipcshm_t*>(v + delta)));
    EXPECT_FAILS(-EBADF, ipcshm_detach(reinterpret_cast<ipcshm_t*>(v - delta)));
  }
  EXPECT_CASE(ipcshm_pointer(h.get()) != nullptr);
}

TEST(BadInput, NeverIssuedHandle) {
  alignas(64) unsigned char junk[256];
  std::memset(junk, 0x41, sizeof junk);
  auto* h = reinterpret_cast<ipcshm_t*>(junk);
  EXPECT_FAILS(-EBADF, ipcshm_detach(h));
  ipcshm_info_t info = fresh_info();
  EXPECT_FAILS(-EBADF, ipcshm_handle_info(h, &info));
  EXPECT_CASE(ipcshm_pointer(h) == nullptr);
  EXPECT_CASE(ipcshm_size(h) == 0);
  EXPECT_CASE(ipcshm_id(h) == nullptr);
  for (unsigned char c : junk) ASSERT_EQ(0x41, c);  // and nothing written there
}

// ---------------------------------------------------------------------------
// Sizes.

TEST(BadInput, SizeZero) {
  const std::string name = unique_name("size0");
  RemoveGuard rg(name);
  const int32_t key = unique_key();
  RemoveGuard rgk(key_id(key));
  const size_t before = sysv_count();
  for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}, uint32_t{IPCSHM_OPEN_OR_CREATE}}) {
    HandleGuard h;
    EXPECT_FAILS(-EINVAL, ipcshm_create(name.c_str(), 0, 0600, flags, h.out()));
    EXPECT_CASE(h.get() == nullptr);
    EXPECT_CASE(!posix_exists(name));
    EXPECT_FAILS(-EINVAL, ipcshm_create(key_id(key).c_str(), 0, 0600, flags, h.out()));
    EXPECT_CASE(shmget(key, 0, 0) < 0);
    EXPECT_FAILS(-EINVAL, ipcshm_create("private", 0, 0600, flags, h.out()));
    EXPECT_CASE(h.get() == nullptr);
  }
  EXPECT_CASE(sysv_count() == before);
}

TEST(BadInput, HugePosixSizeFailsAndLeavesNothing) {
  const std::string name = unique_name("huge");
  RemoveGuard rg(name);
  for (uint64_t size : {uint64_t{1} << 62, UINT64_MAX, uint64_t{INT64_MAX} + 1}) {
    for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}}) {
      HandleGuard h;
      prime_last_error();
      int rc = ipcshm_create(name.c_str(), size, 0600, flags, h.out());
      ++g_cases;
      EXPECT_LT(rc, 0) << "size " << size;
      EXPECT_TRUE(rc == -EINVAL || rc == -EFBIG || rc == -ENOMEM || rc == -ENOSPC)
          << "size " << size << ": rc " << rc;
      if (rc < 0) expect_own_message("huge POSIX create");
      EXPECT_CASE(h.get() == nullptr);
      EXPECT_CASE(!posix_exists(name));
    }
  }
}

TEST(BadInput, ReserveLargerThanDevShmIsEnospcAndLeavesNothing) {
  struct statvfs vfs;
  ASSERT_EQ(0, statvfs("/dev/shm", &vfs));
  const uint64_t total = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  if (total == 0) GTEST_SKIP() << "/dev/shm has no size limit";
  const std::string name = unique_name("reserve-huge");
  RemoveGuard rg(name);
  HandleGuard h;
  EXPECT_FAILS(-ENOSPC, ipcshm_create(name.c_str(), total * 2, 0600, IPCSHM_RESERVE, h.out()));
  EXPECT_CASE(h.get() == nullptr);
  EXPECT_CASE(!posix_exists(name));
}

TEST(BadInput, SysvSizeAboveShmmaxNamesTheLimit) {
  const unsigned long long max = shmmax();
  ASSERT_GT(max, 0ull);
  if (max == ULLONG_MAX) GTEST_SKIP() << "shmmax is the largest size there is";
  const uint64_t size = static_cast<uint64_t>(max) + 1;
  const int32_t key = unique_key();
  const std::string kid = key_id(key);
  RemoveGuard rgk(kid);
  const size_t before = sysv_count();
  for (const std::string& id : {kid, std::string("private")}) {
    for (uint32_t flags : {0u, uint32_t{IPCSHM_PERSISTENT}}) {
      HandleGuard h;
      EXPECT_FAILS(-EINVAL, ipcshm_create(id.c_str(), size, 0600, flags, h.out()));
      EXPECT_CASE(std::string(ipcshm_last_error()).find("shmmax") != std::string::npos);
      EXPECT_CASE(h.get() == nullptr);
    }
  }
  EXPECT_CASE(shmget(key, 0, 0) < 0);
  EXPECT_CASE(sysv_count() == before);
}

TEST(BadInput, HugeSysvSizeFailsAndLeavesNothing) {
  const int32_t key = unique_key();
  const std::string kid = key_id(key);
  RemoveGuard rgk(kid);
  const size_t before = sysv_count();
  for (const std::string& id : {kid, std::string("private")}) {
    HandleGuard h;
    prime_last_error();
    int rc = ipcshm_create(id.c_str(), uint64_t{1} << 62, 0600, IPCSHM_PERSISTENT, h.out());
    ++g_cases;
    EXPECT_LT(rc, 0) << id;
    if (rc < 0) expect_own_message("huge System V create");
    EXPECT_CASE(h.get() == nullptr);
  }
  EXPECT_CASE(shmget(key, 0, 0) < 0);
  EXPECT_CASE(sysv_count() == before);
}

// ---------------------------------------------------------------------------
// Flags and permission bits.

TEST(BadInput, UnknownFlagBits) {
  const std::string name = unique_name("flags");
  RemoveGuard rg(name);
  const int32_t key = unique_key();
  RemoveGuard rgk(key_id(key));
  const size_t before = sysv_count();
  // Bit 4 is IPCSHM_HUGEPAGES since 1.1: known to create, not to attach; bit 7
  // is IPCSHM_UNSEALED since 1.2: known to attach, not to create.
  for (uint32_t bad : {1u << 31, 1u << 7, 1u << 8, 1u << 16, 0xffffffffu}) {
    HandleGuard h;
    EXPECT_FAILS(-EINVAL, ipcshm_create("memfd:flags", 4096, 0600, bad, h.out()));
    EXPECT_FAILS(-EINVAL, ipcshm_create(name.c_str(), 4096, 0600, bad, h.out()));
    EXPECT_CASE(!posix_exists(name));
    EXPECT_FAILS(-EINVAL,
                 ipcshm_create(name.c_str(), 4096, 0600, bad | IPCSHM_PERSISTENT, h.out()));
    EXPECT_CASE(!posix_exists(name));
    EXPECT_FAILS(-EINVAL, ipcshm_create(key_id(key).c_str(), 4096, 0600, bad, h.out()));
    EXPECT_FAILS(-EINVAL, ipcshm_create("private", 4096, 0600, bad, h.out()));
    EXPECT_CASE(h.get() == nullptr);
  }
  EXPECT_CASE(shmget(key, 0, 0) < 0);
  EXPECT_CASE(sysv_count() == before);

  Existing posix;
  ExistingSysv sysv;
  for (uint32_t bad : {1u << 31, 1u << 4, 1u << 8, 1u << 1, 1u << 2, 1u << 6}) {
    HandleGuard h;
    EXPECT_FAILS(-EINVAL, ipcshm_attach(posix.id.c_str(), bad, h.out()));
    EXPECT_FAILS(-EINVAL, ipcshm_attach(sysv.id.c_str(), bad, h.out()));
    EXPECT_CASE(h.get() == nullptr);
  }
}

TEST(BadInput, ReadonlyOnCreateIsFine) {
  for (uint32_t flags :
       {uint32_t{IPCSHM_READONLY}, uint32_t{IPCSHM_READONLY | IPCSHM_PERSISTENT},
        uint32_t{IPCSHM_READONLY | IPCSHM_PREFAULT},
        uint32_t{IPCSHM_READONLY | IPCSHM_OPEN_OR_CREATE}}) {
    for (const char* kind : {"posix", "private"}) {
      std::string id = std::string(kind) == "posix" ? unique_name("ro") : "private";
      RemoveGuard rg(id == "private" ? "" : id);
      HandleGuard h;
      int rc = ipcshm_create(id.c_str(), 4096, 0600, flags, h.out());
      RemoveGuard rg2(id_of(h.get()));
      ++g_cases;
      EXPECT_EQ(1, rc) << kind << " flags " << flags << ": " << ipcshm_last_error();
      auto* p = static_cast<const unsigned char*>(ipcshm_pointer(h.get()));
      EXPECT_CASE(p != nullptr);
      if (p) EXPECT_CASE(p[0] == 0 && p[4095] == 0);
    }
  }
}

TEST(BadInput, PermissionBitsAbove0777) {
  const std::string name = unique_name("perms");
  RemoveGuard rg(name);
  const size_t before = sysv_count();
  for (uint32_t perms : {01000u, 02000u, 04000u, 01777u, 0x10000u, 0x80000000u}) {
    HandleGuard h;
    EXPECT_FAILS(-EINVAL, ipcshm_create(name.c_str(), 4096, perms, 0, h.out()));
    EXPECT_CASE(!posix_exists(name));
    EXPECT_FAILS(-EINVAL, ipcshm_create("private", 4096, perms, 0, h.out()));
    EXPECT_CASE(h.get() == nullptr);
  }
  EXPECT_CASE(sysv_count() == before);

  Existing posix;
  ExistingSysv sysv;
  for (const std::string* id : {&posix.id, &sysv.id}) {
    for (uint32_t perms : {01000u, 04600u, 0x80000000u}) {
      EXPECT_FAILS(-EINVAL, ipcshm_chmod(id->c_str(), perms));
    }
    ipcshm_info_t info = fresh_info();
    ASSERT_EQ(0, ipcshm_info(id->c_str(), &info));
    EXPECT_CASE(info.mode == 0600u);  // unchanged
  }
}

// ---------------------------------------------------------------------------
// Missing and existing objects.

TEST(BadInput, MissingObjects) {
  const std::string name = unique_name("missing");
  const std::string kid = key_id(unique_key());
  ipcshm_info_t info = fresh_info();
  for (const std::string& id : {name, kid}) {
    HandleGuard h;
    EXPECT_FAILS(-ENOENT, ipcshm_attach(id.c_str(), 0, h.out()));
    EXPECT_FAILS(-ENOENT, ipcshm_attach(id.c_str(), IPCSHM_READONLY, h.out()));
    EXPECT_FAILS(-ENOENT, ipcshm_info(id.c_str(), &info));
    EXPECT_FAILS(-ENOENT, ipcshm_chmod(id.c_str(), 0600));
    EXPECT_FAILS(0, ipcshm_remove(id.c_str()));
  }
  // A System V identifier that no longer names a segment.
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid));
  ASSERT_EQ(0, ipcshm_sysv_remove(shmid));
  const std::string sid = "shmid:" + std::to_string(shmid);
  HandleGuard h;
  EXPECT_FAILS(-ENOENT, ipcshm_attach(sid.c_str(), 0, h.out()));
  EXPECT_FAILS(-ENOENT, ipcshm_info(sid.c_str(), &info));
  EXPECT_FAILS(0, ipcshm_remove(sid.c_str()));
  EXPECT_CASE(!posix_exists(name));
}

TEST(BadInput, CreateOnExistingIsEexist) {
  Existing posix;
  HandleGuard h;
  EXPECT_FAILS(-EEXIST, ipcshm_create(posix.id.c_str(), 4096, 0600, 0, h.out()));
  EXPECT_FAILS(-EEXIST, ipcshm_create(posix.id.c_str(), 8192, 0644, IPCSHM_PERSISTENT, h.out()));
  EXPECT_CASE(h.get() == nullptr);
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(posix.id.c_str(), &info));
  EXPECT_CASE(info.size == 4096u && info.mode == 0600u);
}

// ---------------------------------------------------------------------------
// Low-level System V.

TEST(BadInput, SysvCtlBuffers) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid));
  RemoveGuard rg("shmid:" + std::to_string(shmid));
  const uint64_t need = sizeof(struct shmid_ds);
  ASSERT_EQ(need, ipcshm_sysv_shmid_ds_size());
  std::vector<unsigned char> buf(need + 64, 0xcc);

  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_STAT, buf.data(), need - 1));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_STAT, buf.data(), 0));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_STAT, nullptr, need));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_STAT, nullptr, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, SHM_STAT, buf.data(), need - 1));
  bool untouched = true;
  for (unsigned char c : buf) untouched = untouched && c == 0xcc;
  EXPECT_CASE(untouched);  // a refused call writes nothing

  // IPC_SET with a short buffer: refused, and the mode stays.
  struct shmid_ds ds;
  ASSERT_EQ(0, shmctl(shmid, IPC_STAT, &ds));
  ds.shm_perm.mode = 0644;
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_SET, &ds, need - 1));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(shmid, IPC_SET, nullptr, need));
  ASSERT_EQ(0, shmctl(shmid, IPC_STAT, &ds));
  EXPECT_CASE((ds.shm_perm.mode & 0777) == 0600);

  // The information commands want their own structs.
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(0, IPC_INFO, buf.data(), sizeof(struct shminfo) - 1));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(0, IPC_INFO, nullptr, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(0, SHM_INFO, buf.data(), sizeof(struct shm_info) - 1));

  // Bad identifiers.
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(-1, IPC_STAT, buf.data(), need));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_ctl(-1, IPC_RMID, nullptr, 0));
  EXPECT_CASE(testutil::sysv_exists(shmid));
}

TEST(BadInput, SysvDetachOfWhatIsNotAttached) {
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_detach(nullptr));
  int local = 0;
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_detach(&local));
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, page);
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_detach(page));
  munmap(page, 4096);

  // An address that was attached once, detached twice.
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid));
  RemoveGuard rg("shmid:" + std::to_string(shmid));
  void* p = nullptr;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, &p));
  ASSERT_EQ(0, ipcshm_sysv_detach(p));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_detach(p));

  // An address inside an attachment, not its start.
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, &p));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_detach(static_cast<char*>(p) + 16));
  EXPECT_EQ(0, ipcshm_sysv_detach(p));
}

TEST(BadInput, SysvAttachOfBadShmid) {
  void* p = reinterpret_cast<void*>(&g_cases);
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_attach(-1, 0, &p));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_attach(INT32_MIN, 1, &p));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_attach(INT32_MAX, 0, &p));
  EXPECT_CASE(p == reinterpret_cast<void*>(&g_cases));  // untouched

  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid));
  ASSERT_EQ(0, ipcshm_sysv_remove(shmid));  // gone: no attachment keeps it
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_attach(shmid, 0, &p));
}

TEST(BadInput, SysvGet) {
  int32_t shmid = 12345;
  const int32_t key = unique_key();
  EXPECT_FAILS(-ENOENT, ipcshm_sysv_get(key, 4096, 0600, &shmid));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_get(0, 0, IPC_CREAT | 0600, &shmid));
  EXPECT_FAILS(-EINVAL, ipcshm_sysv_get(key, 0, IPC_CREAT | 0600, &shmid));
  EXPECT_CASE(shmid == 12345);  // untouched
  EXPECT_CASE(shmget(key, 0, 0) < 0);
  const unsigned long long max = shmmax();
  if (max < ULLONG_MAX) {
    EXPECT_FAILS(-EINVAL, ipcshm_sysv_get(key, static_cast<uint64_t>(max) + 1,
                                          IPC_CREAT | 0600, &shmid));
    EXPECT_CASE(std::string(ipcshm_last_error()).find("shmmax") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// ftok.

TEST(BadInput, Ftok) {
  int32_t key = 777;
  const std::string missing = "/tmp/ipcshm-no-such-file-" + std::to_string(getpid());
  EXPECT_FAILS(-ENOENT, ipcshm_ftok(missing.c_str(), 1, &key));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", 0, &key));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", 256, &key));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", -1, &key));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", INT32_MAX, &key));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok("/tmp", 1, nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_ftok(nullptr, 1, nullptr));
  EXPECT_CASE(key == 777);  // untouched
}

// ---------------------------------------------------------------------------
// strerror and last_error.

TEST(BadInput, StrerrorOfAnything) {
  for (int err : {INT_MIN, INT_MIN + 1, -1, 0, 1, 4096, 1 << 20, INT_MAX}) {
    const char* text = ipcshm_strerror(err);
    EXPECT_CASE(text != nullptr);
    if (text) EXPECT_CASE(text[0] != '\0');
  }
}

TEST(BadInput, LastErrorIsNeverNull) {
  EXPECT_CASE(ipcshm_last_error() != nullptr);
}

// Last, as gtest runs the tests of a file in order (unless shuffled).
TEST(BadInputSummary, CountOfCases) {
  std::printf("[ bad_input ] %d cases checked\n", g_cases);
  ::testing::Test::RecordProperty("cases", g_cases);
  EXPECT_GT(g_cases, 0);
}

}  // namespace
