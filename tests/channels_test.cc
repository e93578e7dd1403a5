// Channels between real processes (SPEC §9): messages arrive once, in order,
// whole; copy and zero-copy paths; sizes (-EMSGSIZE with *len); one live end
// per role (-EBUSY); -EPIPE only once a peer's role was taken and is vacant;
// timeouts; lifetimes (volatile, persistent, memfd passed over a socket);
// what ipcshm_channel_info tells; the descriptor bridge; and the ends'
// behaviour with threads, signals and fork.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "channel_util.hpp"
#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::channel_id;
using testutil::channel_info_of;
using testutil::ChannelGuard;
using testutil::Child;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::kMs;
using testutil::now_ns;
using testutil::Peer;
using testutil::Pipe;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::slow_factor;
using testutil::unique_name;
using testutil::wait_until_asleep;

constexpr int64_t kLong = 10'000 * kMs;  // a timeout that only a hang reaches

std::string text(const void* p, uint64_t n) { return std::string(static_cast<const char*>(p), n); }

int send_text(ipcshm_channel_t* ch, const std::string& s, int64_t timeout = kLong) {
  return ipcshm_channel_send(ch, s.data(), s.size(), timeout);
}

// The next message as a string, or "<error N>".
std::string recv_text(ipcshm_channel_t* ch, int64_t timeout = kLong) {
  char buf[4096];
  uint64_t len = 0;
  int rc = ipcshm_channel_recv(ch, buf, sizeof buf, &len, timeout);
  if (rc < 0) return "<error " + std::to_string(rc) + ">";
  return std::string(buf, len);
}

std::string err(int rc) { return "<error " + std::to_string(rc) + ">"; }

bool readable(int fd, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

TEST(Channel, MessagesGoFromASenderToAReceiverInAnotherProcess) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 64, 8, 0600, 0, IPCSHM_SENDER, tx.out()))
      << ipcshm_last_error();
  EXPECT_EQ(id, channel_id(tx.get()));
  Pipe opened, go;
  Child receiver([&] {
    ipcshm_channel_t* rx = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx) != 0) return 1;
    opened.put_byte();
    if (!go.get_byte()) return 7;
    if (recv_text(rx) != "hello") return 2;
    if (recv_text(rx) != "") return 3;  // an empty message is a message
    if (recv_text(rx) != std::string(64, 'x')) return 4;
    if (recv_text(rx) != err(-EPIPE)) return 5;  // the sender closed
    return ipcshm_channel_close(rx) == 0 ? 0 : 6;
  });
  ASSERT_TRUE(opened.get_byte());
  EXPECT_EQ(0, send_text(tx.get(), "hello"));
  EXPECT_EQ(0, ipcshm_channel_send(tx.get(), nullptr, 0, kLong));
  EXPECT_EQ(0, send_text(tx.get(), std::string(64, 'x')));
  // Closing before the receiver took them: they are delivered all the same.
  tx.reset();
  go.put_byte();
  const int status = receiver.wait();
  EXPECT_TRUE(exited_with(status, 0)) << testutil::describe_status(status);
  EXPECT_FALSE(posix_exists(id)) << "both ends closed: the volatile channel is gone";
}

TEST(Channel, ZeroCopyReserveCommitAndPeekRelease) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 1000, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  void* slot = nullptr;
  ASSERT_EQ(0, ipcshm_channel_reserve(tx.get(), &slot, 0));
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(slot) % 64) << "payloads start 64-byte aligned";
  void* again = nullptr;
  EXPECT_EQ(0, ipcshm_channel_reserve(tx.get(), &again, 0));
  EXPECT_EQ(slot, again) << "a second reserve gives the same slot";
  std::memset(slot, 'z', 1000);
  // Nothing is visible before the commit.
  const void* msg = nullptr;
  uint64_t len = 0;
  EXPECT_EQ(-EAGAIN, ipcshm_channel_peek(rx.get(), &msg, &len, 0));
  EXPECT_EQ(-EBUSY, send_text(tx.get(), "x")) << "send while a slot is reserved";
  EXPECT_EQ(-EMSGSIZE, ipcshm_channel_commit(tx.get(), 1001));
  EXPECT_EQ(0, ipcshm_channel_commit(tx.get(), 1000)) << "still reserved after -EMSGSIZE";
  EXPECT_EQ(-EINVAL, ipcshm_channel_commit(tx.get(), 1)) << "nothing reserved";

  ASSERT_EQ(0, ipcshm_channel_peek(rx.get(), &msg, &len, 0));
  EXPECT_EQ(1000u, len);
  EXPECT_EQ(std::string(1000, 'z'), text(msg, len));
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(msg) % 64);
  const void* msg2 = nullptr;
  uint64_t len2 = 0;
  EXPECT_EQ(0, ipcshm_channel_peek(rx.get(), &msg2, &len2, 0));
  EXPECT_EQ(msg, msg2) << "a second peek gives the same message";
  EXPECT_EQ(err(-EBUSY), recv_text(rx.get(), 0)) << "recv while a message is peeked";
  EXPECT_EQ(1u, channel_info_of(rx.get()).queued);
  EXPECT_EQ(0, ipcshm_channel_release(rx.get()));
  EXPECT_EQ(-EINVAL, ipcshm_channel_release(rx.get()));
  EXPECT_EQ(0u, channel_info_of(rx.get()).queued);
  EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
}

