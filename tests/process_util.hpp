// Helpers for tests that run children: pipes with timeouts, forked children that
// are killed and reaped if a test fails early, and byte patterns.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace testutil {

constexpr int kTimeoutMs = 10000;


// A close-on-exec pipe; the ends close with the object (in the parent: children
// leave through _exit, so their copies are closed by the kernel).
class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      r_ = fds[0];
      w_ = fds[1];
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  bool ok() const { return r_ >= 0 && w_ >= 0; }
  int read_fd() const { return r_; }
  int write_fd() const { return w_; }
  void close_read() {
    if (r_ >= 0) ::close(r_);
    r_ = -1;
  }
  void close_write() {
    if (w_ >= 0) ::close(w_);
    w_ = -1;
  }

  bool put(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t k = ::write(w_, p, n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      p += k;
      n -= static_cast<size_t>(k);
    }
    return true;
  }
  bool put_byte(char c = 'x') { return put(&c, 1); }

  // Reads exactly n bytes, waiting at most timeout_ms for each chunk.
  bool get(void* data, size_t n, int timeout_ms = kTimeoutMs) {
    char* p = static_cast<char*>(data);
    while (n > 0) {
      struct pollfd pfd = {r_, POLLIN, 0};
      int pr = ::poll(&pfd, 1, timeout_ms);
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) return false;
      ssize_t k = ::read(r_, p, n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      p += k;
      n -= static_cast<size_t>(k);
    }
    return true;
  }
  bool get_byte(int timeout_ms = kTimeoutMs) {
    char c;
    return get(&c, 1, timeout_ms);
  }

  // Everything until end of file.
  std::string slurp() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t k = ::read(r_, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      out.append(buf, static_cast<size_t>(k));
    }
    return out;
  }

 private:
  int r_ = -1;
  int w_ = -1;
};

// A forked child that runs fn and exits with its result; killed and reaped by
// the destructor if the test did not wait for it (so a failing test never leaves
// a child blocked on a pipe).
class Child {
 public:
  explicit Child(const std::function<int()>& fn) {
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int rc = 99;
      try {
        rc = fn();
      } catch (...) {
        rc = 98;
      }
      ::_exit(rc);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int wait() {
    if (reaped_ || pid_ <= 0) return status_;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

// The POSIX objects in /dev/shm whose ids start with `prefix` ("/name..."), as ids.
inline std::vector<std::string> posix_ids_starting(const std::string& prefix) {
  std::vector<std::string> out;
  const std::string name = prefix.substr(1);
  if (DIR* d = ::opendir("/dev/shm")) {
    while (struct dirent* e = ::readdir(d))
      if (std::strncmp(e->d_name, name.c_str(), name.size()) == 0)
        out.push_back(std::string("/") + e->d_name);
    ::closedir(d);
  }
  return out;
}

inline std::string describe_status(int status) {
  if (status == -1) return "fork failed";
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

inline uint8_t pattern_byte(size_t i, uint8_t seed) {
  return static_cast<uint8_t>((i * 131u + seed) ^ (i >> 8));
}

inline void fill_pattern(void* p, size_t n, uint8_t seed) {
  auto* b = static_cast<uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = pattern_byte(i, seed);
}

inline bool has_pattern(const void* p, size_t n, uint8_t seed) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i] != pattern_byte(i, seed)) return false;
  return true;
}

inline bool is_zero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

}  // namespace testutil
