// Permissions (header rule 5 and SPEC §5): CI runs as root, so the checks that
// need an unprivileged user fork a child that becomes `nobody` for good and
// reports through its exit code. Perms are applied exactly, whatever the umask,
// and always include 0600.
#include <gtest/gtest.h>

#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "test_util.hpp"

namespace {

using testutil::fresh_info;
using testutil::drop_to_nobody;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::nobody_uid;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::run_in_child;
using testutil::sysv_exists;
using testutil::unique_key;
using testutil::unique_name;

// Exit codes of the children.
constexpr int kOk = 0;
constexpr int kCannotDrop = 90;

std::string describe_status(int status) {
  if (status == -1) return "fork failed";
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == kCannotDrop) return "child could not become nobody";
    return "exited with " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

bool can_become_nobody() { return ::geteuid() == 0 && nobody_uid() != static_cast<uid_t>(-1); }

#define SKIP_UNLESS_ROOT_WITH_NOBODY()                                        \
  do {                                                                        \
    if (!can_become_nobody())                                                 \
      GTEST_SKIP() << "needs to run as root on a system with a nobody user"; \
  } while (0)

uint8_t pattern_byte(size_t i, uint8_t seed) { return static_cast<uint8_t>(i * 29u + seed); }

void fill_pattern(void* p, size_t n, uint8_t seed) {
  auto* b = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = pattern_byte(i, seed);
}

bool has_pattern(const void* p, size_t n, uint8_t seed) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i] != pattern_byte(i, seed)) return false;
  return true;
}

// In a child: attach must fail with exactly `err`, a message, and *out untouched.
bool attach_fails_with(const std::string& id, uint32_t flags, int err) {
  ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x20));
  ipcshm_t* h = sentinel;
  int rc = ipcshm_attach(id.c_str(), flags, &h);
  if (rc >= 0 && h != sentinel) ipcshm_detach(h);
  return rc == err && h == sentinel && ipcshm_last_error()[0] != '\0';
}

// The object kinds, and how another process names them.
//   Posix:        a volatile "/name", attached by name.
//   SysvPrivate:  a volatile "private" segment, attached by "shmid:N".
//   SysvKey:      a persistent "key:0x..." segment, attached by its key.
using testutil::Kind;
using testutil::kind_name;

class Permissions : public ::testing::TestWithParam<Kind> {
 protected:
  static constexpr uint64_t kSize = 4096 + 17;

  // Creates the object with `perms` as root and writes a pattern into it.
  void create(uint32_t perms) {
    switch (GetParam()) {
      case Kind::Posix:
        requested_ = unique_name("perm");
        break;
      case Kind::SysvPrivate:
        requested_ = "private";
        break;
      case Kind::SysvKey:
        requested_ = key_id(unique_key());
        break;
    }
    const uint32_t flags = GetParam() == Kind::SysvKey ? IPCSHM_PERSISTENT : 0;
    if (GetParam() != Kind::SysvPrivate) remove_.reset(requested_);
    ASSERT_EQ(1, ipcshm_create(requested_.c_str(), kSize, perms, flags, handle_.out()))
        << requested_ << ": " << ipcshm_last_error();
    const char* id = ipcshm_id(handle_.get());
    ASSERT_NE(nullptr, id);
    canonical_ = id;
    if (GetParam() == Kind::SysvPrivate) remove_.reset(canonical_);
    // Another process names the object by this id.
    id_ = GetParam() == Kind::SysvKey ? requested_ : canonical_;
    ptr_ = ipcshm_pointer(handle_.get());
    ASSERT_NE(nullptr, ptr_);
    fill_pattern(ptr_, kSize, 17);
  }

  uint32_t mode_now() {
    ipcshm_info_t info = fresh_info();
    EXPECT_EQ(0, ipcshm_info(id_.c_str(), &info)) << ipcshm_last_error();
    return info.mode;
  }

  std::string requested_, canonical_, id_;
  void* ptr_ = nullptr;
  RemoveGuard remove_{""};
  HandleGuard handle_;
};

// ---------------------------------------------------------------------------
// What an unprivileged user may do with root's objects.

