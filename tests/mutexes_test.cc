// Robust mutexes between real processes: mutual exclusion, the death of an
// owner however it comes (SIGKILL, a thread's exit, the main thread's exit),
// -EOWNERDEAD / consistent / -ENOTRECOVERABLE as POSIX robust mutexes, a
// reused pid that must not pass for the dead owner, timeouts and signals.
// Children report through exit codes and shared memory, never gtest asserts.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <fstream>
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

// What a child saw, written where the parent reads it.
struct Report {
  std::atomic<int> rc{0};
  std::atomic<int64_t> at{0};
};

// Works out the calling thread's identity (its first lock call), so that a
// later lock call goes straight to waiting.
void warm_up() {
  alignas(8) unsigned char m[IPCSHM_MUTEX_SIZE];
  ipcshm_mutex_init(m);
  ipcshm_mutex_lock(m, -1);
  ipcshm_mutex_unlock(m);
}

// A child that takes the mutex, says so on `ready`, and sleeps until killed.
int hold_until_killed(void* m, Pipe& ready) {
  if (ipcshm_mutex_lock(m, -1) != 0) return 1;
  ready.put_byte();
  for (;;) ::pause();
}

// A child that says it is about to lock, then locks and reports.
int lock_and_report(void* m, Pipe& ready, Report* r, int64_t timeout_ns = -1) {
  warm_up();
  ready.put_byte();
  int rc = ipcshm_mutex_lock(m, timeout_ns);
  r->at = now_ns();
  r->rc = rc;
  return 0;
}

TEST(Mutex, LockUnlockAcrossProcessesAndThreadsKeepsACounterExact) {
  // A volatile POSIX object that the children attach by its id.
  const std::string id = unique_name("mutex-counter");
  RemoveGuard rm(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out())) << ipcshm_last_error();
  auto* base = static_cast<unsigned char*>(ipcshm_pointer(h.get()));
  ASSERT_EQ(0, ipcshm_mutex_init(base));
  auto* counter = reinterpret_cast<volatile uint64_t*>(base + 64);
  auto* inside = reinterpret_cast<std::atomic<int>*>(base + 128);
  auto* overlaps = reinterpret_cast<std::atomic<int>*>(base + 132);

  constexpr int kProcesses = 4, kThreads = 3, kRounds = 2000;
  std::vector<std::unique_ptr<Child>> children;
  for (int p = 0; p < kProcesses; ++p)
    children.push_back(std::make_unique<Child>([&] {
      ipcshm_t* mine = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &mine) != 0) return 2;
      auto* b = static_cast<unsigned char*>(ipcshm_pointer(mine));
      auto* c = reinterpret_cast<volatile uint64_t*>(b + 64);
      auto* in = reinterpret_cast<std::atomic<int>*>(b + 128);
      auto* bad = reinterpret_cast<std::atomic<int>*>(b + 132);
      std::atomic<int> errors{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
          for (int i = 0; i < kRounds; ++i) {
            if (ipcshm_mutex_lock(b, -1) != 0) {
              ++errors;
              return;
            }
            if (in->fetch_add(1) != 0) ++*bad;
            uint64_t v = *c;  // a read-modify-write that only the lock makes safe
            if (i % 64 == 0) sched_yield();
            *c = v + 1;
            in->fetch_sub(1);
            if (ipcshm_mutex_unlock(b) != 0) ++errors;
          }
        });
      for (auto& t : threads) t.join();
      ipcshm_detach(mine);
      return errors.load() == 0 ? 0 : 3;
    }));
  for (auto& c : children) EXPECT_TRUE(exited_with(c->wait(), 0));
  EXPECT_EQ(uint64_t{kProcesses} * kThreads * kRounds, *counter);
  EXPECT_EQ(0, overlaps->load());
  EXPECT_EQ(0, inside->load());
}

class OwnerKilled : public ::testing::TestWithParam<bool> {};

