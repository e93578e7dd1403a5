// libipcshm benchmarks (Google Benchmark): the C API against the raw system
// calls it wraps and against Boost.Interprocess, in one process and one run.
//
// Run through bench/run, which interleaves the repetitions of every benchmark
// (--benchmark_enable_random_interleaving) so that a machine whose load changes
// during the run affects all variants alike, and prints medians and ratios.
//
// Names: BM_<group>_<variant>/<arg>. bench/report.py pairs them into ratios.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#if IPCSHM_BENCH_BOOST
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
namespace bip = boost::interprocess;
#endif

#include "ipcshm.h"

namespace {

constexpr int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
constexpr size_t kPage = 4096;

// Every name carries the pid: concurrent runs and other users never collide.
std::string g_prefix;
std::string name(const char* tag) { return g_prefix + "_" + tag; }

inline void touch(void* p) {
  static_cast<volatile unsigned char*>(p)[0] = 1;
}

// One byte per 4 KiB page: the first pass faults every page in.
inline void touch_pages(void* p, size_t size) {
  auto* b = static_cast<volatile unsigned char*>(p);
  for (size_t off = 0; off < size; off += kPage) b[off] = 1;
}

#define BENCH_CHECK(st, cond, what)                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      char msg_[512];                                                               \
      std::snprintf(msg_, sizeof msg_, "%s: %s / %s", what, std::strerror(errno),  \
                    ipcshm_last_error());                                           \
      (st).SkipWithError(msg_);                                                     \
      return;                                                                       \
    }                                                                               \
  } while (0)

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------
// create -> map -> touch one byte -> unmap -> remove

void BM_cycle_raw_posix(benchmark::State& st) {
  const size_t size = static_cast<size_t>(st.range(0));
  const std::string n = name("cycle_raw");
  for (auto _ : st) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    BENCH_CHECK(st, fd >= 0, "shm_open");
    BENCH_CHECK(st, ::ftruncate(fd, static_cast<off_t>(size)) == 0, "ftruncate");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    BENCH_CHECK(st, p != MAP_FAILED, "mmap");
    touch(p);
    ::munmap(p, size);
    ::close(fd);
    ::shm_unlink(n.c_str());
  }
}

// The raw cycle plus the check that applies the perms exactly whatever the
// umask (SPEC §3): an fstat(2), and fchmod(2) only if the umask narrowed the
// mode (not here: umask 022, perms 0600). The floor of a persistent create.
void BM_cycle_rawfchmod_posix(benchmark::State& st) {
  const size_t size = static_cast<size_t>(st.range(0));
  const std::string n = name("cycle_raw");
  for (auto _ : st) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    BENCH_CHECK(st, fd >= 0, "shm_open");
    struct stat sb;
    ::fstat(fd, &sb);
    if ((sb.st_mode & 07777) != 0600) ::fchmod(fd, 0600);
    BENCH_CHECK(st, ::ftruncate(fd, static_cast<off_t>(size)) == 0, "ftruncate");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    BENCH_CHECK(st, p != MAP_FAILED, "mmap");
    touch(p);
    ::munmap(p, size);
    ::close(fd);
    ::shm_unlink(n.c_str());
  }
}

// The system calls of the volatile lifetime protocol (SPEC §4), written out raw:
// sticky mode, shared flock and a link check at create; at detach an exclusive
// flock, stat of the name and unlink by the last user. The floor of a volatile
// create.
void BM_cycle_rawproto_posix(benchmark::State& st) {
  const size_t size = static_cast<size_t>(st.range(0));
  const std::string n = name("cycle_raw");
  const std::string path = "/dev/shm" + n;
  for (auto _ : st) {
    int fd = ::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600 | S_ISVTX);
    BENCH_CHECK(st, fd >= 0, "shm_open");
    struct stat s;
    ::flock(fd, LOCK_SH);
    ::fstat(fd, &s);
    BENCH_CHECK(st, ::ftruncate(fd, static_cast<off_t>(size)) == 0, "ftruncate");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    BENCH_CHECK(st, p != MAP_FAILED, "mmap");
    touch(p);
    ::munmap(p, size);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::stat(path.c_str(), &s) == 0) ::shm_unlink(n.c_str());
    ::close(fd);
  }
}

