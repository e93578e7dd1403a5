// Attaching an object without waiting on another user's lock: cat, write, gc.
//
// Every user of a volatile POSIX object holds a shared flock, and an attach
// takes one too: whoever holds the lock exclusively (another user can, on any
// file with the volatile mark) makes every attacher wait, for good. So an
// exclusive lock seen in /proc/locks is reported before attaching, and a lock
// taken after that look is waited for only kLockWaitSeconds.
#include "attach.hpp"

#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "cli.hpp"

namespace ipcshm_cli {
namespace {

void on_alarm(int) {}

// A timer whose signal interrupts a blocking system call (no SA_RESTART).
class WaitLimit {
 public:
  WaitLimit() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &old_);
    struct itimerval t = {{0, 0}, {kLockWaitSeconds, 0}};
    ::setitimer(ITIMER_REAL, &t, nullptr);
  }
  ~WaitLimit() {
    struct itimerval off = {{0, 0}, {0, 0}};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old_, nullptr);
  }
  WaitLimit(const WaitLimit&) = delete;
  WaitLimit& operator=(const WaitLimit&) = delete;

 private:
  struct sigaction old_;
};

}  // namespace

std::string exclusive_holders(const Object& o, const LockTable& locks) {
  std::string text;
  auto it = locks.held.find(o.file);
  if (it == locks.held.end()) return text;
  for (const FileLock& l : it->second) {
    if (!l.exclusive) continue;
    if (!text.empty()) text += ", ";
    const std::string cmd = process_command(l.pid);
    text += format("pid %d", static_cast<int>(l.pid));
    if (!cmd.empty()) text += " (" + cmd + ")";
  }
  return text;
}

int attach_bounded(const std::string& id, uint32_t flags, ipcshm_t** h) {
  WaitLimit limit;
  return ipcshm_attach(id.c_str(), flags, h);
}

bool gave_up_waiting(int rc) {
  return rc == -EINTR || rc == -EAGAIN || rc == -EBUSY || rc == -ETIMEDOUT;
}

}  // namespace ipcshm_cli