// The owner is SIGKILLed while a waiter in another process is blocked: the
// waiter gets the mutex with -EOWNERDEAD within 100 ms. The owner is left a
// zombie (not reaped) or reaped at once: dead either way.
TEST_P(OwnerKilled, ABlockedWaiterGetsEownerdeadWithin100ms) {
  const bool reap = GetParam();
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  auto* report = new (mem.at(256)) Report;
  Pipe owner_ready, waiter_ready;
  Child owner([&] { return hold_until_killed(m, owner_ready); });
  ASSERT_TRUE(owner_ready.get_byte());
  Child waiter([&] { return lock_and_report(m, waiter_ready, report); });
  ASSERT_TRUE(waiter_ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  EXPECT_EQ(0, report->at.load()) << "the waiter did not block";

  const int64_t killed = now_ns();
  ASSERT_EQ(0, ::kill(owner.pid(), SIGKILL));
  if (reap) owner.wait();
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(-EOWNERDEAD, report->rc.load());
  const int64_t seen_after = report->at.load() - killed;
  EXPECT_LT(seen_after, 100 * kMs * slow_factor()) << seen_after / kMs << " ms";
  RecordProperty("death_seen_after_us", static_cast<int>(seen_after / 1000));
}

INSTANTIATE_TEST_SUITE_P(Mutex, OwnerKilled, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Reaped" : "Zombie"; });

TEST(Mutex, ConsistentMakesItGoodAgain) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  EXPECT_TRUE(testutil::killed_by(Child([&] {
                                    if (ipcshm_mutex_lock(m, -1) != 0) return 1;
                                    ::kill(::getpid(), SIGKILL);
                                    return 2;
                                  }).wait(),
                                  SIGKILL));
  EXPECT_EQ(-EOWNERDEAD, ipcshm_mutex_lock(m, -1)) << ipcshm_last_error();
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "ipcshm_mutex_consistent"));
  EXPECT_EQ(0, ipcshm_mutex_consistent(m)) << ipcshm_last_error();
  EXPECT_EQ(-EINVAL, ipcshm_mutex_consistent(m));  // only once, only after -EOWNERDEAD
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
  // Good for everyone again.
  EXPECT_TRUE(exited_with(Child([&] {
                            if (ipcshm_mutex_lock(m, -1) != 0) return 1;
                            return ipcshm_mutex_unlock(m) == 0 ? 0 : 2;
                          }).wait(),
                          0));
  EXPECT_EQ(0, ipcshm_mutex_lock(m, 0));
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
}

TEST(Mutex, UnlockWithoutConsistentMakesItNotRecoverableForEveryone) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  auto* blocked = new (mem.at(256)) Report;
  Pipe owner_ready, blocked_ready;
  Child owner([&] { return hold_until_killed(m, owner_ready); });
  ASSERT_TRUE(owner_ready.get_byte());
  ASSERT_EQ(0, ::kill(owner.pid(), SIGKILL));
  owner.wait();
  ASSERT_EQ(-EOWNERDEAD, ipcshm_mutex_lock(m, 0)) << ipcshm_last_error();

  // A waiter in another process blocks while this one holds it after -EOWNERDEAD ...
  Child waiter([&] { return lock_and_report(m, blocked_ready, blocked); });
  ASSERT_TRUE(blocked_ready.get_byte());
  ASSERT_TRUE(wait_until_asleep(waiter.pid()));
  // ... which gives it up without ipcshm_mutex_consistent.
  const int64_t unlocked = now_ns();
  ASSERT_EQ(0, ipcshm_mutex_unlock(m));

  // The blocked waiter is woken with the news.
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(-ENOTRECOVERABLE, blocked->rc.load());
  EXPECT_LT(blocked->at - unlocked, 100 * kMs * slow_factor());
  // So is every later caller, in any process, with or without a timeout.
  EXPECT_EQ(-ENOTRECOVERABLE, ipcshm_mutex_lock(m, -1));
  EXPECT_EQ(-ENOTRECOVERABLE, ipcshm_mutex_lock(m, 0));
  EXPECT_TRUE(exited_with(Child([&] {
                            return ipcshm_mutex_lock(m, -1) == -ENOTRECOVERABLE ? 0 : 1;
                          }).wait(),
                          0));
  EXPECT_EQ(-EPERM, ipcshm_mutex_unlock(m));
  EXPECT_EQ(-EINVAL, ipcshm_mutex_consistent(m));
  // Only a new initialisation makes a usable mutex of it.
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  EXPECT_EQ(0, ipcshm_mutex_lock(m, 0));
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
}

