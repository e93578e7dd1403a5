// libipcshm signalling benchmarks (Google Benchmark): events, semaphores and
// robust mutexes against raw FUTEX_WAIT/FUTEX_WAKE, POSIX sem_t in shared
// memory, a pipe, an eventfd and a robust process-shared pthread_mutex, in one
// run (bench/run interleaves the repetitions and prints medians and ratios).
//
// Three families, reported apart:
//   BM_wake_*         the sleeping path: one-way latency from a notify to the
//                     waiter running again, the waiter known to be asleep in
//                     the kernel (its /proc state is 'S', for 1 ms at least,
//                     before the notify). A repetition's time is the median
//                     of its 200 wake-ups.
//                     Two processes on two CPUs. Manual time: t(woken) -
//                     t(notify), both CLOCK_MONOTONIC.
//   BM_pingpong_*     round trips between two processes that wait for each
//                     other with the mechanism itself: the spin path where
//                     the mechanism spins (ipcshm), the sleeping path where it
//                     does not (raw futex, sem_t, pipe, eventfd).
//   BM_uncontended_*  one thread, nobody waiting: lock+unlock, post+wait,
//                     notify.
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>
#include <vector>

#include <benchmark/benchmark.h>

#include "ipcshm.h"

namespace {

int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

long futex(uint32_t* word, int op, uint32_t val) {
  return ::syscall(SYS_futex, word, op, val, nullptr, nullptr, 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits for an atomic to reach a value, spinning then yielding (never the
// measured side).
template <typename T>
void await(const std::atomic<T>& a, T want) {
  for (unsigned spins = 0; a.load(std::memory_order_acquire) != want; ++spins) {
    if (spins < 1000)
      cpu_relax();
    else
      ::sched_yield();
  }
}

// The state letter of a task, from /proc.
char task_state(pid_t pid, const char* tid) {
  char path[320];
  std::snprintf(path, sizeof path, "/proc/%d/task/%.255s/stat", pid, tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

// Waits until every thread of the process sleeps (state 'S').
void await_asleep(pid_t pid) {
  char dir[64];
  std::snprintf(dir, sizeof dir, "/proc/%d/task", pid);
  for (;;) {
    bool all = true;
    if (DIR* d = ::opendir(dir)) {
      while (struct dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' && task_state(pid, e->d_name) != 'S') all = false;
      ::closedir(d);
    }
    if (all) return;
    ::sched_yield();
  }
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % CPU_SETSIZE, &set);
  ::sched_setaffinity(0, sizeof set, &set);  // best effort
}

int ncpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

// Everything both processes share: written before the fork.
struct Shared {
  alignas(64) std::atomic<uint64_t> round;       // the notifier's round
  alignas(64) std::atomic<uint64_t> ready;       // the waiter is about to block in it
  alignas(64) std::atomic<uint64_t> woke_round;  // the waiter ran again in it ...
  std::atomic<int64_t> woke_at;                  // ... at this time
  alignas(64) uint32_t word;                     // raw futex
  alignas(64) uint32_t word2;
  alignas(64) unsigned char ev[IPCSHM_EVENT_SIZE];
  alignas(64) unsigned char ev2[IPCSHM_EVENT_SIZE];
  alignas(64) unsigned char sem[IPCSHM_SEM_SIZE];
  alignas(64) unsigned char sem2[IPCSHM_SEM_SIZE];
  alignas(64) unsigned char mu[IPCSHM_MUTEX_SIZE];
  alignas(64) sem_t psem;
  alignas(64) sem_t psem2;
  alignas(64) pthread_mutex_t pmu;
  int pipe_a[2], pipe_b[2];
  int efd_a, efd_b;
  char payload[64];                              // written by each side, read by the other
};

Shared* make_shared_block() {
  void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto* s = new (p) Shared{};
  ipcshm_event_init(s->ev);
  ipcshm_event_init(s->ev2);
  ipcshm_sem_init(s->sem, 0);
  ipcshm_sem_init(s->sem2, 0);
  ipcshm_mutex_init(s->mu);
  ::sem_init(&s->psem, 1, 0);
  ::sem_init(&s->psem2, 1, 0);
  pthread_mutexattr_t a;
  ::pthread_mutexattr_init(&a);
  ::pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  ::pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  ::pthread_mutex_init(&s->pmu, &a);
  ::pthread_mutexattr_destroy(&a);
  if (::pipe(s->pipe_a) != 0 || ::pipe(s->pipe_b) != 0) return nullptr;
  s->efd_a = ::eventfd(0, 0);
  s->efd_b = ::eventfd(0, 0);
  return s;
}

void free_shared_block(Shared* s) {
  for (int fd : {s->pipe_a[0], s->pipe_a[1], s->pipe_b[0], s->pipe_b[1], s->efd_a, s->efd_b})
    ::close(fd);
  ::sem_destroy(&s->psem);
  ::sem_destroy(&s->psem2);
  ::munmap(s, sizeof(Shared));
}

// Forks the other process, which runs fn(s) until it is killed.
template <typename Fn>
pid_t spawn(Shared* s, Fn fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ncpus() > 1) pin(1);
    fn(s);
    ::_exit(0);
  }
  if (ncpus() > 1) pin(0);
  return pid;
}

void reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int i = 0; i < ncpus(); ++i) CPU_SET(i, &all);
  ::sched_setaffinity(0, sizeof all, &all);
}

// ---------------------------------------------------------------------------
// The sleeping path: how long a notify takes to get a sleeping waiter going.

// A mechanism for wake(): prepare (notifier, before the round), block
// (waiter), notify (notifier, timed from here), after (waiter, once woken).
struct Mechanism {
  void (*prepare)(Shared*);
  void (*block)(Shared*);
  void (*notify)(Shared*);
  void (*after)(Shared*);
};

void nothing(Shared*) {}

constexpr int64_t kSettleNs = 1'000'000;

// One repetition is one benchmark iteration of kRounds wake-ups, whose time
// is their median: a wake-up costs 5 us when the waiter's CPU still runs and
// 100 us when it halted (a virtual machine), and a mean of both says nothing.
constexpr int kRounds = 200;

void wake(benchmark::State& st, const Mechanism& m) {
  Shared* s = make_shared_block();
  if (!s) return st.SkipWithError("mmap/pipe failed");
  pid_t pid = spawn(s, [&m](Shared* sh) {
    for (uint64_t r = 1;; ++r) {
      await(sh->round, r);
      sh->ready.store(r, std::memory_order_release);
      m.block(sh);
      sh->woke_at.store(now_ns(), std::memory_order_relaxed);
      sh->woke_round.store(r, std::memory_order_release);
      m.after(sh);
    }
  });
  std::vector<int64_t> samples(kRounds);
  uint64_t r = 0;
  for (auto _ : st) {
    for (int64_t& sample : samples) {
      ++r;
      m.prepare(s);
      s->round.store(r, std::memory_order_release);
      await(s->ready, r);
      await_asleep(pid);
      // Asleep for a while, whatever it did before (the library's waits spin
      // first, others sleep at once): an idle CPU goes deeper the longer it
      // idles (a guest's halt polling, then a halt), and every mechanism must
      // pay for the same depth.
      const int64_t settled = now_ns() + kSettleNs;
      while (now_ns() < settled) cpu_relax();
      await_asleep(pid);
      const int64_t t0 = now_ns();
      m.notify(s);
      await(s->woke_round, r);
      sample = s->woke_at.load() - t0;
    }
    std::sort(samples.begin(), samples.end());
    st.SetIterationTime(static_cast<double>(samples[kRounds / 2]) * 1e-9);
    st.counters["p10_us"] = static_cast<double>(samples[kRounds / 10]) * 1e-3;
    st.counters["p90_us"] = static_cast<double>(samples[kRounds * 9 / 10]) * 1e-3;
  }
  reap(pid);
  free_shared_block(s);
}

// raw futex: the waiter sleeps on `word` until it changes.
void futex_block(Shared* s) {
  const uint32_t seen = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
  while (__atomic_load_n(&s->word, __ATOMIC_ACQUIRE) == seen)
    futex(&s->word, FUTEX_WAIT, seen);
}
// The same with a deadline 100 ms ahead, as the library's waits sleep in
// bounded slices (an armed timer may change how deeply an idle CPU sleeps).
void futex_block_timed(Shared* s) {
  const uint32_t seen = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
  while (__atomic_load_n(&s->word, __ATOMIC_ACQUIRE) == seen) {
    int64_t until = now_ns() + 100'000'000;
    timespec ts{static_cast<time_t>(until / 1'000'000'000),
                static_cast<long>(until % 1'000'000'000)};
    ::syscall(SYS_futex, &s->word, FUTEX_WAIT_BITSET, seen, &ts, nullptr, FUTEX_BITSET_MATCH_ANY);
  }
}
void futex_notify(Shared* s) {
  __atomic_fetch_add(&s->word, 1, __ATOMIC_RELEASE);
  futex(&s->word, FUTEX_WAKE, 1);
}

// (Reading the sequence after publishing `ready` is safe: the notifier
// notifies only once this process sleeps.)
void event_block(Shared* s) {
  uint64_t seen;
  ipcshm_event_sequence(s->ev, &seen);
  while (ipcshm_event_wait(s->ev, &seen, -1) != 0) {
  }
}
void event_notify(Shared* s) { ipcshm_event_notify(s->ev); }

void sem_block(Shared* s) {
  while (ipcshm_sem_wait(s->sem, -1) != 0) {
  }
}
void sem_notify(Shared* s) { ipcshm_sem_post(s->sem); }

void mutex_prepare(Shared* s) { ipcshm_mutex_lock(s->mu, -1); }
void mutex_block(Shared* s) { ipcshm_mutex_lock(s->mu, -1); }
void mutex_notify(Shared* s) { ipcshm_mutex_unlock(s->mu); }
void mutex_after(Shared* s) { ipcshm_mutex_unlock(s->mu); }

void pmutex_prepare(Shared* s) { ::pthread_mutex_lock(&s->pmu); }
void pmutex_block(Shared* s) { ::pthread_mutex_lock(&s->pmu); }
void pmutex_notify(Shared* s) { ::pthread_mutex_unlock(&s->pmu); }
void pmutex_after(Shared* s) { ::pthread_mutex_unlock(&s->pmu); }

void psem_block(Shared* s) {
  while (::sem_wait(&s->psem) != 0) {
  }
}
void psem_notify(Shared* s) { ::sem_post(&s->psem); }

void pipe_block(Shared* s) {
  char c;
  while (::read(s->pipe_a[0], &c, 1) != 1) {
  }
}
void pipe_notify(Shared* s) {
  char c = 'x';
  if (::write(s->pipe_a[1], &c, 1) != 1) std::abort();
}

void eventfd_block(Shared* s) {
  uint64_t v;
  while (::read(s->efd_a, &v, sizeof v) != sizeof v) {
  }
}
void eventfd_notify(Shared* s) {
  uint64_t v = 1;
  if (::write(s->efd_a, &v, sizeof v) != sizeof v) std::abort();
}

// ipcshm_event_fd: the waiter polls the descriptor (the library's helper
// thread in the waiter's process sleeps on the event, then writes it).
thread_local int t_event_fd = -1;
void event_fd_block(Shared* s) {
  if (t_event_fd < 0) t_event_fd = ipcshm_event_fd(s->ev);
  struct pollfd pfd = {t_event_fd, POLLIN, 0};
  while (::poll(&pfd, 1, -1) != 1) {
  }
  uint64_t v;
  if (::read(t_event_fd, &v, sizeof v) != sizeof v) std::abort();
}

void BM_wake_raw_futex(benchmark::State& st) {
  wake(st, {nothing, futex_block, futex_notify, nothing});
}
void BM_wake_raw_futex_timed(benchmark::State& st) {
  wake(st, {nothing, futex_block_timed, futex_notify, nothing});
}
void BM_wake_ipcshm_event(benchmark::State& st) {
  wake(st, {nothing, event_block, event_notify, nothing});
}
void BM_wake_ipcshm_sem(benchmark::State& st) {
  wake(st, {nothing, sem_block, sem_notify, nothing});
}
void BM_wake_ipcshm_mutex(benchmark::State& st) {
  wake(st, {mutex_prepare, mutex_block, mutex_notify, mutex_after});
}
void BM_wake_pthread_robust(benchmark::State& st) {
  wake(st, {pmutex_prepare, pmutex_block, pmutex_notify, pmutex_after});
}
void BM_wake_sem_t(benchmark::State& st) { wake(st, {nothing, psem_block, psem_notify, nothing}); }
void BM_wake_pipe(benchmark::State& st) { wake(st, {nothing, pipe_block, pipe_notify, nothing}); }
void BM_wake_eventfd(benchmark::State& st) {
  wake(st, {nothing, eventfd_block, eventfd_notify, nothing});
}
void BM_wake_ipcshm_event_fd(benchmark::State& st) {
  wake(st, {nothing, event_fd_block, event_notify, nothing});
}

// ---------------------------------------------------------------------------
// Round trips: each side waits for the other with the mechanism itself; a
// 64-byte payload is written and read each way.

struct PingPong {
  void (*ping)(Shared*);       // first side: send ...
  void (*wait_pong)(Shared*);  // ... and wait for the answer
  void (*wait_ping)(Shared*);  // other side: wait ...
  void (*pong)(Shared*);       // ... and answer
};

void pingpong(benchmark::State& st, const PingPong& m) {
  Shared* s = make_shared_block();
  if (!s) return st.SkipWithError("mmap/pipe failed");
  pid_t pid = spawn(s, [&m](Shared* sh) {
    char in[64];
    for (;;) {
      m.wait_ping(sh);
      std::memcpy(in, sh->payload, sizeof in);
      benchmark::DoNotOptimize(in);
      std::memset(sh->payload, 'b', sizeof sh->payload);
      m.pong(sh);
    }
  });
  char in[64];
  for (auto _ : st) {
    std::memset(s->payload, 'a', sizeof s->payload);
    m.ping(s);
    m.wait_pong(s);
    std::memcpy(in, s->payload, sizeof in);
    benchmark::DoNotOptimize(in);
  }
  reap(pid);
  free_shared_block(s);
}

// raw futex: a counter word each way; wait immediately (no spin).
void pp_futex_wait(uint32_t* word, uint32_t* mine) {
  uint32_t v;
  while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == *mine) futex(word, FUTEX_WAIT, v);
  *mine = v;
}
uint32_t g_seen_word = 0, g_seen_word2 = 0;  // per process (fork copies them)
void pp_futex_ping(Shared* s) {
  __atomic_fetch_add(&s->word, 1, __ATOMIC_RELEASE);
  futex(&s->word, FUTEX_WAKE, 1);
}
void pp_futex_wait_pong(Shared* s) { pp_futex_wait(&s->word2, &g_seen_word2); }
void pp_futex_wait_ping(Shared* s) { pp_futex_wait(&s->word, &g_seen_word); }
void pp_futex_pong(Shared* s) {
  __atomic_fetch_add(&s->word2, 1, __ATOMIC_RELEASE);
  futex(&s->word2, FUTEX_WAKE, 1);
}

// raw futex with the library's spin before the sleep (the floor of the spin path).
void pp_spin_wait(uint32_t* word, uint32_t* mine) {
  uint32_t v;
  for (int i = 0; i < 64 + 8; ++i) {
    if ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != *mine) {
      *mine = v;
      return;
    }
    if (i < 64)
      for (int k = 0; k < 4; ++k) cpu_relax();
    else
      ::sched_yield();
  }
  pp_futex_wait(word, mine);
}
void pp_spin_wait_pong(Shared* s) { pp_spin_wait(&s->word2, &g_seen_word2); }
void pp_spin_wait_ping(Shared* s) { pp_spin_wait(&s->word, &g_seen_word); }

uint64_t g_seen_ev = 0, g_seen_ev2 = 0;
void pp_event_ping(Shared* s) { ipcshm_event_notify(s->ev); }
void pp_event_wait_pong(Shared* s) {
  while (ipcshm_event_wait(s->ev2, &g_seen_ev2, -1) != 0) {
  }
}
void pp_event_wait_ping(Shared* s) {
  while (ipcshm_event_wait(s->ev, &g_seen_ev, -1) != 0) {
  }
}
void pp_event_pong(Shared* s) { ipcshm_event_notify(s->ev2); }

void pp_sem_ping(Shared* s) { ipcshm_sem_post(s->sem); }
void pp_sem_wait_pong(Shared* s) {
  while (ipcshm_sem_wait(s->sem2, -1) != 0) {
  }
}
void pp_sem_wait_ping(Shared* s) {
  while (ipcshm_sem_wait(s->sem, -1) != 0) {
  }
}
void pp_sem_pong(Shared* s) { ipcshm_sem_post(s->sem2); }

void pp_psem_ping(Shared* s) { ::sem_post(&s->psem); }
void pp_psem_wait_pong(Shared* s) {
  while (::sem_wait(&s->psem2) != 0) {
  }
}
void pp_psem_wait_ping(Shared* s) {
  while (::sem_wait(&s->psem) != 0) {
  }
}
void pp_psem_pong(Shared* s) { ::sem_post(&s->psem2); }

void pp_pipe_ping(Shared* s) { pipe_notify(s); }
void pp_pipe_wait_ping(Shared* s) { pipe_block(s); }
void pp_pipe_pong(Shared* s) {
  char c = 'y';
  if (::write(s->pipe_b[1], &c, 1) != 1) std::abort();
}
void pp_pipe_wait_pong(Shared* s) {
  char c;
  while (::read(s->pipe_b[0], &c, 1) != 1) {
  }
}

void pp_efd_ping(Shared* s) { eventfd_notify(s); }
void pp_efd_wait_ping(Shared* s) { eventfd_block(s); }
void pp_efd_pong(Shared* s) {
  uint64_t v = 1;
  if (::write(s->efd_b, &v, sizeof v) != sizeof v) std::abort();
}
void pp_efd_wait_pong(Shared* s) {
  uint64_t v;
  while (::read(s->efd_b, &v, sizeof v) != sizeof v) {
  }
}

void BM_pingpong_raw_futex(benchmark::State& st) {
  g_seen_word = g_seen_word2 = 0;
  pingpong(st, {pp_futex_ping, pp_futex_wait_pong, pp_futex_wait_ping, pp_futex_pong});
}
void BM_pingpong_raw_spin_futex(benchmark::State& st) {
  g_seen_word = g_seen_word2 = 0;
  pingpong(st, {pp_futex_ping, pp_spin_wait_pong, pp_spin_wait_ping, pp_futex_pong});
}
void BM_pingpong_ipcshm_event(benchmark::State& st) {
  g_seen_ev = g_seen_ev2 = 0;
  pingpong(st, {pp_event_ping, pp_event_wait_pong, pp_event_wait_ping, pp_event_pong});
}
void BM_pingpong_ipcshm_sem(benchmark::State& st) {
  pingpong(st, {pp_sem_ping, pp_sem_wait_pong, pp_sem_wait_ping, pp_sem_pong});
}
void BM_pingpong_sem_t(benchmark::State& st) {
  pingpong(st, {pp_psem_ping, pp_psem_wait_pong, pp_psem_wait_ping, pp_psem_pong});
}
void BM_pingpong_pipe(benchmark::State& st) {
  pingpong(st, {pp_pipe_ping, pp_pipe_wait_pong, pp_pipe_wait_ping, pp_pipe_pong});
}
void BM_pingpong_eventfd(benchmark::State& st) {
  pingpong(st, {pp_efd_ping, pp_efd_wait_pong, pp_efd_wait_ping, pp_efd_pong});
}

// ---------------------------------------------------------------------------
// Uncontended: one thread, nobody waiting.

struct Local {
  Shared* s = make_shared_block();
  ~Local() {
    if (s) free_shared_block(s);
  }
};

void BM_uncontended_ipcshm_mutex(benchmark::State& st) {
  Local l;
  ipcshm_mutex_lock(l.s->mu, -1);  // the thread's identity, worked out once
  ipcshm_mutex_unlock(l.s->mu);
  for (auto _ : st) {
    ipcshm_mutex_lock(l.s->mu, -1);
    ipcshm_mutex_unlock(l.s->mu);
  }
}

void BM_uncontended_pthread_robust(benchmark::State& st) {
  Local l;
  for (auto _ : st) {
    ::pthread_mutex_lock(&l.s->pmu);
    ::pthread_mutex_unlock(&l.s->pmu);
  }
}

void BM_uncontended_pthread_plain(benchmark::State& st) {
  Local l;
  pthread_mutexattr_t a;
  ::pthread_mutexattr_init(&a);
  ::pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_t* m = &l.s->pmu;
  ::pthread_mutex_destroy(m);
  ::pthread_mutex_init(m, &a);
  for (auto _ : st) {
    ::pthread_mutex_lock(m);
    ::pthread_mutex_unlock(m);
  }
}

// The floor: a compare-and-swap to take, an exchange to release.
void BM_uncontended_raw_cas(benchmark::State& st) {
  Local l;
  uint32_t* w = &l.s->word;
  for (auto _ : st) {
    uint32_t expected = 0;
    __atomic_compare_exchange_n(w, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(w, 0, __ATOMIC_SEQ_CST) == 2) futex(w, FUTEX_WAKE, 1);
  }
}

void BM_uncontended_ipcshm_sem(benchmark::State& st) {
  Local l;
  for (auto _ : st) {
    ipcshm_sem_post(l.s->sem);
    ipcshm_sem_wait(l.s->sem, -1);
  }
}

void BM_uncontended_sem_t(benchmark::State& st) {
  Local l;
  for (auto _ : st) {
    ::sem_post(&l.s->psem);
    ::sem_wait(&l.s->psem);
  }
}

void BM_uncontended_ipcshm_notify(benchmark::State& st) {
  Local l;
  for (auto _ : st) ipcshm_event_notify(l.s->ev);
}

// What a notify costs when it does not know whether anyone sleeps.
void BM_uncontended_raw_futex_wake(benchmark::State& st) {
  Local l;
  for (auto _ : st) {
    __atomic_fetch_add(&l.s->word, 1, __ATOMIC_SEQ_CST);
    futex(&l.s->word, FUTEX_WAKE, INT_MAX);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
#define REG(fn) benchmark::RegisterBenchmark(#fn, fn)
  for (auto* b : {REG(BM_wake_raw_futex), REG(BM_wake_raw_futex_timed), REG(BM_wake_ipcshm_event),
                  REG(BM_wake_ipcshm_sem),
                  REG(BM_wake_ipcshm_mutex), REG(BM_wake_pthread_robust), REG(BM_wake_sem_t),
                  REG(BM_wake_pipe), REG(BM_wake_eventfd), REG(BM_wake_ipcshm_event_fd)})
    b->UseManualTime()->Iterations(1)->Unit(benchmark::kMicrosecond);
  for (auto* b : {REG(BM_pingpong_raw_futex), REG(BM_pingpong_raw_spin_futex),
                  REG(BM_pingpong_ipcshm_event), REG(BM_pingpong_ipcshm_sem),
                  REG(BM_pingpong_sem_t), REG(BM_pingpong_pipe), REG(BM_pingpong_eventfd)})
    b->Unit(benchmark::kMicrosecond);
  REG(BM_uncontended_ipcshm_mutex);
  REG(BM_uncontended_pthread_robust);
  REG(BM_uncontended_pthread_plain);
  REG(BM_uncontended_raw_cas);
  REG(BM_uncontended_ipcshm_sem);
  REG(BM_uncontended_sem_t);
  REG(BM_uncontended_ipcshm_notify);
  REG(BM_uncontended_raw_futex_wake);
#undef REG
  benchmark::AddCustomContext("cpus_online", std::to_string(ncpus()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
