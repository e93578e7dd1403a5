// Channels between C processes that come and go (issue "Channels", "How it
// must hold up"): a million messages of random lengths arrive once, in order,
// byte for byte; a sender killed at random moments (also in the middle of a
// zero-copy write) leaves every message it committed and nothing else, and
// its receiver gets -EPIPE within 100 ms; a blocked sender whose receiver is
// killed gets -EPIPE within 100 ms, and a new receiver carries on; a role
// held by a process is -EBUSY until that process dies. The other processes
// are tests/channel_peer (C, on the public API).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <bsd/stdlib.h>

#include "channel_util.hpp"
#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::ChannelGuard;
using testutil::Child;
using testutil::describe_status;
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

constexpr int64_t kLong = 30'000 * kMs;

#define REQUIRE_PEER()                                                      \
  do {                                                                      \
    if (!Peer::program()) GTEST_SKIP() << "IPCSHM_CHANNEL_PEER is not set"; \
  } while (0)

std::string num(uint64_t v) { return std::to_string(v); }

// Receives the stream `seed` from ch, checking each message, until -EPIPE
// (or another error, returned). *count: how many arrived; *last_ns: when the
// last call returned.
int drain(ipcshm_channel_t* ch, uint64_t seed, uint32_t max_len, uint64_t* count,
          int64_t* last_ns = nullptr) {
  std::vector<unsigned char> buf(max_len), scratch(max_len);
  for (;;) {
    uint64_t len = 0;
    const int rc = ipcshm_channel_recv(ch, buf.data(), max_len, &len, kLong);
    if (last_ns) *last_ns = now_ns();
    if (rc < 0) return rc;
    if (!chmsg_check(buf.data(), static_cast<uint32_t>(len), seed, *count, max_len,
                     scratch.data())) {
      ADD_FAILURE() << "message " << *count << " is wrong: " << len << " bytes, claims #"
                    << (len >= 8 ? chmsg_seq(buf.data()) : 0);
      return -EBADMSG;
    }
    ++*count;
  }
}

TEST(ChannelProcesses, AMillionMessagesArriveInOrderBetweenTwoCPrograms) {
  REQUIRE_PEER();
  const std::string id = unique_name("million");
  RemoveGuard rm(id);
  const uint64_t count = 1'000'000 / slow_factor();
  const uint64_t seed = arc4random();
  // The sender makes the channel (slots of up to 300 bytes); every 7th
  // message goes through reserve/commit, every 5th is read with peek/release.
  Peer sender({"send", id, num(count), num(seed), "300", "--zero-copy-every", "7", "--create",
               "64"});
  ASSERT_TRUE(sender.ready());
  Peer receiver({"recv", id, num(count), num(seed), "300", "--peek-every", "5"});
  ASSERT_TRUE(receiver.ready());
  const int st = sender.wait();
  EXPECT_TRUE(exited_with(st, 0)) << describe_status(st);
  EXPECT_EQ("received " + num(count), receiver.line(60'000));
  const int rt = receiver.wait();
  EXPECT_TRUE(exited_with(rt, 0)) << describe_status(rt);
  EXPECT_FALSE(posix_exists(id)) << "both ends closed: the volatile channel is gone";
}

TEST(ChannelProcesses, AMillionMessagesFromThisProcessToACProgram) {
  REQUIRE_PEER();
  const std::string id = unique_name("million");
  RemoveGuard rm(id);
  const uint64_t count = 1'000'000 / slow_factor();
  const uint64_t seed = arc4random();
  constexpr uint32_t kMax = 1000;
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), kMax, 16, 0600, 0, IPCSHM_SENDER, tx.out()));
  Peer receiver({"recv", id, num(count), num(seed), num(kMax)});
  ASSERT_TRUE(receiver.ready());
  std::vector<unsigned char> msg(kMax);
  for (uint64_t seq = 0; seq < count; ++seq) {
    const uint32_t len = chmsg_len(seed, seq, kMax);
    chmsg_fill(msg.data(), seed, seq, len);
    ASSERT_EQ(0, ipcshm_channel_send(tx.get(), msg.data(), len, kLong)) << ipcshm_last_error();
  }
  tx.reset();
  EXPECT_EQ("received " + num(count), receiver.line(60'000));
  const int rt = receiver.wait();
  EXPECT_TRUE(exited_with(rt, 0)) << describe_status(rt);
}

TEST(ChannelProcesses, ASenderKilledAtRandomLeavesExactlyWhatItCommitted) {
  REQUIRE_PEER();
  const int rounds = 24;
  int mid_reserve = 0;
  int64_t worst_ns = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string id = unique_name("crash");
    const std::string counter_id = unique_name("counter");
    RemoveGuard rm(id), rm2(counter_id);
    HandleGuard counter;
    ASSERT_EQ(1, ipcshm_create(counter_id.c_str(), 4096, 0600, 0, counter.out()));
    auto* committed = static_cast<uint64_t*>(ipcshm_pointer(counter.get()));
    constexpr uint32_t kMax = 1024;
    ChannelGuard rx;
    // Few slots: the sender often waits for this receiver, as it would
    // when it outruns it.
    ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), kMax, 8, 0600, 0, IPCSHM_RECEIVER, rx.out()));
    const uint64_t seed = arc4random();
    Peer sender({"send", id, "0", num(seed), num(kMax), "--zero-copy-every", "3", "--pause-us",
                 "200", "--counter", counter_id});
    ASSERT_TRUE(sender.ready());
    std::atomic<int64_t> killed_at{0};
    std::thread killer([&] {
      ::usleep(1000 + arc4random_uniform(30'000));
      killed_at = now_ns();
      sender.kill();
    });
    uint64_t received = 0;
    int64_t ended_at = 0;
    const int rc = drain(rx.get(), seed, kMax, &received, &ended_at);
    killer.join();
    EXPECT_EQ(-EPIPE, rc) << ipcshm_last_error();
    const int st = sender.wait();
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << describe_status(st);
    // Every message the sender saw committed came, and at most the one it
    // committed but had not counted yet: never a message it had not committed.
    const uint64_t done = __atomic_load_n(&committed[0], __ATOMIC_ACQUIRE);
    EXPECT_TRUE(received == done || received == done + 1)
        << received << " received, " << done << " committed";
    if (__atomic_load_n(&committed[1], __ATOMIC_ACQUIRE)) ++mid_reserve;
    const int64_t seen = ended_at - killed_at.load();
    worst_ns = std::max(worst_ns, seen);
    EXPECT_LT(seen, 100 * kMs * slow_factor()) << "-EPIPE " << seen / kMs << " ms after the kill";
    // A new sender takes over where the dead one stopped.
    ChannelGuard tx;
    ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out())) << ipcshm_last_error();
    std::vector<unsigned char> msg(kMax);
    const uint32_t len = chmsg_len(seed, received, kMax);
    chmsg_fill(msg.data(), seed, received, len);
    ASSERT_EQ(0, ipcshm_channel_send(tx.get(), msg.data(), len, 0));
    tx.reset();
    uint64_t more = received;
    EXPECT_EQ(-EPIPE, drain(rx.get(), seed, kMax, &more));
    EXPECT_EQ(received + 1, more);
  }
  RecordProperty("worst_epipe_ms", static_cast<int>(worst_ns / kMs));
  RecordProperty("killed_mid_reserve", mid_reserve);
  EXPECT_GT(mid_reserve, 0) << "no kill landed between reserve and commit in " << rounds
                            << " rounds";
}

