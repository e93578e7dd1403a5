// Channels under threads (also built under ThreadSanitizer by tsan.sh): a
// stream between two threads that keep waking each other (a ring of two
// slots), ends closed while another thread is blocked in them, ends opened,
// used and closed by many threads while stale handles are used (the pool
// reuses the memory of closed ends), and the descriptor bridge's helper
// thread.
#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <bsd/stdlib.h>

#include "channel_msg.h"
#include "channel_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::ChannelGuard;
using testutil::kMs;
using testutil::RemoveGuard;
using testutil::slow_factor;
using testutil::unique_name;

constexpr int64_t kLong = 60'000 * kMs;

TEST(ChannelStress, TwoThreadsThatKeepWakingEachOther) {
  const std::string id = unique_name("chstress");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  constexpr uint32_t kMax = 200;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), kMax, 2, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  const uint64_t count = 100'000 / slow_factor();
  const uint64_t seed = arc4random();
  std::thread receiver([&] {
    unsigned char buf[kMax], scratch[kMax];
    for (uint64_t seq = 0; seq < count; ++seq) {
      uint64_t len = 0;
      const unsigned char* msg = buf;
      if (seq % 3 == 0) {
        const void* p = nullptr;
        ASSERT_EQ(0, ipcshm_channel_peek(rx.get(), &p, &len, kLong)) << ipcshm_last_error();
        msg = static_cast<const unsigned char*>(p);
      } else {
        ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, kMax, &len, kLong)) << ipcshm_last_error();
      }
      ASSERT_TRUE(chmsg_check(msg, static_cast<uint32_t>(len), seed, seq, kMax, scratch)) << seq;
      if (seq % 3 == 0) {
        ASSERT_EQ(0, ipcshm_channel_release(rx.get()));
      }
      if (seq % 1000 == 0) ::usleep(100);  // now and then the sender must sleep
    }
  });
  unsigned char msg[kMax];
  for (uint64_t seq = 0; seq < count; ++seq) {
    const uint32_t len = chmsg_len(seed, seq, kMax);
    if (seq % 2 == 0) {
      void* slot = nullptr;
      ASSERT_EQ(0, ipcshm_channel_reserve(tx.get(), &slot, kLong));
      chmsg_fill(static_cast<unsigned char*>(slot), seed, seq, len);
      ASSERT_EQ(0, ipcshm_channel_commit(tx.get(), len));
    } else {
      chmsg_fill(msg, seed, seq, len);
      ASSERT_EQ(0, ipcshm_channel_send(tx.get(), msg, len, kLong));
    }
    if (seq % 1000 == 500) ::usleep(100);  // and the receiver
  }
  receiver.join();
}

TEST(ChannelStress, ClosingAnEndThatAnotherThreadIsBlockedIn) {
  const int rounds = 200 / slow_factor();
  for (int round = 0; round < rounds; ++round) {
    const std::string id = unique_name("chstress");
    RemoveGuard rm(id);
    ipcshm_channel_t* end = nullptr;
    const uint32_t role = round % 2 ? IPCSHM_SENDER : IPCSHM_RECEIVER;
    ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 1, 0600, 0, role, &end));
    if (role == IPCSHM_SENDER) {
      ASSERT_EQ(0, ipcshm_channel_send(end, "full", 4, 0));
    }
    std::atomic<int> rc{1};
    std::thread blocked([&] {
      char buf[8];
      uint64_t len;
      rc = role == IPCSHM_SENDER ? ipcshm_channel_send(end, "more", 4, kLong)
                                 : ipcshm_channel_recv(end, buf, sizeof buf, &len, kLong);
    });
    ::usleep(arc4random_uniform(2000));  // spinning, asleep, or not yet started
    ASSERT_EQ(0, ipcshm_channel_close(end));
    blocked.join();
    EXPECT_EQ(-EBADF, rc.load()) << "round " << round;
  }
}

TEST(ChannelStress, EndsComeAndGoWhileStaleHandlesAreUsed) {
  const int threads = 4;
  const int rounds = 300 / slow_factor();
  std::atomic<ipcshm_channel_t*> stale{nullptr};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        const std::string id = unique_name("chchurn");
        ipcshm_channel_t *tx = nullptr, *rx = nullptr;
        if (ipcshm_channel_create(id.c_str(), 16, 4, 0600, 0, IPCSHM_SENDER, &tx) != 1 ||
            ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx) != 0) {
          failures++;
          ipcshm_remove(id.c_str());
          continue;
        }
        char buf[16];
        uint64_t len = 0;
        if (ipcshm_channel_send(tx, "x", 1, 0) != 0 ||
            ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0) != 0 || len != 1)
          failures++;
        // A handle another thread closed: refused, never followed.
        if (ipcshm_channel_t* old = stale.load()) {
          const int rc = ipcshm_channel_send(old, "y", 1, 0);
          if (rc != -EBADF && rc != 0 && rc != -EAGAIN && rc != -EPIPE && rc != -EBUSY)
            failures++;
        }
        ipcshm_channel_close(rx);
        ipcshm_channel_close(tx);
        stale.store(t % 2 ? tx : rx);
        if (testutil::posix_exists(id)) failures++;
      }
    });
  for (auto& w : workers) w.join();
  EXPECT_EQ(0, failures.load());
}

TEST(ChannelStress, TheDescriptorFollowsAStream) {
  const std::string id = unique_name("chstress");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 4, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out()));
  const int fd = ipcshm_channel_fd(rx.get());
  ASSERT_GE(fd, 0);
  const uint64_t count = 5000 / slow_factor();
  std::thread sender([&] {
    for (uint64_t i = 0; i < count; ++i) {
      ASSERT_EQ(0, ipcshm_channel_send(tx.get(), &i, sizeof i, kLong));
      if (i % 100 == 0) ::usleep(200);
    }
  });
  // The receiver waits only through the descriptor, as an event loop does.
  uint64_t next = 0;
  while (next < count) {
    struct pollfd pfd = {fd, POLLIN, 0};
    ASSERT_EQ(1, ::poll(&pfd, 1, 10'000)) << "no readiness after message " << next;
    uint64_t token;
    while (::read(fd, &token, sizeof token) == sizeof token) {
    }
    for (;;) {
      uint64_t v = 0, len = 0;
      const int rc = ipcshm_channel_recv(rx.get(), &v, sizeof v, &len, 0);
      if (rc == -EAGAIN) break;
      ASSERT_EQ(0, rc);
      ASSERT_EQ(next, v);
      ++next;
    }
  }
  sender.join();
  ::close(fd);
}

}  // namespace