void cycle_ipcshm_posix(benchmark::State& st, uint32_t flags) {
  const uint64_t size = static_cast<uint64_t>(st.range(0));
  const std::string n = name("cycle_lib");
  const bool persistent = flags & IPCSHM_PERSISTENT;
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create(n.c_str(), size, 0600, flags, &h) == 1, "ipcshm_create");
    touch(ipcshm_pointer(h));
    ipcshm_detach(h);  // volatile: the last user, so this removes it
    if (persistent) ipcshm_remove(n.c_str());
  }
}
void BM_cycle_ipcshm_posix_persistent(benchmark::State& st) {
  cycle_ipcshm_posix(st, IPCSHM_PERSISTENT);
}
void BM_cycle_ipcshm_posix_volatile(benchmark::State& st) { cycle_ipcshm_posix(st, 0); }

void BM_cycle_raw_sysv(benchmark::State& st) {
  const size_t size = static_cast<size_t>(st.range(0));
  for (auto _ : st) {
    int id = ::shmget(IPC_PRIVATE, size, IPC_CREAT | IPC_EXCL | 0600);
    BENCH_CHECK(st, id >= 0, "shmget");
    void* p = ::shmat(id, nullptr, 0);
    BENCH_CHECK(st, p != reinterpret_cast<void*>(-1), "shmat");
    touch(p);
    ::shmdt(p);
    ::shmctl(id, IPC_RMID, nullptr);
  }
}

void BM_cycle_ipcshm_sysv_persistent(benchmark::State& st) {
  const uint64_t size = static_cast<uint64_t>(st.range(0));
  char id[32];
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create("private", size, 0600, IPCSHM_PERSISTENT, &h) == 1,
                "ipcshm_create");
    std::strncpy(id, ipcshm_id(h), sizeof id - 1);
    id[sizeof id - 1] = 0;
    touch(ipcshm_pointer(h));
    ipcshm_detach(h);
    ipcshm_remove(id);
  }
}

void BM_cycle_ipcshm_sysv_volatile(benchmark::State& st) {
  const uint64_t size = static_cast<uint64_t>(st.range(0));
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create("private", size, 0600, 0, &h) == 1, "ipcshm_create");
    touch(ipcshm_pointer(h));
    ipcshm_detach(h);  // IPC_RMID was done at create: the last detach destroys it
  }
}

#if IPCSHM_BENCH_BOOST
void BM_cycle_boost_posix(benchmark::State& st) {
  const size_t size = static_cast<size_t>(st.range(0));
  const std::string n = name("cycle_boost");
  try {
    for (auto _ : st) {
      {
        bip::shared_memory_object shm(bip::create_only, n.c_str(), bip::read_write,
                                      bip::permissions(0600));
        shm.truncate(static_cast<bip::offset_t>(size));
        bip::mapped_region region(shm, bip::read_write);
        touch(region.get_address());
      }
      bip::shared_memory_object::remove(n.c_str());
    }
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}
#endif

// ---------------------------------------------------------------------------
// attach an existing object -> detach

// Objects made once in main(), before any benchmark runs.
struct Fixtures {
  std::string posix_4k, posix_1m, volatile_4k;
  ipcshm_t* volatile_holder = nullptr;  // keeps volatile_4k alive
  ipcshm_t* pointer_handle = nullptr;
  int sysv_shmid = -1;
  std::string sysv_id;
} g_fx;

const std::string& attach_name(int64_t size) {
  return size == 4 * KiB ? g_fx.posix_4k : g_fx.posix_1m;
}

void BM_attach_raw_posix(benchmark::State& st) {
  const std::string& n = attach_name(st.range(0));
  for (auto _ : st) {
    int fd = ::shm_open(n.c_str(), O_RDWR, 0);
    BENCH_CHECK(st, fd >= 0, "shm_open");
    struct stat s;
    ::fstat(fd, &s);
    void* p = ::mmap(nullptr, static_cast<size_t>(s.st_size), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    BENCH_CHECK(st, p != MAP_FAILED, "mmap");
    benchmark::DoNotOptimize(p);
    ::munmap(p, static_cast<size_t>(s.st_size));
    ::close(fd);
  }
}

void BM_attach_ipcshm_posix(benchmark::State& st) {
  const std::string& n = attach_name(st.range(0));
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_attach(n.c_str(), 0, &h) == 0, "ipcshm_attach");
    benchmark::DoNotOptimize(h);
    ipcshm_detach(h);
  }
}

