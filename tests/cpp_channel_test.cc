// The C++ channel end of ipcshm.hpp: RAII close, send and recv with spans,
// recv_bytes, reserve/commit and peek/release as spans, timed and try_ forms,
// exceptions (ipcshm::broken_pipe, std::system_error), -EINTR retried.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ipcshm.hpp"
#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using namespace std::chrono_literals;
using testutil::Child;
using testutil::exited_with;
using testutil::RemoveGuard;
using testutil::unique_name;

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string str(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(CppChannel, SendAndReceiveBetweenProcesses) {
  const std::string id = unique_name("cppch");
  RemoveGuard rm(id);
  auto tx = ipcshm::channel::create(id, 64, 4, ipcshm::channel::sender);
  EXPECT_TRUE(tx.created());
  EXPECT_EQ(id, tx.id());
  EXPECT_EQ(64u, tx.slot_size());
  EXPECT_EQ(4u, tx.slot_count());
  testutil::Pipe opened;
  Child child([&] {
    auto rx = ipcshm::channel::open(id, ipcshm::channel::receiver);
    opened.put_byte();
    std::vector<std::byte> buf(rx.slot_size());
    if (str(std::span(buf).first(rx.recv(buf))) != "first") return 1;
    if (str(rx.recv_bytes()) != "second") return 2;
    std::span<const std::byte> msg = rx.peek();
    if (str(msg) != "third") return 3;
    rx.release();
    try {
      rx.recv(buf);
      return 4;
    } catch (const ipcshm::broken_pipe& e) {
      if (e.code().value() != EPIPE) return 5;
    }
    return 0;
  });
  ASSERT_TRUE(opened.get_byte());
  tx.send(bytes("first"));
  EXPECT_TRUE(tx.send_for(bytes("second"), 1s));
  std::span<std::byte> slot = tx.reserve();
  EXPECT_EQ(64u, slot.size());
  std::memcpy(slot.data(), "third", 5);
  tx.commit(5);
  tx.close();
  EXPECT_FALSE(tx);
  EXPECT_TRUE(exited_with(child.wait(), 0));
}

TEST(CppChannel, TimedFormsAndErrors) {
  const std::string id = unique_name("cppch");
  RemoveGuard rm(id);
  auto tx = ipcshm::channel::create(id, 8, 1, ipcshm::channel::sender);
  auto rx = ipcshm::channel::open(std::string(tx.id()), ipcshm::channel::receiver);
  std::byte buf[8];
  EXPECT_EQ(std::nullopt, rx.try_recv(buf));
  EXPECT_EQ(std::nullopt, rx.recv_for(buf, 10ms));
  EXPECT_EQ(std::nullopt, rx.try_peek());
  EXPECT_TRUE(tx.try_send(bytes("a")));
  EXPECT_FALSE(tx.try_send(bytes("b"))) << "one slot: full";
  EXPECT_FALSE(tx.send_for(bytes("b"), 10ms));
  EXPECT_EQ(std::nullopt, tx.try_reserve());
  EXPECT_EQ(1u, rx.queued());
  try {
    tx.send(bytes("much too long"));
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(EMSGSIZE, e.code().value());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("ipcshm_channel_send"));
  }
  try {
    rx.recv(std::span<std::byte>());
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(EMSGSIZE, e.code().value());
  }
  EXPECT_EQ(std::optional<size_t>(1), rx.try_recv(buf)) << "the message stayed";
  EXPECT_THROW(ipcshm::channel::open(std::string(tx.id()), ipcshm::channel::sender),
               std::system_error);  // EBUSY
  rx.close();
  EXPECT_THROW(tx.send(bytes("x")), ipcshm::broken_pipe);
  EXPECT_THROW(tx.reserve(), ipcshm::broken_pipe);
}

TEST(CppChannel, MovedEndsCloseOnce) {
  const std::string id = unique_name("cppch");
  RemoveGuard rm(id);
  ipcshm::channel a = ipcshm::channel::create(id, 8, 2, ipcshm::channel::receiver);
  ipcshm::channel b(std::move(a));
  EXPECT_FALSE(a);
  EXPECT_TRUE(b);
  ipcshm::channel c;
  c = std::move(b);
  EXPECT_TRUE(c);
  EXPECT_TRUE(testutil::posix_exists(id));
  c = ipcshm::channel();
  EXPECT_FALSE(testutil::posix_exists(id)) << "closed by the assignment";
}

TEST(CppChannel, ASignalDuringAWaitIsRetried) {
  const std::string id = unique_name("cppch");
  RemoveGuard rm(id);
  auto rx = ipcshm::channel::create(id, 8, 2, ipcshm::channel::receiver);
  static std::atomic<int> caught{0};
  testutil::on_signal(SIGUSR2, [](int) { caught++; }, false);
  const pthread_t self = ::pthread_self();
  std::thread poker([&] {
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(20ms);
      ::pthread_kill(self, SIGUSR2);
    }
  });
  std::byte buf[8];
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(std::nullopt, rx.recv_for(buf, 200ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
  poker.join();
  EXPECT_GE(caught.load(), 1);
  ::signal(SIGUSR2, SIG_DFL);
}

TEST(CppChannel, AMemfdEndTravelsAsAHandle) {
  auto tx = ipcshm::channel::create("memfd:cpp", 16, 2, ipcshm::channel::sender);
  const int fd = ipcshm_fd(tx.handle());
  ASSERT_GE(fd, 0);
  auto rx = ipcshm::channel::open_fd(fd, ipcshm::channel::receiver);
  ::close(fd);
  tx.send(bytes("memfd"));
  EXPECT_EQ("memfd", str(rx.recv_bytes()));
  const int rfd = rx.fd();
  EXPECT_GE(rfd, 0);
  ::close(rfd);
}

}  // namespace