TEST(Channel, RingWrapsAroundManyTimesInOrder) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 16, 3, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  for (int i = 0; i < 1000; ++i) {
    // Batches of 1..3, so that the slot of each message index changes.
    const int batch = 1 + i % 3;
    for (int k = 0; k < batch; ++k)
      ASSERT_EQ(0, send_text(tx.get(), std::to_string(i * 10 + k), 0));
    if (batch == 3) {
      EXPECT_EQ(-EAGAIN, send_text(tx.get(), "full", 0));
    }
    for (int k = 0; k < batch; ++k) ASSERT_EQ(std::to_string(i * 10 + k), recv_text(rx.get(), 0));
    EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
  }
  const ipcshm_channel_info_t info = channel_info_of(tx.get());
  EXPECT_EQ(1999u, info.sent);  // 333 rounds of 1 + 2 + 3, and one of 1
  EXPECT_EQ(1999u, info.received);
}

TEST(Channel, SizesAreCheckedAndATooSmallBufferKeepsTheMessage) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 100, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  const std::string big(101, 'b'), full(100, 'f');
  EXPECT_EQ(-EMSGSIZE, send_text(tx.get(), big));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "100 bytes")) << ipcshm_last_error();
  EXPECT_EQ(0, send_text(tx.get(), full));
  char small[10];
  uint64_t len = 0;
  EXPECT_EQ(-EMSGSIZE, ipcshm_channel_recv(rx.get(), small, sizeof small, &len, 0));
  EXPECT_EQ(100u, len) << "*len says how much is needed";
  len = 0;
  EXPECT_EQ(-EMSGSIZE, ipcshm_channel_recv(rx.get(), nullptr, 0, &len, 0));
  EXPECT_EQ(100u, len) << "a NULL buffer of 0 bytes asks the length";
  EXPECT_EQ(full, recv_text(rx.get(), 0)) << "the message was kept";
  EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
}

// The receiver reads a line of entries once for up to 8 messages and keeps
// their lengths: each message keeps its own, across a wrap of the ring, a
// too-small buffer (-EMSGSIZE, the message kept) and peeks.
TEST(Channel, LengthsOfMessagesPublishedTogetherStayTheirOwn) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 64, 12, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  uint64_t next_sent = 0, next_received = 0;
  auto text = [](uint64_t i) {
    return std::string(1 + i * 7 % 64, static_cast<char>('a' + i % 26));
  };
  for (int round = 0; round < 7; ++round) {
    // 1 to 12 messages published before the receiver looks (a full ring at
    // most), so that batches start at every offset of a line of entries.
    const int burst = 1 + round * 5 % 12;
    for (int k = 0; k < burst; ++k) ASSERT_EQ(0, send_text(tx.get(), text(next_sent++), 0));
    for (int k = 0; k < burst; ++k, ++next_received) {
      const std::string want = text(next_received);
      if (k % 3 == 1) {
        char small[1];
        uint64_t len = 0;
        if (want.size() > 1) {
          EXPECT_EQ(-EMSGSIZE, ipcshm_channel_recv(rx.get(), small, 0, &len, 0));
          EXPECT_EQ(want.size(), len) << "message " << next_received;
        }
      }
      if (k % 4 == 2) {
        const void* msg = nullptr;
        uint64_t len = 0;
        ASSERT_EQ(0, ipcshm_channel_peek(rx.get(), &msg, &len, 0));
        EXPECT_EQ(want, std::string(static_cast<const char*>(msg), len));
        ASSERT_EQ(0, ipcshm_channel_release(rx.get()));
        continue;
      }
      EXPECT_EQ(want, recv_text(rx.get(), 0)) << "message " << next_received;
    }
    EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
  }
}