TEST(ChannelProcesses, ASenderKilledBetweenReserveAndCommitDeliversNothingOfIt) {
  const std::string id = unique_name("crash");
  RemoveGuard rm(id);
  ChannelGuard rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 256, 4, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  Pipe reserved;
  Child sender([&] {
    ipcshm_channel_t* tx = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &tx) != 0) return 1;
    if (ipcshm_channel_send(tx, "whole", 5, 0) != 0) return 2;
    void* slot = nullptr;
    if (ipcshm_channel_reserve(tx, &slot, 0) != 0) return 3;
    std::memcpy(slot, "half-writ", 9);
    reserved.put_byte();
    ::pause();
    return 4;
  });
  ASSERT_TRUE(reserved.get_byte());
  ::kill(sender.pid(), SIGKILL);
  const int64_t killed = now_ns();
  char buf[256];
  uint64_t len = 0;
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, kLong));
  EXPECT_EQ("whole", std::string(buf, len));
  EXPECT_EQ(-EPIPE, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, kLong));
  EXPECT_LT(now_ns() - killed, 100 * kMs * slow_factor());
  EXPECT_EQ(IPCSHM_END_DIED, testutil::channel_info_of(rx.get()).sender);
  // Its slot goes to the next sender's next message.
  ChannelGuard tx;
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_send(tx.get(), "next", 4, 0));
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ("next", std::string(buf, len));
}

