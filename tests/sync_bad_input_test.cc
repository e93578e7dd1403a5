// Bad input to the signalling calls: NULL and misaligned pointers, memory that
// was never initialised or holds another kind, impossible contents, garbage
// written over a primitive while someone waits on it, read-only and unmapped
// memory, and random hostile contents. Each is an error with a message, never
// a crash or a hang (the children that could hang run under alarm()).
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>

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

// Runs fn in a child that SIGALRM kills if it takes more than `seconds`.
int bounded(unsigned seconds, const std::function<int()>& fn) {
  return Child([&] {
           ::alarm(seconds * static_cast<unsigned>(slow_factor()));
           return fn();
         })
      .wait();
}

bool has_message() { return ipcshm_last_error()[0] != '\0'; }

TEST(SyncBadInput, NullAndMisalignedPointersAreEinval) {
  alignas(8) unsigned char mem[2 * IPCSHM_MUTEX_SIZE] = {};
  void* odd = mem + 4;  // 4-aligned, not 8-aligned
  uint64_t u64 = 0;
  uint32_t u32 = 0;
  for (void* p : {static_cast<void*>(nullptr), odd}) {
    EXPECT_EQ(-EINVAL, ipcshm_event_init(p));
    EXPECT_EQ(-EINVAL, ipcshm_event_notify(p));
    EXPECT_EQ(-EINVAL, ipcshm_event_sequence(p, &u64));
    EXPECT_EQ(-EINVAL, ipcshm_event_wait(p, &u64, -1));
    EXPECT_EQ(-EINVAL, ipcshm_event_fd(p));
    EXPECT_EQ(-EINVAL, ipcshm_sem_init(p, 1));
    EXPECT_EQ(-EINVAL, ipcshm_sem_post(p));
    EXPECT_EQ(-EINVAL, ipcshm_sem_wait(p, -1));
    EXPECT_EQ(-EINVAL, ipcshm_sem_value(p, &u32));
    EXPECT_EQ(-EINVAL, ipcshm_mutex_init(p));
    EXPECT_EQ(-EINVAL, ipcshm_mutex_lock(p, -1));
    EXPECT_EQ(-EINVAL, ipcshm_mutex_consistent(p));
    EXPECT_EQ(-EINVAL, ipcshm_mutex_unlock(p));
    EXPECT_TRUE(has_message());
  }
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "aligned"));
  for (uint32_t* w : {static_cast<uint32_t*>(nullptr), reinterpret_cast<uint32_t*>(mem + 2)}) {
    EXPECT_EQ(-EINVAL, ipcshm_wait(w, 0, -1));
    EXPECT_EQ(-EINVAL, ipcshm_wake(w, 1));
  }
  // The primitives themselves are untouched.
  for (unsigned char b : mem) EXPECT_EQ(0, b);
}

TEST(SyncBadInput, NullOutPointersAreEinval) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE], sem[IPCSHM_SEM_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  ASSERT_EQ(0, ipcshm_sem_init(sem, 0));
  EXPECT_EQ(-EINVAL, ipcshm_event_sequence(ev, nullptr));
  EXPECT_EQ(-EINVAL, ipcshm_event_wait(ev, nullptr, -1));
  EXPECT_EQ(-EINVAL, ipcshm_sem_value(sem, nullptr));
}

// Every call on memory that is not a primitive of its kind: `err` at once,
// waits included, and nothing written. Returns the calls that did otherwise
// (a bit each).
int rejected_everywhere(unsigned char* mem, int err) {
  unsigned char before[IPCSHM_MUTEX_SIZE];
  std::memcpy(before, mem, sizeof before);
  uint64_t u64 = 0;
  uint32_t u32 = 0;
  int bad = 0;
  bad |= (ipcshm_event_notify(mem) != err) << 0;
  bad |= (ipcshm_event_sequence(mem, &u64) != err) << 1;
  bad |= (ipcshm_event_wait(mem, &u64, -1) != err) << 2;
  bad |= (ipcshm_event_fd(mem) != err) << 3;
  bad |= (ipcshm_sem_post(mem) != err) << 4;
  bad |= (ipcshm_sem_wait(mem, -1) != err) << 5;
  bad |= (ipcshm_sem_value(mem, &u32) != err) << 6;
  bad |= (ipcshm_mutex_lock(mem, -1) != err) << 7;
  bad |= (ipcshm_mutex_unlock(mem) != err) << 8;
  bad |= (ipcshm_mutex_consistent(mem) != err) << 9;
  bad |= (std::memcmp(before, mem, sizeof before) != 0) << 10;
  return bad;
}

