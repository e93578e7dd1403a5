// Handles from several threads: many threads each making and dropping their own
// objects, many threads using one shared handle, concurrent detaches of one
// handle, the thread-local last error, and a race of OPEN_OR_CREATE on one name.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <barrier>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::id_of;
using testutil::fresh_info;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::unique_key;
using testutil::unique_name;

constexpr int kThreads = 8;

// One round of a worker: create, attach, info, handle_info, pointer, detach.
// Returns the number of failed checks (gtest assertions work from any thread,
// but a count keeps the output short when something goes wrong many times).
int one_round(const std::string& requested, uint32_t flags, int t, int i) {
  int failures = 0;
  const bool posix = requested[0] == '/';
  RemoveGuard rg(posix ? requested : "");
  HandleGuard h;
  const uint64_t size = 4096 + static_cast<uint64_t>(t) * 512;
  int rc = ipcshm_create(requested.c_str(), size, 0600, flags, h.out());
  if (rc != 1) {
    ADD_FAILURE() << requested << ": create " << rc << ": " << ipcshm_last_error();
    return 1;
  }
  const std::string id = id_of(h.get());
  RemoveGuard rg2(id);
  if (posix && id != requested) ++failures;
  auto* p = static_cast<unsigned char*>(ipcshm_pointer(h.get()));
  if (!p || ipcshm_size(h.get()) != size) return failures + 1;
  p[0] = static_cast<unsigned char>(t);
  p[size - 1] = static_cast<unsigned char>(i);

  HandleGuard h2;
  rc = ipcshm_attach(id.c_str(), 0, h2.out());
  if (rc != 0) {
    ADD_FAILURE() << id << ": attach " << rc << ": " << ipcshm_last_error();
    return failures + 1;
  }
  auto* p2 = static_cast<unsigned char*>(ipcshm_pointer(h2.get()));
  if (!p2 || p2[0] != static_cast<unsigned char>(t) ||
      p2[size - 1] != static_cast<unsigned char>(i))
    ++failures;

  ipcshm_info_t by_id = fresh_info();
  ipcshm_info_t by_handle = fresh_info();
  if (ipcshm_info(id.c_str(), &by_id) != 0) ++failures;
  if (ipcshm_handle_info(h2.get(), &by_handle) != 0) ++failures;
  if (by_id.size != size || by_handle.size != size) ++failures;
  if (!posix && by_handle.nattch != 2) ++failures;

  if (ipcshm_detach(h2.release()) != 0) ++failures;
  if (ipcshm_detach(h.release()) != 0) ++failures;
  return failures;
}

TEST(Threads, EachThreadCreatesAttachesAndDetachesItsOwn) {
  constexpr int kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < kRounds; ++i) {
        const uint32_t flags = (i % 4 == 3) ? uint32_t{IPCSHM_PERSISTENT} : 0u;
        const std::string id = (i % 2 == 0) ? unique_name("thr") : std::string("private");
        failures += one_round(id, flags, t, i);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
  EXPECT_TRUE(testutil::leaked_posix().empty());
}

TEST(Threads, OneHandleSharedByManyThreads) {
  for (const std::string& requested : {unique_name("shared"), std::string("private")}) {
    const uint64_t size = 3 * ipcshm_page_size();
    RemoveGuard rg(requested == "private" ? "" : requested);
    ipcshm_t* h = nullptr;
    ASSERT_EQ(1, ipcshm_create(requested.c_str(), size, 0600, 0, &h)) << ipcshm_last_error();
    HandleGuard guard(h);
    const std::string id = id_of(h);
    RemoveGuard rg2(id);
    void* const ptr = ipcshm_pointer(h);
    ASSERT_NE(nullptr, ptr);

    std::atomic<int> failures{0};
    std::vector<std::thread> users;
    for (int t = 0; t < kThreads; ++t) {
      users.emplace_back([&, t] {
        auto* bytes = static_cast<unsigned char*>(ptr);
        for (int i = 0; i < 2000; ++i) {
          if (ipcshm_pointer(h) != ptr) ++failures;
          if (ipcshm_size(h) != size) ++failures;
          const char* s = ipcshm_id(h);
          if (!s || id != s) ++failures;
          if (i % 20 == 0) {
            ipcshm_info_t info = fresh_info();
            if (ipcshm_handle_info(h, &info) != 0 || info.size != size) ++failures;
          }
          bytes[t * 64] = static_cast<unsigned char>(i);  // each thread its own byte
        }
      });
    }
    for (auto& u : users) u.join();
    EXPECT_EQ(0, failures.load()) << requested;

    // Another thread finally detaches it.
    int rc = -1;
    std::thread closer([&] { rc = ipcshm_detach(guard.release()); });
    closer.join();
    EXPECT_EQ(0, rc) << ipcshm_last_error();
  }
}

