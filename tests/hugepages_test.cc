// IPCSHM_HUGEPAGES: System V (SHM_HUGETLB) and memfd (MFD_HUGETLB) objects take
// huge pages from the pool in /proc/sys/vm/nr_hugepages; POSIX objects get them
// only where /dev/shm is mounted with huge=. As root the tests raise the pool
// for their duration (and restore it); otherwise they skip, saying why, unless
// the pool already has the pages. An exhausted pool is -ENOMEM with a message
// that names the knob, pool or not.
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>

#include <fstream>

#include "test_util.hpp"

using namespace testutil;

namespace {

constexpr uint64_t kHuge = 2 * 1024 * 1024;  // checked against Hugepagesize below

long meminfo(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string k;
  long v = 0;
  while (in >> k) {
    if (k == key + ":") {
      in >> v;
      return v;
    }
    in.ignore(1 << 10, '\n');
  }
  return -1;
}

long available_pages() { return meminfo("HugePages_Free") - meminfo("HugePages_Rsvd"); }

long read_nr() {
  std::ifstream in("/proc/sys/vm/nr_hugepages");
  long v = -1;
  in >> v;
  return v;
}

bool write_nr(long n) {
  std::ofstream out("/proc/sys/vm/nr_hugepages");
  out << n << std::flush;
  return static_cast<bool>(out);
}

// One field ("KernelPageSize", "FilePmdMapped", ...) of the mapping that starts
// at addr, in kB; -1 if not found.
long smaps_field(const void* addr, const std::string& field) {
  std::ifstream in("/proc/self/smaps");
  char start[32];
  std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(addr));
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.find('-') != std::string::npos && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find(':') > line.find(' ')) {
      inside = line.rfind(start, 0) == 0;
      continue;
    }
    if (inside && line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

class HugePages : public ::testing::Test {
 protected:
  // Makes `pages` huge pages available, raising the pool as root; skips if it
  // cannot.
  void need(long pages) {
    if (meminfo("Hugepagesize") != static_cast<long>(kHuge / 1024))
      GTEST_SKIP() << "the default huge page is " << meminfo("Hugepagesize") << " kB, not 2048";
    const long have = available_pages();
    if (have >= pages) return;
    if (geteuid() != 0)
      GTEST_SKIP() << "needs " << pages << " free huge pages (" << have
                   << " available); as root the test raises /proc/sys/vm/nr_hugepages";
    original_ = read_nr();
    if (!write_nr(original_ + (pages - have)) || available_pages() < pages)
      GTEST_SKIP() << "could not raise /proc/sys/vm/nr_hugepages to "
                   << original_ + (pages - have) << " (memory too fragmented?)";
  }
  void TearDown() override {
    if (original_ >= 0) write_nr(original_);
  }

 private:
  long original_ = -1;
};

}  // namespace

TEST_F(HugePages, SystemVSegmentInHugePages) {
  need(2);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", kHuge + 1, 0600, IPCSHM_HUGEPAGES, h.out()))
      << ipcshm_last_error();
  EXPECT_EQ(kHuge + 1, ipcshm_size(h.get())) << "System V keeps the size asked for";
  auto* p = static_cast<char*>(ipcshm_pointer(h.get()));
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % kHuge);
  EXPECT_EQ(2048, smaps_field(p, "KernelPageSize"));
  fill_pattern(p, kHuge + 1, 77);
  const std::string id = id_of(h.get());
  int status = run_in_child([&] {
    ipcshm_t* a = nullptr;
    if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &a) != 0) return 10;
    int rc = has_pattern(ipcshm_pointer(a), kHuge + 1, 77) ? 0 : 11;
    ipcshm_detach(a);
    return rc;
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
}

TEST_F(HugePages, MemfdInHugePagesRoundsToWholePages) {
  need(3);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:huge", 1000, 0600, IPCSHM_HUGEPAGES, h.out()))
      << ipcshm_last_error();
  EXPECT_EQ(kHuge, ipcshm_size(h.get()));
  EXPECT_EQ(2048, smaps_field(ipcshm_pointer(h.get()), "KernelPageSize"));
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
  EXPECT_EQ(static_cast<uint32_t>(IPCSHM_HUGEPAGES), info.flags & IPCSHM_HUGEPAGES);
  EXPECT_EQ(kHuge, info.size);
  fill_pattern(ipcshm_pointer(h.get()), kHuge, 5);
  ASSERT_EQ(0, ipcshm_resize(h.get(), kHuge + 1)) << ipcshm_last_error();
  EXPECT_EQ(2 * kHuge, ipcshm_size(h.get()));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), kHuge, 5));
  int fd = ipcshm_fd(h.get());
  HandleGuard a;
  ASSERT_EQ(0, ipcshm_attach_fd(fd, 0, a.out())) << ipcshm_last_error();
  close(fd);
  EXPECT_EQ(2 * kHuge, ipcshm_size(a.get()));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(a.get()), kHuge, 5));
}

TEST_F(HugePages, PrefaultAndLockedWithHugePages) {
  need(2);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:huge-prefault", 2 * kHuge, 0600,
                             IPCSHM_HUGEPAGES | IPCSHM_PREFAULT | IPCSHM_LOCKED, h.out()))
      << ipcshm_last_error();
  // Populated at once: both huge pages are in (hugetlb pages show apart from Rss).
  void* p = ipcshm_pointer(h.get());
  EXPECT_EQ(2 * 2048, smaps_field(p, "Shared_Hugetlb") + smaps_field(p, "Private_Hugetlb"));
}

