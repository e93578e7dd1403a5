// Channels given bad input, stale or forged handles, hostile headers and
// other users (SPEC §5, §9): every call says -EINVAL, -EBADF, -EOPNOTSUPP,
// -EBADMSG or -EACCES with a message, never crashes, never reads or writes
// outside the mapping, and leaves nothing behind.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <bsd/stdlib.h>

#include "channel_layout.hpp"
#include "channel_util.hpp"
#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::ChannelGuard;
using testutil::Child;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::kMs;
using testutil::now_ns;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::unique_name;
namespace layout = ipcshm::core::channel;

void expect_message() {
  EXPECT_NE('\0', ipcshm_last_error()[0]) << "a failure without a message";
}

#define EXPECT_FAILS(code, call)   \
  do {                             \
    EXPECT_EQ(code, call) << #call; \
    expect_message();              \
  } while (0)

TEST(ChannelBadInput, NullArguments) {
  ipcshm_channel_t* ch = nullptr;
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create(nullptr, 8, 2, 0600, 0, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create("/x", 8, 2, 0600, 0, IPCSHM_SENDER, nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open(nullptr, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open("/x", IPCSHM_SENDER, nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open_fd(0, IPCSHM_SENDER, nullptr));
  EXPECT_FAILS(-EBADF, ipcshm_channel_open_fd(-1, IPCSHM_SENDER, &ch));
  char buf[8];
  uint64_t len;
  void* slot;
  const void* msg;
  const ipcshm_t* h;
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  EXPECT_FAILS(-EINVAL, ipcshm_channel_send(nullptr, "x", 1, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_recv(nullptr, buf, 8, &len, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_reserve(nullptr, &slot, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_commit(nullptr, 1));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_peek(nullptr, &msg, &len, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_release(nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_close(nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_handle(nullptr, &h));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_handle_info(nullptr, &info));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_info(nullptr, &info));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_fd(nullptr));

  // With a live end, the other pointers.
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_send(tx.get(), nullptr, 1, 0));
  EXPECT_EQ(0, ipcshm_channel_send(tx.get(), nullptr, 0, 0)) << "NULL with length 0 is fine";
  EXPECT_FAILS(-EINVAL, ipcshm_channel_recv(rx.get(), buf, 8, nullptr, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_recv(rx.get(), nullptr, 8, &len, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_reserve(tx.get(), nullptr, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_peek(rx.get(), nullptr, &len, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_peek(rx.get(), &msg, nullptr, 0));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_handle(tx.get(), nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_handle_info(tx.get(), nullptr));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_info(id.c_str(), nullptr));
  info.struct_size = 0;
  EXPECT_FAILS(-EINVAL, ipcshm_channel_handle_info(tx.get(), &info));
}

TEST(ChannelBadInput, RolesFlagsPermsAndSizes) {
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  ipcshm_channel_t* ch = nullptr;
  for (uint32_t role : {0u, 3u, 4u, 0xffffffffu}) {
    EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, role, &ch));
    EXPECT_FAILS(-EINVAL, ipcshm_channel_open(id.c_str(), role, &ch));
    EXPECT_FAILS(-EINVAL, ipcshm_channel_open_fd(0, role, &ch));
  }
  for (uint32_t flags :
       {uint32_t{IPCSHM_READONLY}, uint32_t{IPCSHM_UNSEALED}, 1u << 20, 0xffffffffu})
    EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 8, 2, 0600, flags, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 8, 2, 01777, 0, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 0, 2, 0600, 0, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 8, 0, 0600, 0, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL,
               ipcshm_channel_create(id.c_str(), 8, (1u << 30) + 1, 0600, 0, IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id.c_str(), 0xffffffffu, 1u << 30, 0600, 0,
                                              IPCSHM_SENDER, &ch));
  EXPECT_FALSE(posix_exists(id)) << "nothing made";
  // Too large for this machine (2^50 bytes): the kernel says no, nothing stays.
  const int rc = ipcshm_channel_create(id.c_str(), 1u << 31, 1u << 19, 0600, 0, IPCSHM_SENDER, &ch);
  if (rc >= 0) {
    ipcshm_channel_close(ch);
  } else {
    expect_message();
  }
  EXPECT_FALSE(posix_exists(id));
  EXPECT_EQ(nullptr, ch) << "out untouched on failure";
}

TEST(ChannelBadInput, IdsOfOtherKindsAreRefused) {
  ipcshm_channel_t* ch = nullptr;
  for (const char* id : {"key:0x1234", "private", "shmid:1", "key:77"}) {
    EXPECT_FAILS(-EOPNOTSUPP, ipcshm_channel_create(id, 8, 2, 0600, 0, IPCSHM_SENDER, &ch));
    EXPECT_FAILS(-EOPNOTSUPP, ipcshm_channel_open(id, IPCSHM_SENDER, &ch));
  }
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "System V")) << ipcshm_last_error();
  for (const char* id : {"", "noslash", "/a/b", "/", "/..", "memfd:"}) {
    EXPECT_FAILS(-EINVAL, ipcshm_channel_create(id, 8, 2, 0600, 0, IPCSHM_SENDER, &ch));
    EXPECT_FAILS(-EINVAL, ipcshm_channel_open(id, IPCSHM_SENDER, &ch));
  }
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open("/templateXXXXXX", IPCSHM_SENDER, &ch));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open("memfd:x", IPCSHM_SENDER, &ch));
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  EXPECT_FAILS(-EOPNOTSUPP, ipcshm_channel_info("key:0x1234", &info));
  EXPECT_FAILS(-EINVAL, ipcshm_channel_info("memfd:x", &info));
  EXPECT_FAILS(-ENOENT, ipcshm_channel_open((unique_name("none")).c_str(), IPCSHM_SENDER, &ch));
  EXPECT_EQ(nullptr, ch);
  // A descriptor of something else.
  EXPECT_FAILS(-EINVAL, ipcshm_channel_open_fd(0, IPCSHM_SENDER, &ch));  // a pipe or tty
}

