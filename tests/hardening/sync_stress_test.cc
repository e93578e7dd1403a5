// Thread stress of the signalling primitives, written to be run under
// ThreadSanitizer (tests/hardening/tsan.sh) as well as in the normal build:
// threads of one process on one mutex (a plain counter it protects), on a
// semaphore between producers and consumers, on events used as a condition
// variable, and on a mutex whose owning thread exits holding it. The
// primitives' own atomics must order the data they protect (TSan reports a
// race otherwise), and nothing may be lost or doubled.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <thread>
#include <vector>

#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::kMs;
using testutil::slow_factor;

constexpr int kThreads = 6;

int rounds() { return slow_factor() > 1 ? 2000 : 20000; }

TEST(SyncStress, AMutexProtectsAPlainCounter) {
  alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE];
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  long counter = 0;  // plain: only the mutex orders the accesses
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < rounds(); ++i) {
        // A try now and then, a timed lock otherwise.
        int rc = i % 7 == 0 ? ipcshm_mutex_lock(mu, 0) : ipcshm_mutex_lock(mu, 10'000 * kMs);
        if (rc == -EAGAIN) {
          --i;
          continue;
        }
        if (rc != 0) {
          ++errors;
          return;
        }
        ++counter;
        if (ipcshm_mutex_unlock(mu) != 0) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(long{kThreads} * rounds(), counter);
}

TEST(SyncStress, ASemaphoreHandsOverEveryItemOnce) {
  alignas(8) unsigned char items[IPCSHM_SEM_SIZE];
  ASSERT_EQ(0, ipcshm_sem_init(items, 0));
  constexpr int kSlots = 1 << 16;
  static std::atomic<int> taken[kSlots];
  for (auto& t : taken) t = 0;
  std::vector<long> values(kSlots, 0);  // plain: written before post, read after wait
  std::atomic<long> next_write{0}, next_read{0};
  const int per = rounds() / 2;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads / 2; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < per; ++i) {
        long slot = next_write++;
        values[slot % kSlots] = slot;
        ASSERT_EQ(0, ipcshm_sem_post(items));
      }
    });
  for (int t = 0; t < kThreads / 2; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < per; ++i) {
        ASSERT_EQ(0, ipcshm_sem_wait(items, 10'000 * kMs));
        long slot = next_read++;
        // Posts may complete out of slot order; the semaphore only counts.
        ++taken[slot % kSlots];
      }
    });
  for (auto& t : threads) t.join();
  uint32_t left = 1;
  EXPECT_EQ(0, ipcshm_sem_value(items, &left));
  EXPECT_EQ(0u, left);
  EXPECT_EQ(next_write.load(), next_read.load());
}

TEST(SyncStress, EventsAndAMutexMakeAConditionVariable) {
  alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE], ev[IPCSHM_EVENT_SIZE];
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  ASSERT_EQ(0, ipcshm_event_init(ev));
  long queued = 0, consumed = 0;  // plain, under the mutex
  const long per_producer = rounds() / (kThreads / 2);
  const long total = per_producer * (kThreads / 2);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads / 2; ++t)
    threads.emplace_back([&] {
      for (;;) {
        if (ipcshm_mutex_lock(mu, -1) != 0) return void(++errors);
        while (queued == 0 && consumed < total) {
          uint64_t seen;
          ipcshm_event_sequence(ev, &seen);
          ipcshm_mutex_unlock(mu);
          if (ipcshm_event_wait(ev, &seen, 10'000 * kMs) != 0) return void(++errors);
          if (ipcshm_mutex_lock(mu, -1) != 0) return void(++errors);
        }
        if (consumed == total) {
          ipcshm_mutex_unlock(mu);
          ipcshm_event_notify(ev);
          return;
        }
        --queued;
        ++consumed;
        ipcshm_mutex_unlock(mu);
      }
    });
  for (int t = 0; t < kThreads / 2; ++t)
    threads.emplace_back([&] {
      for (long i = 0; i < per_producer; ++i) {
        if (ipcshm_mutex_lock(mu, -1) != 0) return void(++errors);
        ++queued;
        ipcshm_mutex_unlock(mu);
        ipcshm_event_notify(ev);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(total, consumed);
  EXPECT_EQ(0, queued);
}

TEST(SyncStress, OwnersThatExitHoldingTheMutexAreTakenOver) {
  alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE];
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  long data = 0;
  int owner_dead = 0;
  std::atomic<int> errors{0};
  const int n = slow_factor() > 1 ? 5 : 20;
  for (int i = 0; i < n; ++i) {
    std::thread([&] {
      if (ipcshm_mutex_lock(mu, -1) == -EOWNERDEAD) {
        ++owner_dead;
        ipcshm_mutex_consistent(mu);
      }
      ++data;  // and exits holding it
    }).join();
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      int rc = ipcshm_mutex_lock(mu, 10'000 * kMs);
      if (rc == -EOWNERDEAD) {
        ipcshm_mutex_consistent(mu);
        ++data;
        ipcshm_mutex_unlock(mu);
      } else if (rc == 0) {
        ++data;
        ipcshm_mutex_unlock(mu);
      } else {
        ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(n - 1, owner_dead);
  EXPECT_EQ(n + 2, data);
}

}  // namespace