TEST(SyncBadInput, MemoryNeverInitialisedIsEinvalAtOnce) {
  SharedMemory mem;
  // First where a hang would be caught (alarm), then here for the message.
  EXPECT_TRUE(exited_with(bounded(10, [&] { return rejected_everywhere(mem.at(0), -EINVAL); }),
                          0));
  EXPECT_EQ(0, rejected_everywhere(mem.at(0), -EINVAL));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "not an initialised mutex"));
}

TEST(SyncBadInput, APrimitiveOfAnotherKindIsEinval) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE], sem[IPCSHM_SEM_SIZE], mu[IPCSHM_MUTEX_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  ASSERT_EQ(0, ipcshm_sem_init(sem, 1));
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  uint32_t u32;
  uint64_t u64 = 0;
  EXPECT_EQ(-EINVAL, ipcshm_mutex_lock(ev, -1));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "that is an event, not a mutex"))
      << ipcshm_last_error();
  EXPECT_EQ(-EINVAL, ipcshm_sem_wait(mu, -1));
  EXPECT_EQ(-EINVAL, ipcshm_sem_value(ev, &u32));
  EXPECT_EQ(-EINVAL, ipcshm_event_wait(sem, &u64, -1));
  EXPECT_EQ(-EINVAL, ipcshm_event_notify(mu));
  // Each still works as what it is.
  EXPECT_EQ(0, ipcshm_sem_wait(sem, 0));
  EXPECT_EQ(0, ipcshm_mutex_lock(mu, 0));
  EXPECT_EQ(0, ipcshm_mutex_unlock(mu));
}

TEST(SyncBadInput, AnUnknownLayoutVersionIsEbadmsg) {
  alignas(8) unsigned char ev[IPCSHM_EVENT_SIZE], sem[IPCSHM_SEM_SIZE], mu[IPCSHM_MUTEX_SIZE];
  ASSERT_EQ(0, ipcshm_event_init(ev));
  ASSERT_EQ(0, ipcshm_sem_init(sem, 1));
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  for (unsigned char* p : {ev, sem, mu}) p[4] = 99;  // the second word
  uint64_t u64 = 0;
  EXPECT_EQ(-EBADMSG, ipcshm_event_wait(ev, &u64, -1));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "layout version"));
  EXPECT_EQ(-EBADMSG, ipcshm_sem_wait(sem, -1));
  EXPECT_EQ(-EBADMSG, ipcshm_mutex_lock(mu, -1));
}

// Offsets of the mutex layout (src/sync_layout.hpp): the owner word at 8, the
// state at 20.
void set_owner(unsigned char* m, uint64_t owner) { std::memcpy(m + 8, &owner, 8); }
void set_state(unsigned char* m, uint32_t state) { std::memcpy(m + 20, &state, 4); }

TEST(SyncBadInput, ImpossibleMutexContentsAreEbadmsg) {
  alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE];
  for (uint64_t owner : {uint64_t{1} << 32 /* tid 0 */, uint64_t{(1u << 22) + 1},
                         uint64_t{0xfffffffe}}) {
    ASSERT_EQ(0, ipcshm_mutex_init(mu));
    set_owner(mu, owner);
    EXPECT_TRUE(exited_with(bounded(10, [&] {
                              return ipcshm_mutex_lock(mu, -1) == -EBADMSG ? 0 : 1;
                            }),
                            0))
        << std::hex << owner;
    EXPECT_EQ(-EBADMSG, ipcshm_mutex_lock(mu, 0));
    EXPECT_EQ(-EPERM, ipcshm_mutex_unlock(mu));
  }
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  set_state(mu, 7);
  EXPECT_EQ(-EBADMSG, ipcshm_mutex_lock(mu, -1));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "state"));
  EXPECT_EQ(-EPERM, ipcshm_mutex_unlock(mu));  // not left held
}

TEST(SyncBadInput, AnOwnerWordNamingNoThreadIsADeadOwner) {
  alignas(8) unsigned char mu[IPCSHM_MUTEX_SIZE];
  ASSERT_EQ(0, ipcshm_mutex_init(mu));
  // Tid 2^22 is valid but above any pid_max in use here: no such thread.
  set_owner(mu, (uint64_t{12345} << 32) | (1u << 22));
  const int64_t t0 = now_ns();
  EXPECT_EQ(-EOWNERDEAD, ipcshm_mutex_lock(mu, -1));
  EXPECT_LT(now_ns() - t0, 100 * kMs * slow_factor());
  EXPECT_EQ(0, ipcshm_mutex_consistent(mu));
  EXPECT_EQ(0, ipcshm_mutex_unlock(mu));
}

