// The header-only C++ wrapper: RAII, spans, and errors as std::system_error.
#include "ipcshm.hpp"

#include <gtest/gtest.h>

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
