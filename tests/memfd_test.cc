// memfd objects ("memfd:label"): created anonymous, sealed against shrinking,
// reached by descriptor only; perms, templates and page flags as for the other
// kinds; nothing left once the last handle and descriptor are gone.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <fstream>

#include "test_util.hpp"

using namespace testutil;

namespace {

// True if /proc/self/maps shows a mapping of the memfd with this label.
bool mapped(const std::string& id) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const std::string needle = "/" + id + " (deleted)";
  while (std::getline(maps, line))
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

// mincore: every page of the range is resident.
bool all_resident(void* p, uint64_t size) {
  const long page = sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> vec((size + page - 1) / page);
  if (mincore(p, size, vec.data()) != 0) return false;
  for (unsigned char v : vec)
    if (!(v & 1)) return false;
  return true;
}

}  // namespace

TEST(Memfd, CreateMapsZeroedMemoryAndReportsTheObject) {
  const int fds_before = open_fd_count();
  {
    HandleGuard h;
    ASSERT_EQ(1, ipcshm_create("memfd:sensor", 5000, 0640, 0, h.out())) << ipcshm_last_error();
    EXPECT_EQ("memfd:sensor", id_of(h.get()));
    EXPECT_EQ(5000u, ipcshm_size(h.get()));
    EXPECT_TRUE(is_zero(ipcshm_pointer(h.get()), 5000));
    ipcshm_info_t info = fresh_info();
    ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
    EXPECT_EQ(static_cast<uint32_t>(IPCSHM_KIND_MEMFD), info.kind);
    EXPECT_EQ(5000u, info.size);
    EXPECT_EQ(0640u, info.mode) << "perms exactly, whatever the umask";
    EXPECT_EQ(geteuid(), info.uid);
    EXPECT_EQ(0u, info.flags) << "never persistent";
    EXPECT_EQ(-1, info.shmid);
    EXPECT_EQ(-1, info.cpid);
    EXPECT_EQ(0u, info.nattch);
    EXPECT_TRUE(mapped("memfd:sensor"));
  }
  EXPECT_FALSE(mapped("memfd:sensor")) << "detached: no mapping left";
  EXPECT_EQ(fds_before, open_fd_count()) << "detached: no descriptor left";
}

TEST(Memfd, PermsAlwaysIncludeOwnerReadWrite) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:perm", 4096, 0, 0, h.out()));
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
  EXPECT_EQ(0600u, info.mode);
  HandleGuard bad;
  EXPECT_EQ(-EINVAL, ipcshm_create("memfd:perm", 4096, 01000, 0, bad.out()));
}

TEST(Memfd, TemplatesAreFilled) {
  HandleGuard a, b;
  ASSERT_EQ(1, ipcshm_create("memfd:job-XXXXXX", 4096, 0600, 0, a.out()));
  ASSERT_EQ(1, ipcshm_create("memfd:job-XXXXXX", 4096, 0600, 0, b.out()));
  const std::string ia = id_of(a.get()), ib = id_of(b.get());
  EXPECT_EQ(0u, ia.rfind("memfd:job-", 0));
  EXPECT_EQ(ia.size(), std::string("memfd:job-XXXXXX").size());
  EXPECT_EQ(std::string::npos, ia.find("XXXXXX"));
  EXPECT_NE(ia, ib);
  EXPECT_TRUE(mapped(ia));
}

TEST(Memfd, LabelsNeedNotBeUnique) {
  HandleGuard a, b;
  ASSERT_EQ(1, ipcshm_create("memfd:same", 4096, 0600, 0, a.out()));
  ASSERT_EQ(1, ipcshm_create("memfd:same", 4096, 0600, 0, b.out()));
  static_cast<char*>(ipcshm_pointer(a.get()))[0] = 1;
  EXPECT_EQ(0, static_cast<char*>(ipcshm_pointer(b.get()))[0]) << "two objects";
}

TEST(Memfd, SealedAgainstShrinkingFromCreation) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:seal", 8192, 0600, 0, h.out()));
  int fd = ipcshm_fd(h.get());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(F_SEAL_SHRINK, fcntl(fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW));
  EXPECT_EQ(-1, ftruncate(fd, 100)) << "nobody can truncate it under a mapping";
  EXPECT_EQ(EPERM, errno);
  close(fd);
}

