// The C++ views of ipcshm.hpp over the signalling primitives: a mutex for
// std::unique_lock / std::scoped_lock whose owner's death is an exception that
// holds the lock, events and semaphores with std::chrono timeouts, offsets
// checked against the mapping, and EINTR retried with what is left of a
// timeout. Children report through exit codes.
#include "ipcshm.hpp"

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using namespace std::chrono_literals;
using testutil::Child;
using testutil::exited_with;
using testutil::Pipe;
using testutil::slow_factor;
using testutil::wait_until_asleep;

// A shm with a mutex at 0, an event at 64, a semaphore at 128, data after.
struct Fixture {
  ipcshm::shm shm = ipcshm::shm::create(testutil::unique_name("cpp-sync"), 4096);
  ipcshm::mutex m{shm, 0};
  ipcshm::event ev{shm, 64};
  ipcshm::semaphore sem{shm, 128};
  long& data = shm.as<long>()[32];
  Fixture() {
    m.init();
    ev.init();
    sem.init(0);
  }
};

TEST(CppSignalling, ViewsCheckTheirPlaceInTheMapping) {
  auto shm = ipcshm::shm::create(testutil::unique_name("cpp-place"), 256);
  EXPECT_NO_THROW(ipcshm::mutex(shm, 192));
  for (uint64_t bad : {uint64_t{4}, uint64_t{196}, uint64_t{200}, uint64_t{1} << 40}) {
    try {
      ipcshm::event ev(shm, bad);
      ADD_FAILURE() << "offset " << bad << " accepted";
    } catch (const std::system_error& e) {
      EXPECT_EQ(EINVAL, e.code().value());
      EXPECT_NE(nullptr, std::strstr(e.what(), "offset"));
    }
  }
  // A place that is not an initialised primitive: errors, not crashes.
  ipcshm::semaphore sem(shm, 64);
  try {
    sem.post();
    ADD_FAILURE() << "post on zeros";
  } catch (const std::system_error& e) {
    EXPECT_EQ(EINVAL, e.code().value());
    EXPECT_NE(nullptr, std::strstr(e.what(), "ipcshm_sem_post"));
  }
}

TEST(CppSignalling, AMutexWorksWithStdLocksAcrossProcesses) {
  Fixture f;
  constexpr int kProcesses = 3, kRounds = 3000;
  std::vector<std::unique_ptr<Child>> children;
  for (int p = 0; p < kProcesses; ++p)
    children.push_back(std::make_unique<Child>([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::unique_lock lock(f.m);
        long v = f.data;
        if (i % 64 == 0) std::this_thread::yield();
        f.data = v + 1;
      }
      return 0;
    }));
  for (auto& c : children) EXPECT_TRUE(exited_with(c->wait(), 0));
  EXPECT_EQ(kProcesses * kRounds, f.data);
  // scoped_lock of two (its deadlock avoidance uses try_lock).
  ipcshm::mutex other(f.shm, 192);
  other.init();
  {
    std::scoped_lock both(f.m, other);
    EXPECT_FALSE(Child([&] { return f.m.try_lock() ? 1 : 0; }).wait());
  }
  EXPECT_TRUE(f.m.try_lock());
  f.m.unlock();
}

// A child that takes the mutex and dies holding it.
void die_holding(ipcshm::mutex& m) {
  EXPECT_TRUE(testutil::killed_by(Child([&] {
                                    m.lock();
                                    ::kill(::getpid(), SIGKILL);
                                    return 1;
                                  }).wait(),
                                  SIGKILL));
}

TEST(CppSignalling, OwnerDeathIsAnExceptionThatHoldsTheLock) {
  Fixture f;
  die_holding(f.m);
  bool caught = false;
  try {
    std::unique_lock lock(f.m);
    ADD_FAILURE() << "no owner_dead";
  } catch (const ipcshm::owner_dead& e) {
    caught = true;
    EXPECT_EQ(EOWNERDEAD, e.code().value());
    EXPECT_EQ(f.m.native_handle(), e.get_mutex().native_handle());
    // Held here, by this thread.
    EXPECT_EQ(0, Child([&] { return f.m.try_lock() ? 1 : 0; }).wait());
    f.data = 42;  // "repaired"
    e.consistent();
  }
  EXPECT_TRUE(caught);
  // The exception's end unlocked it, consistent: usable by everyone.
  EXPECT_TRUE(exited_with(Child([&] {
                            std::lock_guard g(f.m);
                            return f.data == 42 ? 0 : 1;
                          }).wait(),
                          0));
}