TEST(Channel, OneLiveEndPerRole) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 32, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  ipcshm_channel_t* second = nullptr;
  EXPECT_EQ(-EBUSY, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &second));
  EXPECT_EQ(nullptr, second);
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "sender role is taken"))
      << ipcshm_last_error();
  // In another process, too.
  EXPECT_TRUE(exited_with(testutil::run_in_child([&] {
                            ipcshm_channel_t* ch = nullptr;
                            return ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch) == -EBUSY
                                       ? 0
                                       : 1;
                          }),
                          0));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  EXPECT_EQ(-EBUSY, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &second));
  // Once the sender closed, the role is free; the receiver first gets -EPIPE.
  ASSERT_EQ(0, send_text(tx.get(), "one"));
  tx.reset();
  EXPECT_EQ("one", recv_text(rx.get(), 0));
  EXPECT_EQ(err(-EPIPE), recv_text(rx.get(), 0));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out()))
      << ipcshm_last_error();
  EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0)) << "a sender again: no -EPIPE";
  ASSERT_EQ(0, send_text(tx.get(), "two"));
  EXPECT_EQ("two", recv_text(rx.get(), 0));
}

TEST(Channel, NoBrokenPipeBeforeAPeerEverOpened) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 3, 0600, 0, IPCSHM_SENDER, tx.out()));
  // The sender fills the ring, then waits.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(0, send_text(tx.get(), "m" + std::to_string(i), 0));
  EXPECT_EQ(-EAGAIN, send_text(tx.get(), "m3", 0));
  int64_t t0 = now_ns();
  EXPECT_EQ(-ETIMEDOUT, send_text(tx.get(), "m3", 50 * kMs));
  EXPECT_GE(now_ns() - t0, 50 * kMs);
  ipcshm_channel_info_t info = channel_info_of(tx.get());
  EXPECT_EQ(IPCSHM_END_OPEN, info.sender);
  EXPECT_EQ(IPCSHM_END_NEVER, info.receiver);
  EXPECT_EQ(3u, info.queued);

  // A receiver of a fresh channel waits too.
  const std::string id2 = unique_name("ch");
  RemoveGuard rm2(id2);
  ChannelGuard rx;
  ASSERT_EQ(1, ipcshm_channel_create(id2.c_str(), 8, 3, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
  t0 = now_ns();
  EXPECT_EQ(err(-ETIMEDOUT), recv_text(rx.get(), 50 * kMs));
  EXPECT_GE(now_ns() - t0, 50 * kMs);
  // A sender that comes later is received.
  Child sender([&] {
    ipcshm_channel_t* ch = nullptr;
    if (ipcshm_channel_open(id2.c_str(), IPCSHM_SENDER, &ch) != 0) return 1;
    if (send_text(ch, "late") != 0) return 2;
    return ipcshm_channel_close(ch) == 0 ? 0 : 3;
  });
  EXPECT_EQ("late", recv_text(rx.get()));
  EXPECT_EQ(err(-EPIPE), recv_text(rx.get()));
  EXPECT_TRUE(exited_with(sender.wait(), 0));
}

TEST(Channel, SendToAClosedReceiverIsBrokenPipeUntilANewOneOpens) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  EXPECT_EQ(0, send_text(tx.get(), "a"));
  rx.reset();
  EXPECT_EQ(-EPIPE, send_text(tx.get(), "b"));
  void* slot;
  EXPECT_EQ(-EPIPE, ipcshm_channel_reserve(tx.get(), &slot, 0));
  EXPECT_EQ(IPCSHM_END_CLOSED, channel_info_of(tx.get()).receiver);
  // A new receiver gets what the old one left, and the sender goes on.
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  EXPECT_EQ(0, send_text(tx.get(), "c"));
  EXPECT_EQ("a", recv_text(rx.get(), 0));
  EXPECT_EQ("c", recv_text(rx.get(), 0));
  // A commit after the receiver left sends nothing.
  ASSERT_EQ(0, ipcshm_channel_reserve(tx.get(), &slot, 0));
  rx.reset();
  EXPECT_EQ(-EPIPE, ipcshm_channel_commit(tx.get(), 1));
  EXPECT_EQ(-EINVAL, ipcshm_channel_commit(tx.get(), 1)) << "the reservation was dropped";
}