// Garbage written over a primitive while a process waits on it for ever ends
// the wait with an error within a wait slice.
TEST(SyncBadInput, GarbageWrittenOverAPrimitiveEndsABlockedWait) {
  SharedMemory mem;
  unsigned char* p = mem.at(0);
  auto* rc = mem.at<std::atomic<int>>(128);
  auto* returned = mem.at<std::atomic<int64_t>>(136);
  for (int kind = 0; kind < 3; ++kind) {
    Pipe holder_ready, ready;
    std::unique_ptr<Child> holder;
    if (kind == 0) {
      ASSERT_EQ(0, ipcshm_event_init(p));
    }
    if (kind == 1) {
      ASSERT_EQ(0, ipcshm_sem_init(p, 0));
    }
    if (kind == 2) {
      ASSERT_EQ(0, ipcshm_mutex_init(p));
      holder = std::make_unique<Child>([&] {
        ipcshm_mutex_lock(p, -1);
        holder_ready.put_byte();
        for (;;) ::pause();
        return 0;
      });
      ASSERT_TRUE(holder_ready.get_byte());
    }
    rc->store(1);
    Child waiter([&] {
      ::alarm(10 * static_cast<unsigned>(slow_factor()));
      uint64_t seen = 0;
      ready.put_byte();
      int r = kind == 0 ? ipcshm_event_wait(p, &seen, -1)
              : kind == 1 ? ipcshm_sem_wait(p, -1)
                          : ipcshm_mutex_lock(p, -1);
      returned->store(now_ns());
      rc->store(r);
      return 0;
    });
    ASSERT_TRUE(ready.get_byte());
    ASSERT_TRUE(wait_until_asleep(waiter.pid()));
    const int64_t written = now_ns();
    std::memset(p, 0xa5, IPCSHM_MUTEX_SIZE);
    EXPECT_TRUE(exited_with(waiter.wait(), 0)) << "kind " << kind;
    // The magic went (-EINVAL), or the mutex's owner word is impossible first.
    EXPECT_TRUE(rc->load() == -EINVAL || rc->load() == -EBADMSG) << "kind " << kind << ": "
                                                                  << rc->load();
    EXPECT_LT(returned->load() - written, 500 * kMs * slow_factor()) << "kind " << kind;
  }
}

TEST(SyncBadInput, ReadOnlyMappingsAreEaccesForEveryWriter) {
  const std::string id = unique_name("sync-ro");
  RemoveGuard rm(id);
  HandleGuard rw, ro;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, rw.out()));
  auto* w = static_cast<unsigned char*>(ipcshm_pointer(rw.get()));
  ASSERT_EQ(0, ipcshm_event_init(w));
  ASSERT_EQ(0, ipcshm_sem_init(w + 64, 2));
  ASSERT_EQ(0, ipcshm_mutex_init(w + 128));
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), IPCSHM_READONLY, ro.out()));
  auto* r = static_cast<unsigned char*>(ipcshm_pointer(ro.get()));
  // In a child: a wrong answer would kill it with SIGSEGV, not the test.
  int status = bounded(10, [&] {
    uint64_t seen = 0;
    uint32_t value = 0;
    int bad = 0;
    bad |= (ipcshm_event_init(r) != -EACCES) << 0;
    bad |= (ipcshm_event_notify(r) != -EACCES) << 1;
    bad |= (ipcshm_event_wait(r, &seen, -1) != -EACCES) << 2;
    bad |= (ipcshm_event_fd(r) != -EACCES) << 3;
    bad |= (ipcshm_sem_post(r + 64) != -EACCES) << 4;
    bad |= (ipcshm_sem_wait(r + 64, 0) != -EACCES) << 5;
    bad |= (ipcshm_mutex_lock(r + 128, -1) != -EACCES) << 6;
    bad |= (ipcshm_mutex_unlock(r + 128) != -EACCES) << 7;
    bad |= (ipcshm_mutex_init(r + 128) != -EACCES) << 8;
    // Reading works.
    bad |= (ipcshm_event_sequence(r, &seen) != 0) << 9;
    bad |= (ipcshm_sem_value(r + 64, &value) != 0 || value != 2) << 10;
    bad |= (std::strstr(ipcshm_last_error(), "read-only") == nullptr) << 11;
    return bad;
  });
  EXPECT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
  // A raw read-only mapping too.
  void* raw = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, raw);
  EXPECT_EQ(-EACCES, ipcshm_mutex_init(raw));
  ::munmap(raw, 4096);
}

TEST(SyncBadInput, AReadOnlyMappingWhereAWritableOneWasIsEacces) {
  // The library remembers writable pages per thread until it unmaps something:
  // a read-only mapping at the address of a detached writable one is found out.
  const std::string id = unique_name("sync-remap");
  RemoveGuard rm(id);
  int status = bounded(10, [&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_create(id.c_str(), 4096, 0600, IPCSHM_PERSISTENT, &h) != 1) return 1;
    void* first = ipcshm_pointer(h);
    if (ipcshm_mutex_init(first) != 0 || ipcshm_mutex_lock(first, 0) != 0 ||
        ipcshm_mutex_unlock(first) != 0)
      return 2;
    ipcshm_detach(h);
    if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &h) != 0) return 3;
    void* again = ipcshm_pointer(h);
    int rc = ipcshm_mutex_lock(again, 0);
    ipcshm_detach(h);
    if (again != first) return 0;  // the kernel chose another address: nothing to show
    return rc == -EACCES ? 0 : 4;
  });
  EXPECT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
}

