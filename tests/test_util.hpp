// Helpers shared by the GoogleTest suites: unique names per run, cleanup guards,
// child processes, and dropping root to an unprivileged user.
#pragma once

#include <gtest/gtest.h>

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <bsd/stdlib.h>

#include "ipcshm.h"
#include "process_util.hpp"

namespace testutil {

// AddressSanitizer turns mlock into a no-op: locked pages are not resident there.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAsan = true;
#else
inline constexpr bool kUnderAsan = false;
#endif
#else
inline constexpr bool kUnderAsan = false;
#endif

// Every POSIX name a test makes starts with this prefix, so that the leak check
// at the end of the run (and a human) can find what this run left behind.
inline const std::string& run_prefix() {
  static const std::string prefix = [] {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/ipcshm-test-%d-%08x-", static_cast<int>(getpid()),
                  static_cast<unsigned>(arc4random()));
    return std::string(buf);
  }();
  return prefix;
}

// A fresh POSIX id, unique in this run: "/ipcshm-test-<pid>-<rand>-<tag>-<n>".
inline std::string unique_name(const std::string& tag = "t") {
  static std::atomic<unsigned> counter{0};
  return run_prefix() + tag + "-" + std::to_string(counter++);
}

// A System V key unlikely to collide with anything else on the machine.
inline int32_t unique_key() {
  for (;;) {
    int32_t key = static_cast<int32_t>(arc4random() | 0x10000000u) & 0x7fffffff;
    if (shmget(key, 0, 0) < 0 && errno == ENOENT) return key;
  }
}

inline std::string key_id(int32_t key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key:0x%x", static_cast<unsigned>(key));
  return buf;
}

// The canonical id of a handle, or "" for an invalid one.
inline std::string id_of(const ipcshm_t* h) {
  const char* id = h ? ipcshm_id(h) : nullptr;
  return id ? std::string(id) : std::string();
}

// A zeroed ipcshm_info_t with struct_size set, ready for ipcshm_info().
inline ipcshm_info_t fresh_info() {
  ipcshm_info_t info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  return info;
}

// The kinds of ids that create accepts and another process attaches, for
// parameterised tests: "/name", "private" (attached by "shmid:N"), "key:0x...".
enum class Kind { Posix, SysvPrivate, SysvKey };

inline void PrintTo(Kind kind, std::ostream* os) {
  *os << (kind == Kind::Posix ? "Posix" : kind == Kind::SysvPrivate ? "SysvPrivate" : "SysvKey");
}

inline std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
  switch (info.param) {
    case Kind::Posix:
      return "Posix";
    case Kind::SysvPrivate:
      return "SysvPrivate";
    case Kind::SysvKey:
      return "SysvKey";
  }
  return "Unknown";
}

// Removes the object when the test ends, whatever way it ends.
class RemoveGuard {
 public:
  explicit RemoveGuard(std::string id) : id_(std::move(id)) {}
  ~RemoveGuard() {
    if (!id_.empty()) ipcshm_remove(id_.c_str());
  }
  RemoveGuard(const RemoveGuard&) = delete;
  RemoveGuard& operator=(const RemoveGuard&) = delete;
  void reset(std::string id) { id_ = std::move(id); }

 private:
  std::string id_;
};

// Detaches the handle when the test ends (unless released).
class HandleGuard {
 public:
  explicit HandleGuard(ipcshm_t* h = nullptr) : h_(h) {}
  ~HandleGuard() {
    if (h_) ipcshm_detach(h_);
  }
  HandleGuard(const HandleGuard&) = delete;
  HandleGuard& operator=(const HandleGuard&) = delete;
  ipcshm_t* get() const { return h_; }
  ipcshm_t** out() { return &h_; }
  ipcshm_t* release() {
    ipcshm_t* h = h_;
    h_ = nullptr;
    return h;
  }

 private:
  ipcshm_t* h_;
};

// Runs fn in a forked child and returns its wait status. The child exits with
// fn's return value (0 = success); gtest assertions must not be used in it.
inline int run_in_child(const std::function<int()>& fn) { return Child(fn).wait(); }

// The wait status of a child that writes a byte at p (through a read-only
// mapping, to be killed by SIGSEGV: the default action, not a sanitizer's).
inline int status_of_write(void* p) {
  return run_in_child([p] {
    signal(SIGSEGV, SIG_DFL);
    static_cast<volatile char*>(p)[0] = 1;
    return 0;
  });
}

inline bool killed_by(int status, int sig) { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }

// How many descriptors this process has open.
inline int open_fd_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

inline bool exited_with(int status, int code) {
  return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

// In a forked child running as root: become `nobody` for good. Returns false if
// that user does not exist or the switch failed.
inline bool drop_to_nobody() {
  struct passwd* pw = getpwnam("nobody");
  if (!pw) return false;
  if (setgroups(0, nullptr) != 0) return false;
  if (setgid(pw->pw_gid) != 0) return false;
  if (setuid(pw->pw_uid) != 0) return false;
  return geteuid() == pw->pw_uid;
}

inline uid_t nobody_uid() {
  struct passwd* pw = getpwnam("nobody");
  return pw ? pw->pw_uid : static_cast<uid_t>(-1);
}

// True if a file of that POSIX name exists in /dev/shm.
inline bool posix_exists(const std::string& id) {
  return access(("/dev/shm" + id).c_str(), F_OK) == 0;
}

// True if the System V segment exists (possibly marked for removal).
inline bool sysv_exists(int32_t shmid) {
  struct shmid_ds ds;
  return shmctl(shmid, IPC_STAT, &ds) == 0 || errno != EINVAL;
}

// What this run left in /dev/shm.
inline std::vector<std::string> leaked_posix() { return posix_ids_starting(run_prefix()); }

// System V segments created by this process or its children (cpid) that still
// exist, as "shmid:N".
inline std::vector<std::string> leaked_sysv(pid_t self) {
  std::vector<std::string> out;
  std::ifstream in("/proc/sysvipc/shm");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    long key, shmid, perms, size, cpid;
    if (!(fields >> key >> shmid >> perms >> size >> cpid)) continue;
    if (cpid == self) out.push_back("shmid:" + std::to_string(shmid));
  }
  return out;
}

// Fails the run if a test left an object behind, then removes it.
class LeakCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    auto posix = leaked_posix();
    for (const auto& id : posix) {
      ADD_FAILURE() << "leaked POSIX object " << id;
      ipcshm_remove(id.c_str());
    }
    for (const auto& id : leaked_sysv(getpid())) {
      struct shmid_ds ds;
      int shmid = std::atoi(id.c_str() + 6);
      // Segments still attached by this process and already marked for removal
      // vanish at exit; only those still findable or persistent are leaks.
      if (shmctl(shmid, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST)) continue;
      ADD_FAILURE() << "leaked System V segment " << id;
      ipcshm_remove(id.c_str());
    }
  }
};

}  // namespace testutil