TEST(Channel, ABlockedReceiverNoticesTheSendersCloseAtOnce) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 4, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  Pipe go;
  Child sender([&] {
    ipcshm_channel_t* ch = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch) != 0) return 1;
    if (!go.get_byte()) return 2;
    return ipcshm_channel_close(ch) == 0 ? 0 : 3;
  });
  // Wait until the sender holds its role, then block.
  for (int i = 0; i < 10000 && channel_info_of(rx.get()).sender != IPCSHM_END_OPEN; ++i)
    ::usleep(1000);
  std::atomic<int64_t> closed_at{0};
  std::thread closer([&] {
    ::usleep(50'000);
    closed_at = now_ns();
    go.put_byte();
  });
  EXPECT_EQ(err(-EPIPE), recv_text(rx.get(), kLong));
  const int64_t seen = now_ns() - closed_at.load();
  closer.join();
  EXPECT_LT(seen, 100 * kMs * slow_factor()) << "seen after " << seen / kMs << " ms";
  EXPECT_TRUE(exited_with(sender.wait(), 0));
}

TEST(Channel, WaitsTimeOutAndSignalsInterruptThem) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 4, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  const int64_t t0 = now_ns();
  EXPECT_EQ(err(-ETIMEDOUT), recv_text(rx.get(), 30 * kMs));
  const int64_t took = now_ns() - t0;
  EXPECT_GE(took, 30 * kMs);
  EXPECT_LT(took, 1000 * kMs * slow_factor());

  static std::atomic<int> caught{0};
  testutil::on_signal(SIGUSR1, [](int) { caught++; }, true);
  const pthread_t self = ::pthread_self();
  const pid_t tid = static_cast<pid_t>(::gettid());
  std::thread poker([&] {
    // Once the wait sleeps in the kernel: a handler that runs while the
    // thread spins, between two system calls, cannot be seen by the call.
    wait_until_asleep(::getpid(), tid);
    ::pthread_kill(self, SIGUSR1);
  });
  EXPECT_EQ(err(-EINTR), recv_text(rx.get(), kLong)) << "even with SA_RESTART";
  poker.join();
  EXPECT_EQ(1, caught.load());
  ::signal(SIGUSR1, SIG_DFL);
}

TEST(Channel, CloseFromAnotherThreadEndsABlockedCall) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ipcshm_channel_t* rx = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 4, 0600, 0, IPCSHM_RECEIVER, &rx));
  std::atomic<int> rc{1};
  std::thread blocked([&] {
    char buf[8];
    uint64_t len;
    rc = ipcshm_channel_recv(rx, buf, sizeof buf, &len, kLong);
  });
  ::usleep(50'000);
  // Meanwhile, a second thread's call on the same end is refused.
  char buf[8];
  uint64_t len;
  EXPECT_EQ(-EBUSY, ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0));
  const int64_t t0 = now_ns();
  EXPECT_EQ(0, ipcshm_channel_close(rx));
  blocked.join();
  EXPECT_EQ(-EBADF, rc.load());
  EXPECT_LT(now_ns() - t0, 1000 * kMs * slow_factor());
  EXPECT_EQ(-EBADF, ipcshm_channel_close(rx));
  EXPECT_FALSE(posix_exists(id));
}

TEST(Channel, ThreadsOfOneProcessCanBeTheTwoEnds) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 64, 16, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  constexpr uint64_t kCount = 200'000;
  std::thread receiver([&] {
    unsigned char buf[64], scratch[64];
    for (uint64_t i = 0; i < kCount; ++i) {
      uint64_t len = 0;
      ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, kLong));
      ASSERT_TRUE(chmsg_check(buf, static_cast<uint32_t>(len), 7, i, 64, scratch)) << i;
    }
  });
  unsigned char msg[64];
  for (uint64_t i = 0; i < kCount; ++i) {
    const uint32_t len = chmsg_len(7, i, 64);
    chmsg_fill(msg, 7, i, len);
    ASSERT_EQ(0, ipcshm_channel_send(tx.get(), msg, len, kLong));
  }
  receiver.join();
}

