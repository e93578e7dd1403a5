// ipcshm_resize: POSIX and memfd objects grow (and POSIX ones shrink) in place
// of the handle's mapping, which may move; another process that attaches later
// sees the new size; System V, read-only handles and sealed objects refuse,
// and a refused resize changes nothing.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "test_util.hpp"

using namespace testutil;

namespace {

struct Variant {
  const char* name;
  bool memfd;
  bool persistent;
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class Resize : public ::testing::TestWithParam<Variant> {
 protected:
  // Creates the object of the variant with `size` bytes into *h.
  void make(HandleGuard* h, uint64_t size, uint32_t flags = 0) {
    if (GetParam().memfd) {
      id_ = "memfd:resize";
    } else {
      id_ = unique_name("resize");
      guard_.reset(id_);
      if (GetParam().persistent) flags |= IPCSHM_PERSISTENT;
    }
    ASSERT_EQ(1, ipcshm_create(id_.c_str(), size, 0600, flags, h->out())) << ipcshm_last_error();
  }
  uint64_t object_size(ipcshm_t* h) {
    ipcshm_info_t info = fresh_info();
    return ipcshm_handle_info(h, &info) == 0 ? info.size : 0;
  }
  std::string id_;
  RemoveGuard guard_{""};
};

}  // namespace

TEST_P(Resize, GrowKeepsTheBytesAndAddsZeros) {
  HandleGuard h;
  make(&h, 5000);
  fill_pattern(ipcshm_pointer(h.get()), 5000, 9);
  ASSERT_EQ(0, ipcshm_resize(h.get(), 3 * 1024 * 1024)) << ipcshm_last_error();
  EXPECT_EQ(3u * 1024 * 1024, ipcshm_size(h.get()));
  EXPECT_EQ(3u * 1024 * 1024, object_size(h.get()));
  auto* p = static_cast<char*>(ipcshm_pointer(h.get()));
  EXPECT_TRUE(has_pattern(p, 5000, 9));
  EXPECT_TRUE(is_zero(p + 5000, 3 * 1024 * 1024 - 5000));
  p[3 * 1024 * 1024 - 1] = 7;  // the whole new length is mapped
  ASSERT_EQ(0, ipcshm_resize(h.get(), 3 * 1024 * 1024)) << "same size: nothing to do";
}

TEST_P(Resize, AnotherProcessThatAttachesLaterSeesTheNewSize) {
  HandleGuard h;
  make(&h, 4096);
  ASSERT_EQ(0, ipcshm_resize(h.get(), 100000));
  std::memset(static_cast<char*>(ipcshm_pointer(h.get())) + 99990, 'z', 10);
  if (GetParam().memfd) {
    // A memfd is reached by descriptor: a new handle from it (as a receiver's).
    int fd = ipcshm_fd(h.get());
    HandleGuard a;
    ASSERT_EQ(0, ipcshm_attach_fd(fd, 0, a.out()));
    close(fd);
    EXPECT_EQ(100000u, ipcshm_size(a.get()));
    EXPECT_EQ('z', static_cast<char*>(ipcshm_pointer(a.get()))[99999]);
    return;
  }
  const std::string id = id_;
  int status = run_in_child([&] {
    ipcshm_t* a = nullptr;
    if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &a) != 0) return 10;
    int rc = ipcshm_size(a) == 100000 && static_cast<char*>(ipcshm_pointer(a))[99999] == 'z'
                 ? 0 : 11;
    ipcshm_detach(a);
    return rc;
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
}

TEST_P(Resize, ShrinkPosixOrRefuseMemfd) {
  HandleGuard h;
  make(&h, 64 * 1024);
  fill_pattern(ipcshm_pointer(h.get()), 64 * 1024, 4);
  int rc = ipcshm_resize(h.get(), 1000);
  if (GetParam().memfd) {
    EXPECT_EQ(-EPERM, rc);
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "F_SEAL_SHRINK")) << ipcshm_last_error();
    EXPECT_EQ(64u * 1024, ipcshm_size(h.get())) << "a refused resize changes nothing";
    EXPECT_EQ(64u * 1024, object_size(h.get()));
    EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 64 * 1024, 4));
  } else {
    ASSERT_EQ(0, rc) << ipcshm_last_error();
    EXPECT_EQ(1000u, ipcshm_size(h.get()));
    EXPECT_EQ(1000u, object_size(h.get()));
    EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 1000, 4));
  }
}