// A volatile object (its creator still holds it): the lock protocol of SPEC §4.
void BM_attach_ipcshm_posix_volatile(benchmark::State& st) {
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_attach(g_fx.volatile_4k.c_str(), 0, &h) == 0, "ipcshm_attach");
    benchmark::DoNotOptimize(h);
    ipcshm_detach(h);
  }
}

#if IPCSHM_BENCH_BOOST
void BM_attach_boost_posix(benchmark::State& st) {
  const std::string& n = attach_name(st.range(0));
  try {
    for (auto _ : st) {
      bip::shared_memory_object shm(bip::open_only, n.c_str(), bip::read_write);
      bip::mapped_region region(shm, bip::read_write);
      benchmark::DoNotOptimize(region.get_address());
    }
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}
#endif

// The size has to be known to map: IPC_STAT, then shmat/shmdt.
void BM_attach_raw_sysv(benchmark::State& st) {
  for (auto _ : st) {
    struct shmid_ds ds;
    BENCH_CHECK(st, ::shmctl(g_fx.sysv_shmid, IPC_STAT, &ds) == 0, "shmctl");
    void* p = ::shmat(g_fx.sysv_shmid, nullptr, 0);
    BENCH_CHECK(st, p != reinterpret_cast<void*>(-1), "shmat");
    benchmark::DoNotOptimize(p);
    ::shmdt(p);
  }
}

void BM_attach_ipcshm_sysv(benchmark::State& st) {
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_attach(g_fx.sysv_id.c_str(), 0, &h) == 0, "ipcshm_attach");
    benchmark::DoNotOptimize(h);
    ipcshm_detach(h);
  }
}

// ---------------------------------------------------------------------------
// information, pointer

void BM_info_raw_posix(benchmark::State& st) {
  const std::string path = "/dev/shm" + g_fx.posix_4k;
  for (auto _ : st) {
    struct stat s;
    BENCH_CHECK(st, ::stat(path.c_str(), &s) == 0, "stat");
    benchmark::DoNotOptimize(s);
  }
}

void BM_info_ipcshm_posix(benchmark::State& st) {
  for (auto _ : st) {
    ipcshm_info_t info;
    info.struct_size = sizeof info;
    BENCH_CHECK(st, ipcshm_info(g_fx.posix_4k.c_str(), &info) == 0, "ipcshm_info");
    benchmark::DoNotOptimize(info);
  }
}

void BM_info_raw_sysv(benchmark::State& st) {
  for (auto _ : st) {
    struct shmid_ds ds;
    BENCH_CHECK(st, ::shmctl(g_fx.sysv_shmid, IPC_STAT, &ds) == 0, "shmctl");
    benchmark::DoNotOptimize(ds);
  }
}

void BM_info_ipcshm_sysv(benchmark::State& st) {
  for (auto _ : st) {
    ipcshm_info_t info;
    info.struct_size = sizeof info;
    BENCH_CHECK(st, ipcshm_info(g_fx.sysv_id.c_str(), &info) == 0, "ipcshm_info");
    benchmark::DoNotOptimize(info);
  }
}