TEST(SyncBadInput, UnmappedMemoryIsEfault) {
  if (RUNNING_ON_VALGRIND)
    GTEST_SKIP() << "valgrind reports the unmapped address passed on purpose";
  void* gone = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(MAP_FAILED, gone);
  ASSERT_EQ(0, ::munmap(gone, 4096));
  EXPECT_EQ(-EFAULT, ipcshm_mutex_init(gone));
  EXPECT_EQ(-EFAULT, ipcshm_event_notify(gone));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "not mapped"));
}

// Random contents, sometimes with a valid header and mutex owner words of
// every sort, and every call with a short timeout: only the documented errors,
// no crash (the sanitizer and valgrind runs check the memory accesses), every
// call returns within its timeout plus a little.
TEST(SyncBadInput, HostileContentsGiveErrorsNeverCrashesNorHangs) {
  SharedMemory mem;
  unsigned char* p = mem.at(0);
  const uint32_t magics[3] = {0x45435049, 0x53435049, 0x4d435049};
  int status = bounded(60, [&] {
    std::mt19937_64 rng(20261124);
    uint64_t self = 0;
    {  // this thread's own owner word, as a mutex holds it
      ipcshm_mutex_init(p);
      ipcshm_mutex_lock(p, 0);
      std::memcpy(&self, p + 8, 8);
      ipcshm_mutex_unlock(p);
    }
    const std::set<int> allowed = {0,          -EINVAL,     -EBADMSG,    -EAGAIN,
                                   -ETIMEDOUT, -EOWNERDEAD, -ENOTRECOVERABLE,
                                   -EDEADLK,   -EPERM,      -EOVERFLOW};
    const int rounds = slow_factor() > 1 ? 600 : 4000;
    for (int i = 0; i < rounds; ++i) {
      for (int k = 0; k < IPCSHM_MUTEX_SIZE; k += 8) {
        uint64_t r = rng();
        std::memcpy(p + k, &r, 8);
      }
      const int kind = static_cast<int>(rng() % 3);
      if (rng() % 4 != 0) {  // mostly a plausible header
        std::memcpy(p, &magics[kind], 4);
        uint32_t version = rng() % 8 == 0 ? static_cast<uint32_t>(rng()) : 1;
        std::memcpy(p + 4, &version, 4);
      }
      if (kind == 2 && rng() % 2) {
        const uint64_t owners[] = {0, ~uint64_t{0}, self, rng() & 0xffffffff00000000ull,
                                   (rng() & 0xffffffff00000000ull) | (rng() % (1u << 22)),
                                   (rng() & 0xffffffff00000000ull) | 1};
        set_owner(p, owners[rng() % 6]);
        set_state(p, static_cast<uint32_t>(rng() % 4));
      }
      const int64_t timeout = rng() % 2 ? 0 : 1 * kMs;
      const int64_t t0 = now_ns();
      int rc;
      uint64_t seen = rng();
      uint32_t value;
      switch (rng() % 10) {
        case 0: rc = ipcshm_event_notify(p); break;
        case 1: rc = ipcshm_event_wait(p, &seen, timeout); break;
        case 2: rc = ipcshm_event_sequence(p, &seen); break;
        case 3: rc = ipcshm_sem_post(p); break;
        case 4: rc = ipcshm_sem_wait(p, timeout); break;
        case 5: rc = ipcshm_sem_value(p, &value); break;
        case 6: rc = ipcshm_mutex_lock(p, timeout); break;
        case 7: rc = ipcshm_mutex_unlock(p); break;
        case 8: rc = ipcshm_mutex_consistent(p); break;
        default: rc = ipcshm_wait(reinterpret_cast<uint32_t*>(p + 8), 0, timeout); break;
      }
      if (!allowed.count(rc)) {
        std::fprintf(stderr, "round %d: unexpected %d: %s\n", i, rc, ipcshm_last_error());
        return 1;
      }
      // A dead owner's mutex is checked through /proc: a few ms at most.
      if (now_ns() - t0 > timeout + 200 * kMs * slow_factor()) {
        std::fprintf(stderr, "round %d: took %lld ns\n", i, static_cast<long long>(now_ns() - t0));
        return 2;
      }
      // Whatever this thread holds now, it lets go of.
      if (rc == 0 || rc == -EOWNERDEAD) ipcshm_mutex_unlock(p);
    }
    return 0;
  });
  EXPECT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
}

}  // namespace
