// Counting semaphores between real processes: posts and waits keep the count
// exact, a waiter elsewhere wakes on a post, try and timed waits, the count's
// limit, signals, and what happens when a process dies holding a unit or while
// it sleeps.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::Child;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::kMs;
using testutil::now_ns;
using testutil::Pipe;
using testutil::RemoveGuard;
using testutil::SharedMemory;
using testutil::slow_factor;
using testutil::unique_name;
using testutil::wait_until_asleep;

uint32_t value_of(const void* sem) {
  uint32_t v = ~0u;
  EXPECT_EQ(0, ipcshm_sem_value(sem, &v));
  return v;
}

TEST(Semaphore, PostsAndWaitsAcrossProcessesKeepTheCountExact) {
  const std::string id = unique_name("sem");
  RemoveGuard rm(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out()));
  void* sem = ipcshm_pointer(h.get());
  ASSERT_EQ(0, ipcshm_sem_init(sem, 3));
  EXPECT_EQ(3u, value_of(sem));
  auto* taken = reinterpret_cast<std::atomic<uint64_t>*>(static_cast<char*>(sem) + 64);
  constexpr int kPosters = 3, kWaiters = 3;
  const int per = slow_factor() > 1 ? 500 : 5000;
  std::vector<std::unique_ptr<Child>> children;
  for (int w = 0; w < kWaiters; ++w)
    children.push_back(std::make_unique<Child>([&] {
      ipcshm_t* mine = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &mine) != 0) return 1;
      void* s = ipcshm_pointer(mine);
      auto* t = reinterpret_cast<std::atomic<uint64_t>*>(static_cast<char*>(s) + 64);
      for (int i = 0; i < per; ++i) {
        if (ipcshm_sem_wait(s, 10'000 * kMs * slow_factor()) != 0) return 2;
        ++*t;
      }
      ipcshm_detach(mine);
      return 0;
    }));
  for (int p = 0; p < kPosters; ++p)
    children.push_back(std::make_unique<Child>([&] {
      for (int i = 0; i < per; ++i) {
        if (ipcshm_sem_post(sem) != 0) return 1;
        if (i % 512 == 0) ::usleep(200);  // let waiters fall asleep now and then
      }
      return 0;
    }));
  for (auto& c : children) EXPECT_TRUE(exited_with(c->wait(), 0));
  EXPECT_EQ(uint64_t{kWaiters} * per, taken->load());
  EXPECT_EQ(3u, value_of(sem));  // the initial units are still there
}

TEST(Semaphore, ABlockedWaiterWakesOnAPostFromAnotherProcess) {
  SharedMemory mem;
  void* sem = mem.at(0);
  auto* rc = mem.at<std::atomic<int>>(64);
  rc->store(1);
  ASSERT_EQ(0, ipcshm_sem_init(sem, 0));
  Pipe ready;
  Child waiter([&] {
    ready.put_byte();
    rc->store(ipcshm_sem_wait(sem, -1));
    return 0;
  });
  ASSERT_TRUE(ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  EXPECT_TRUE(exited_with(Child([&] { return ipcshm_sem_post(sem) == 0 ? 0 : 1; }).wait(), 0));
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(0, rc->load());
  EXPECT_EQ(0u, value_of(sem));
}

TEST(Semaphore, TryAndTimedWaits) {
  alignas(8) unsigned char sem[IPCSHM_SEM_SIZE];
  ASSERT_EQ(0, ipcshm_sem_init(sem, 1));
  EXPECT_EQ(0, ipcshm_sem_wait(sem, 0));
  EXPECT_EQ(-EAGAIN, ipcshm_sem_wait(sem, 0));
  for (int64_t timeout : {1 * kMs, 40 * kMs}) {
    const int64_t t0 = now_ns();
    EXPECT_EQ(-ETIMEDOUT, ipcshm_sem_wait(sem, timeout));
    const int64_t late = now_ns() - t0 - timeout;
    EXPECT_GE(late, 0);
    EXPECT_LT(late, 10 * kMs * slow_factor()) << late / 1000 << " us late";
  }
  EXPECT_EQ(0u, value_of(sem));
}

TEST(Semaphore, PostAtTheMaximumIsEoverflow) {
  alignas(8) unsigned char sem[IPCSHM_SEM_SIZE];
  ASSERT_EQ(0, ipcshm_sem_init(sem, UINT32_MAX - 1));
  EXPECT_EQ(0, ipcshm_sem_post(sem));
  EXPECT_EQ(-EOVERFLOW, ipcshm_sem_post(sem));
  EXPECT_EQ(UINT32_MAX, value_of(sem));
  EXPECT_EQ(0, ipcshm_sem_wait(sem, 0));
  EXPECT_EQ(0, ipcshm_sem_post(sem));
}

TEST(Semaphore, AProcessThatDiesDoesNotGiveItsUnitBack) {
  // A count, not an ownership (as POSIX semaphores).
  SharedMemory mem;
  void* sem = mem.at(0);
  ASSERT_EQ(0, ipcshm_sem_init(sem, 1));
  EXPECT_TRUE(testutil::killed_by(Child([&] {
                                    if (ipcshm_sem_wait(sem, -1) != 0) return 1;
                                    ::kill(::getpid(), SIGKILL);
                                    return 2;
                                  }).wait(),
                                  SIGKILL));
  EXPECT_EQ(0u, value_of(sem));
  EXPECT_EQ(-EAGAIN, ipcshm_sem_wait(sem, 0));
}

TEST(Semaphore, AWaiterKilledAsleepLeavesItWorking) {
  // It stays counted as a sleeper: later posts make a system call they need
  // not, and nothing else changes.
  SharedMemory mem;
  void* sem = mem.at(0);
  ASSERT_EQ(0, ipcshm_sem_init(sem, 0));
  Pipe ready;
  Child doomed([&] {
    ready.put_byte();
    ipcshm_sem_wait(sem, -1);
    return 1;
  });
  ASSERT_TRUE(ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(doomed.pid()));
  ::kill(doomed.pid(), SIGKILL);
  doomed.wait();
  EXPECT_EQ(0, ipcshm_sem_post(sem));
  EXPECT_EQ(1u, value_of(sem));
  EXPECT_EQ(0, ipcshm_sem_wait(sem, 0));
  Pipe ready2;
  Child waiter([&] {
    ready2.put_byte();
    return ipcshm_sem_wait(sem, 10'000 * kMs) == 0 ? 0 : 1;
  });
  ASSERT_TRUE(ready2.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  EXPECT_EQ(0, ipcshm_sem_post(sem));
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
}

volatile sig_atomic_t g_signals = 0;
void count_signal(int) { g_signals = g_signals + 1; }

TEST(Semaphore, ASignalHandlerEndsAWaitWithEintr) {
  SharedMemory mem;
  void* sem = mem.at(0);
  auto* rc = mem.at<std::atomic<int>>(64);
  rc->store(1);
  ASSERT_EQ(0, ipcshm_sem_init(sem, 0));
  Pipe ready;
  Child waiter([&] {
    testutil::on_signal(SIGUSR1, count_signal, true);
    ready.put_byte();
    rc->store(ipcshm_sem_wait(sem, -1));
    return 0;
  });
  ASSERT_TRUE(ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  ASSERT_EQ(0, ::kill(waiter.pid(), SIGUSR1));
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(-EINTR, rc->load());
  EXPECT_EQ(0u, value_of(sem));
}

}  // namespace