TEST(ChannelBadInput, WrongEndForTheCall) {
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  char buf[8];
  uint64_t len;
  void* slot;
  const void* msg;
  EXPECT_FAILS(-EBADF, ipcshm_channel_send(rx.get(), "x", 1, 0));
  EXPECT_FAILS(-EBADF, ipcshm_channel_reserve(rx.get(), &slot, 0));
  EXPECT_FAILS(-EBADF, ipcshm_channel_commit(rx.get(), 1));
  EXPECT_FAILS(-EBADF, ipcshm_channel_recv(tx.get(), buf, 8, &len, 0));
  EXPECT_FAILS(-EBADF, ipcshm_channel_peek(tx.get(), &msg, &len, 0));
  EXPECT_FAILS(-EBADF, ipcshm_channel_release(tx.get()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "receiver")) << ipcshm_last_error();
}

TEST(ChannelBadInput, StaleAndForgedHandlesAreNeverFollowed) {
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  ipcshm_channel_t* old = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, &old));
  ASSERT_EQ(0, ipcshm_channel_close(old));
  EXPECT_FAILS(-EBADF, ipcshm_channel_close(old));  // a double close
  // New ends reuse the old one's memory, never its handle value.
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  EXPECT_NE(old, tx.get());
  EXPECT_NE(old, rx.get());
  char buf[8];
  uint64_t len;
  EXPECT_FAILS(-EBADF, ipcshm_channel_send(old, "x", 1, 0));
  EXPECT_FAILS(-EBADF, ipcshm_channel_recv(old, buf, 8, &len, 0));
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  EXPECT_FAILS(-EBADF, ipcshm_channel_handle_info(old, &info));
  const ipcshm_t* h = nullptr;
  EXPECT_FAILS(-EBADF, ipcshm_channel_handle(old, &h));
  EXPECT_FAILS(-EBADF, ipcshm_channel_fd(old));

  // Forged values: small numbers, addresses, random bits, the handle of
  // another type (the tags differ).
  HandleGuard seg;
  ASSERT_EQ(1, ipcshm_create(unique_name("seg").c_str(), 4096, 0600, IPCSHM_PERSISTENT, seg.out()));
  RemoveGuard rm2(testutil::id_of(seg.get()));
  std::vector<uintptr_t> forged = {1, 8, 0x1000, reinterpret_cast<uintptr_t>(&info),
                                   reinterpret_cast<uintptr_t>(seg.get()),
                                   reinterpret_cast<uintptr_t>(tx.get()) + 1,
                                   reinterpret_cast<uintptr_t>(tx.get()) ^ (uintptr_t{1} << 52),
                                   ~uintptr_t{0}};
  for (int i = 0; i < 200; ++i)
    forged.push_back((static_cast<uintptr_t>(arc4random()) << 32) | arc4random());
  for (uintptr_t v : forged) {
    auto* f = reinterpret_cast<ipcshm_channel_t*>(v);
    EXPECT_EQ(-EBADF, ipcshm_channel_send(f, "x", 1, 0)) << std::hex << v;
    EXPECT_EQ(-EBADF, ipcshm_channel_recv(f, buf, 8, &len, 0)) << std::hex << v;
    EXPECT_EQ(-EBADF, ipcshm_channel_close(f)) << std::hex << v;
    EXPECT_EQ(-EBADF, ipcshm_channel_handle_info(f, &info)) << std::hex << v;
  }
  // A channel handle is not an object handle.
  EXPECT_EQ(-EBADF, ipcshm_detach(reinterpret_cast<ipcshm_t*>(tx.get())));
  EXPECT_EQ(nullptr, ipcshm_pointer(reinterpret_cast<ipcshm_t*>(tx.get())));
  // The live ends still work.
  EXPECT_EQ(0, ipcshm_channel_send(tx.get(), "ok", 2, 0));
  EXPECT_EQ(0, ipcshm_channel_recv(rx.get(), buf, 8, &len, 0));
}

