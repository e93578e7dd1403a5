// Events between real processes: notify wakes waiters elsewhere, no wake-up is
// lost between reading the sequence and waiting (even under a notify storm),
// the condition-variable pattern with a mutex, timeouts, signals, and the
// descriptor bridge (readable after a notify from another process, safe across
// a detach, ended by close, end of file when the event is overwritten).
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <thread>
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

uint64_t sequence(const void* ev) {
  uint64_t s = ~uint64_t{0};
  EXPECT_EQ(0, ipcshm_event_sequence(ev, &s));
  return s;
}

// Whether fd becomes readable within timeout_ms (end of file counts).
bool readable(int fd, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

TEST(Event, NotifyWakesAWaiterInAnotherProcess) {
  // The event in a POSIX object that the waiter attaches by id.
  const std::string id = unique_name("event");
  RemoveGuard rm(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out()));
  void* ev = static_cast<unsigned char*>(ipcshm_pointer(h.get())) + 64;
  ASSERT_EQ(0, ipcshm_event_init(ev));
  EXPECT_EQ(0u, sequence(ev));
  Pipe ready;
  Child waiter([&] {
    ipcshm_t* mine = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &mine) != 0) return 1;
    void* e = static_cast<unsigned char*>(ipcshm_pointer(mine)) + 64;
    uint64_t seen = 0;
    ready.put_byte();
    int rc = ipcshm_event_wait(e, &seen, 10'000 * kMs);
    ipcshm_detach(mine);
    return rc == 0 && seen == 1 ? 0 : 2;
  });
  ASSERT_TRUE(ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  EXPECT_EQ(0, ipcshm_event_notify(ev));
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(1u, sequence(ev));
}

TEST(Event, WaitReturnsAtOnceWhenTheSequenceAlreadyMoved) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  uint64_t seen = 0;
  ASSERT_EQ(0, ipcshm_event_notify(ev));
  ASSERT_EQ(0, ipcshm_event_notify(ev));
  // Two notifies since: seen as one change, with the latest sequence.
  EXPECT_EQ(0, ipcshm_event_wait(ev, &seen, -1));
  EXPECT_EQ(2u, seen);
  EXPECT_EQ(-EAGAIN, ipcshm_event_wait(ev, &seen, 0));
  EXPECT_EQ(2u, seen);
  // A stale *seen of any value returns at once with the sequence.
  seen = 12345;
  EXPECT_EQ(0, ipcshm_event_wait(ev, &seen, 0));
  EXPECT_EQ(2u, seen);
}

// Producers bump a counter and notify; consumers read the sequence, look at
// the counter, and wait. A lost wake-up leaves a consumer asleep while the
// counter has moved: its generous timeout would expire, which fails the test.
TEST(Event, NoWakeupIsLostUnderANotifyStorm) {
  SharedMemory mem;
  void* ev = mem.at(0);
  auto* counter = mem.at<std::atomic<uint64_t>>(64);
  auto* timeouts = mem.at<std::atomic<int>>(128);
  auto* wakeups = mem.at<std::atomic<uint64_t>>(192);
  ASSERT_EQ(0, ipcshm_event_init(ev));
  constexpr int kProducers = 2, kConsumers = 3;
  const uint64_t kPerProducer = testutil::slow_factor() > 1 ? 3000 : 20000;
  const uint64_t total = kProducers * kPerProducer;
  std::vector<std::unique_ptr<Child>> children;
  for (int c = 0; c < kConsumers; ++c)
    children.push_back(std::make_unique<Child>([&] {
      uint64_t seen = 0;
      for (;;) {
        if (ipcshm_event_sequence(ev, &seen) != 0) return 1;
        if (counter->load() >= total) return 0;
        int rc = ipcshm_event_wait(ev, &seen, 5000 * kMs * slow_factor());
        if (rc == -ETIMEDOUT) {
          ++*timeouts;
          return 2;
        }
        if (rc != 0) return 3;
        ++*wakeups;
      }
    }));
  for (int p = 0; p < kProducers; ++p)
    children.push_back(std::make_unique<Child>([&] {
      for (uint64_t i = 0; i < kPerProducer; ++i) {
        counter->fetch_add(1);
        if (ipcshm_event_notify(ev) != 0) return 1;
        if (i % 256 == 0) ::usleep(100);  // let consumers fall asleep now and then
      }
      return 0;
    }));
  for (auto& c : children) EXPECT_TRUE(exited_with(c->wait(), 0));
  EXPECT_EQ(0, timeouts->load());
  EXPECT_EQ(total, counter->load());
  EXPECT_EQ(total, sequence(ev));
  EXPECT_GT(wakeups->load(), 0u);
}