void BM_handleinfo_raw_posix(benchmark::State& st) {
  int fd = ::shm_open(g_fx.posix_4k.c_str(), O_RDONLY, 0);
  BENCH_CHECK(st, fd >= 0, "shm_open");
  for (auto _ : st) {
    struct stat s;
    ::fstat(fd, &s);
    benchmark::DoNotOptimize(s);
  }
  ::close(fd);
}

void BM_handleinfo_ipcshm_posix(benchmark::State& st) {
  for (auto _ : st) {
    ipcshm_info_t info;
    info.struct_size = sizeof info;
    ipcshm_handle_info(g_fx.pointer_handle, &info);
    benchmark::DoNotOptimize(info);
  }
}

// One call; with 2 threads, both hammer the registry's shared lock.
void BM_pointer_ipcshm(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(ipcshm_pointer(g_fx.pointer_handle));
}

// ---------------------------------------------------------------------------
// first touch of 1 GiB (manual time: the create/map and the touching pass)

void BM_touch1g_posix_default(benchmark::State& st) {
  const std::string n = name("touch");
  for (auto _ : st) {
    auto t0 = Clock::now();
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create(n.c_str(), GiB, 0600, IPCSHM_PERSISTENT, &h) == 1,
                "ipcshm_create");
    touch_pages(ipcshm_pointer(h), GiB);
    st.SetIterationTime(seconds_since(t0));
    ipcshm_detach(h);
    ipcshm_remove(n.c_str());
  }
}

void BM_touch1g_posix_prefault(benchmark::State& st) {
  const std::string n = name("touch");
  for (auto _ : st) {
    auto t0 = Clock::now();
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st,
                ipcshm_create(n.c_str(), GiB, 0600, IPCSHM_PERSISTENT | IPCSHM_PREFAULT,
                              &h) == 1,
                "ipcshm_create");
    touch_pages(ipcshm_pointer(h), GiB);
    st.SetIterationTime(seconds_since(t0));
    ipcshm_detach(h);
    ipcshm_remove(n.c_str());
  }
}

// Through the library, by flags (since 1.1): memfd and System V objects, 4 KiB
// pages or IPCSHM_HUGEPAGES, with or without IPCSHM_PREFAULT.
void lib_touch(benchmark::State& st, const char* id, uint32_t flags) {
  for (auto _ : st) {
    auto t0 = Clock::now();
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create(id, GiB, 0600, flags, &h) == 1,
                (flags & IPCSHM_HUGEPAGES) ? "ipcshm_create(IPCSHM_HUGEPAGES) (huge pages "
                                             "unavailable: raise /proc/sys/vm/nr_hugepages)"
                                           : "ipcshm_create");
    touch_pages(ipcshm_pointer(h), GiB);
    st.SetIterationTime(seconds_since(t0));
    ipcshm_detach(h);
  }
}
void BM_touch1g_memfd_default(benchmark::State& st) { lib_touch(st, "memfd:bench", 0); }
void BM_touch1g_memfd_prefault(benchmark::State& st) {
  lib_touch(st, "memfd:bench", IPCSHM_PREFAULT);
}
void BM_touch1g_memfd_hugepages(benchmark::State& st) {
  lib_touch(st, "memfd:bench", IPCSHM_HUGEPAGES);
}
void BM_touch1g_memfd_hugepages_prefault(benchmark::State& st) {
  lib_touch(st, "memfd:bench", IPCSHM_HUGEPAGES | IPCSHM_PREFAULT);
}
void BM_touch1g_sysv_lib_hugepages(benchmark::State& st) {
  lib_touch(st, "private", IPCSHM_HUGEPAGES);
}