TEST(Mutex, OneOfSeveralBlockedWaitersGetsEownerdeadTheOthersTheLockInTurn) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  constexpr int kWaiters = 4;
  auto* reports = new (mem.at(256)) Report[kWaiters];
  Pipe owner_ready;
  Child owner([&] { return hold_until_killed(m, owner_ready); });
  ASSERT_TRUE(owner_ready.get_byte());
  std::vector<std::unique_ptr<Child>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    Pipe ready;
    waiters.push_back(std::make_unique<Child>([&, i] {
      warm_up();
      ready.put_byte();
      int rc = ipcshm_mutex_lock(m, 10'000 * kMs);
      reports[i].rc = rc;
      if (rc == -EOWNERDEAD && ipcshm_mutex_consistent(m) != 0) return 1;
      if (rc == 0 || rc == -EOWNERDEAD) {
        ::usleep(1000);
        if (ipcshm_mutex_unlock(m) != 0) return 2;
      }
      return 0;
    }));
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiters.back()->pid()));
  }
  ASSERT_EQ(0, ::kill(owner.pid(), SIGKILL));
  int owner_dead = 0, plain = 0;
  for (int i = 0; i < kWaiters; ++i) {
    EXPECT_TRUE(exited_with(waiters[i]->wait(), 0));
    owner_dead += reports[i].rc == -EOWNERDEAD;
    plain += reports[i].rc == 0;
  }
  EXPECT_EQ(1, owner_dead);
  EXPECT_EQ(kWaiters - 1, plain);
}

TEST(Mutex, AThreadThatExitsHoldingItIsADeadOwner) {
  // As in POSIX: the owner is the thread; its process lives on.
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  std::atomic<int> waiter_rc{1};
  std::atomic<int64_t> waiter_at{0};
  std::atomic<pid_t> waiter_tid{0};
  std::atomic<bool> go{false}, locked{false};
  std::thread owner([&] {
    ASSERT_EQ(0, ipcshm_mutex_lock(m, -1));
    locked = true;
    while (!go) ::usleep(1000);
  });
  while (!locked) ::usleep(1000);
  std::thread waiter([&] {
    warm_up();
    waiter_tid = static_cast<pid_t>(::gettid());
    int rc = ipcshm_mutex_lock(m, -1);
    waiter_at = now_ns();
    waiter_rc = rc;
    if (rc == -EOWNERDEAD) ipcshm_mutex_consistent(m);
    ipcshm_mutex_unlock(m);
  });
  while (waiter_tid == 0) ::usleep(1000);
  ASSERT_TRUE(wait_until_asleep(::getpid(), waiter_tid));
  const int64_t exited = now_ns();
  go = true;
  owner.join();  // it returns holding the mutex
  waiter.join();
  EXPECT_EQ(-EOWNERDEAD, waiter_rc.load());
  EXPECT_LT(waiter_at - exited, 100 * kMs * slow_factor()) << (waiter_at - exited) / kMs << " ms";
  // And a thread that comes later takes it as usual.
  EXPECT_EQ(0, ipcshm_mutex_lock(m, 0));
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
}

