// The low-level System V calls, as InterProcessCommunication.jl has them:
// ipcshm_sysv_get (shmget), _attach (shmat), _detach (shmdt), _ctl (shmctl),
// _remove (shmrm), _shmid_ds_size and ipcshm_ftok. No lifetime management: each
// test removes what it made.
#include <gtest/gtest.h>

#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::RemoveGuard;
using testutil::sysv_exists;
using testutil::unique_key;

// Removes a segment by identifier when the test ends.
class ShmidGuard {
 public:
  explicit ShmidGuard(int32_t shmid = -1) : shmid_(shmid) {}
  ~ShmidGuard() {
    if (shmid_ >= 0) shmctl(shmid_, IPC_RMID, nullptr);
  }
  ShmidGuard(const ShmidGuard&) = delete;
  ShmidGuard& operator=(const ShmidGuard&) = delete;
  void reset(int32_t shmid) { shmid_ = shmid; }

 private:
  int32_t shmid_;
};

// Detaches a raw attachment when the test ends.
class AttachGuard {
 public:
  AttachGuard() = default;
  ~AttachGuard() {
    if (p_) shmdt(p_);
  }
  AttachGuard(const AttachGuard&) = delete;
  AttachGuard& operator=(const AttachGuard&) = delete;
  void** out() { return &p_; }
  void* get() const { return p_; }
  void* release() {
    void* p = p_;
    p_ = nullptr;
    return p;
  }

 private:
  void* p_ = nullptr;
};

struct shmid_ds stat_of(int32_t shmid) {
  struct shmid_ds ds;
  std::memset(&ds, 0, sizeof ds);
  EXPECT_EQ(0, shmctl(shmid, IPC_STAT, &ds)) << std::strerror(errno);
  return ds;
}

TEST(SysvGet, PrivateCreates) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(IPC_PRIVATE, 5000, IPC_CREAT | 0600, &shmid))
      << ipcshm_last_error();
  ShmidGuard g(shmid);
  ASSERT_GE(shmid, 0);
  struct shmid_ds ds = stat_of(shmid);
  EXPECT_EQ(5000u, ds.shm_segsz);
  EXPECT_EQ(0600u, ds.shm_perm.mode & 0777u);
  EXPECT_EQ(getpid(), ds.shm_cpid);
  EXPECT_EQ(0u, ds.shm_nattch);

  // A second IPC_PRIVATE is another segment.
  int32_t other = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &other)) << ipcshm_last_error();
  ShmidGuard g2(other);
  EXPECT_NE(shmid, other);
}

TEST(SysvGet, KeyExclusiveTwiceIsEexist) {
  const int32_t key = unique_key();
  RemoveGuard rg(testutil::key_id(key));
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(key, 4096, IPC_CREAT | IPC_EXCL | 0640, &shmid))
      << ipcshm_last_error();
  ShmidGuard g(shmid);
  EXPECT_EQ(shmid, shmget(key, 0, 0));
  EXPECT_EQ(0640u, stat_of(shmid).shm_perm.mode & 0777u);

  int32_t again = 4242;
  EXPECT_EQ(-EEXIST, ipcshm_sysv_get(key, 4096, IPC_CREAT | IPC_EXCL | 0640, &again));
  EXPECT_EQ(4242, again);  // untouched
  EXPECT_STRNE("", ipcshm_last_error());

  // Without IPC_EXCL, or without IPC_CREAT: the existing segment.
  int32_t found = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(key, 4096, IPC_CREAT | 0640, &found)) << ipcshm_last_error();
  EXPECT_EQ(shmid, found);
  found = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(key, 0, 0, &found)) << ipcshm_last_error();
  EXPECT_EQ(shmid, found);
  found = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(key, 100, 0, &found)) << ipcshm_last_error();
  EXPECT_EQ(shmid, found);

  // Asking for more than it has.
  EXPECT_EQ(-EINVAL, ipcshm_sysv_get(key, 8192, 0, &found));
  EXPECT_STRNE("", ipcshm_last_error());
}

TEST(SysvGet, MissingKeyWithoutCreateIsEnoent) {
  const int32_t key = unique_key();
  int32_t shmid = 777;
  EXPECT_EQ(-ENOENT, ipcshm_sysv_get(key, 4096, 0600, &shmid));
  EXPECT_EQ(777, shmid);
  EXPECT_STRNE("", ipcshm_last_error());
  EXPECT_EQ(-ENOENT, ipcshm_sysv_get(key, 0, 0, &shmid));
  EXPECT_GT(0, shmget(key, 0, 0));
}