TEST_P(Permissions, Mode0600DeniesAnotherUserReadOnlyAndReadWrite) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0600));
  EXPECT_EQ(0600u, mode_now());
  const std::string id = id_;
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    if (!attach_fails_with(id, IPCSHM_READONLY, -EACCES)) return 1;
    if (!attach_fails_with(id, 0, -EACCES)) return 2;
    return kOk;
  });
  EXPECT_TRUE(exited_with(status, kOk))
      << describe_status(status) << " (1: read-only attach was not -EACCES, 2: read-write)";
  EXPECT_TRUE(has_pattern(ptr_, kSize, 17));
}

TEST_P(Permissions, Mode0644LetsAnotherUserReadButNotWrite) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0644));
  EXPECT_EQ(0644u, mode_now());
  const std::string id = id_;
  const Kind kind = GetParam();
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    {
      ipcshm_t* h = nullptr;
      if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &h) != 0) return 1;
      HandleGuard g(h);
      if (ipcshm_size(h) != kSize) return 2;
      if (!has_pattern(ipcshm_pointer(h), kSize, 17)) return 3;
    }
    if (!attach_fails_with(id, 0, -EACCES)) return 4;
    // info needs only read permission.
    ipcshm_info_t info = fresh_info();
    if (ipcshm_info(id.c_str(), &info) != 0) return 5;
    if (info.mode != 0644u || info.uid != 0u || info.size != kSize) return 6;
    const uint32_t persistent =
        kind == Kind::SysvKey ? static_cast<uint32_t>(IPCSHM_PERSISTENT) : 0u;
    if ((info.flags & IPCSHM_PERSISTENT) != persistent) return 7;
    return kOk;
  });
  EXPECT_TRUE(exited_with(status, kOk))
      << describe_status(status)
      << " (1: read-only attach failed, 3: wrong data, 4: read-write attach was not "
         "-EACCES, 5/6/7: info failed or wrong)";
  EXPECT_TRUE(has_pattern(ptr_, kSize, 17));
}

TEST_P(Permissions, Mode0666LetsAnotherUserWriteAndTheOwnerSeesIt) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0666));
  EXPECT_EQ(0666u, mode_now());
  const std::string id = id_;
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
    HandleGuard g(h);
    if (!has_pattern(ipcshm_pointer(h), kSize, 17)) return 2;
    fill_pattern(ipcshm_pointer(h), kSize, 18);
    return kOk;
  });
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status);
  EXPECT_TRUE(has_pattern(ptr_, kSize, 18)) << "the owner does not see the other user's write";
}

TEST_P(Permissions, ChmodByAnotherUserFails) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0644));
  const std::string id = id_;
  const bool posix = GetParam() == Kind::Posix;
  // 0644: the object can be read, the change is refused. The kernel says EPERM
  // for POSIX fchmod and System V IPC_SET by a non-owner; the library reports
  // every lack of permission as -EACCES (SPEC §5), for both kinds alike.
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    int rc = ipcshm_chmod(id.c_str(), 0666);
    if (rc != -EACCES) return 1;
    if (std::strstr(ipcshm_last_error(), "owner") == nullptr) return 2;
    return kOk;
  });
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status) << " (1: not -EACCES)";
  EXPECT_EQ(0644u, mode_now()) << "another user changed the mode";

  // 0600: a POSIX object must be opened (read permission) before fchmod: EACCES.
  ASSERT_EQ(0, ipcshm_chmod(id.c_str(), 0600)) << ipcshm_last_error();
  status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    int rc = ipcshm_chmod(id.c_str(), 0666);
    if (ipcshm_last_error()[0] == '\0') return 3;
    return rc == -EACCES ? kOk : 1;
  });
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status) << " (1: not -EACCES)";
  EXPECT_EQ(0600u, mode_now()) << "another user changed the mode";
  (void)posix;
}

// Removing another user's object is -EACCES for both kinds (the kernel says
// EPERM for both: unlink in sticky /dev/shm, IPC_RMID by a non-owner), and
// the object stays, whatever mode it has.
TEST_P(Permissions, RemoveByAnotherUserIsEaccesAndRemovesNothing) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0666));
  const std::string id = id_;
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    int rc = ipcshm_remove(id.c_str());
    if (rc != -EACCES) return 1;
    if (std::strstr(ipcshm_last_error(), "owner") == nullptr) return 2;
    return kOk;
  });
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status) << " (1: not -EACCES)";
  ipcshm_info_t info = fresh_info();
  EXPECT_EQ(0, ipcshm_info(id.c_str(), &info)) << "another user removed it: "
                                                << ipcshm_last_error();
}

// ---------------------------------------------------------------------------
// What the owner may do.