TEST(ChannelProcesses, ABlockedSenderSeesItsReceiverDieAndANewOneCarriesOn) {
  REQUIRE_PEER();
  const std::string id = unique_name("rxdeath");
  RemoveGuard rm(id);
  constexpr uint32_t kMax = 64;
  constexpr uint32_t kSlots = 8;
  const uint64_t seed = arc4random();
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), kMax, kSlots, 0600, 0, IPCSHM_SENDER, tx.out()));
  std::vector<unsigned char> msg(kMax);
  uint64_t seq = 0;
  auto send_next = [&](int64_t timeout) {
    const uint32_t len = chmsg_len(seed, seq, kMax);
    chmsg_fill(msg.data(), seed, seq, len);
    const int rc = ipcshm_channel_send(tx.get(), msg.data(), len, timeout);
    if (rc == 0) ++seq;
    return rc;
  };
  {
    Peer holder({"hold", id, "receiver"});  // opens the receiver role, takes nothing
    ASSERT_TRUE(holder.ready());
    while (send_next(0) == 0) {
    }
    EXPECT_EQ(kSlots, seq);
    std::atomic<int64_t> killed_at{0};
    std::thread killer([&] {
      ::usleep(100'000);  // the sender is asleep by then
      killed_at = now_ns();
      holder.kill();
    });
    EXPECT_EQ(-EPIPE, send_next(kLong)) << ipcshm_last_error();
    const int64_t seen = now_ns() - killed_at.load();
    killer.join();
    EXPECT_LT(seen, 100 * kMs * slow_factor()) << "-EPIPE " << seen / kMs << " ms after the kill";
    EXPECT_EQ(IPCSHM_END_DIED, testutil::channel_info_of(tx.get()).receiver);
    EXPECT_EQ(-EPIPE, send_next(0)) << "until a new receiver opens";
  }
  // A new receiver gets the messages the dead one left, then the new ones.
  Peer receiver({"recv", id, "1000", num(seed), num(kMax)});
  ASSERT_TRUE(receiver.ready());
  while (seq < 1000) ASSERT_EQ(0, send_next(kLong)) << ipcshm_last_error();
  tx.reset();
  EXPECT_EQ("received 1000", receiver.line());
  EXPECT_TRUE(exited_with(receiver.wait(), 0));
}

TEST(ChannelProcesses, AReceiverKilledWhilePeekingLeavesTheMessageToTheNextOne) {
  const std::string id = unique_name("peek");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 32, 4, 0600, 0, IPCSHM_SENDER, tx.out()));
  for (const char* m : {"zero", "one", "two"})
    ASSERT_EQ(0, ipcshm_channel_send(tx.get(), m, std::strlen(m), 0));
  Pipe peeked;
  Child receiver([&] {
    ipcshm_channel_t* rx = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx) != 0) return 1;
    char buf[32];
    uint64_t len;
    if (ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0) != 0) return 2;  // "zero"
    const void* msg;
    if (ipcshm_channel_peek(rx, &msg, &len, 0) != 0) return 3;  // "one", not released
    peeked.put_byte();
    ::pause();
    return 4;
  });
  ASSERT_TRUE(peeked.get_byte());
  ::kill(receiver.pid(), SIGKILL);
  receiver.wait();
  ChannelGuard rx;
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out())) << ipcshm_last_error();
  char buf[32];
  uint64_t len;
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ("one", std::string(buf, len));
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ("two", std::string(buf, len));
}

TEST(ChannelProcesses, ARoleHeldByAnotherProcessIsBusyUntilItDies) {
  REQUIRE_PEER();
  const std::string id = unique_name("busy");
  RemoveGuard rm(id);
  ChannelGuard rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 32, 4, 0600, 0, IPCSHM_RECEIVER, rx.out()));
  Peer holder({"hold", id, "sender"});
  ASSERT_TRUE(holder.ready());
  ipcshm_channel_t* second = nullptr;
  EXPECT_EQ(-EBUSY, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &second));
  EXPECT_EQ(IPCSHM_END_OPEN, testutil::channel_info_of(rx.get()).sender);
  holder.kill();
  holder.wait();
  EXPECT_EQ(IPCSHM_END_DIED, testutil::channel_info_of(rx.get()).sender);
  ChannelGuard tx;
  EXPECT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out())) << ipcshm_last_error();
  EXPECT_EQ(IPCSHM_END_OPEN, testutil::channel_info_of(rx.get()).sender);
}

TEST(ChannelProcesses, AChannelPassedAsADescriptorToAProgram) {
  REQUIRE_PEER();
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create("memfd:peer", 128, 8, 0600, 0, IPCSHM_SENDER, tx.out()));
  const ipcshm_t* h = nullptr;
  ASSERT_EQ(0, ipcshm_channel_handle(tx.get(), &h));
  const int fd = ipcshm_fd(h);
  ASSERT_GE(fd, 0);
  const uint64_t seed = arc4random();
  Peer receiver({"recv", "fd:" + std::to_string(fd), "500", num(seed), "128"}, fd);
  ::close(fd);
  ASSERT_TRUE(receiver.ready());
  std::vector<unsigned char> msg(128);
  for (uint64_t seq = 0; seq < 500; ++seq) {
    const uint32_t len = chmsg_len(seed, seq, 128);
    chmsg_fill(msg.data(), seed, seq, len);
    ASSERT_EQ(0, ipcshm_channel_send(tx.get(), msg.data(), len, kLong));
  }
  tx.reset();
  EXPECT_EQ("received 500", receiver.line());
  EXPECT_TRUE(exited_with(receiver.wait(), 0));
}

}  // namespace