// System V with 4 KiB pages: the like-for-like reference of the huge page run.
void sysv_touch(benchmark::State& st, int extra_flags) {
  for (auto _ : st) {
    auto t0 = Clock::now();
    int id = ::shmget(IPC_PRIVATE, GiB, IPC_CREAT | IPC_EXCL | 0600 | extra_flags);
    BENCH_CHECK(st, id >= 0,
                extra_flags ? "shmget(SHM_HUGETLB) (huge pages unavailable: raise "
                              "/proc/sys/vm/nr_hugepages)"
                            : "shmget");
    void* p = ::shmat(id, nullptr, 0);
    if (p == reinterpret_cast<void*>(-1)) ::shmctl(id, IPC_RMID, nullptr);
    BENCH_CHECK(st, p != reinterpret_cast<void*>(-1), "shmat");
    touch_pages(p, GiB);
    st.SetIterationTime(seconds_since(t0));
    ::shmdt(p);
    ::shmctl(id, IPC_RMID, nullptr);
  }
}
void BM_touch1g_sysv_default(benchmark::State& st) { sysv_touch(st, 0); }
void BM_touch1g_sysv_hugetlb(benchmark::State& st) {
  // The first use of freshly reserved huge pages is slow in a virtual machine
  // (the host backs the guest's memory on first touch): warm them up once.
  static bool warmed = [] {
    int id = ::shmget(IPC_PRIVATE, GiB, IPC_CREAT | IPC_EXCL | 0600 | SHM_HUGETLB);
    if (id < 0) return false;
    void* p = ::shmat(id, nullptr, 0);
    if (p != reinterpret_cast<void*>(-1)) {
      touch_pages(p, GiB);
      ::shmdt(p);
    }
    ::shmctl(id, IPC_RMID, nullptr);
    return true;
  }();
  (void)warmed;
  sysv_touch(st, SHM_HUGETLB);
}

// The pages are there: a second pass of the same loop, and a memset of the
// whole GiB (memory bandwidth).
void second_pass(benchmark::State& st, bool full) {
  const std::string n = name("touch2");
  ipcshm_t* h = nullptr;
  BENCH_CHECK(st, ipcshm_create(n.c_str(), GiB, 0600, IPCSHM_PERSISTENT, &h) == 1,
              "ipcshm_create");
  void* p = ipcshm_pointer(h);
  touch_pages(p, GiB);
  unsigned char v = 2;
  for (auto _ : st) {
    auto t0 = Clock::now();
    if (full) {
      std::memset(p, v++, GiB);
      benchmark::ClobberMemory();
    } else {
      touch_pages(p, GiB);
    }
    st.SetIterationTime(seconds_since(t0));
  }
  if (full) st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * GiB);
  ipcshm_detach(h);
  ipcshm_remove(n.c_str());
}
void BM_touch1g_second_pass(benchmark::State& st) { second_pass(st, false); }
void BM_touch1g_memset(benchmark::State& st) { second_pass(st, true); }

// ---------------------------------------------------------------------------
// scale: attach + detach of one object while N others are attached

struct LiveSet {
  std::vector<ipcshm_t*> handles;
  std::vector<std::string> names;
  bool ok = true;
  explicit LiveSet(int64_t n) {
    handles.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      names.push_back(g_prefix + "_live_" + std::to_string(i));
      ipcshm_t* h = nullptr;
      if (ipcshm_create(names.back().c_str(), 4 * KiB, 0600, IPCSHM_PERSISTENT, &h) != 1) {
        std::fprintf(stderr, "live set: %s\n", ipcshm_last_error());
        ok = false;
        names.pop_back();
        break;
      }
      handles.push_back(h);
    }
  }
  ~LiveSet() {
    for (auto* h : handles) ipcshm_detach(h);
    for (auto& n : names) ipcshm_remove(n.c_str());
  }
};

void BM_scale_ipcshm(benchmark::State& st) {
  LiveSet live(st.range(0));
  BENCH_CHECK(st, live.ok, "creating the live objects (RLIMIT_NOFILE?)");
  for (auto _ : st) {
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_attach(g_fx.posix_4k.c_str(), 0, &h) == 0, "ipcshm_attach");
    benchmark::DoNotOptimize(h);
    ipcshm_detach(h);
  }
}