TEST(CppSignalling, OwnerDeathNotAcknowledgedMakesItNotRecoverable) {
  Fixture f;
  die_holding(f.m);
  EXPECT_THROW(f.m.lock(), ipcshm::owner_dead);  // caught and dropped: no consistent()
  try {
    f.m.lock();
    ADD_FAILURE() << "locked a mutex that should be unrecoverable";
  } catch (const ipcshm::owner_dead&) {
    ADD_FAILURE() << "owner_dead again";
  } catch (const std::system_error& e) {
    EXPECT_EQ(ENOTRECOVERABLE, e.code().value());
  }
  f.m.init();
  EXPECT_TRUE(f.m.try_lock());
  f.m.unlock();
}

TEST(CppSignalling, OwnerDeadTakeKeepsTheLockPastTheCatch) {
  Fixture f;
  die_holding(f.m);
  std::unique_lock<ipcshm::mutex> lock;
  try {
    f.m.try_lock_for(1s);
    ADD_FAILURE() << "no owner_dead";
  } catch (const ipcshm::owner_dead& e) {
    lock = e.take();
    EXPECT_THROW(e.take(), std::system_error);
    e.consistent();
  }
  ASSERT_TRUE(lock.owns_lock());
  EXPECT_EQ(0, Child([&] { return f.m.try_lock() ? 1 : 0; }).wait());  // still held
  lock.unlock();
  EXPECT_TRUE(f.m.try_lock());
  f.m.unlock();
}

TEST(CppSignalling, TimedLocksAndWaitsReturnFalseOnTimeout) {
  Fixture f;
  Pipe held, done;
  Child holder([&] {
    std::lock_guard g(f.m);
    held.put_byte();
    done.get_byte();
    return 0;
  });
  ASSERT_TRUE(held.get_byte());
  EXPECT_FALSE(f.m.try_lock());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(f.m.try_lock_for(30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  EXPECT_FALSE(f.m.try_lock_until(std::chrono::steady_clock::now() + 10ms));
  EXPECT_FALSE(f.m.try_lock_until(std::chrono::system_clock::now() - 1s));  // past: a try
  done.put_byte();
  EXPECT_TRUE(exited_with(holder.wait(), 0));

  EXPECT_FALSE(f.ev.wait_for(f.ev.sequence(), 20ms).has_value());
  EXPECT_FALSE(f.sem.try_wait());
  EXPECT_FALSE(f.sem.wait_for(20ms));
  EXPECT_FALSE(f.sem.try_acquire_until(std::chrono::steady_clock::now() + 5ms));
}

TEST(CppSignalling, EventsAndSemaphoresAcrossProcesses) {
  Fixture f;
  uint64_t seen = f.ev.sequence();
  Child poster([&] {
    f.sem.post();
    f.sem.release(2);
    f.ev.notify();
    return 0;
  });
  seen = f.ev.wait(seen);
  EXPECT_EQ(1u, seen);
  EXPECT_TRUE(exited_with(poster.wait(), 0));
  EXPECT_EQ(3u, f.sem.value());
  f.sem.wait();
  f.sem.acquire();
  EXPECT_TRUE(f.sem.try_acquire());
  EXPECT_FALSE(f.sem.try_acquire_for(1ms));

  if (!RUNNING_ON_VALGRIND) {  // valgrind has no mremap(old_size = 0), which fd() needs
    int fd = f.ev.fd();
    f.ev.notify();
    struct pollfd pfd = {fd, POLLIN, 0};
    EXPECT_EQ(1, ::poll(&pfd, 1, 5000 * slow_factor()));
    ::close(fd);
  }

  ipcshm::semaphore full(f.shm, 256);
  full.init(UINT32_MAX);
  try {
    full.post();
    ADD_FAILURE() << "no overflow";
  } catch (const std::system_error& e) {
    EXPECT_EQ(EOVERFLOW, e.code().value());
  }
}

volatile sig_atomic_t g_signals = 0;
void count_signal(int) { g_signals = g_signals + 1; }

TEST(CppSignalling, WaitsAreResumedAfterASignalWithTheTimeLeft) {
  Fixture f;
  auto* report = reinterpret_cast<std::atomic<int64_t>*>(&f.shm.as<int64_t>()[64]);
  report->store(-1);
  Pipe ready;
  Child waiter([&] {
    testutil::on_signal(SIGUSR1, count_signal, false);
    ready.put_byte();
    auto t0 = std::chrono::steady_clock::now();
    bool got = f.sem.wait_for(300ms);  // interrupted on the way, resumed
    report->store(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count());
    if (got || g_signals == 0) return 1;
    f.sem.wait();  // without a timeout: resumed until the post
    return g_signals >= 2 ? 0 : 2;
  });
  ASSERT_TRUE(ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  ::kill(waiter.pid(), SIGUSR1);
  while (report->load() < 0) ::usleep(1000);
  EXPECT_GE(report->load(), 300);
  EXPECT_LT(report->load(), 300 + 100 * slow_factor());  // not 300 ms more after the signal
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  ::kill(waiter.pid(), SIGUSR1);
  ::usleep(20'000);
  f.sem.post();
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
}

}  // namespace
