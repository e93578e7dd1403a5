// fork() while other threads use the library: the child must be able to use it
// (no lock left held by a thread that does not exist in the child).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

TEST(Fork, ChildUsesLibraryWhileParentThreadsAreBusy) {
  std::string id = testutil::unique_name("fork");
  testutil::HandleGuard shared;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, shared.out()));

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      // Mostly inside the handle registry's lock, so that forks catch it held.
      while (!stop) (void)ipcshm_pointer(shared.get());
    });

  int failures = 0;
  for (int i = 0; i < 100; ++i) {
    int status = testutil::run_in_child([&] {
      alarm(5);  // a deadlock kills the child instead of hanging the test
      ipcshm_t* h = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &h) < 0) return 1;
      static_cast<char*>(ipcshm_pointer(h))[0] = 1;
      return ipcshm_detach(h) == 0 && ipcshm_pointer(shared.get()) != nullptr ? 0 : 2;
    });
    if (!testutil::exited_with(status, 0) && ++failures == 2) break;
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, failures);
}

}  // namespace

namespace {

TEST(Fork, ChildDetachingAnInheritedHandleLeavesTheObjectToItsParent) {
  std::string id = testutil::unique_name("fork");
  testutil::RemoveGuard cleanup(id);
  testutil::HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out()));
  int status = testutil::run_in_child([&] { return ipcshm_detach(h.get()) == 0 ? 0 : 1; });
  EXPECT_TRUE(testutil::exited_with(status, 0));
  EXPECT_TRUE(testutil::posix_exists(id)) << "the child's detach destroyed the object";
  ASSERT_EQ(0, ipcshm_detach(h.release()));
  EXPECT_FALSE(testutil::posix_exists(id)) << "the parent, last user, did not destroy it";
}

}  // namespace