// Two processes take turns: each waits for the other's notify. One lost
// wake-up stops the game (the wait times out).
TEST(Event, PingPongBetweenTwoProcessesNeverStalls) {
  SharedMemory mem;
  void* ping = mem.at(0);
  void* pong = mem.at(64);
  auto* ball = mem.at<std::atomic<uint64_t>>(128);
  ASSERT_EQ(0, ipcshm_event_init(ping));
  ASSERT_EQ(0, ipcshm_event_init(pong));
  const uint64_t rounds = testutil::slow_factor() > 1 ? 500 : 5000;
  const int64_t timeout = 5000 * kMs * slow_factor();
  Child other([&] {
    uint64_t seen = 0;
    for (uint64_t i = 0; i < rounds; ++i) {
      while (ball->load() != 2 * i + 1)
        if (ipcshm_event_wait(ping, &seen, timeout) != 0) return 1;
      ball->store(2 * i + 2);
      if (ipcshm_event_notify(pong) != 0) return 2;
    }
    return 0;
  });
  uint64_t seen = 0;
  for (uint64_t i = 0; i < rounds; ++i) {
    ASSERT_EQ(0, ipcshm_event_sequence(pong, &seen));
    ball->store(2 * i + 1);
    ASSERT_EQ(0, ipcshm_event_notify(ping));
    while (ball->load() != 2 * i + 2) ASSERT_EQ(0, ipcshm_event_wait(pong, &seen, timeout)) << i;
  }
  EXPECT_TRUE(exited_with(other.wait(), 0));
}

// The header's condition-variable pattern, across processes: read the
// sequence under the mutex, unlock, wait.
TEST(Event, WithAMutexItIsAConditionVariable) {
  SharedMemory mem;
  struct Shared {
    alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE];
    alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE];
    int items;
    int taken;
  };
  auto* s = new (mem.get()) Shared{};
  ASSERT_EQ(0, ipcshm_mutex_init(s->mu));
  ASSERT_EQ(0, ipcshm_event_init(s->ev));
  constexpr int kItems = 2000, kConsumers = 2;
  std::vector<std::unique_ptr<Child>> consumers;
  for (int c = 0; c < kConsumers; ++c)
    consumers.push_back(std::make_unique<Child>([&] {
      for (;;) {
        if (ipcshm_mutex_lock(s->mu, -1) != 0) return 1;
        while (s->items == 0 && s->taken < kItems) {
          uint64_t seen;
          ipcshm_event_sequence(s->ev, &seen);
          ipcshm_mutex_unlock(s->mu);
          if (ipcshm_event_wait(s->ev, &seen, 5000 * kMs * slow_factor()) != 0) return 2;
          if (ipcshm_mutex_lock(s->mu, -1) != 0) return 3;
        }
        if (s->taken == kItems) {
          ipcshm_mutex_unlock(s->mu);
          ipcshm_event_notify(s->ev);  // the others may be waiting for the end
          return 0;
        }
        --s->items;
        ++s->taken;
        ipcshm_mutex_unlock(s->mu);
      }
    }));
  for (int i = 0; i < kItems; ++i) {
    ASSERT_EQ(0, ipcshm_mutex_lock(s->mu, -1));
    ++s->items;
    ASSERT_EQ(0, ipcshm_mutex_unlock(s->mu));
    ASSERT_EQ(0, ipcshm_event_notify(s->ev));
  }
  for (auto& c : consumers) EXPECT_TRUE(exited_with(c->wait(), 0));
  EXPECT_EQ(kItems, s->taken);
  EXPECT_EQ(0, s->items);
}