TEST_P(Permissions, ChmodByOwnerChangesTheModeAndKeepsTheLifetime) {
  ASSERT_NO_FATAL_FAILURE(create(0600));
  ipcshm_info_t before = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id_.c_str(), &before)) << ipcshm_last_error();
  const uint32_t persistent =
      GetParam() == Kind::SysvKey ? static_cast<uint32_t>(IPCSHM_PERSISTENT) : 0u;
  EXPECT_EQ(persistent, before.flags & IPCSHM_PERSISTENT);

  const uint32_t modes[] = {0640, 0644, 0666, 0604, 0600};
  for (uint32_t mode : modes) {
    ASSERT_EQ(0, ipcshm_chmod(id_.c_str(), mode)) << std::oct << mode << ": "
                                                   << ipcshm_last_error();
    ipcshm_info_t info = fresh_info();
    ASSERT_EQ(0, ipcshm_info(id_.c_str(), &info)) << ipcshm_last_error();
    EXPECT_EQ(mode, info.mode) << std::oct << "chmod 0" << mode;
    EXPECT_EQ(persistent, info.flags & IPCSHM_PERSISTENT) << "chmod changed the lifetime";
    ipcshm_info_t hinfo = fresh_info();
    ASSERT_EQ(0, ipcshm_handle_info(handle_.get(), &hinfo)) << ipcshm_last_error();
    EXPECT_EQ(mode, hinfo.mode);
    EXPECT_EQ(persistent, hinfo.flags & IPCSHM_PERSISTENT);
  }
  // Owner read+write are always there.
  ASSERT_EQ(0, ipcshm_chmod(id_.c_str(), 0)) << ipcshm_last_error();
  EXPECT_EQ(0600u, mode_now());
  ASSERT_EQ(0, ipcshm_chmod(id_.c_str(), 0044)) << ipcshm_last_error();
  EXPECT_EQ(0644u, mode_now());
  // Bits above 0777 are refused and change nothing.
  for (uint32_t bad : {01000u, 02644u, 04644u, 010000u, 0xffffffffu}) {
    EXPECT_EQ(-EINVAL, ipcshm_chmod(id_.c_str(), bad)) << std::oct << bad;
    EXPECT_STRNE("", ipcshm_last_error());
    EXPECT_EQ(0644u, mode_now());
  }
  EXPECT_EQ(persistent, [&] {
    ipcshm_info_t info = fresh_info();
    ipcshm_info(id_.c_str(), &info);
    return info.flags & IPCSHM_PERSISTENT;
  }());

  // Still the same lifetime: a volatile object goes with its last user.
  ASSERT_EQ(0, ipcshm_detach(handle_.release()));
  switch (GetParam()) {
    case Kind::Posix:
      EXPECT_FALSE(posix_exists(id_)) << "chmod lost the volatile mark";
      break;
    case Kind::SysvPrivate:
      EXPECT_FALSE(sysv_exists(std::atoi(canonical_.c_str() + 6)));
      break;
    case Kind::SysvKey: {
      ipcshm_info_t info = fresh_info();
      EXPECT_EQ(0, ipcshm_info(id_.c_str(), &info)) << "a persistent segment went away";
      break;
    }
  }
}

TEST_P(Permissions, ChmodByOwnerTakesEffectForOtherUsers) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  ASSERT_NO_FATAL_FAILURE(create(0600));
  const std::string id = id_;
  auto nobody_reads = [&] {
    return run_in_child([&] {
      if (!drop_to_nobody()) return kCannotDrop;
      ipcshm_t* h = nullptr;
      int rc = ipcshm_attach(id.c_str(), IPCSHM_READONLY, &h);
      if (rc == -EACCES) return 10;
      if (rc != 0) return 11;
      bool ok = has_pattern(ipcshm_pointer(h), kSize, 17);
      ipcshm_detach(h);
      return ok ? kOk : 12;
    });
  };
  int status = nobody_reads();
  EXPECT_TRUE(exited_with(status, 10)) << describe_status(status);
  ASSERT_EQ(0, ipcshm_chmod(id.c_str(), 0604)) << ipcshm_last_error();
  status = nobody_reads();
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status);
  ASSERT_EQ(0, ipcshm_chmod(id.c_str(), 0600)) << ipcshm_last_error();
  status = nobody_reads();
  EXPECT_TRUE(exited_with(status, 10)) << describe_status(status);
}