// A process that attaches the channel's object as plain memory and
// overwrites part of it (layout: src/channel_layout.hpp).
void overwrite(const std::string& id, size_t offset, const void* bytes, size_t n) {
  const int st = testutil::run_in_child([&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
    std::memcpy(static_cast<char*>(ipcshm_pointer(h)) + offset, bytes, n);
    ipcshm_detach(h);
    return 0;
  });
  ASSERT_TRUE(exited_with(st, 0));
}

template <typename T>
void overwrite(const std::string& id, size_t offset, T value) {
  overwrite(id, offset, &value, sizeof value);
}

TEST(ChannelBadInput, AHeaderOverwrittenByAnotherProcessIsBadMessage) {
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  constexpr uint32_t kSlots = 4;
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 100, kSlots, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  const size_t entries = sizeof(layout::Header);
  char buf[256];
  uint64_t len = 0;

  // An entry that claims a length past the slot: -EBADMSG, nothing copied.
  ASSERT_EQ(0, ipcshm_channel_send(tx.get(), "hello", 5, 0));
  overwrite(id, entries, layout::entry_of(0, 100000));
  std::memset(buf, 0x5a, sizeof buf);
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ(0x5a, static_cast<unsigned char>(buf[0]));
  const void* msg = nullptr;
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_peek(rx.get(), &msg, &len, 0));
  overwrite(id, entries, layout::entry_of(0, 5));  // repaired: fine again
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ("hello", std::string(buf, len));

  // The receiver's index, impossible for the sender: -EBADMSG when it looks.
  for (uint32_t i = 1; i < kSlots; ++i) ASSERT_EQ(0, ipcshm_channel_send(tx.get(), "x", 1, 0));
  overwrite(id, offsetof(layout::Header, rx.head), uint64_t{1} << 60);
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_send(tx.get(), "x", 1, 0));
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_send(tx.get(), "x", 1, 1 * kMs));

  // A new end does not open a channel with impossible indices.
  tx.reset();
  ipcshm_channel_t* ch = nullptr;
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch));
  EXPECT_EQ(nullptr, ch);
  overwrite(id, offsetof(layout::Header, rx.head), uint64_t{1});

  // Nor one whose geometry was changed: sizes that do not fit, offsets that
  // do not follow, another version, no magic.
  struct Case {
    size_t offset;
    uint64_t value;
    size_t n;
  };
  const layout::Config good = [&] {
    layout::Config c;
    HandleGuard h;
    EXPECT_EQ(0, ipcshm_attach(id.c_str(), IPCSHM_READONLY, h.out()));
    std::memcpy(&c, ipcshm_pointer(h.get()), sizeof c);
    return c;
  }();
  const Case cases[] = {
      {offsetof(layout::Config, magic), 0x12345678, 4},
      {offsetof(layout::Config, version), 2, 4},
      {offsetof(layout::Config, slot_size), 1u << 31, 4},
      {offsetof(layout::Config, slot_size), 0, 4},
      {offsetof(layout::Config, slot_count), 1u << 20, 4},
      {offsetof(layout::Config, slot_count), 0xffffffffu, 4},
      {offsetof(layout::Config, slot_count), 0, 4},
      {offsetof(layout::Config, entries_offset), 0, 8},
      {offsetof(layout::Config, slots_offset), 1u << 30, 8},
      {offsetof(layout::Config, slot_stride), 8, 8},
      {offsetof(layout::Config, total_size), ~uint64_t{0}, 8},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("offset " + std::to_string(c.offset));
    overwrite(id, c.offset, &c.value, c.n);
    EXPECT_FAILS(-EBADMSG, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch));
    ipcshm_channel_info_t info{};
    info.struct_size = sizeof info;
    EXPECT_FAILS(-EBADMSG, ipcshm_channel_info(id.c_str(), &info));
    overwrite(id, 0, &good, sizeof good);
  }
  // The receiver, opened before, kept its own copy of the geometry.
  ASSERT_EQ(0, ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0));
  EXPECT_EQ("x", std::string(buf, len));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out())) << ipcshm_last_error();
}