TEST(Event, TimeoutsEndWithinAFewMilliseconds) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  for (int64_t timeout : {1 * kMs, 30 * kMs, 150 * kMs}) {
    uint64_t seen = 0;
    const int64_t t0 = now_ns();
    EXPECT_EQ(-ETIMEDOUT, ipcshm_event_wait(ev, &seen, timeout));
    const int64_t late = now_ns() - t0 - timeout;
    EXPECT_GE(late, 0);
    EXPECT_LT(late, 10 * kMs * slow_factor()) << "timeout " << timeout / kMs << " ms, late by "
                                               << late / 1000 << " us";
    EXPECT_EQ(0u, seen);
  }
}

volatile sig_atomic_t g_signals = 0;
void count_signal(int) { g_signals = g_signals + 1; }

TEST(Event, ASignalHandlerEndsAWaitWithEintr) {
  SharedMemory mem;
  void* ev = mem.at(0);
  auto* rc = mem.at<std::atomic<int>>(64);
  ASSERT_EQ(0, ipcshm_event_init(ev));
  for (bool restart : {false, true}) {
    rc->store(1);
    Pipe ready;
    Child waiter([&] {
      testutil::on_signal(SIGUSR1, count_signal, restart);
      uint64_t seen = 0;
      ready.put_byte();
      rc->store(ipcshm_event_wait(ev, &seen, -1));
      return 0;
    });
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiter.pid()));
    ASSERT_EQ(0, ::kill(waiter.pid(), SIGUSR1));
    EXPECT_TRUE(exited_with(waiter.wait(), 0));
    EXPECT_EQ(-EINTR, rc->load()) << (restart ? "SA_RESTART" : "plain");
  }
}

TEST(Event, WorksBetweenThreadsInPrivateMemory) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  std::atomic<int> rc{1};
  std::thread waiter([&] {
    uint64_t seen = 0;
    rc = ipcshm_event_wait(ev, &seen, 10'000 * kMs);
  });
  ::usleep(20'000);
  ASSERT_EQ(0, ipcshm_event_notify(ev));
  waiter.join();
  EXPECT_EQ(0, rc.load());
}

// --- the descriptor bridge ----------------------------------------------------

// valgrind does not implement mremap with an old size of 0, which the bridge
// needs (it gives EINVAL: the library then says -EOPNOTSUPP).
#define SKIP_UNDER_VALGRIND()                                                          \
  if (RUNNING_ON_VALGRIND) GTEST_SKIP() << "valgrind has no mremap(old_size = 0)"

TEST(EventFd, BecomesReadableAfterANotifyFromAnotherProcess) {
  SKIP_UNDER_VALGRIND();
  const std::string id = unique_name("eventfd");
  RemoveGuard rm(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out()));
  void* ev = ipcshm_pointer(h.get());
  ASSERT_EQ(0, ipcshm_event_init(ev));
  int fd = ipcshm_event_fd(ev);
  ASSERT_GE(fd, 0) << ipcshm_last_error();
  EXPECT_FALSE(readable(fd, 50));
  uint64_t value = 0;
  EXPECT_EQ(-1, ::read(fd, &value, sizeof value));
  EXPECT_EQ(EAGAIN, errno);  // non-blocking, nothing pending

  for (uint64_t round = 1; round <= 3; ++round) {
    Child notifier([&] {
      ipcshm_t* mine = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &mine) != 0) return 1;
      int rc = ipcshm_event_notify(ipcshm_pointer(mine));
      ipcshm_detach(mine);
      return rc == 0 ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(notifier.wait(), 0));
    ASSERT_TRUE(readable(fd, 5000 * slow_factor())) << "round " << round;
    ASSERT_EQ(8, ::read(fd, &value, sizeof value));
    EXPECT_EQ(round, value);
    EXPECT_EQ(-1, ::read(fd, &value, sizeof value));  // drained
    EXPECT_EQ(EAGAIN, errno);
  }
  // Several notifies before a read coalesce into one pending value.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(0, ipcshm_event_notify(ev));
  ASSERT_TRUE(readable(fd, 5000 * slow_factor()));
  ::usleep(50'000);
  uint64_t values[4];
  EXPECT_EQ(8, ::read(fd, values, sizeof values));
  EXPECT_LE(values[0], 8u);
  EXPECT_GE(values[0], 4u);
  EXPECT_EQ(0, ::close(fd));
}