INSTANTIATE_TEST_SUITE_P(Kinds, Permissions,
                         ::testing::Values(Kind::Posix, Kind::SysvPrivate, Kind::SysvKey),
                         kind_name);

TEST(PermissionsChmod, MissingObjectIsEnoent) {
  EXPECT_EQ(-ENOENT, ipcshm_chmod(unique_name("nochmod").c_str(), 0644));
  EXPECT_STRNE("", ipcshm_last_error());
  EXPECT_EQ(-ENOENT, ipcshm_chmod(key_id(unique_key()).c_str(), 0644));
  EXPECT_STRNE("", ipcshm_last_error());
}

TEST(PermissionsChmod, PersistentPosixKeepsItsFlag) {
  const std::string name = unique_name("chmodp");
  RemoveGuard rm(name);
  {
    HandleGuard h;
    ASSERT_EQ(1, ipcshm_create(name.c_str(), 64, 0600, IPCSHM_PERSISTENT, h.out()))
        << ipcshm_last_error();
  }
  ASSERT_EQ(0, ipcshm_chmod(name.c_str(), 0640)) << ipcshm_last_error();
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(name.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(0640u, info.mode);
  EXPECT_EQ(static_cast<uint32_t>(IPCSHM_PERSISTENT), info.flags & IPCSHM_PERSISTENT);
  struct stat st;
  ASSERT_EQ(0, ::stat(("/dev/shm" + name).c_str(), &st));
  EXPECT_EQ(0640u, st.st_mode & 07777) << "a persistent object carries no mark in its mode";
  EXPECT_TRUE(posix_exists(name));
}

TEST(PermissionsChmod, SysvVolatileSegmentStaysMarkedForRemoval) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", 64, 0600, 0, h.out())) << ipcshm_last_error();
  const std::string id = ipcshm_id(h.get());
  RemoveGuard rm(id);
  const int shmid = std::atoi(id.c_str() + 6);
  ASSERT_EQ(0, ipcshm_chmod(id.c_str(), 0640)) << ipcshm_last_error();
  struct shmid_ds ds;
  ASSERT_EQ(0, ::shmctl(shmid, IPC_STAT, &ds));
  EXPECT_EQ(0640u, ds.shm_perm.mode & 0777u);
  EXPECT_TRUE(ds.shm_perm.mode & SHM_DEST) << "chmod unmarked a volatile segment";
  ASSERT_EQ(0, ipcshm_detach(h.release()));
  EXPECT_FALSE(sysv_exists(shmid));
}

// ---------------------------------------------------------------------------
// Perms at create.

// Creates `requested` with perms and returns the mode it reports (or ~0u).
// The object is volatile, and removed by its id as well in case it is not.
uint32_t mode_of_new(const std::string& requested, uint32_t perms) {
  RemoveGuard rm("");
  ipcshm_t* h = nullptr;
  if (ipcshm_create(requested.c_str(), 64, perms, 0, &h) != 1) return ~0u;
  HandleGuard g(h);
  rm.reset(ipcshm_id(h));
  ipcshm_info_t info = fresh_info();
  if (ipcshm_handle_info(h, &info) != 0) return ~0u;
  ipcshm_info_t by_id = fresh_info();
  if (ipcshm_info(ipcshm_id(h), &by_id) != 0 || by_id.mode != info.mode) return ~1u;
  return info.mode;
}

TEST(PermissionsCreate, PermsAreAppliedExactlyWhateverTheUmask) {
  const std::string name = unique_name("umask");
  RemoveGuard rm(name);
  const int32_t key = unique_key();
  RemoveGuard rm_key(key_id(key));
  int status = run_in_child([&] {
    ::umask(077);
    if (mode_of_new(name, 0666) != 0666u) return 1;
    if (mode_of_new("private", 0666) != 0666u) return 2;
    if (mode_of_new(key_id(key), 0666) != 0666u) return 3;
    ::umask(0777);
    if (mode_of_new(name, 0755) != 0755u) return 4;
    if (mode_of_new("private", 0644) != 0644u) return 5;
    // The POSIX file itself has the mode (mode_of_new detached: make a new one).
    ::umask(077);
    ipcshm_t* h = nullptr;
    if (ipcshm_create(name.c_str(), 64, 0644, IPCSHM_PERSISTENT, &h) != 1) return 6;
    ipcshm_detach(h);
    struct stat st;
    int rc = ::stat(("/dev/shm" + name).c_str(), &st) == 0 && (st.st_mode & 0777) == 0644 ? 0 : 7;
    ipcshm_remove(name.c_str());
    return rc;
  });
  EXPECT_TRUE(exited_with(status, 0))
      << describe_status(status) << " (1..5: the umask narrowed the mode; 6/7: POSIX file)";
  EXPECT_FALSE(posix_exists(name));
}