TEST(Threads, ConcurrentDetachesOfOneHandleSucceedOnce) {
  for (int round = 0; round < 20; ++round) {
    const std::string id = unique_name("detach");
    RemoveGuard rg(id);
    ipcshm_t* h = nullptr;
    ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, &h)) << ipcshm_last_error();
    std::barrier start(kThreads);
    std::atomic<int> ok{0}, badf{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        int rc = ipcshm_detach(h);
        if (rc == 0)
          ++ok;
        else if (rc == -EBADF)
          ++badf;
        else
          ++other;
        // Accessors on a detached handle: NULL / 0, never a crash.
        (void)ipcshm_pointer(h);
        (void)ipcshm_size(h);
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(1, ok.load());
    EXPECT_EQ(kThreads - 1, badf.load());
    EXPECT_EQ(0, other.load());
    EXPECT_EQ(nullptr, ipcshm_pointer(h));
    EXPECT_FALSE(posix_exists(id));  // volatile: the only user detached
  }
}

// The same promise under load: eight threads fail thousands of times, each
// with ids of its own; every message a thread reads names its own id, the
// pointer one thread holds is not rewritten by another's failure, and a new
// thread starts with an empty message.
TEST(Threads, LastErrorStaysWithItsThreadUnderConcurrentFailures) {
  constexpr int kThreads = 8, kRounds = 2000;
  std::atomic<int> wrong{0}, rewritten{0}, not_empty{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      if (ipcshm_last_error()[0] != '\0') ++not_empty;
      const std::string mine = unique_name("mine-" + std::to_string(t));
      for (int i = 0; i < kRounds; ++i) {
        ipcshm_t* h = nullptr;
        const std::string id = mine + "-" + std::to_string(i);
        if (ipcshm_attach(id.c_str(), 0, &h) != -ENOENT) ++wrong;
        const char* msg = ipcshm_last_error();
        const std::string copy = msg;
        if (copy.find(id) == std::string::npos) ++wrong;
        std::this_thread::yield();  // others fail meanwhile
        if (copy != msg) ++rewritten;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, wrong.load()) << "a thread read a message that is not its own";
  EXPECT_EQ(0, rewritten.load()) << "another thread's failure rewrote this thread's message";
  EXPECT_EQ(0, not_empty.load()) << "a new thread started with a message";
}

TEST(Threads, LastErrorIsPerThread) {
  const std::string missing = unique_name("missing");
  const std::string existing = unique_name("existing");
  RemoveGuard rg(existing);
  HandleGuard owner;
  ASSERT_EQ(1, ipcshm_create(existing.c_str(), 4096, 0600, 0, owner.out()))
      << ipcshm_last_error();

  // The main thread's own last failure, which the others must not change.
  HandleGuard none;
  ASSERT_EQ(-EINVAL, ipcshm_create("not-an-id", 4096, 0600, 0, none.out()));
  const std::string main_msg = ipcshm_last_error();
  ASSERT_NE("", main_msg);

  std::barrier both_failed(2);
  std::barrier both_read(2);
  int rc_a = 0, rc_b = 0;
  std::string msg_a, msg_b;
  std::thread a([&] {
    ipcshm_t* h = nullptr;
    rc_a = ipcshm_attach(missing.c_str(), 0, &h);
    if (h) ipcshm_detach(h);
    both_failed.arrive_and_wait();  // B has failed too by now
    msg_a = ipcshm_last_error();
    both_read.arrive_and_wait();
  });
  std::thread b([&] {
    ipcshm_t* h = nullptr;
    rc_b = ipcshm_create(existing.c_str(), 4096, 0600, 0, &h);
    if (h) ipcshm_detach(h);
    both_failed.arrive_and_wait();
    msg_b = ipcshm_last_error();
    both_read.arrive_and_wait();
  });
  a.join();
  b.join();

  EXPECT_EQ(-ENOENT, rc_a);
  EXPECT_EQ(-EEXIST, rc_b);
  EXPECT_NE(std::string::npos, msg_a.find(std::strerror(ENOENT))) << msg_a;
  EXPECT_EQ(std::string::npos, msg_a.find(std::strerror(EEXIST))) << msg_a;
  EXPECT_NE(std::string::npos, msg_a.find(missing)) << msg_a;
  EXPECT_NE(std::string::npos, msg_b.find(std::strerror(EEXIST))) << msg_b;
  EXPECT_EQ(std::string::npos, msg_b.find(std::strerror(ENOENT))) << msg_b;
  EXPECT_NE(std::string::npos, msg_b.find(existing)) << msg_b;
  EXPECT_EQ(main_msg, std::string(ipcshm_last_error()));

  // A fresh thread has no failure yet: "".
  std::string fresh = "unset";
  std::thread c([&] { fresh = ipcshm_last_error(); });
  c.join();
  EXPECT_EQ("", fresh);
}

// All threads race OPEN_OR_CREATE on one id; exactly one creates it.
void race_open_or_create(const std::string& id, uint32_t flags, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    RemoveGuard rg(id);
    std::vector<ipcshm_t*> handles(kThreads, nullptr);
    std::vector<int> rcs(kThreads, -1);
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        rcs[t] = ipcshm_create(id.c_str(), 8192, 0600, flags | IPCSHM_OPEN_OR_CREATE,
                               &handles[t]);
        if (rcs[t] < 0) ADD_FAILURE() << id << ": " << rcs[t] << ": " << ipcshm_last_error();
      });
    }
    for (auto& th : threads) th.join();
    std::vector<std::unique_ptr<HandleGuard>> guards;
    for (ipcshm_t* h : handles) guards.push_back(std::make_unique<HandleGuard>(h));
    std::vector<std::unique_ptr<RemoveGuard>> removers;
    for (ipcshm_t* h : handles)
      if (h) removers.push_back(std::make_unique<RemoveGuard>(id_of(h)));

    int created = 0, attached = 0;
    for (int rc : rcs) {
      if (rc == 1) ++created;
      if (rc == 0) ++attached;
    }
    EXPECT_EQ(1, created) << id << " round " << round;
    EXPECT_EQ(kThreads - 1, attached) << id << " round " << round;

    // All map the same object.
    ipcshm_t* first = nullptr;
    for (ipcshm_t* h : handles)
      if (h && !first) first = h;
    if (!first) continue;
    const std::string canonical = id_of(first);
    static_cast<unsigned char*>(ipcshm_pointer(first))[100] = static_cast<unsigned char>(round + 1);
    for (ipcshm_t* h : handles) {
      if (!h) continue;
      EXPECT_EQ(canonical, id_of(h));
      EXPECT_EQ(uint64_t{8192}, ipcshm_size(h));
      auto* p = static_cast<unsigned char*>(ipcshm_pointer(h));
      ASSERT_NE(nullptr, p);
      EXPECT_EQ(static_cast<unsigned char>(round + 1), p[100]);
    }
  }
}

TEST(Threads, OpenOrCreateRaceOnAVolatilePosixName) {
  race_open_or_create(unique_name("race-v"), 0, 30);
}

TEST(Threads, OpenOrCreateRaceOnAPersistentPosixName) {
  race_open_or_create(unique_name("race-p"), IPCSHM_PERSISTENT, 30);
}

TEST(Threads, OpenOrCreateRaceOnAPersistentKey) {
  race_open_or_create(key_id(unique_key()), IPCSHM_PERSISTENT, 30);
}

}  // namespace
