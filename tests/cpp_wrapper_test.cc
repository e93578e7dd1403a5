// The header-only C++ wrapper: RAII, spans, and errors as std::system_error.
#include "ipcshm.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstring>

#include "test_util.hpp"

namespace {

using testutil::run_in_child;
using testutil::exited_with;

TEST(CppWrapper, CreateAttachAndDetachOnScopeExit) {
  std::string id = testutil::unique_name("cpp");
  {
    auto a = ipcshm::shm::create(id, 8 * sizeof(int), 0640);
    EXPECT_TRUE(a.created());
    EXPECT_EQ(id, a.id());
    auto ints = a.as<int>();
    ASSERT_EQ(8u, ints.size());
    for (int i = 0; i < 8; ++i) ints[i] = i * i;

    int status = run_in_child([&] {
      auto b = ipcshm::shm::attach(id);
      auto seen = b.as<int>();
      for (int i = 0; i < 8; ++i)
        if (seen[i] != i * i) return 1;
      seen[0] = -1;
      return 0;
    });
    EXPECT_TRUE(exited_with(status, 0));
    EXPECT_EQ(-1, ints[0]);
    EXPECT_EQ(0640u, a.info().mode);
    EXPECT_EQ(0640u, ipcshm::info(id).mode);
  }
  // Volatile: the last handle went out of scope.
  EXPECT_FALSE(testutil::posix_exists(id));
}

TEST(CppWrapper, MoveTransfersOwnership) {
  std::string id = testutil::unique_name("cpp");
  auto a = ipcshm::shm::create(id, 100);
  void* p = a.data();
  ipcshm::shm b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_TRUE(b);
  EXPECT_EQ(p, b.data());
  EXPECT_EQ(100u, b.bytes().size());
  b.reset();
  EXPECT_FALSE(testutil::posix_exists(id));
}

TEST(CppWrapper, ErrorsCarryErrnoAndMessage) {
  std::string id = testutil::unique_name("cpp");
  try {
    ipcshm::shm::attach(id);
    FAIL() << "attach of a missing object did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::errc::no_such_file_or_directory, e.code());
    EXPECT_NE(nullptr, std::strstr(e.what(), id.c_str())) << e.what();
  }
  auto a = ipcshm::shm::create(id, 10);
  try {
    ipcshm::shm::create(id, 10);
    FAIL() << "exclusive create did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::errc::file_exists, e.code());
  }
  auto b = ipcshm::shm::create(id, 10, 0600, IPCSHM_OPEN_OR_CREATE);
  EXPECT_FALSE(b.created());
}

TEST(CppWrapper, SystemVAndPersistentRemove) {
  auto seg = ipcshm::shm::create("private", 4096);
  std::string sid{seg.id()};
  EXPECT_EQ(0, sid.rfind("shmid:", 0));
  auto again = ipcshm::shm::attach(sid, IPCSHM_READONLY);
  EXPECT_EQ(4096u, again.size());

  std::string id = testutil::unique_name("cpp");
  testutil::RemoveGuard guard(id);
  { auto p = ipcshm::shm::create(id, 10, 0600, IPCSHM_PERSISTENT); }
  EXPECT_TRUE(testutil::posix_exists(id));
  ipcshm::remove(id);
  EXPECT_FALSE(testutil::posix_exists(id));
  ipcshm::remove(id);  // gone already: no error
}

}  // namespace

TEST(CppWrapper, MemfdDescriptorsSendAndResize) {
  auto a = ipcshm::shm::create("memfd:cpp", 4096);
  std::memcpy(a.data(), "cpp", 4);
  int sv[2];
  ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  a.send(sv[0]);
  auto b = ipcshm::shm::recv(sv[1]);
  close(sv[0]);
  close(sv[1]);
  EXPECT_STREQ("cpp", static_cast<const char*>(b.data()));
  b.resize(8192);
  EXPECT_EQ(8192u, b.size());
  int fd = a.fd();
  auto c = ipcshm::shm::attach_fd(fd, IPCSHM_READONLY);
  close(fd);
  EXPECT_EQ(8192u, c.size());
  EXPECT_THROW(c.resize(16384), std::system_error);
  auto sysv = ipcshm::shm::create("private", 4096);
  try {
    (void)sysv.fd();
    ADD_FAILURE() << "System V has no descriptor";
  } catch (const std::system_error& e) {
    EXPECT_EQ(EOPNOTSUPP, e.code().value());
  }
}

TEST(CppWrapper, TypedArrays) {
  const std::string id = testutil::unique_name("cpp-array");
  testutil::RemoveGuard rg(id);
  const int64_t dims[] = {3, 2};
  auto a = ipcshm::shm::create_array<double>(id, dims);
  EXPECT_TRUE(a.created());
  auto elems = a.array<double>();
  ASSERT_EQ(6u, elems.size());
  for (size_t i = 0; i < elems.size(); ++i) elems[i] = static_cast<double>(i) + 0.5;
  auto b = ipcshm::shm::attach(id);
  EXPECT_EQ((std::vector<int64_t>{3, 2}), b.dims());
  EXPECT_EQ(5.5, b.array<double>()[5]);
  EXPECT_THROW(b.array<float>(), std::system_error);
  auto plain = ipcshm::shm::create("memfd:plain", 4096);
  EXPECT_THROW(plain.array<double>(), std::system_error);
  auto c = ipcshm::shm::create_array<std::complex<float>>("memfd:cplx", dims);
  EXPECT_EQ(6u, c.array<std::complex<float>>().size());
}