TEST(EventFd, KeepsWorkingAfterTheMappingIsDetached) {
  SKIP_UNDER_VALGRIND();
  const std::string id = unique_name("eventfd-detach");
  RemoveGuard rm(id);
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 3 * 4096, 0600, 0, &h));
  // On the second page, to check that the helper maps the right one.
  void* ev = static_cast<unsigned char*>(ipcshm_pointer(h)) + 4096 + 128;
  ASSERT_EQ(0, ipcshm_event_init(ev));
  Pipe attached, go;
  Child notifier([&] {
    ipcshm_t* mine = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &mine) != 0) return 1;
    attached.put_byte();
    if (!go.get_byte()) return 2;
    int rc = ipcshm_event_notify(static_cast<unsigned char*>(ipcshm_pointer(mine)) + 4096 + 128);
    ipcshm_detach(mine);
    return rc == 0 ? 0 : 3;
  });
  ASSERT_TRUE(attached.get_byte());
  int fd = ipcshm_event_fd(ev);
  ASSERT_GE(fd, 0) << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_detach(h));  // the helper has a mapping of its own
  go.put_byte();
  EXPECT_TRUE(exited_with(notifier.wait(), 0));
  ASSERT_TRUE(readable(fd, 5000 * slow_factor()));
  uint64_t value = 0;
  EXPECT_EQ(8, ::read(fd, &value, sizeof value));
  EXPECT_EQ(1u, value);
  EXPECT_EQ(0, ::close(fd));
}

TEST(EventFd, ItsHelperThreadEndsAfterClose) {
  SKIP_UNDER_VALGRIND();
  SharedMemory mem;
  void* ev = mem.at(0);
  ASSERT_EQ(0, ipcshm_event_init(ev));
  // Helpers of descriptors that earlier tests closed may still be ending.
  auto settle = [](int want) {
    const int64_t deadline = now_ns() + 2000 * kMs * slow_factor();
    while (testutil::thread_count() > want && now_ns() < deadline) ::usleep(5000);
    return testutil::thread_count();
  };
  const int before = settle(1);
  ASSERT_EQ(1, before);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    int fd = ipcshm_event_fd(ev);
    ASSERT_GE(fd, 0) << ipcshm_last_error();
    fds.push_back(fd);
  }
  EXPECT_EQ(before + 3, testutil::thread_count());
  ASSERT_EQ(0, ipcshm_event_notify(ev));
  for (int fd : fds) EXPECT_TRUE(readable(fd, 5000 * slow_factor()));
  for (int fd : fds) ::close(fd);
  // Seen at the next notify, or within a wait slice (0.1 s).
  const int64_t closed = now_ns();
  EXPECT_EQ(before, settle(before));
  EXPECT_LT(now_ns() - closed, 500 * kMs * slow_factor());
}

TEST(EventFd, ReadsEndOfFileWhenTheEventIsOverwritten) {
  SKIP_UNDER_VALGRIND();
  SharedMemory mem;
  void* ev = mem.at(0);
  ASSERT_EQ(0, ipcshm_event_init(ev));
  int fd = ipcshm_event_fd(ev);
  ASSERT_GE(fd, 0) << ipcshm_last_error();
  std::memset(ev, 0x5a, IPCSHM_EVENT_SIZE);
  ASSERT_TRUE(readable(fd, 5000 * slow_factor()));
  uint64_t value;
  EXPECT_EQ(0, ::read(fd, &value, sizeof value));
  ::close(fd);
}

TEST(EventFd, MemoryThatCannotBeMappedTwiceIsEopnotsupp) {
  // Private memory (a thread's own): the helper could not outlive a detach.
  void* priv = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, priv);
  ASSERT_EQ(0, ipcshm_event_init(priv));
  const int before = testutil::open_fd_count();
  EXPECT_EQ(-EOPNOTSUPP, ipcshm_event_fd(priv));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "mapped a second time"));
  EXPECT_EQ(before, testutil::open_fd_count());
  ::munmap(priv, 4096);
}

}  // namespace