void BM_scale_raw(benchmark::State& st) {
  LiveSet live(st.range(0));
  BENCH_CHECK(st, live.ok, "creating the live objects (RLIMIT_NOFILE?)");
  const std::string& n = g_fx.posix_4k;
  for (auto _ : st) {
    int fd = ::shm_open(n.c_str(), O_RDWR, 0);
    BENCH_CHECK(st, fd >= 0, "shm_open");
    struct stat s;
    ::fstat(fd, &s);
    void* p = ::mmap(nullptr, static_cast<size_t>(s.st_size), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    benchmark::DoNotOptimize(p);
    ::munmap(p, static_cast<size_t>(s.st_size));
    ::close(fd);
  }
}

void BM_scale_pointer(benchmark::State& st) {
  LiveSet live(st.range(0));
  BENCH_CHECK(st, live.ok, "creating the live objects (RLIMIT_NOFILE?)");
  for (auto _ : st) benchmark::DoNotOptimize(ipcshm_pointer(g_fx.pointer_handle));
}

// ---------------------------------------------------------------------------
// create time against size (lazy: must not grow with it)

void BM_create_posix(benchmark::State& st) {
  const uint64_t size = static_cast<uint64_t>(st.range(0));
  const std::string n = name("big");
  for (auto _ : st) {
    auto t0 = Clock::now();
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create(n.c_str(), size, 0600, IPCSHM_PERSISTENT, &h) == 1,
                "ipcshm_create");
    st.SetIterationTime(seconds_since(t0));
    ipcshm_detach(h);
    ipcshm_remove(n.c_str());
  }
}

void BM_create_sysv(benchmark::State& st) {
  const uint64_t size = static_cast<uint64_t>(st.range(0));
  for (auto _ : st) {
    auto t0 = Clock::now();
    ipcshm_t* h = nullptr;
    BENCH_CHECK(st, ipcshm_create("private", size, 0600, 0, &h) == 1, "ipcshm_create");
    st.SetIterationTime(seconds_since(t0));
    ipcshm_detach(h);
  }
}

// ---------------------------------------------------------------------------
// cross-process round trip: 64-byte message and a sequence number each way

struct alignas(64) Mailbox {
  std::atomic<uint64_t> ping;
  char msg[64 - sizeof(std::atomic<uint64_t>)];
  alignas(64) char payload[64];
  alignas(64) std::atomic<uint64_t> pong;
  alignas(64) char reply[64];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
constexpr uint64_t kStop = ~uint64_t{0};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins; yields after a while so that two spinners sharing one core still progress.
inline uint64_t wait_change(const std::atomic<uint64_t>& a, uint64_t old) {
  uint64_t v;
  unsigned spins = 0;
  while ((v = a.load(std::memory_order_acquire)) == old) {
    if (++spins < 2000)
      cpu_relax();
    else
      ::sched_yield();
  }
  return v;
}

void BM_roundtrip_shm(benchmark::State& st) {
  const std::string n = name("rt");
  ipcshm_t* h = nullptr;
  BENCH_CHECK(st, ipcshm_create(n.c_str(), sizeof(Mailbox), 0600, 0, &h) == 1,
              "ipcshm_create");
  auto* box = new (ipcshm_pointer(h)) Mailbox{};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never left spinning
    ipcshm_t* c = nullptr;
    if (ipcshm_attach(n.c_str(), 0, &c) != 0) ::_exit(1);
    auto* b = static_cast<Mailbox*>(ipcshm_pointer(c));
    uint64_t seen = 0;
    for (;;) {
      seen = wait_change(b->ping, seen);
      if (seen == kStop) break;
      std::memcpy(b->reply, b->payload, sizeof b->reply);
      b->pong.store(seen, std::memory_order_release);
    }
    ipcshm_detach(c);
    ::_exit(0);
  }
  BENCH_CHECK(st, pid > 0, "fork");
  char out[64], in[64];
  std::memset(out, 'x', sizeof out);
  uint64_t seq = 0;
  for (auto _ : st) {
    ++seq;
    std::memcpy(box->payload, out, sizeof out);
    box->ping.store(seq, std::memory_order_release);
    wait_change(box->pong, seq - 1);
    std::memcpy(in, box->reply, sizeof in);
    benchmark::DoNotOptimize(in);
  }
  box->ping.store(kStop, std::memory_order_release);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ipcshm_detach(h);
}