TEST(SysvAttach, WriteThroughOneReadThroughAnother) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 8192, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);

  AttachGuard a, b;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, a.out())) << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, b.out())) << ipcshm_last_error();
  ASSERT_NE(nullptr, a.get());
  ASSERT_NE(nullptr, b.get());
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(2u, stat_of(shmid).shm_nattch);
  EXPECT_EQ(getpid(), stat_of(shmid).shm_lpid);

  auto* pa = static_cast<unsigned char*>(a.get());
  auto* pb = static_cast<unsigned char*>(b.get());
  for (int i = 0; i < 8192; ++i) EXPECT_EQ(0, pb[i]) << i;
  for (int i = 0; i < 8192; ++i) pa[i] = static_cast<unsigned char>(i * 7);
  bool same = true;
  for (int i = 0; i < 8192; ++i) same = same && pb[i] == static_cast<unsigned char>(i * 7);
  EXPECT_TRUE(same);
  pb[5] = 0xfe;
  EXPECT_EQ(0xfe, pa[5]);

  // A read-only attachment sees it too.
  AttachGuard ro;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 1, ro.out())) << ipcshm_last_error();
  EXPECT_EQ(0xfe, static_cast<unsigned char*>(ro.get())[5]);
  EXPECT_EQ(3u, stat_of(shmid).shm_nattch);

  EXPECT_EQ(0, ipcshm_sysv_detach(ro.release())) << ipcshm_last_error();
  EXPECT_EQ(0, ipcshm_sysv_detach(b.release())) << ipcshm_last_error();
  EXPECT_EQ(1u, stat_of(shmid).shm_nattch);
  void* p = a.release();
  EXPECT_EQ(0, ipcshm_sysv_detach(p)) << ipcshm_last_error();
  EXPECT_EQ(0u, stat_of(shmid).shm_nattch);
  EXPECT_EQ(-EINVAL, ipcshm_sysv_detach(p));  // not attached any more
}

TEST(SysvAttach, ReadonlyWriteFaults) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  AttachGuard ro;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 1, ro.out())) << ipcshm_last_error();
  auto* p = static_cast<unsigned char*>(ro.get());
  int status = testutil::run_in_child([p] {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGSEGV, SIG_DFL);  // not a sanitizer's handler: die of the signal
    signal(SIGBUS, SIG_DFL);
    *reinterpret_cast<volatile unsigned char*>(p) = 1;
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
  EXPECT_EQ(0, p[0]);
}

TEST(SysvCtl, ShmidDsSizeMatchesTheHeaders) {
  EXPECT_EQ(uint64_t{sizeof(struct shmid_ds)}, ipcshm_sysv_shmid_ds_size());
}

TEST(SysvCtl, StatIntoABufferOfShmidDsSize) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 12345, IPC_CREAT | 0640, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  AttachGuard a;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, a.out()));

  std::vector<unsigned char> buf(ipcshm_sysv_shmid_ds_size());
  ASSERT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_STAT, buf.data(), buf.size())) << ipcshm_last_error();
  struct shmid_ds ds;
  ASSERT_EQ(sizeof ds, buf.size());
  std::memcpy(&ds, buf.data(), sizeof ds);
  EXPECT_EQ(12345u, ds.shm_segsz);
  EXPECT_EQ(0640u, ds.shm_perm.mode & 0777u);
  EXPECT_EQ(1u, ds.shm_nattch);
  EXPECT_EQ(getpid(), ds.shm_cpid);
  EXPECT_EQ(geteuid(), ds.shm_perm.uid);

  // A larger buffer is fine too.
  std::vector<unsigned char> big(buf.size() + 100);
  EXPECT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_STAT, big.data(), big.size())) << ipcshm_last_error();
}

TEST(SysvCtl, SetChangesTheMode) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  struct shmid_ds ds;
  ASSERT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_STAT, &ds, sizeof ds)) << ipcshm_last_error();
  ds.shm_perm.mode = 0644;
  ASSERT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_SET, &ds, sizeof ds)) << ipcshm_last_error();
  EXPECT_EQ(0644u, stat_of(shmid).shm_perm.mode & 0777u);

  // ipcshm_info agrees.
  ipcshm_info_t info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  const std::string id = "shmid:" + std::to_string(shmid);
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(0644u, info.mode);
  EXPECT_EQ(4096u, info.size);
  EXPECT_EQ(shmid, info.shmid);
}