// A channel in huge pages: its descriptor's helper maps the header itself, in
// whole huge pages (a second mapping by mremap cannot be made of hugetlb).
TEST_F(HugePages, ChannelInHugePagesHasADescriptor) {
  need(2);
  ipcshm_channel_t* rx = nullptr;
  ASSERT_EQ(1, ipcshm_channel_create("memfd:huge-channel", 64, 4, 0600, IPCSHM_HUGEPAGES,
                                     IPCSHM_RECEIVER, &rx))
      << ipcshm_last_error();
  const ipcshm_t* h = nullptr;
  ASSERT_EQ(0, ipcshm_channel_handle(rx, &h));
  EXPECT_EQ(2048, smaps_field(ipcshm_pointer(h), "KernelPageSize"));
  const int rfd = ipcshm_channel_fd(rx);
  EXPECT_GE(rfd, 0) << ipcshm_last_error();
  const int ofd = ipcshm_fd(h);
  ASSERT_GE(ofd, 0) << ipcshm_last_error();
  int status = run_in_child([&] {
    ipcshm_channel_t* tx = nullptr;
    if (ipcshm_channel_open_fd(ofd, IPCSHM_SENDER, &tx) != 0) return 10;
    int rc = ipcshm_channel_send(tx, "huge", 4, 5'000'000'000) == 0 ? 0 : 11;
    ipcshm_channel_close(tx);
    return rc;
  });
  ::close(ofd);
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
  if (rfd >= 0) {
    struct pollfd pfd = {rfd, POLLIN, 0};
    EXPECT_EQ(1, ::poll(&pfd, 1, 5000));
    uint64_t v = 0;
    EXPECT_EQ(8, ::read(rfd, &v, sizeof v));
  }
  char buf[64];
  uint64_t len = 0;
  EXPECT_EQ(0, ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0)) << ipcshm_last_error();
  EXPECT_EQ("huge", std::string(buf, len));
  EXPECT_EQ(0, ipcshm_channel_close(rx));
  if (rfd >= 0) {
    char c;
    for (int i = 0; i < 100 && ::read(rfd, &c, 1) != 0; ++i) ::usleep(10'000);
    EXPECT_EQ(0, ::read(rfd, &c, 1)) << "the closed end's descriptor reads end of file";
    ::close(rfd);
  }
}

TEST(HugePagesExhausted, PoolTooSmallIsENOMEMNamingTheKnob) {
  const long pages = std::max(0L, available_pages()) + 1;
  for (const char* id : {"memfd:too-many", "private"}) {
    HandleGuard h;
    EXPECT_EQ(-ENOMEM, ipcshm_create(id, pages * kHuge, 0600, IPCSHM_HUGEPAGES, h.out())) << id;
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "/proc/sys/vm/nr_hugepages"))
        << ipcshm_last_error();
    EXPECT_EQ(nullptr, h.get());
  }
}

TEST(HugePagesPosix, NeedsAMountWithHugeOption) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, options;
  while (std::getline(in, line))
    if (line.find(" /dev/shm ") != std::string::npos) options = line;
  if (options.find("huge=") != std::string::npos && options.find("huge=never") == std::string::npos)
    GTEST_SKIP() << "/dev/shm is mounted with huge pages here";
  const std::string name = unique_name("huge");
  RemoveGuard rg(name);
  HandleGuard h;
  EXPECT_EQ(-EOPNOTSUPP, ipcshm_create(name.c_str(), kHuge, 0600, IPCSHM_HUGEPAGES, h.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "huge=")) << ipcshm_last_error();
  EXPECT_FALSE(posix_exists(name));
}

TEST(HugePagesPosix, WorksWhereDevShmIsMountedWithHugeWithinSize) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs in a private namespace";
  // In a child with a mount namespace of its own: /dev/shm as the admin would
  // remount it, invisible to the rest of the machine.
  int status = run_in_child([] {
    if (unshare(CLONE_NEWNS) != 0) return 20;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 21;
    if (mount("tmpfs", "/dev/shm", "tmpfs", 0, "huge=within_size,size=64m") != 0) return 22;
    ipcshm_t* h = nullptr;
    int rc = ipcshm_create("/huge-within-size", 4 * kHuge, 0600,
                           IPCSHM_HUGEPAGES | IPCSHM_PREFAULT, &h);
    if (rc != 1) {
      std::fprintf(stderr, "create: %s\n", ipcshm_last_error());
      return 23;
    }
    const long pmd = std::max(smaps_field(ipcshm_pointer(h), "ShmemPmdMapped"),
                              smaps_field(ipcshm_pointer(h), "FilePmdMapped"));
    std::fprintf(stderr, "PMD-mapped: %ld kB of %llu\n", pmd,
                 static_cast<unsigned long long>(4 * kHuge / 1024));
    ipcshm_detach(h);
    return pmd > 0 ? 0 : 24;
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) >= 20 && WEXITSTATUS(status) <= 22)
    GTEST_SKIP() << "no private mount namespace here (step " << WEXITSTATUS(status) - 20 << ")";
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status)
                                      << " (24: no huge page mapped)";
}
