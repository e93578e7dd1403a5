// Thread stress (issue "Hardening"), written to be run under ThreadSanitizer
// (tests/hardening/tsan.sh) as well as in the normal build: 8 threads loop over
// create / attach / info / handle_info / pointer / detach on ids of their own and
// on ids they all share, and one thread detaches a shared handle while the others
// call pointer / size / id / handle_info on it (header rule 3: the registry of
// live handles makes that safe; the memory itself is not touched after detach).
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::fresh_info;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::RemoveGuard;
using testutil::unique_key;
using testutil::unique_name;

constexpr int kThreads = 8;

#if defined(__SANITIZE_THREAD__)
constexpr int kRounds = 60;
constexpr int kDetachRounds = 60;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kRounds = 60;
constexpr int kDetachRounds = 60;
#else
constexpr int kRounds = 200;
constexpr int kDetachRounds = 200;
#endif
#else
constexpr int kRounds = 200;
constexpr int kDetachRounds = 200;
#endif

// Failures are counted (gtest assertions from many threads make long output).
struct Failures {
  std::atomic<int> count{0};
  void add(const char* what, int rc) {
    if (count++ < 10) ADD_FAILURE() << what << ": " << rc << ": " << ipcshm_last_error();
  }
};

// A handle's accessors and info, checked.
void use(ipcshm_t* h, uint64_t size, Failures& f, bool write) {
  auto* p = static_cast<unsigned char*>(ipcshm_pointer(h));
  if (!p) return f.add("pointer", 0);
  if (ipcshm_size(h) < size) f.add("size", static_cast<int>(ipcshm_size(h)));
  if (!ipcshm_id(h)) f.add("id", 0);
  ipcshm_info_t info = fresh_info();
  if (int rc = ipcshm_handle_info(h, &info); rc != 0) f.add("handle_info", rc);
  if (write) {
    // Racy bytes on purpose would be a data race in the test itself: use atomics.
    __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
  } else {
    (void)__atomic_load_n(p, __ATOMIC_RELAXED);
  }
}

TEST(ThreadStress, CreateAttachInfoDetachOnPrivateAndSharedIds) {
  // Shared ids: a persistent POSIX object and a persistent System V key segment,
  // created here, attached by every thread; plus a volatile POSIX name that the
  // threads create-or-attach and let go of in turn.
  const std::string shared_posix = unique_name("tsan-shared");
  RemoveGuard rm1(shared_posix);
  const std::string shared_key = key_id(unique_key());
  RemoveGuard rm2(shared_key);
  const std::string shared_volatile = unique_name("tsan-vol");
  RemoveGuard rm3(shared_volatile);
  constexpr uint64_t kSize = 8192;
  {
    HandleGuard a, b;
    ASSERT_EQ(1, ipcshm_create(shared_posix.c_str(), kSize, 0600, IPCSHM_PERSISTENT, a.out()))
        << ipcshm_last_error();
    ASSERT_EQ(1, ipcshm_create(shared_key.c_str(), kSize, 0600, IPCSHM_PERSISTENT, b.out()))
        << ipcshm_last_error();
  }

  Failures f;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRounds; ++i) {
        // Private: a POSIX name of this thread, and a fresh System V segment.
        const std::string mine = unique_name("tsan-p");
        const char* ids[] = {mine.c_str(), "private"};
        for (const char* id : ids) {
          HandleGuard h;
          int rc = ipcshm_create(id, 4096 + static_cast<uint64_t>(t), 0600, 0, h.out());
          if (rc != 1) {
            f.add("create", rc);
            continue;
          }
          const std::string canonical = ipcshm_id(h.get());
          use(h.get(), 4096, f, true);
          HandleGuard h2;
          if (int rc2 = ipcshm_attach(canonical.c_str(), 0, h2.out()); rc2 != 0)
            f.add("attach own", rc2);
          else
            use(h2.get(), 4096, f, true);
          ipcshm_info_t info = fresh_info();
          if (int rc3 = ipcshm_info(canonical.c_str(), &info); rc3 != 0) f.add("info own", rc3);
        }
        // Shared.
        for (const std::string* id : {&shared_posix, &shared_key}) {
          HandleGuard h;
          const uint32_t flags = (i % 3 == 0) ? IPCSHM_READONLY : 0;
          if (int rc = ipcshm_attach(id->c_str(), flags, h.out()); rc != 0) {
            f.add("attach shared", rc);
            continue;
          }
          use(h.get(), kSize, f, flags == 0);
          ipcshm_info_t info = fresh_info();
          if (int rc = ipcshm_info(id->c_str(), &info); rc != 0) f.add("info shared", rc);
        }
        {
          HandleGuard h;
          int rc = ipcshm_create(shared_volatile.c_str(), kSize, 0600, IPCSHM_OPEN_OR_CREATE,
                                 h.out());
          if (rc != 0 && rc != 1) f.add("open-or-create volatile", rc);
          else use(h.get(), kSize, f, true);
        }
        // Bad calls on the way: they must stay harmless from any thread.
        if (ipcshm_detach(nullptr) != -EINVAL) f.add("detach(NULL)", 0);
        if (ipcshm_attach("key:zz", 0, nullptr) != -EINVAL) f.add("attach(bad)", 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, f.count.load());
  EXPECT_FALSE(testutil::posix_exists(shared_volatile)) << "the last thread did not remove it";
}

// One thread detaches a handle that the others are using through the API.
TEST(ThreadStress, DetachWhileOtherThreadsCallAccessors) {
  Failures f;
  std::atomic<uint64_t> calls_after{0};
  for (int round = 0; round < kDetachRounds; ++round) {
    const bool posix = round % 2 == 0;
    const std::string requested = posix ? unique_name("tsan-det") : std::string("private");
    RemoveGuard rm(posix ? requested : "");
    ipcshm_t* h = nullptr;
    ASSERT_EQ(1, ipcshm_create(requested.c_str(), 4096, 0600, 0, &h)) << ipcshm_last_error();
    RemoveGuard rm2(ipcshm_id(h));
    std::atomic<bool> detached{false};
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        if (t == 0) {
          std::this_thread::yield();
          if (int rc = ipcshm_detach(h); rc != 0) f.add("detach", rc);
          detached = true;
          if (ipcshm_detach(h) != -EBADF) f.add("second detach", 0);
          return;
        }
        // Until well after the detach: results are either the handle's or the
        // invalid-handle values, never a crash. The returned id and pointer are
        // not followed (that would be the caller's race, as with munmap).
        for (int k = 0; k < 2000; ++k) {
          const bool after = detached.load();
          void* p = ipcshm_pointer(h);
          uint64_t n = ipcshm_size(h);
          const char* id = ipcshm_id(h);
          ipcshm_info_t info = fresh_info();
          int rc = ipcshm_handle_info(h, &info);
          if (after) {
            ++calls_after;
            if (p || n || id || rc != -EBADF) f.add("accessor after detach", rc);
          }
          if (after && k > 200) break;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(0, f.count.load());
  EXPECT_GT(calls_after.load(), 0u);
}

}  // namespace