TEST(SysvCtl, RmidRemoves) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  EXPECT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_RMID, nullptr, 0)) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_sysv_remove(shmid)) << ipcshm_last_error();  // already removed
}

TEST(SysvCtl, RmidWhileAttachedKeepsTheMemoryUntilDetach) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  AttachGuard a;
  ASSERT_EQ(0, ipcshm_sysv_attach(shmid, 0, a.out())) << ipcshm_last_error();
  EXPECT_EQ(0, ipcshm_sysv_ctl(shmid, IPC_RMID, nullptr, 0)) << ipcshm_last_error();
  static_cast<unsigned char*>(a.get())[0] = 9;  // still mapped
  EXPECT_TRUE(stat_of(shmid).shm_perm.mode & SHM_DEST);
  EXPECT_EQ(0, ipcshm_sysv_detach(a.release())) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
}

TEST(SysvCtl, InfoCommands) {
  struct shminfo si;
  std::memset(&si, 0, sizeof si);
  int rc = ipcshm_sysv_ctl(0, IPC_INFO, &si, sizeof si);
  EXPECT_GE(rc, 0) << ipcshm_last_error();  // the highest index in use
  unsigned long long shmmax = 0;
  std::ifstream("/proc/sys/kernel/shmmax") >> shmmax;
  EXPECT_EQ(shmmax, static_cast<unsigned long long>(si.shmmax));

  struct shm_info sinfo;
  std::memset(&sinfo, 0, sizeof sinfo);
  EXPECT_GE(ipcshm_sysv_ctl(0, SHM_INFO, &sinfo, sizeof sinfo), 0) << ipcshm_last_error();
}

TEST(SysvCtl, LockAndUnlockTakeNoBuffer) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  int rc = ipcshm_sysv_ctl(shmid, SHM_LOCK, nullptr, 0);
  if (geteuid() != 0 && rc == -EPERM) GTEST_SKIP() << "SHM_LOCK needs privilege here";
  ASSERT_EQ(0, rc) << ipcshm_last_error();
  EXPECT_TRUE(stat_of(shmid).shm_perm.mode & SHM_LOCKED);
  ASSERT_EQ(0, ipcshm_sysv_ctl(shmid, SHM_UNLOCK, nullptr, 0)) << ipcshm_last_error();
  EXPECT_FALSE(stat_of(shmid).shm_perm.mode & SHM_LOCKED);
}

TEST(SysvRemove, TwiceIsZeroBothTimes) {
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(0, 4096, IPC_CREAT | 0600, &shmid)) << ipcshm_last_error();
  ShmidGuard g(shmid);
  EXPECT_EQ(0, ipcshm_sysv_remove(shmid)) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_sysv_remove(shmid)) << ipcshm_last_error();
}

TEST(SysvRemove, ByKeyMadeWithSysvGet) {
  const int32_t key = unique_key();
  RemoveGuard rg(testutil::key_id(key));
  int32_t shmid = -1;
  ASSERT_EQ(0, ipcshm_sysv_get(key, 4096, IPC_CREAT | IPC_EXCL | 0600, &shmid))
      << ipcshm_last_error();
  ShmidGuard g(shmid);
  // The high-level calls see a segment made by the low-level ones.
  ipcshm_info_t info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  ASSERT_EQ(0, ipcshm_info(testutil::key_id(key).c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(shmid, info.shmid);
  EXPECT_EQ(key, info.key);
  EXPECT_EQ(uint32_t{IPCSHM_PERSISTENT}, info.flags & IPCSHM_PERSISTENT);
  EXPECT_EQ(0, ipcshm_remove(testutil::key_id(key).c_str())) << ipcshm_last_error();
  EXPECT_FALSE(sysv_exists(shmid));
  EXPECT_EQ(0, ipcshm_sysv_remove(shmid));
}

TEST(Ftok, MatchesLibc) {
  for (int32_t proj : {1, 42, 255}) {
    int32_t key = 0;
    ASSERT_EQ(0, ipcshm_ftok("/tmp", proj, &key)) << ipcshm_last_error();
    EXPECT_EQ(ftok("/tmp", proj), key) << "proj " << proj;
  }
  int32_t key = 0;
  ASSERT_EQ(0, ipcshm_ftok("/", 7, &key)) << ipcshm_last_error();
  EXPECT_EQ(ftok("/", 7), key);
}

}  // namespace