TEST_P(Resize, FlagsOfTheHandleApplyToTheNewPages) {
  HandleGuard h;
  make(&h, 4096, IPCSHM_PREFAULT | IPCSHM_RESERVE);
  ASSERT_EQ(0, ipcshm_resize(h.get(), 1024 * 1024)) << ipcshm_last_error();
  const long page = sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> vec(1024 * 1024 / page);
  ASSERT_EQ(0, mincore(ipcshm_pointer(h.get()), 1024 * 1024, vec.data()));
  size_t resident = 0;
  for (unsigned char v : vec) resident += v & 1;
  EXPECT_EQ(vec.size(), resident) << "IPCSHM_PREFAULT populates what resize adds";
  int fd = ipcshm_fd(h.get());
  struct stat st;
  ASSERT_EQ(0, fstat(fd, &st));
  close(fd);
  EXPECT_GE(st.st_blocks * 512, 1024 * 1024) << "IPCSHM_RESERVE reserves it";
}

TEST_P(Resize, ReadOnlyHandleIsEPERM) {
  HandleGuard h;
  make(&h, 4096);
  int fd = ipcshm_fd(h.get());
  HandleGuard ro;
  ASSERT_EQ(0, ipcshm_attach_fd(fd, IPCSHM_READONLY, ro.out())) << ipcshm_last_error();
  close(fd);
  EXPECT_EQ(-EPERM, ipcshm_resize(ro.get(), 8192));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "read-only"));
  EXPECT_EQ(4096u, object_size(h.get()));
}

TEST_P(Resize, BadSizes) {
  HandleGuard h;
  make(&h, 4096);
  EXPECT_EQ(-EINVAL, ipcshm_resize(h.get(), 0));
  EXPECT_EQ(-EINVAL, ipcshm_resize(h.get(), UINT64_MAX));
  EXPECT_EQ(-EINVAL, ipcshm_resize(h.get(), uint64_t{1} << 63));
  EXPECT_EQ(4096u, ipcshm_size(h.get()));
  if (!GetParam().memfd) {
    // Beyond what /dev/shm holds, with IPCSHM_RESERVE: -ENOSPC, and the object
    // keeps its size (tmpfs refuses at once what exceeds its total size).
    HandleGuard r;
    const std::string id = unique_name("resize-reserve");
    RemoveGuard rg(id);
    ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, IPCSHM_RESERVE, r.out()));
    EXPECT_EQ(-ENOSPC, ipcshm_resize(r.get(), uint64_t{1} << 44));
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "free")) << ipcshm_last_error();
    EXPECT_EQ(4096u, ipcshm_size(r.get()));
    EXPECT_EQ(4096u, object_size(r.get()));
  }
}

TEST_P(Resize, ConcurrentReadersSeeAConsistentHandle) {
  HandleGuard h;
  make(&h, 4096);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      if (ipcshm_pointer(h.get()) == nullptr || ipcshm_size(h.get()) == 0) ++bad;
    }
  });
  // memfd objects only grow (sealed against shrinking); POSIX ones go both ways.
  int failed = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const uint64_t size = GetParam().memfd ? 4096 * (i + 2) : 4096 * (i % 2 ? 1 : 64);
    failed += ipcshm_resize(h.get(), size) != 0;
  }
  stop = true;
  EXPECT_EQ(0, failed) << ipcshm_last_error();
  reader.join();
  EXPECT_EQ(0, bad.load());
}

INSTANTIATE_TEST_SUITE_P(Kinds, Resize,
                         ::testing::Values(Variant{"PosixVolatile", false, false},
                                           Variant{"PosixPersistent", false, true},
                                           Variant{"Memfd", true, false}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ResizeOther, SystemVIsEOPNOTSUPP) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", 4096, 0600, 0, h.out()));
  EXPECT_EQ(-EOPNOTSUPP, ipcshm_resize(h.get(), 8192));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "System V"));
  EXPECT_EQ(4096u, ipcshm_size(h.get()));
}

TEST(ResizeOther, NullAndDetachedHandles) {
  EXPECT_EQ(-EINVAL, ipcshm_resize(nullptr, 4096));
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_create("memfd:gone", 4096, 0600, 0, &h));
  ASSERT_EQ(0, ipcshm_detach(h));
  EXPECT_EQ(-EBADF, ipcshm_resize(h, 8192));
}

// ---------------------------------------------------------------------------
// Shrinking a volatile POSIX object that others map would make their mappings
// fault (SIGBUS) past the new end: -EBUSY while another handle, in this
// process or another, is a user of it; allowed once the caller is alone.

namespace {

std::string volatile_object(HandleGuard* h, uint64_t size) {
  std::string id = unique_name("shrink");
  EXPECT_EQ(1, ipcshm_create(id.c_str(), size, 0600, 0, h->out())) << ipcshm_last_error();
  fill_pattern(ipcshm_pointer(h->get()), size, 6);
  return id;
}

}  // namespace