// Reference: the same exchange through two pipes (the kernel wakes the reader).
void BM_roundtrip_pipe(benchmark::State& st) {
  int to_child[2], to_parent[2];
  BENCH_CHECK(st, ::pipe(to_child) == 0 && ::pipe(to_parent) == 0, "pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(to_child[1]);  // or the read below never sees the end
    ::close(to_parent[0]);
    char buf[64];
    while (::read(to_child[0], buf, sizeof buf) == static_cast<ssize_t>(sizeof buf))
      if (::write(to_parent[1], buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) break;
    ::_exit(0);
  }
  ::close(to_child[0]);
  ::close(to_parent[1]);
  BENCH_CHECK(st, pid > 0, "fork");
  char out[64], in[64];
  std::memset(out, 'x', sizeof out);
  for (auto _ : st) {
    if (::write(to_child[1], out, sizeof out) != static_cast<ssize_t>(sizeof out) ||
        ::read(to_parent[0], in, sizeof in) != static_cast<ssize_t>(sizeof in)) {
      st.SkipWithError("pipe I/O");
      break;
    }
    benchmark::DoNotOptimize(in);
  }
  ::close(to_child[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(to_parent[0]);
}

// ---------------------------------------------------------------------------

int big_reps = 5;

void register_all() {
#define REG(fn) benchmark::RegisterBenchmark(#fn, fn)
  for (auto* b : {REG(BM_cycle_raw_posix), REG(BM_cycle_rawfchmod_posix),
                  REG(BM_cycle_rawproto_posix), REG(BM_cycle_ipcshm_posix_persistent),
                  REG(BM_cycle_ipcshm_posix_volatile), REG(BM_cycle_raw_sysv),
                  REG(BM_cycle_ipcshm_sysv_persistent), REG(BM_cycle_ipcshm_sysv_volatile),
#if IPCSHM_BENCH_BOOST
                  REG(BM_cycle_boost_posix),
#endif
                  REG(BM_attach_raw_posix), REG(BM_attach_ipcshm_posix),
#if IPCSHM_BENCH_BOOST
                  REG(BM_attach_boost_posix),
#endif
       })
    b->Arg(4 * KiB)->Arg(1 * MiB);
  REG(BM_attach_ipcshm_posix_volatile)->Arg(4 * KiB);
  REG(BM_attach_raw_sysv)->Arg(4 * KiB);
  REG(BM_attach_ipcshm_sysv)->Arg(4 * KiB);
  REG(BM_info_raw_posix);
  REG(BM_info_ipcshm_posix);
  REG(BM_info_raw_sysv);
  REG(BM_info_ipcshm_sysv);
  REG(BM_handleinfo_raw_posix);
  REG(BM_handleinfo_ipcshm_posix);
  REG(BM_pointer_ipcshm)->Threads(1)->Threads(2);
  for (auto* b : {REG(BM_touch1g_posix_default), REG(BM_touch1g_posix_prefault),
                  REG(BM_touch1g_sysv_default), REG(BM_touch1g_sysv_hugetlb),
                  REG(BM_touch1g_memfd_default), REG(BM_touch1g_memfd_prefault),
                  REG(BM_touch1g_memfd_hugepages), REG(BM_touch1g_memfd_hugepages_prefault),
                  REG(BM_touch1g_sysv_lib_hugepages),
                  REG(BM_touch1g_second_pass), REG(BM_touch1g_memset)})
    b->UseManualTime()->Iterations(1)->Repetitions(big_reps)->Unit(benchmark::kMillisecond);
  for (auto* b : {REG(BM_scale_ipcshm), REG(BM_scale_raw), REG(BM_scale_pointer)})
    b->Arg(100)->Arg(1000)->Arg(10000);
  for (auto* b : {REG(BM_create_posix), REG(BM_create_sysv)})
    b->Arg(4 * KiB)->Arg(1 * GiB)->Arg(16 * GiB)->UseManualTime();
  // Spinning needs both processes on a CPU at once: on a loaded machine the
  // median includes scheduling delays, the minimum shows the hardware.
  auto min = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
  REG(BM_roundtrip_shm)->ComputeStatistics("min", min);
  REG(BM_roundtrip_pipe)->ComputeStatistics("min", min);
#undef REG
}

int setup_fixtures() {
  g_fx.posix_4k = name("att4k");
  g_fx.posix_1m = name("att1m");
  g_fx.volatile_4k = name("attvol");
  ipcshm_t* h = nullptr;
  // Persistent objects for attach: made, then detached (they stay).
  for (auto [n, size] : {std::pair{&g_fx.posix_4k, 4 * KiB}, {&g_fx.posix_1m, 1 * MiB}}) {
    if (ipcshm_create(n->c_str(), static_cast<uint64_t>(size), 0600, IPCSHM_PERSISTENT,
                      &h) != 1)
      return -1;
    ipcshm_detach(h);
  }
  if (ipcshm_create(g_fx.volatile_4k.c_str(), 4 * KiB, 0600, 0, &g_fx.volatile_holder) != 1)
    return -1;
  if (ipcshm_attach(g_fx.posix_4k.c_str(), 0, &g_fx.pointer_handle) != 0) return -1;
  // Attached once and marked for removal: it goes with this process, however it
  // ends, and Linux still attaches it by identifier.
  g_fx.sysv_shmid = ::shmget(IPC_PRIVATE, 4 * KiB, IPC_CREAT | IPC_EXCL | 0600);
  if (g_fx.sysv_shmid < 0) return -1;
  if (::shmat(g_fx.sysv_shmid, nullptr, 0) == reinterpret_cast<void*>(-1)) return -1;
  ::shmctl(g_fx.sysv_shmid, IPC_RMID, nullptr);
  g_fx.sysv_id = "shmid:" + std::to_string(g_fx.sysv_shmid);
  return 0;
}

void teardown_fixtures() {
  if (g_fx.pointer_handle) ipcshm_detach(g_fx.pointer_handle);
  if (g_fx.volatile_holder) ipcshm_detach(g_fx.volatile_holder);
  for (auto* n : {&g_fx.posix_4k, &g_fx.posix_1m}) ipcshm_remove(n->c_str());
  if (g_fx.sysv_shmid >= 0) ::shmctl(g_fx.sysv_shmid, IPC_RMID, nullptr);
  for (const char* tag : {"cycle_raw", "cycle_lib", "cycle_boost", "touch", "touch2", "big",
                          "rt"})
    ::shm_unlink(name(tag).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // Each POSIX handle holds a descriptor: 10,000 live objects need the room.
  struct rlimit fds;
  if (::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &fds);
  }
  if (const char* r = std::getenv("IPCSHM_BENCH_BIG_REPS")) big_reps = std::atoi(r);
  if (big_reps < 1) big_reps = 1;
  g_prefix = "/ipcshm_bench_" + std::to_string(::getpid());
  if (setup_fixtures() != 0) {
    std::fprintf(stderr, "ipcshm_bench: setup failed: %s\n", ipcshm_last_error());
    teardown_fixtures();
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::AddCustomContext("RLIMIT_NOFILE", std::to_string(fds.rlim_cur));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  teardown_fixtures();
  return 0;
}