TEST(Channel, VolatileChannelGoesWithItsLastEnd) {
  // The creator closes before a peer ever opened: gone.
  std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ipcshm_channel_t* ch = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, &ch));
  EXPECT_TRUE(posix_exists(id));
  ASSERT_EQ(0, ipcshm_channel_close(ch));
  EXPECT_FALSE(posix_exists(id));
  EXPECT_EQ(-ENOENT, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &ch));

  // Both ends died: the name stays, without users, until the next open
  // reclaims it (-ENOENT).
  id = unique_name("ch");
  rm.reset(id);
  Pipe ready;
  Child both([&] {
    ipcshm_channel_t *a = nullptr, *b = nullptr;
    if (ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, &a) != 1) return 1;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &b) != 0) return 2;
    ready.put_byte();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.get_byte());
  ::kill(both.pid(), SIGKILL);
  both.wait();
  EXPECT_TRUE(posix_exists(id));
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(0, ipcshm_channel_info(id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(IPCSHM_END_DIED, info.sender);
  EXPECT_EQ(IPCSHM_END_DIED, info.receiver);
  EXPECT_EQ(-ENOENT, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &ch));
  EXPECT_FALSE(posix_exists(id));
}

TEST(Channel, PersistentChannelKeepsItsMessagesWithoutEnds) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ipcshm_channel_t* ch = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 16, 4, 0600, IPCSHM_PERSISTENT, IPCSHM_SENDER,
                                     &ch));
  EXPECT_EQ(0, send_text(ch, "kept"));
  ASSERT_EQ(0, ipcshm_channel_close(ch));
  EXPECT_TRUE(posix_exists(id));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &ch));
  EXPECT_EQ("kept", recv_text(ch, 0));
  EXPECT_EQ(err(-EPIPE), recv_text(ch, 0)) << "its sender came and went";
  ASSERT_EQ(0, ipcshm_channel_close(ch));
  EXPECT_TRUE(posix_exists(id));
  EXPECT_EQ(0, ipcshm_remove(id.c_str()));
}

TEST(Channel, OpenOrCreateJoinsAChannelOfTheSameShape) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 32, 4, 0600, IPCSHM_OPEN_OR_CREATE,
                                     IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_create(id.c_str(), 32, 4, 0600, IPCSHM_OPEN_OR_CREATE,
                                     IPCSHM_RECEIVER, rx.out()))
      << ipcshm_last_error();
  ipcshm_channel_t* other = nullptr;
  EXPECT_EQ(-EEXIST, ipcshm_channel_create(id.c_str(), 64, 4, 0600, IPCSHM_OPEN_OR_CREATE,
                                           IPCSHM_SENDER, &other));
  EXPECT_EQ(-EBUSY, ipcshm_channel_create(id.c_str(), 32, 4, 0600, IPCSHM_OPEN_OR_CREATE,
                                          IPCSHM_SENDER, &other));
  EXPECT_EQ(-EEXIST, ipcshm_channel_create(id.c_str(), 32, 4, 0600, 0, IPCSHM_SENDER, &other));
  // Shapes that need more bytes than the object has, and fewer: another
  // channel all the same (-EEXIST, not the -EINVAL of a plain object's size).
  for (const auto& [size, count] : {std::pair{32u, 8u}, {256u, 4u}, {32u, 2u}, {4096u, 64u}}) {
    EXPECT_EQ(-EEXIST, ipcshm_channel_create(id.c_str(), size, count, 0600,
                                             IPCSHM_OPEN_OR_CREATE, IPCSHM_RECEIVER, &other))
        << size << " x " << count;
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "ipcshm_channel_create"))
        << ipcshm_last_error();
  }
  EXPECT_EQ(nullptr, other);
  EXPECT_EQ(0, send_text(tx.get(), "x"));
  EXPECT_EQ("x", recv_text(rx.get(), 0));
}

TEST(Channel, TemplateNamesAreFilledIn) {
  const std::string tmpl = testutil::run_prefix() + "tmplXXXXXX";
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(tmpl.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, tx.out()));
  const std::string id = channel_id(tx.get());
  RemoveGuard rm(id);
  EXPECT_EQ(tmpl.size(), id.size());
  EXPECT_NE(tmpl, id);
  ChannelGuard rx;
  EXPECT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
}

