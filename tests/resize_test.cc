// ipcshm_resize: POSIX and memfd objects grow (and POSIX ones shrink) in place
// of the handle's mapping, which may move; another process that attaches later
// sees the new size; System V, read-only handles and sealed objects refuse,
// and a refused resize changes nothing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

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
