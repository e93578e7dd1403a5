// ipcshm_wait and ipcshm_wake on a plain 32-bit word, between real processes:
// the futex contract for languages that cannot make the system call.
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

TEST(WaitWake, WaitReturnsAtOnceWhenTheWordDiffers) {
  uint32_t word = 7;
  EXPECT_EQ(0, ipcshm_wait(&word, 6, -1));
  EXPECT_EQ(0, ipcshm_wait(&word, 6, 0));
  EXPECT_EQ(-EAGAIN, ipcshm_wait(&word, 7, 0));
}

TEST(WaitWake, WakeWakesWaitersInOtherProcesses) {
  SharedMemory mem;
  auto* word = mem.at<uint32_t>(0);
  auto* woken = mem.at<std::atomic<int>>(64);
  constexpr int kWaiters = 3;
  std::vector<std::unique_ptr<Child>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    Pipe ready;
    waiters.push_back(std::make_unique<Child>([&] {
      ready.put_byte();
      while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
        if (int rc = ipcshm_wait(word, 0, 10'000 * kMs); rc != 0) return 1;
      ++*woken;
      return 0;
    }));
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiters.back()->pid()));
  }
  // Nothing changed yet: a wake of one wakes one, who goes back to sleep.
  EXPECT_EQ(1, ipcshm_wake(word, 1));
  __atomic_store_n(word, 1, __ATOMIC_RELEASE);
  // Waiters asleep on 0 are woken; one that has not slept again yet sees 1.
  const int64_t deadline = now_ns() + 5000 * kMs * slow_factor();
  while (woken->load() < kWaiters && now_ns() < deadline) {
    ASSERT_GE(ipcshm_wake(word, UINT32_MAX), 0);
    ::usleep(1000);
  }
  for (auto& w : waiters) EXPECT_TRUE(exited_with(w->wait(), 0));
  EXPECT_EQ(kWaiters, woken->load());
  EXPECT_EQ(0, ipcshm_wake(word, UINT32_MAX));  // nobody left
}

TEST(WaitWake, TimeoutsEndWithinAFewMilliseconds) {
  uint32_t word = 0;
  for (int64_t timeout : {1 * kMs, 30 * kMs}) {
    const int64_t t0 = now_ns();
    EXPECT_EQ(-ETIMEDOUT, ipcshm_wait(&word, 0, timeout));
    const int64_t late = now_ns() - t0 - timeout;
    EXPECT_GE(late, 0);
    EXPECT_LT(late, 10 * kMs * slow_factor()) << late / 1000 << " us late";
  }
}

volatile sig_atomic_t g_signals = 0;
void count_signal(int) { g_signals = g_signals + 1; }

TEST(WaitWake, ASignalHandlerEndsAWaitWithEintrEvenWithSaRestart) {
  SharedMemory mem;
  auto* word = mem.at<uint32_t>(0);
  auto* rc = mem.at<std::atomic<int>>(64);
  for (bool restart : {false, true}) {
    rc->store(1);
    Pipe ready;
    Child waiter([&] {
      testutil::on_signal(SIGUSR1, count_signal, restart);
      ready.put_byte();
      rc->store(ipcshm_wait(word, 0, -1));
      return 0;
    });
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiter.pid()));
    ASSERT_EQ(0, ::kill(waiter.pid(), SIGUSR1));
    EXPECT_TRUE(exited_with(waiter.wait(), 0));
    EXPECT_EQ(-EINTR, rc->load());
  }
}

TEST(WaitWake, WorkInAReadOnlyMapping) {
  // Neither writes the word: a reader of a read-only mapping may wait and wake.
  const std::string id = unique_name("waitwake-ro");
  RemoveGuard rm(id);
  HandleGuard rw, ro;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, rw.out()));
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), IPCSHM_READONLY, ro.out()));
  auto* word = static_cast<uint32_t*>(ipcshm_pointer(ro.get()));
  EXPECT_EQ(-ETIMEDOUT, ipcshm_wait(word, 0, 1 * kMs));
  EXPECT_EQ(0, ipcshm_wake(word, 1));
  *static_cast<uint32_t*>(ipcshm_pointer(rw.get())) = 5;
  EXPECT_EQ(0, ipcshm_wait(word, 0, -1));
}

}  // namespace