TEST(Channel, AMemfdChannelTravelsOverASocket) {
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create("memfd:chan", 128, 8, 0600, 0, IPCSHM_SENDER, tx.out()));
  EXPECT_EQ(IPCSHM_KIND_MEMFD, channel_info_of(tx.get()).kind);
  int sv[2];
  ASSERT_EQ(0, ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  const ipcshm_t* h = nullptr;
  ASSERT_EQ(0, ipcshm_channel_handle(tx.get(), &h));
  EXPECT_EQ("memfd:chan", testutil::id_of(h));
  ASSERT_EQ(0, ipcshm_send(sv[0], h));
  Child receiver([&] {
    ipcshm_t* got = nullptr;
    if (ipcshm_recv(sv[1], 0, &got) != 0) return 1;
    const int fd = ipcshm_fd(got);
    ipcshm_channel_t* rx = nullptr;
    if (ipcshm_channel_open_fd(fd, IPCSHM_RECEIVER, &rx) != 0) return 2;
    ::close(fd);
    ipcshm_detach(got);
    if (recv_text(rx) != "over the socket") return 3;
    if (recv_text(rx) != err(-EPIPE)) return 4;
    return ipcshm_channel_close(rx) == 0 ? 0 : 5;
  });
  EXPECT_EQ(0, send_text(tx.get(), "over the socket"));
  tx.reset();
  EXPECT_TRUE(exited_with(receiver.wait(), 0));
  ::close(sv[0]);
  ::close(sv[1]);
  // A memfd has no name to open.
  ipcshm_channel_t* ch = nullptr;
  EXPECT_EQ(-EINVAL, ipcshm_channel_open("memfd:chan", IPCSHM_RECEIVER, &ch));
}

TEST(Channel, TheObjectHandleIsTheChannelsAndCannotBeDetached) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ipcshm_channel_t* tx = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 100, 10, 0600, 0, IPCSHM_SENDER, &tx));
  const ipcshm_t* h = nullptr;
  ASSERT_EQ(0, ipcshm_channel_handle(tx, &h));
  EXPECT_EQ(id, testutil::id_of(h));
  // header 256 + 10 entries of 8 (80, padded to 128) + 10 slots of 128.
  EXPECT_EQ(256u + 128 + 10 * 128, ipcshm_size(h));
  ipcshm_info_t info = testutil::fresh_info();
  EXPECT_EQ(0, ipcshm_handle_info(h, &info));
  EXPECT_EQ(-EBUSY, ipcshm_detach(const_cast<ipcshm_t*>(h)));
  EXPECT_EQ(-EBUSY, ipcshm_resize(const_cast<ipcshm_t*>(h), 1 << 20));
  EXPECT_NE(nullptr, ipcshm_pointer(h));
  ASSERT_EQ(0, ipcshm_channel_close(tx));
  EXPECT_EQ(nullptr, ipcshm_pointer(h)) << "the object's handle went with the channel";
  EXPECT_EQ(-EBADF, ipcshm_detach(const_cast<ipcshm_t*>(h)));
}

TEST(Channel, InfoByIdChangesNothing) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 48, 5, 0640, 0, IPCSHM_SENDER, tx.out()));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(0, send_text(tx.get(), "q"));
  struct stat before;
  ASSERT_EQ(0, ::stat(("/dev/shm" + id).c_str(), &before));
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(0, ipcshm_channel_info(id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(sizeof info, info.struct_size);
  EXPECT_EQ(IPCSHM_KIND_POSIX, info.kind);
  EXPECT_EQ(48u, info.slot_size);
  EXPECT_EQ(5u, info.slot_count);
  EXPECT_EQ(IPCSHM_END_OPEN, info.sender);
  EXPECT_EQ(IPCSHM_END_NEVER, info.receiver);
  EXPECT_EQ(3u, info.queued);
  EXPECT_EQ(3u, info.sent);
  EXPECT_EQ(0u, info.received);
  // An older, shorter struct gets what it knows; a too short one is refused.
  struct {
    ipcshm_channel_info_t info;
    uint32_t canary;
  } padded{};
  padded.info.struct_size = sizeof padded.info;
  padded.canary = 0xdeadbeef;
  ASSERT_EQ(0, ipcshm_channel_info(id.c_str(), &padded.info));
  EXPECT_EQ(0xdeadbeefu, padded.canary);
  info.struct_size = 40;
  EXPECT_EQ(-EINVAL, ipcshm_channel_info(id.c_str(), &info));
  // Nothing changed: no lock left, the file untouched, a second look the same.
  struct stat after;
  ASSERT_EQ(0, ::stat(("/dev/shm" + id).c_str(), &after));
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  EXPECT_EQ(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);
  ChannelGuard rx;
  EXPECT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  // Not a channel.
  const std::string plain = unique_name("plain");
  RemoveGuard rm2(plain);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(plain.c_str(), 4096, 0600, 0, h.out()));
  EXPECT_EQ(-EBADMSG, ipcshm_channel_info(plain.c_str(), &padded.info));
  EXPECT_EQ(-ENOENT, ipcshm_channel_info((plain + "-none").c_str(), &padded.info));
}