TEST(ChannelBadInput, GarbageEverywhereNeverCrashes) {
  // Random bytes over the lines of the header that stay shared and over the
  // entries, many times; the ends' calls may fail in any documented way but
  // must not crash, hang or touch memory outside the mapping
  // (AddressSanitizer, valgrind).
  const std::string id = unique_name("chbad");
  RemoveGuard rm(id);
  constexpr uint32_t kSlots = 8;
  ChannelGuard tx, rx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 64, kSlots, 0600, 0, IPCSHM_SENDER, tx.out()));
  ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
  HandleGuard plain;  // the object as plain memory, kept while the ends come and go
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), 0, plain.out()));
  auto* base = static_cast<unsigned char*>(ipcshm_pointer(plain.get()));
  const size_t hot = sizeof(layout::Header) + 8 * kSlots;
  const std::vector<unsigned char> fresh(base, base + hot);
  const int rounds = 2000 / testutil::slow_factor();
  for (int round = 0; round < rounds; ++round) {
    const size_t at = 64 + arc4random_uniform(static_cast<uint32_t>(hot - 64));
    const size_t n = 1 + arc4random_uniform(16);
    for (size_t i = 0; i < n && at + i < hot; ++i)
      base[at + i] = static_cast<unsigned char>(arc4random());
    char buf[64];
    uint64_t len;
    void* slot;
    const void* msg;
    const int results[] = {
        ipcshm_channel_send(tx.get(), "abc", 3, 0),
        ipcshm_channel_recv(rx.get(), buf, sizeof buf, &len, 0),
        ipcshm_channel_reserve(tx.get(), &slot, 0) == 0 ? ipcshm_channel_commit(tx.get(), 64) : -1,
        ipcshm_channel_peek(rx.get(), &msg, &len, 0) == 0 ? ipcshm_channel_release(rx.get()) : -1,
    };
    for (int r : results)
      EXPECT_TRUE(r == 0 || r == -1 || r == -EAGAIN || r == -EBADMSG || r == -EPIPE)
          << r << ": " << ipcshm_last_error();
    if (round % 100 == 99) {
      // Now and then, the header as it was, and new ends.
      tx.reset();
      rx.reset();
      std::memcpy(base, fresh.data(), hot);
      ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, tx.out())) << ipcshm_last_error();
      ASSERT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx.out()));
    }
  }
}