TEST(Mutex, AMainThreadThatExitsHoldingItIsADeadOwner) {
  // The main thread ends (exit(2), not exit_group) while another thread of its
  // process goes on: the kernel keeps it as a zombie, which is no owner.
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  auto* report = new (mem.at(256)) Report;
  Pipe owner_ready, waiter_ready, done;
  Child owner([&] {
    if (ipcshm_mutex_lock(m, -1) != 0) return 1;
    std::thread([&] {
      done.get_byte(60'000);
      ::_exit(0);
    }).detach();
    owner_ready.put_byte();
    // Ends this thread only (as pthread_exit, without unwinding through Child).
    ::syscall(SYS_exit, 0);
    return 3;
  });
  ASSERT_TRUE(owner_ready.get_byte());
  Child waiter(
      [&] { return lock_and_report(m, waiter_ready, report, 5000 * kMs * slow_factor()); });
  ASSERT_TRUE(waiter_ready.get_byte());
  EXPECT_TRUE(exited_with(waiter.wait(), 0));
  EXPECT_EQ(-EOWNERDEAD, report->rc.load());
  done.put_byte();
  EXPECT_TRUE(exited_with(owner.wait(), 0));
}

TEST(Mutex, ATryOrATimeoutOnADeadOwnersMutexTakesIt) {
  // A mutex whose owner died is never "busy".
  SharedMemory mem;
  void* m = mem.at(0);
  for (int64_t timeout : {int64_t{0}, 5 * kMs}) {
    ASSERT_EQ(0, ipcshm_mutex_init(m));
    Child([&] {
      ipcshm_mutex_lock(m, -1);
      return 0;
    }).wait();  // exits holding it
    EXPECT_EQ(-EOWNERDEAD, ipcshm_mutex_lock(m, timeout)) << "timeout " << timeout;
    EXPECT_EQ(0, ipcshm_mutex_consistent(m));
    EXPECT_EQ(0, ipcshm_mutex_unlock(m));
  }
}

// Runs as init (pid 1) of a new pid namespace with its own /proc: kills an
// owner, reaps it, and has its pid given to a new process at once through
// ns_last_pid. 0: passed; 77: this machine cannot do it; other: what failed.
int reuse_in_namespace(void* m, Report* blocked, Report* fresh) {
  // Bounded, so that a mistaken identity fails (-ETIMEDOUT) rather than hangs.
  const int64_t timeout = 5000 * kMs * slow_factor();
  if (::mount("none", "/", "none", MS_REC | MS_PRIVATE, nullptr) != 0) return 77;
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return 77;
  auto impostor_with_pid = [](pid_t pid) -> pid_t {
    std::ofstream("/proc/sys/kernel/ns_last_pid") << pid - 1;
    pid_t p = ::fork();
    if (p == 0) {
      for (;;) ::pause();
    }
    return p;
  };
  for (int round = 0; round < 2; ++round) {
    // round 0: a waiter blocked before the owner dies; round 1: a waiter that
    // comes after the impostor took the pid.
    Report* r = round == 0 ? blocked : fresh;
    if (ipcshm_mutex_init(m) != 0) return 10;
    Pipe owner_ready, waiter_ready;
    pid_t owner = ::fork();
    if (owner == 0) ::_exit(hold_until_killed(m, owner_ready));
    if (!owner_ready.get_byte()) return 11;
    pid_t waiter = -1;
    if (round == 0) {
      waiter = ::fork();
      if (waiter == 0) ::_exit(lock_and_report(m, waiter_ready, r, timeout));
      if (!waiter_ready.get_byte() || !wait_until_asleep(waiter)) return 12;
    }
    const int64_t killed = now_ns();
    ::kill(owner, SIGKILL);
    ::waitpid(owner, nullptr, 0);
    pid_t impostor = impostor_with_pid(owner);
    if (impostor != owner) return 13;  // ns_last_pid did not work
    if (round == 1) {
      waiter = ::fork();
      if (waiter == 0) ::_exit(lock_and_report(m, waiter_ready, r, timeout));
    }
    int status = 0;
    ::waitpid(waiter, &status, 0);
    r->at = r->at - killed;  // from the kill to the waiter's return
    ::kill(impostor, SIGKILL);
    ::waitpid(impostor, nullptr, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 14;
  }
  return 0;
}

// The same without a namespace, for an unprivileged run: fork until the pid
// comes round again (only where pid_max is small).
int reuse_by_forking(void* m, Report* fresh) {
  long pid_max = 0;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  if (pid_max <= 0 || pid_max > 70000) return 77;
  if (ipcshm_mutex_init(m) != 0) return 10;
  Pipe owner_ready;
  pid_t owner = ::fork();
  if (owner == 0) ::_exit(hold_until_killed(m, owner_ready));
  if (!owner_ready.get_byte()) return 11;
  const int64_t killed = now_ns();
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  pid_t impostor = -1;
  for (long i = 0; i < 2 * pid_max && impostor < 0; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      if (::getpid() == owner)
        for (;;) ::pause();
      ::_exit(0);
    }
    if (p < 0) return 77;
    if (p == owner)
      impostor = p;
    else
      ::waitpid(p, nullptr, 0);
  }
  if (impostor < 0) return 77;
  Pipe waiter_ready;
  pid_t waiter = ::fork();
  if (waiter == 0) ::_exit(lock_and_report(m, waiter_ready, fresh, 5000 * kMs * slow_factor()));
  int status = 0;
  ::waitpid(waiter, &status, 0);
  fresh->at = fresh->at - killed;
  ::kill(impostor, SIGKILL);
  ::waitpid(impostor, nullptr, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 14;
}

TEST(Mutex, AProcessWithTheDeadOwnersPidIsNotTakenForTheOwner) {
  SharedMemory mem;
  void* m = mem.at(0);
  auto* blocked = new (mem.at(256)) Report;
  auto* fresh = new (mem.at(320)) Report;
  blocked->rc = 1;
  fresh->rc = 1;
  // As root: a pid namespace whose init forces the reuse at once.
  Child outer([&] {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) return 77;
    pid_t init = ::fork();
    if (init == 0) ::_exit(reuse_in_namespace(m, blocked, fresh));
    int status = 0;
    ::waitpid(init, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 90;
  });
  int status = outer.wait();
  bool in_namespace = true;
  if (exited_with(status, 77)) {
    in_namespace = false;
    status = Child([&] { return reuse_by_forking(m, fresh); }).wait();
    if (exited_with(status, 77))
      GTEST_SKIP() << "no pid namespace (not root?) and pid_max too large to fork until a "
                      "pid recurs";
  }
  ASSERT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
  if (in_namespace) {
    EXPECT_EQ(-EOWNERDEAD, blocked->rc.load()) << "waiter blocked before the owner died";
    EXPECT_LT(blocked->at.load(), 100 * kMs * slow_factor()) << blocked->at / kMs << " ms";
  }
  EXPECT_EQ(-EOWNERDEAD, fresh->rc.load()) << "waiter that came after the pid was reused";
}

TEST(Mutex, TimeoutsEndWithinAFewMilliseconds) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  Pipe owner_ready;
  Child owner([&] { return hold_until_killed(m, owner_ready); });
  ASSERT_TRUE(owner_ready.get_byte());
  warm_up();
  for (int64_t timeout : {1 * kMs, 30 * kMs, 120 * kMs}) {
    const int64_t t0 = now_ns();
    EXPECT_EQ(-ETIMEDOUT, ipcshm_mutex_lock(m, timeout));
    const int64_t late = now_ns() - t0 - timeout;
    EXPECT_GE(late, 0);
    EXPECT_LT(late, 10 * kMs * slow_factor()) << "timeout " << timeout / kMs << " ms, late by "
                                               << late / 1000 << " us";
  }
  const int64_t t0 = now_ns();
  EXPECT_EQ(-EAGAIN, ipcshm_mutex_lock(m, 0));
  EXPECT_LT(now_ns() - t0, 10 * kMs * slow_factor());
}

TEST(Mutex, RelockIsEdeadlkAndOnlyTheOwningThreadUnlocks) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  EXPECT_EQ(-EPERM, ipcshm_mutex_unlock(m));  // not locked
  ASSERT_EQ(0, ipcshm_mutex_lock(m, -1));
  EXPECT_EQ(-EDEADLK, ipcshm_mutex_lock(m, -1));
  EXPECT_EQ(-EDEADLK, ipcshm_mutex_lock(m, 0));
  int other_thread = 0;
  std::thread([&] { other_thread = ipcshm_mutex_unlock(m); }).join();
  EXPECT_EQ(-EPERM, other_thread);
  // A forked child is another thread: it does not hold its parent's locks.
  EXPECT_TRUE(exited_with(Child([&] {
                            if (ipcshm_mutex_unlock(m) != -EPERM) return 1;
                            if (ipcshm_mutex_consistent(m) != -EINVAL) return 2;
                            return ipcshm_mutex_lock(m, 20 * kMs) == -ETIMEDOUT ? 0 : 3;
                          }).wait(),
                          0));
  EXPECT_EQ(-EINVAL, ipcshm_mutex_consistent(m));  // held, but no owner died
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
  EXPECT_EQ(-EPERM, ipcshm_mutex_unlock(m));
}

volatile sig_atomic_t g_signals = 0;
void count_signal(int) { g_signals = g_signals + 1; }

TEST(Mutex, ASignalHandlerEndsAWaitWithEintrEvenWithSaRestart) {
  SharedMemory mem;
  void* m = mem.at(0);
  ASSERT_EQ(0, ipcshm_mutex_init(m));
  ASSERT_EQ(0, ipcshm_mutex_lock(m, -1));
  for (bool restart : {false, true}) {
    auto* report = new (mem.at(256)) Report;
    Pipe ready;
    Child waiter([&] {
      testutil::on_signal(SIGUSR1, count_signal, restart);
      return lock_and_report(m, ready, report);
    });
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiter.pid()));
    ASSERT_EQ(0, ::kill(waiter.pid(), SIGUSR1));
    EXPECT_TRUE(exited_with(waiter.wait(), 0));
    EXPECT_EQ(-EINTR, report->rc.load()) << (restart ? "SA_RESTART" : "plain");
  }
  EXPECT_EQ(0, ipcshm_mutex_unlock(m));
}

}  // namespace
