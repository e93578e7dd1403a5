// Thread identities for mutex owners, and whether an owner still lives, from
// /proc (see owners.hpp).
#include "owners.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "errors.hpp"
#include "futex.hpp"
#include "sync_layout.hpp"

namespace ipcshm::core::sync {

thread_local ThreadState t_sync __attribute__((tls_model("initial-exec"))) = {
    0, ~uint64_t{0}, {~uintptr_t{0}, ~uintptr_t{0}, ~uintptr_t{0}, ~uintptr_t{0}}};

namespace {

// Owners this thread found alive, and when (CLOCK_MONOTONIC).
struct Seen {
  uint64_t owner;
  int64_t at;
};
thread_local Seen t_seen[8] = {};
thread_local unsigned t_seen_next = 0;

// In a forked child only the forking thread lives on, with a tid and a start
// time of its own: the identity it inherited is its parent's.
void forget_identity_in_child() noexcept {
  t_sync.self = 0;
  for (Seen& s : t_seen) s = Seen{};
}

[[maybe_unused]] const int g_atfork = ::pthread_atfork(nullptr, nullptr, forget_identity_in_child);

struct TaskStat {
  char state = 0;
  uint64_t start = 0;  // field 22, clock ticks after boot
};

// 1: read; 0: no such task; -errno: could not tell.
int read_stat(const char* path, TaskStat* out) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ESRCH ? 0 : -errno;
  char buf[1024];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return err == ESRCH ? 0 : -err;  // the task went away after the open
  buf[n] = '\0';
  // "pid (comm) S ...": comm may hold spaces and parentheses; the last ')' ends it.
  const char* p = static_cast<const char*>(::memrchr(buf, ')', static_cast<size_t>(n)));
  if (!p || p[1] != ' ' || p[2] == '\0') return -EBADMSG;
  p += 2;
  out->state = *p;
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return -EBADMSG;
    ++p;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long start = std::strtoull(p, &end, 10);
  if (end == p || errno != 0) return -EBADMSG;
  out->start = start;
  return 1;
}

int64_t boottime_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void remember_alive(uint64_t owner, int64_t now) noexcept {
  for (Seen& s : t_seen)
    if (s.owner == owner) {
      s.at = now;
      return;
    }
  t_seen[t_seen_next++ % 8] = Seen{owner, now};
}

}  // namespace

int compute_identity(uint64_t* id, const char* call) noexcept {
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  // /proc names tasks by the numbers of the pid namespace it was mounted in;
  // owners are checked there by the tids callers see: they must agree.
  char link[64];
  ssize_t n = ::readlink("/proc/thread-self", link, sizeof link - 1);
  if (n < 0)
    return fail(errno, "%s: readlink(\"/proc/thread-self\") (robust mutexes need /proc)", call);
  link[n] = '\0';
  const char* task = std::strstr(link, "/task/");
  if (!task || std::atoi(task + 6) != tid)
    return fail_msg(EOPNOTSUPP,
                    "%s: /proc is not of this process's pid namespace (this thread is %d, "
                    "/proc/thread-self is \"%s\"); robust mutexes need the /proc of the "
                    "callers' pid namespace",
                    call, static_cast<int>(tid), link);
  TaskStat st;
  int rc = read_stat("/proc/thread-self/stat", &st);
  if (rc <= 0)
    return fail(rc == 0 ? ENOENT : -rc, "%s: reading /proc/thread-self/stat", call);

  const long hz = ::sysconf(_SC_CLK_TCK);
  const int64_t tick_ns = hz > 0 ? 1'000'000'000 / hz : 10'000'000;
  for (;;) {
    int64_t now = boottime_ns();
    if (static_cast<uint64_t>(now / tick_ns) > st.start) break;
    int64_t wait = (static_cast<int64_t>(st.start) + 1) * tick_ns - now;
    timespec ts{0, static_cast<long>(wait > 0 && wait < tick_ns ? wait : tick_ns)};
    ::nanosleep(&ts, nullptr);
  }
  t_sync.self = (static_cast<uint64_t>(static_cast<uint32_t>(st.start)) << 32) |
                static_cast<uint32_t>(tid);
  *id = t_sync.self;
  return 0;
}

Liveness owner_liveness(uint64_t owner) noexcept {
  const uint32_t tid = tid_of(owner);
  const uint32_t start = static_cast<uint32_t>(owner >> 32);
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%u/stat", tid);
  TaskStat st;
  int rc = read_stat(path, &st);
  if (rc == 1) {
    // A zombie is dead (a process's main thread that exited stays one until
    // the whole process ends); a task with another start is another task.
    if (st.state == 'Z' || st.state == 'X' || st.state == 'x') return Liveness::dead;
    if (static_cast<uint32_t>(st.start) != start) return Liveness::dead;
    remember_alive(owner, monotonic_ns());
    return Liveness::alive;
  }
  if (rc == 0) {
    // No /proc entry. kill(2) looks tasks up without /proc's hidepid.
    if (::kill(static_cast<pid_t>(tid), 0) == 0 || errno == EPERM) return Liveness::unknown;
    return Liveness::dead;
  }
  return Liveness::unknown;
}

Liveness owner_liveness_cached(uint64_t owner) noexcept {
  const int64_t now = monotonic_ns();
  for (const Seen& s : t_seen)
    if (s.owner == owner && now - s.at < kOwnerCheckNs) return Liveness::alive;
  return owner_liveness(owner);
}

}  // namespace ipcshm::core::sync