TEST(Memfd, ForkedChildSharesTheMapping) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:fork", 4096, 0600, 0, h.out()));
  auto* p = static_cast<volatile char*>(ipcshm_pointer(h.get()));
  int status = run_in_child([&] {
    p[10] = 'c';
    return 0;
  });
  EXPECT_TRUE(exited_with(status, 0));
  EXPECT_EQ('c', p[10]);
}

TEST(Memfd, PageFlags) {
  HandleGuard pre;
  ASSERT_EQ(1, ipcshm_create("memfd:prefault", 64 * 1024, 0600, IPCSHM_PREFAULT, pre.out()));
  EXPECT_TRUE(all_resident(ipcshm_pointer(pre.get()), 64 * 1024));
  HandleGuard res;
  ASSERT_EQ(1, ipcshm_create("memfd:reserve", 64 * 1024, 0600, IPCSHM_RESERVE, res.out()))
      << ipcshm_last_error();
  int fd = ipcshm_fd(res.get());
  struct stat st;
  ASSERT_EQ(0, fstat(fd, &st));
  EXPECT_GE(st.st_blocks * 512, 64 * 1024) << "backing store reserved";
  close(fd);
  HandleGuard locked;
  int rc = ipcshm_create("memfd:locked", 16 * 1024, 0600, IPCSHM_LOCKED, locked.out());
  if (rc == -EPERM || rc == -ENOMEM) GTEST_SKIP() << ipcshm_last_error();
  ASSERT_EQ(1, rc) << ipcshm_last_error();
  if (!kUnderAsan) {
    EXPECT_TRUE(all_resident(ipcshm_pointer(locked.get()), 16 * 1024));
  }
}

TEST(Memfd, ReadOnlyCreateGivesReadOnlyMappingAndDescriptor) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:ro", 4096, 0600, IPCSHM_READONLY, h.out()));
  EXPECT_TRUE(is_zero(ipcshm_pointer(h.get()), 4096));
  int fd = ipcshm_fd(h.get());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
  close(fd);
  int status = status_of_write(ipcshm_pointer(h.get()));
  EXPECT_TRUE(killed_by(status, SIGSEGV)) << describe_status(status);
}

TEST(Memfd, FlagsThatDoNotApplyAreEINVAL) {
  HandleGuard h;
  EXPECT_EQ(-EINVAL, ipcshm_create("memfd:p", 4096, 0600, IPCSHM_PERSISTENT, h.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "IPCSHM_PERSISTENT"));
  EXPECT_EQ(-EINVAL, ipcshm_create("memfd:o", 4096, 0600, IPCSHM_OPEN_OR_CREATE, h.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "IPCSHM_OPEN_OR_CREATE"));
  EXPECT_EQ(-EINVAL, ipcshm_create("memfd:z", 0, 0600, 0, h.out()));
  EXPECT_EQ(nullptr, h.get());
}

TEST(Memfd, CallsByIdSayThatMemfdsTravelAsDescriptors) {
  ipcshm_info_t info = fresh_info();
  HandleGuard h;
  const std::vector<std::pair<const char*, int>> calls = {
      {"ipcshm_attach", ipcshm_attach("memfd:x", 0, h.out())},
      {"ipcshm_info", ipcshm_info("memfd:x", &info)},
      {"ipcshm_remove", ipcshm_remove("memfd:x")},
      {"ipcshm_chmod", ipcshm_chmod("memfd:x", 0600)},
  };
  for (const auto& [call, rc] : calls) {
    EXPECT_EQ(-EINVAL, rc) << call;
  }
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "descriptor")) << ipcshm_last_error();
  EXPECT_EQ(nullptr, h.get());
}

TEST(Memfd, SizeAboveTheLargestFileIsEINVAL) {
  HandleGuard h;
  EXPECT_EQ(-EINVAL, ipcshm_create("memfd:big", UINT64_MAX, 0600, 0, h.out()));
  EXPECT_EQ(nullptr, h.get());
}