TEST(PermissionsCreate, PermsAlwaysIncludeOwnerReadWrite) {
  struct Case {
    uint32_t perms, mode;
  };
  const Case cases[] = {{0, 0600}, {0044, 0644}, {0400, 0600}, {0200, 0600},
                        {0100, 0700}, {0070, 0670}, {0777, 0777}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << std::oct << "perms 0" << c.perms);
    const std::string name = unique_name("perms");
    RemoveGuard rm(name);
    EXPECT_EQ(c.mode, mode_of_new(name, c.perms)) << ipcshm_last_error();
    EXPECT_EQ(c.mode, mode_of_new("private", c.perms)) << ipcshm_last_error();
    const int32_t key = unique_key();
    RemoveGuard rm_key(key_id(key));
    EXPECT_EQ(c.mode, mode_of_new(key_id(key), c.perms)) << ipcshm_last_error();
  }
}

TEST(PermissionsCreate, PermsAbove0777AreEinvalAndCreateNothing) {
  for (uint32_t bad : {01000u, 01600u, 02600u, 04600u, 010000u, 0x80000000u, 0xffffffffu}) {
    SCOPED_TRACE(testing::Message() << std::oct << "perms 0" << bad);
    const std::string name = unique_name("badperms");
    RemoveGuard rm(name);
    ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x30));
    ipcshm_t* h = sentinel;
    EXPECT_EQ(-EINVAL, ipcshm_create(name.c_str(), 64, bad, 0, &h));
    EXPECT_STRNE("", ipcshm_last_error());
    EXPECT_EQ(sentinel, h);
    EXPECT_FALSE(posix_exists(name));
    if (h != sentinel && h) ipcshm_detach(h);

    const int32_t key = unique_key();
    RemoveGuard rm_key(key_id(key));
    h = sentinel;
    EXPECT_EQ(-EINVAL, ipcshm_create(key_id(key).c_str(), 64, bad, IPCSHM_PERSISTENT, &h));
    EXPECT_STRNE("", ipcshm_last_error());
    EXPECT_EQ(sentinel, h);
    EXPECT_EQ(-1, ::shmget(key, 0, 0)) << "a segment was created";
    if (h != sentinel && h) ipcshm_detach(h);

    h = sentinel;
    EXPECT_EQ(-EINVAL, ipcshm_create("private", 64, bad, 0, &h));
    EXPECT_EQ(sentinel, h);
    if (h != sentinel && h) ipcshm_detach(h);
  }
}

// ---------------------------------------------------------------------------
// IPCSHM_OPEN_OR_CREATE and another user's object.

// nobody creates a persistent 0666 object and writes a pattern into it.
int create_as_nobody(const std::string& id, uint64_t size) {
  if (!drop_to_nobody()) return kCannotDrop;
  ipcshm_t* h = nullptr;
  if (ipcshm_create(id.c_str(), size, 0666, IPCSHM_PERSISTENT, &h) != 1) return 1;
  fill_pattern(ipcshm_pointer(h), size, 55);
  return ipcshm_detach(h) == 0 ? kOk : 2;
}