TEST(ChannelBadInput, AnotherUserNeedsPermission) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  const std::string closed = unique_name("chperm"), open_ = unique_name("chperm");
  RemoveGuard rm(closed), rm2(open_);
  ChannelGuard a, b;
  ASSERT_EQ(1, ipcshm_channel_create(closed.c_str(), 8, 2, 0600, 0, IPCSHM_SENDER, a.out()));
  ASSERT_EQ(1, ipcshm_channel_create(open_.c_str(), 8, 2, 0666, 0, IPCSHM_SENDER, b.out()));
  testutil::Pipe opened;
  Child other([&] {
    if (!testutil::drop_to_nobody()) return 1;
    ipcshm_channel_t* ch = nullptr;
    if (ipcshm_channel_open(closed.c_str(), IPCSHM_RECEIVER, &ch) != -EACCES) return 2;
    ipcshm_channel_info_t info{};
    info.struct_size = sizeof info;
    if (ipcshm_channel_info(closed.c_str(), &info) != -EACCES) return 3;
    if (ipcshm_channel_open(open_.c_str(), IPCSHM_SENDER, &ch) != -EBUSY) return 4;
    if (ipcshm_channel_open(open_.c_str(), IPCSHM_RECEIVER, &ch) != 0) return 5;
    if (ipcshm_channel_info(open_.c_str(), &info) != 0 || info.receiver != IPCSHM_END_OPEN)
      return 6;
    opened.put_byte();
    char buf[8];
    uint64_t len;
    if (ipcshm_channel_recv(ch, buf, sizeof buf, &len, 10'000 * kMs) != 0) return 7;
    return ipcshm_channel_close(ch) == 0 ? 0 : 8;
  });
  if (opened.get_byte()) {
    EXPECT_EQ(0, ipcshm_channel_send(b.get(), "hi", 2, 0));
  }
  const int st = other.wait();
  EXPECT_TRUE(exited_with(st, 0)) << testutil::describe_status(st);
}

TEST(ChannelBadInput, AReadLockSquattingARoleNeitherHidesADeathNorPassesForAnEnd) {
  // Anyone who may read the object can take a read lock on a role's byte.
  const std::string id = unique_name("chsquat");
  RemoveGuard rm(id);
  ChannelGuard tx;
  ASSERT_EQ(1, ipcshm_channel_create(id.c_str(), 8, 1, 0644, 0, IPCSHM_SENDER, tx.out()));
  testutil::Pipe ready;
  Child receiver([&] {
    ipcshm_channel_t* rx = nullptr;
    if (ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx) != 0) return 1;
    ready.put_byte();
    ::pause();
    return 0;
  });
  ASSERT_TRUE(ready.get_byte());
  ::kill(receiver.pid(), SIGKILL);
  receiver.wait();
  // The squatter: read-only, a read lock on byte 1 (the receiver's).
  const int fd = ::open(("/dev/shm" + id).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock l = {};
  l.l_type = F_RDLCK;
  l.l_whence = SEEK_SET;
  l.l_start = layout::kReceiverLockByte;
  l.l_len = 1;
  ASSERT_EQ(0, ::fcntl(fd, F_OFD_SETLK, &l));
  ASSERT_EQ(0, ipcshm_channel_send(tx.get(), "a", 1, 0));
  EXPECT_EQ(-EPIPE, ipcshm_channel_send(tx.get(), "b", 1, 5000 * kMs))
      << "the dead receiver is seen through the squatter's lock";
  ipcshm_channel_t* rx = nullptr;
  EXPECT_FAILS(-EBUSY, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, &rx));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "read lock")) << ipcshm_last_error();
  ::close(fd);
  ChannelGuard rx2;
  EXPECT_EQ(0, ipcshm_channel_open(id.c_str(), IPCSHM_RECEIVER, rx2.out()));
}

TEST(ChannelBadInput, APlainObjectIsNotAChannel) {
  const std::string id = unique_name("plain");
  RemoveGuard rm(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 4096, 0600, 0, h.out()));
  std::memset(ipcshm_pointer(h.get()), 0x77, 4096);
  ipcshm_channel_t* ch = nullptr;
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "not a channel")) << ipcshm_last_error();
  // All zero: waited for (its creator might be writing the header), then refused.
  std::memset(ipcshm_pointer(h.get()), 0, 4096);
  const int64_t t0 = now_ns();
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_open(id.c_str(), IPCSHM_SENDER, &ch));
  EXPECT_GE(now_ns() - t0, 900 * kMs);
  // Too small to hold a header.
  const std::string tiny = unique_name("tiny");
  RemoveGuard rm2(tiny);
  HandleGuard t;
  ASSERT_EQ(1, ipcshm_create(tiny.c_str(), 10, 0600, 0, t.out()));
  EXPECT_FAILS(-EBADMSG, ipcshm_channel_open(tiny.c_str(), IPCSHM_SENDER, &ch));
  EXPECT_EQ(nullptr, ch);
}

}  // namespace