TEST(Channel, DescriptorBecomesReadableWhenTheEndCanGoOn) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  const int rfd = ipcshm_channel_fd(rx.get());
  ASSERT_GE(rfd, 0) << ipcshm_last_error();
  EXPECT_FALSE(readable(rfd, 50));
  Child sender([&] {
    ipcshm_channel_t* ch = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch) != 0) return 1;
    ::usleep(50'000);
    if (send_text(ch, "wake") != 0) return 2;
    ::usleep(200'000);
    return ipcshm_channel_close(ch) == 0 ? 0 : 3;
  });
  ASSERT_TRUE(readable(rfd, 5000));
  uint64_t v;
  EXPECT_EQ(8, ::read(rfd, &v, sizeof v));
  EXPECT_EQ("wake", recv_text(rx.get(), 0));
  EXPECT_EQ(err(-EAGAIN), recv_text(rx.get(), 0));
  // The sender's close makes it readable again (recv then says -EPIPE).
  ASSERT_TRUE(readable(rfd, 5000));
  EXPECT_EQ(8, ::read(rfd, &v, sizeof v));
  EXPECT_EQ(err(-EPIPE), recv_text(rx.get(), 0));
  EXPECT_TRUE(exited_with(sender.wait(), 0));

  // A sender's descriptor: readable while a slot is free.
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out()));
  const int tfd = ipcshm_channel_fd(tx.get());
  ASSERT_GE(tfd, 0);
  ASSERT_TRUE(readable(tfd, 5000));
  EXPECT_EQ(8, ::read(tfd, &v, sizeof v));
  ASSERT_EQ(0, send_text(tx.get(), "1", 0));
  ASSERT_EQ(0, send_text(tx.get(), "2", 0));
  EXPECT_EQ(-EAGAIN, send_text(tx.get(), "3", 0));
  // The helper may have announced the free slot left after "1" (a hint of a
  // state gone since): drained, the full ring announces nothing.
  for (int i = 0; i < 2; ++i) {
    while (::read(tfd, &v, sizeof v) > 0) {
    }
    ::usleep(30'000);
  }
  EXPECT_FALSE(readable(tfd, 50));
  EXPECT_EQ("1", recv_text(rx.get(), 0));
  ASSERT_TRUE(readable(tfd, 5000));

  // Closing the end: its descriptors read end of file.
  rx.reset();
  char c;
  for (int i = 0; i < 100 && ::read(rfd, &c, 1) != 0; ++i) ::usleep(10'000);
  EXPECT_EQ(0, ::read(rfd, &c, 1));
  ::close(rfd);
  ::close(tfd);  // the helper sees it and ends
}

TEST(Channel, EndsInheritedAcrossForkAreTheParents) {
  const std::string id = unique_name("ch");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 32, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  Pipe done, release;
  // The child lives on after the parent's sender is gone, and has its own receiver.
  Child child([&] {
    if (send_text(tx.get(), "no") != -EBADF) return 1;  // the parent's end
    ipcshm_channel_t* rx = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx) != 0) return 2;
    done.put_byte();
    if (recv_text(rx) != "from the parent") return 3;
    // The parent closes its sender; the child's inherited copy does not keep
    // it alive.
    if (recv_text(rx) != err(-EPIPE)) return 4;
    if (ipcshm_channel_close(tx.get()) != 0) return 5;  // releases nothing of the parent's
    done.put_byte();
    if (!release.get_byte()) return 6;
    return ipcshm_channel_close(rx) == 0 ? 0 : 7;
  });
  ASSERT_TRUE(done.get_byte());
  EXPECT_EQ(0, send_text(tx.get(), "from the parent"));
  tx.reset();
  ASSERT_TRUE(done.get_byte());
  release.put_byte();
  EXPECT_TRUE(exited_with(child.wait(), 0));
}

}  // namespace