void expect_open_or_create_refused(const std::string& id, uint64_t size) {
  ipcshm_info_t before = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &before)) << ipcshm_last_error();
  EXPECT_EQ(static_cast<uint32_t>(nobody_uid()), before.uid);
  EXPECT_EQ(0666u, before.mode);

  for (uint32_t flags : {0u, static_cast<uint32_t>(IPCSHM_PERSISTENT),
                         static_cast<uint32_t>(IPCSHM_READONLY)}) {
    SCOPED_TRACE(testing::Message() << "flags " << flags);
    ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x40));
    ipcshm_t* h = sentinel;
    int rc = ipcshm_create(id.c_str(), size, 0600, flags | IPCSHM_OPEN_OR_CREATE, &h);
    EXPECT_EQ(-EACCES, rc) << "OPEN_OR_CREATE took another user's object: "
                           << ipcshm_last_error();
    EXPECT_STRNE("", ipcshm_last_error());
    EXPECT_EQ(sentinel, h);
    if (rc >= 0 && h != sentinel) ipcshm_detach(h);
  }
  // Without OPEN_OR_CREATE: exclusive.
  ipcshm_t* h = nullptr;
  EXPECT_EQ(-EEXIST, ipcshm_create(id.c_str(), size, 0600, 0, &h));
  if (h) ipcshm_detach(h);

  // Untouched.
  ipcshm_info_t after = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &after)) << ipcshm_last_error();
  EXPECT_EQ(before.uid, after.uid);
  EXPECT_EQ(before.gid, after.gid);
  EXPECT_EQ(0666u, after.mode);
  EXPECT_EQ(before.size, after.size);
  EXPECT_EQ(static_cast<uint32_t>(IPCSHM_PERSISTENT), after.flags & IPCSHM_PERSISTENT);
  HandleGuard ro;
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), IPCSHM_READONLY, ro.out())) << ipcshm_last_error();
  EXPECT_TRUE(has_pattern(ipcshm_pointer(ro.get()), size, 55)) << "the data changed";
}

TEST(PermissionsOpenOrCreate, RefusesAnotherUsersPosixObject) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const uint64_t size = 3000;
  const std::string name = unique_name("foreign");
  RemoveGuard rm(name);
  int status = run_in_child([&] { return create_as_nobody(name, size); });
  ASSERT_TRUE(exited_with(status, kOk)) << describe_status(status);
  ASSERT_NO_FATAL_FAILURE(expect_open_or_create_refused(name, size));
  EXPECT_EQ(0, ipcshm_remove(name.c_str())) << ipcshm_last_error();
  EXPECT_FALSE(posix_exists(name));
}

TEST(PermissionsOpenOrCreate, RefusesAnotherUsersSysvKeySegment) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const uint64_t size = 3000;
  const int32_t key = unique_key();
  const std::string id = key_id(key);
  RemoveGuard rm(id);
  int status = run_in_child([&] { return create_as_nobody(id, size); });
  ASSERT_TRUE(exited_with(status, kOk)) << describe_status(status);
  const int shmid = ::shmget(key, 0, 0);
  ASSERT_GE(shmid, 0);
  ASSERT_NO_FATAL_FAILURE(expect_open_or_create_refused(id, size));
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &info));
  EXPECT_EQ(static_cast<uint32_t>(nobody_uid()), info.cuid);
  EXPECT_EQ(0, ipcshm_remove(id.c_str())) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
}

// The attack of the 1.1 review: another user creates a System V segment and
// gives it to the caller (IPC_SET uid); as its creator it keeps full access.
// The caller's OPEN_OR_CREATE must not take it for its own.
TEST(PermissionsOpenOrCreate, RefusesASysvSegmentAnotherUserCreatedAndGaveAway) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const uint64_t size = 3000;
  const int32_t key = unique_key();
  const std::string id = key_id(key);
  RemoveGuard rm(id);
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    int shmid = ::shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
    if (shmid < 0) return 1;
    struct shmid_ds ds;
    if (::shmctl(shmid, IPC_STAT, &ds) != 0) return 2;
    ds.shm_perm.uid = 0;
    ds.shm_perm.gid = 0;
    if (::shmctl(shmid, IPC_SET, &ds) != 0) return 3;
    return kOk;
  });
  ASSERT_TRUE(exited_with(status, kOk)) << describe_status(status);
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &info)) << ipcshm_last_error();
  ASSERT_EQ(0u, info.uid);
  ASSERT_EQ(static_cast<uint32_t>(nobody_uid()), info.cuid);
  // The premise: its creator still reads and writes it, though root owns it 0600.
  status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
    ipcshm_detach(h);
    return kOk;
  });
  ASSERT_TRUE(exited_with(status, kOk)) << describe_status(status);

  for (uint32_t flags : {0u, static_cast<uint32_t>(IPCSHM_PERSISTENT)}) {
    ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x40));
    ipcshm_t* h = sentinel;
    EXPECT_EQ(-EACCES, ipcshm_create(id.c_str(), size, 0600, flags | IPCSHM_OPEN_OR_CREATE, &h))
        << "OPEN_OR_CREATE took a segment its creator can still read and write: "
        << ipcshm_last_error();
    EXPECT_EQ(sentinel, h);
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "created by uid"))
        << ipcshm_last_error();
    if (h != sentinel) ipcshm_detach(h);
  }
  EXPECT_EQ(0, ipcshm_remove(id.c_str())) << ipcshm_last_error();
}