TEST(ResizeShrink, AnotherHandleInThisProcessMakesItEbusy) {
  HandleGuard a, b;
  const std::string id = volatile_object(&a, 64 * 1024);
  RemoveGuard rm(id);
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), 0, b.out())) << ipcshm_last_error();
  EXPECT_EQ(-EBUSY, ipcshm_resize(b.get(), 4096));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "SIGBUS")) << ipcshm_last_error();
  EXPECT_EQ(64u * 1024, ipcshm_size(b.get()));
  // a's whole mapping is still backed: this read would fault otherwise.
  EXPECT_TRUE(has_pattern(ipcshm_pointer(a.get()), 64 * 1024, 6));
  // Growing is fine with others; shrinking too once alone.
  EXPECT_EQ(0, ipcshm_resize(b.get(), 128 * 1024)) << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_detach(a.release()));
  EXPECT_EQ(0, ipcshm_resize(b.get(), 4096)) << ipcshm_last_error();
  EXPECT_TRUE(has_pattern(ipcshm_pointer(b.get()), 4096, 6));
  // Still a user after it: another process attaching it keeps it alive.
  EXPECT_TRUE(posix_exists(id));
  int status = run_in_child([&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
    return ipcshm_size(h) == 4096 ? 0 : 2;
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
}

TEST(ResizeShrink, AUserInAnotherProcessMakesItEbusyAndKeepsItsMemory) {
  HandleGuard h;
  const std::string id = volatile_object(&h, 64 * 1024);
  RemoveGuard rm(id);
  Pipe ready, done, verdict;
  ASSERT_TRUE(ready.ok() && done.ok() && verdict.ok());
  Child holder([&] {
    ipcshm_t* a = nullptr;
    if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &a) != 0) return 1;
    ready.put_byte();
    if (!done.get_byte()) return 2;
    // Reads the last byte: SIGBUS if the object shrank under this mapping.
    const char last = static_cast<const char*>(ipcshm_pointer(a))[64 * 1024 - 1];
    verdict.put_byte(last == static_cast<char>(pattern_byte(64 * 1024 - 1, 6)) ? 'y' : 'n');
    ipcshm_detach(a);
    return 0;
  });
  ASSERT_TRUE(ready.get_byte()) << describe_status(holder.wait());
  EXPECT_EQ(-EBUSY, ipcshm_resize(h.get(), 4096));
  done.put_byte();
  char v = 0;
  EXPECT_TRUE(verdict.get(&v, 1)) << describe_status(holder.wait());
  EXPECT_EQ('y', v);
  EXPECT_TRUE(exited_with(holder.wait(), 0));
  EXPECT_EQ(0, ipcshm_resize(h.get(), 4096)) << "alone again: " << ipcshm_last_error();
}

TEST(ResizeShrink, AnInheritedHandleCannotTellAndRefuses) {
  HandleGuard h;
  const std::string id = volatile_object(&h, 8192);
  RemoveGuard rm(id);
  ipcshm_t* raw = h.get();
  int status = run_in_child([&] {
    if (ipcshm_resize(raw, 4096) != -EBUSY) return 1;
    return ipcshm_resize(raw, 16384) == 0 ? 0 : 2;  // growing is harmless
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 8192, 6));
}

// A user that /proc/locks does not show (a process of another pid namespace,
// as in containers that share /dev/shm) is still found: the resizer's own
// lock cannot turn exclusive. The resizer runs in a new pid and mount
// namespace with its own /proc, so the test process's lock is hidden from it.
TEST(ResizeShrink, AUserHiddenInAnotherPidNamespaceStillMakesItEbusy) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for namespaces";
  HandleGuard h;
  const std::string id = volatile_object(&h, 64 * 1024);
  RemoveGuard rm(id);
  int status = run_in_child([&] {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) return 80;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 81;
    pid_t pid = ::fork();
    if (pid < 0) return 82;
    if (pid == 0) {
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        ::_exit(83);
      auto flocks = [] {
        int n = 0;
        std::ifstream locks("/proc/locks");
        std::string line;
        while (std::getline(locks, line)) n += line.find("FLOCK") != std::string::npos;
        return n;
      };
      ipcshm_t* a = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &a) != 0) ::_exit(1);
      if (flocks() != 1) ::_exit(85);  // the other user's lock is not hidden here
      int rc = ipcshm_resize(a, 4096);
      // Still a user: the lock that the failed probe dropped was taken back.
      const int after = flocks();
      ipcshm_detach(a);
      ::_exit(rc == -EBUSY ? (after == 1 ? 0 : 3) : 2);
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 84;
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) >= 80)
    GTEST_SKIP() << "namespaces are not available here (" << WEXITSTATUS(status) << ")";
  EXPECT_TRUE(exited_with(status, 0))
      << describe_status(status) << " (2: shrank under a hidden user; 3: lost its lock)";
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 64 * 1024, 6));
  EXPECT_TRUE(posix_exists(id));
}
