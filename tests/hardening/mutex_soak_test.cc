// Robust mutex soak: several processes of several threads each increment one
// counter under one mutex, with and without random SIGKILLs of whole
// processes. Mutual exclusion must hold throughout (no two threads inside at
// once) and the counter must end exact.
//
// With kills, a holder may die in the middle of its update: the update is
// journaled, and whoever gets the mutex with -EOWNERDEAD rolls the half-done
// update back, then calls ipcshm_mutex_consistent. Every thread also counts
// its own completed updates in a slot of its own (updated under the same
// journal), so at the end the counter must equal the sum of the slots, however
// many processes died and wherever.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::Child;
using testutil::exited_with;
using testutil::kMs;
using testutil::now_ns;
using testutil::SharedMemory;
using testutil::slow_factor;

constexpr int kThreadsPerProcess = 3;
constexpr int kMaxSlots = 1024;

struct State {
  alignas(64) unsigned char mutex[IPCSHM_MUTEX_SIZE];
  // The protected data: a counter and one count of completed updates per slot.
  std::atomic<uint64_t> counter;
  std::atomic<uint64_t> done[kMaxSlots];
  // The journal of the update in progress (valid while active is 1).
  std::atomic<uint32_t> active;
  std::atomic<uint32_t> slot;
  std::atomic<uint64_t> counter_before;
  std::atomic<uint64_t> done_before;
  // What the workers saw.
  std::atomic<int> inside;
  std::atomic<int> overlaps;
  std::atomic<int> owner_dead;
  std::atomic<int> errors;
  std::atomic<int> stop;
};

// Undoes a half-done update of a holder that died.
void repair(State* s) {
  if (s->active.load()) {
    s->counter.store(s->counter_before.load());
    s->done[s->slot.load()].store(s->done_before.load());
    s->active.store(0);
  }
  s->inside.store(0);  // the dead holder was inside
}

// One thread's loop; rounds < 0: until stop.
void work(State* s, int slot, long rounds) {
  for (long i = 0; rounds < 0 ? !s->stop.load() : i < rounds; ++i) {
    int rc = ipcshm_mutex_lock(s->mutex, 30'000 * kMs * slow_factor());
    if (rc == -EOWNERDEAD) {
      ++s->owner_dead;
      repair(s);
      if (ipcshm_mutex_consistent(s->mutex) != 0) ++s->errors;
    } else if (rc != 0) {
      std::fprintf(stderr, "lock: %d %s\n", rc, ipcshm_last_error());
      ++s->errors;
      return;
    }
    if (s->inside.fetch_add(1) != 0) ++s->overlaps;
    s->slot.store(static_cast<uint32_t>(slot));
    s->counter_before.store(s->counter.load());
    s->done_before.store(s->done[slot].load());
    s->active.store(1);
    const uint64_t c = s->counter.load();  // a read-modify-write only the lock makes safe
    if (i % 16 == 0) std::this_thread::yield();
    s->counter.store(c + 1);
    s->done[slot].store(s->done[slot].load() + 1);
    s->active.store(0);
    s->inside.fetch_sub(1);
    if (ipcshm_mutex_unlock(s->mutex) != 0) {
      ++s->errors;
      return;
    }
  }
}

// A worker process: kThreadsPerProcess threads with slots first_slot...
int worker(State* s, int first_slot, long rounds) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadsPerProcess; ++t)
    threads.emplace_back([=] { work(s, first_slot + t, rounds); });
  for (auto& t : threads) t.join();
  return 0;
}

uint64_t sum_of_slots(State* s) {
  uint64_t sum = 0;
  for (auto& d : s->done) sum += d.load();
  return sum;
}

TEST(MutexSoak, ProcessesAndThreadsKeepACounterExact) {
  SharedMemory mem(sizeof(State));
  auto* s = new (mem.get()) State{};
  ASSERT_EQ(0, ipcshm_mutex_init(s->mutex));
  constexpr int kProcesses = 4;
  const long rounds = slow_factor() > 1 ? 300 : 3000;
  std::vector<std::unique_ptr<Child>> workers;
  for (int p = 0; p < kProcesses; ++p)
    workers.push_back(
        std::make_unique<Child>([=] { return worker(s, p * kThreadsPerProcess, rounds); }));
  for (auto& w : workers) EXPECT_TRUE(exited_with(w->wait(), 0));
  EXPECT_EQ(uint64_t{kProcesses} * kThreadsPerProcess * rounds, s->counter.load());
  EXPECT_EQ(s->counter.load(), sum_of_slots(s));
  EXPECT_EQ(0, s->overlaps.load());
  EXPECT_EQ(0, s->errors.load());
  EXPECT_EQ(0, s->owner_dead.load());
}

TEST(MutexSoak, RandomSigkillsOfWholeProcessesLeaveItExactAndUsable) {
  SharedMemory mem(sizeof(State));
  auto* s = new (mem.get()) State{};
  ASSERT_EQ(0, ipcshm_mutex_init(s->mutex));
  constexpr int kLive = 4;
  const int64_t duration = (slow_factor() > 1 ? 6000 : 3000) * kMs;
  std::mt19937 rng(20261124);
  std::vector<std::unique_ptr<Child>> live;
  int next_slot = 0, kills = 0;
  auto spawn = [&] {
    const int first = next_slot;
    next_slot += kThreadsPerProcess;
    live.push_back(std::make_unique<Child>([=] { return worker(s, first, -1); }));
  };
  for (int p = 0; p < kLive; ++p) spawn();
  const int64_t end = now_ns() + duration;
  while (now_ns() < end && next_slot + kThreadsPerProcess <= kMaxSlots) {
    ::usleep(static_cast<useconds_t>(5000 + rng() % 30000));
    auto& victim = live[rng() % live.size()];
    ::kill(victim->pid(), SIGKILL);
    victim->wait();
    ++kills;
    victim.reset();
    live.erase(std::remove(live.begin(), live.end(), nullptr), live.end());
    spawn();
  }
  s->stop.store(1);
  for (auto& w : live) EXPECT_TRUE(exited_with(w->wait(), 0));
  // The last holder may have been killed: whoever locks next repairs.
  int rc = ipcshm_mutex_lock(s->mutex, 5000 * kMs * slow_factor());
  if (rc == -EOWNERDEAD) {
    repair(s);
    EXPECT_EQ(0, ipcshm_mutex_consistent(s->mutex));
  } else {
    EXPECT_EQ(0, rc) << ipcshm_last_error();
  }
  EXPECT_EQ(s->counter.load(), sum_of_slots(s));
  EXPECT_EQ(0, s->overlaps.load());
  EXPECT_EQ(0, s->errors.load());
  EXPECT_GT(s->counter.load(), 0u);
  EXPECT_EQ(0, ipcshm_mutex_unlock(s->mutex));
  std::printf("soak: %d kills, %llu updates, %d taken from a dead owner\n", kills,
              static_cast<unsigned long long>(s->counter.load()), s->owner_dead.load());
  RecordProperty("kills", kills);
  RecordProperty("owner_dead", s->owner_dead.load());
}

}  // namespace