// The POSIX form: root has a 0666 object; nobody hard-links it under the name
// root is about to use for a private object. Root's OPEN_OR_CREATE must not
// attach it (nobody reads and writes it through its own name).
TEST(PermissionsOpenOrCreate, RefusesAPosixObjectLinkedUnderTheCallersName) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  for (uint32_t lifetime : {0u, static_cast<uint32_t>(IPCSHM_PERSISTENT)}) {
    SCOPED_TRACE(testing::Message() << "lifetime flags " << lifetime);
    const std::string shared = unique_name("shared");
    const std::string mine = unique_name("mine");
    RemoveGuard rm1(shared), rm2(mine);
    HandleGuard h;
    ASSERT_EQ(1, ipcshm_create(shared.c_str(), 4096, 0666, lifetime, h.out()))
        << ipcshm_last_error();
    int status = run_in_child([&] {
      if (!drop_to_nobody()) return kCannotDrop;
      if (::link(("/dev/shm" + shared).c_str(), ("/dev/shm" + mine).c_str()) != 0)
        return errno == EPERM ? 10 : 1;
      return kOk;
    });
    if (exited_with(status, 10))
      GTEST_SKIP() << "fs.protected_hardlinks forbids the link here: the attack cannot happen";
    ASSERT_TRUE(exited_with(status, kOk)) << describe_status(status);
    for (uint32_t flags : {0u, static_cast<uint32_t>(IPCSHM_PERSISTENT)}) {
      ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x40));
      ipcshm_t* other = sentinel;
      EXPECT_EQ(-EACCES,
                ipcshm_create(mine.c_str(), 4096, 0600, flags | IPCSHM_OPEN_OR_CREATE, &other))
          << "OPEN_OR_CREATE took an object another user linked there: " << ipcshm_last_error();
      EXPECT_EQ(sentinel, other);
      if (other != sentinel) ipcshm_detach(other);
    }
    // Its own object, under its own single name, is still attached.
    ::unlink(("/dev/shm" + mine).c_str());
    HandleGuard again;
    EXPECT_EQ(0, ipcshm_create(shared.c_str(), 4096, 0600, lifetime | IPCSHM_OPEN_OR_CREATE,
                               again.out()))
        << ipcshm_last_error();
  }
}

// An existing volatile object cannot keep IPCSHM_PERSISTENT's promise: it is
// refused (-EEXIST), not silently attached. The other way round is an attach
// of what exists (a volatile caller of a persistent object), as documented.
TEST(PermissionsOpenOrCreate, PersistentRequestRefusesAnExistingVolatileObject) {
  const std::string name = unique_name("lifetimes");
  RemoveGuard rm(name);
  HandleGuard v;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, v.out())) << ipcshm_last_error();
  ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x40));
  ipcshm_t* h = sentinel;
  EXPECT_EQ(-EEXIST, ipcshm_create(name.c_str(), 4096, 0600,
                                   IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE, &h));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "volatile")) << ipcshm_last_error();
  EXPECT_EQ(sentinel, h);
  HandleGuard same;
  EXPECT_EQ(0, ipcshm_create(name.c_str(), 4096, 0600, IPCSHM_OPEN_OR_CREATE, same.out()))
      << ipcshm_last_error();
}

TEST(PermissionsOpenOrCreate, AnotherUserCanStillAttachItsOwnObject) {
  // The refusal is about ownership: nobody's OPEN_OR_CREATE attaches nobody's object.
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const uint64_t size = 100;
  const std::string name = unique_name("own");
  RemoveGuard rm(name);
  int status = run_in_child([&] {
    int rc = create_as_nobody(name, size);
    if (rc != kOk) return rc;
    ipcshm_t* h = nullptr;
    if (ipcshm_create(name.c_str(), size, 0666, IPCSHM_OPEN_OR_CREATE, &h) != 0) return 3;
    bool ok = has_pattern(ipcshm_pointer(h), size, 55);
    ipcshm_detach(h);
    return ok ? kOk : 4;
  });
  EXPECT_TRUE(exited_with(status, kOk)) << describe_status(status);
  EXPECT_EQ(0, ipcshm_remove(name.c_str()));
}

}  // namespace
