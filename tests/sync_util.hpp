// Helpers of the signalling tests: shared memory for a test's processes,
// clocks, how much slower this build runs, and waiting for a process to be
// asleep in the kernel.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "test_util.hpp"

namespace testutil {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kUnderTsan = true;
#else
inline constexpr bool kUnderTsan = false;
#endif
#else
inline constexpr bool kUnderTsan = false;
#endif

// How many times longer than a plain build a deadline may take here. The
// tests assert behaviour (-EOWNERDEAD, -ETIMEDOUT...) everywhere; the tight
// bounds of the issue (100 ms, a few ms) are asserted with this factor.
inline int slow_factor() {
  if (RUNNING_ON_VALGRIND) return 30;
  if (kUnderTsan) return 5;
  if (kUnderAsan) return 3;
  return 1;
}

inline int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr int64_t kMs = 1'000'000;

// Anonymous shared memory, inherited by forked children: where the tests'
// processes put their primitives and report what they saw.
class SharedMemory {
 public:
  explicit SharedMemory(size_t size = 4096) : size_(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p_ = p == MAP_FAILED ? nullptr : p;
  }
  ~SharedMemory() {
    if (p_) ::munmap(p_, size_);
  }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  template <typename T = unsigned char>
  T* at(size_t offset = 0) const {
    return reinterpret_cast<T*>(static_cast<unsigned char*>(p_) + offset);
  }
  void* get() const { return p_; }

 private:
  void* p_;
  size_t size_;
};

// The one-letter state of a task (/proc/<pid>/task/<tid>/stat), or 0.
inline char task_state(pid_t pid, pid_t tid = 0) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/stat", static_cast<int>(pid),
                static_cast<int>(tid ? tid : pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

// Waits (up to 10 s) until the task sleeps ('S'), as it does once it is
// blocked in a futex wait; false if it never did.
inline bool wait_until_asleep(pid_t pid, pid_t tid = 0) {
  for (int i = 0; i < 10000; ++i) {
    if (task_state(pid, tid) == 'S') {
      // Asleep now; make sure it is not a passing sched_yield or page fault.
      ::usleep(2000);
      if (task_state(pid, tid) == 'S') return true;
    }
    ::usleep(1000);
  }
  return false;
}

// How many threads this process has.
inline int thread_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (struct dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// Installs `handler` for sig, with or without SA_RESTART.
inline void on_signal(int sig, void (*handler)(int), bool restart) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
}

}  // namespace testutil
