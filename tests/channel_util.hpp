// Helpers of the channel tests: ends closed by the test's end, the peer
// program (tests/channel_peer.c) run as a separate process, and the checks
// of the test messages (tests/channel_msg.h).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "channel_msg.h"
#include "ipcshm.h"
#include "process_util.hpp"
#include "sync_util.hpp"
#include "test_util.hpp"

namespace testutil {

// Closes the end when the test ends (unless released).
class ChannelGuard {
 public:
  explicit ChannelGuard(ipcshm_channel_t* ch = nullptr) : ch_(ch) {}
  ~ChannelGuard() { reset(); }
  ChannelGuard(const ChannelGuard&) = delete;
  ChannelGuard& operator=(const ChannelGuard&) = delete;
  ipcshm_channel_t* get() const { return ch_; }
  ipcshm_channel_t** out() { return &ch_; }
  ipcshm_channel_t* release() {
    ipcshm_channel_t* ch = ch_;
    ch_ = nullptr;
    return ch;
  }
  void reset() {
    if (ch_) ipcshm_channel_close(ch_);
    ch_ = nullptr;
  }

 private:
  ipcshm_channel_t* ch_;
};

inline ipcshm_channel_info_t channel_info_of(const ipcshm_channel_t* ch) {
  ipcshm_channel_info_t info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(0, ipcshm_channel_handle_info(ch, &info)) << ipcshm_last_error();
  return info;
}

// The id of an end's object.
inline std::string channel_id(const ipcshm_channel_t* ch) {
  const ipcshm_t* h = nullptr;
  if (ipcshm_channel_handle(ch, &h) != 0) return "";
  return id_of(h);
}

// tests/channel_peer run in a process of its own (IPCSHM_CHANNEL_PEER names
// the program). Its standard input is a pipe from the test (closing it ends a
// "hold"), its standard output a pipe to the test ("ready", "received N").
// Killed and reaped by the destructor if the test did not wait for it.
class Peer {
 public:
  static const char* program() { return std::getenv("IPCSHM_CHANNEL_PEER"); }

  // args: the peer's arguments; keep_fd: a descriptor the peer inherits as
  // it is (for "fd:N" ids).
  explicit Peer(const std::vector<std::string>& args, int keep_fd = -1) {
    const char* prog = program();
    if (!prog || !in_.ok() || !out_.ok()) return;
    std::vector<std::string> argv_s = {prog};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in_.read_fd(), 0);
      ::dup2(out_.write_fd(), 1);
      if (keep_fd >= 0) {
        int flags = ::fcntl(keep_fd, F_GETFD);
        ::fcntl(keep_fd, F_SETFD, flags & ~FD_CLOEXEC);
      }
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(prog, argv.data());
      ::_exit(127);
    }
    in_.close_read();
    out_.close_write();
  }
  ~Peer() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  pid_t pid() const { return pid_; }

  // Waits (up to 10 s) for a line on its standard output; "" if none.
  std::string line(int timeout_ms = kTimeoutMs) {
    std::string s;
    char c;
    while (out_.get(&c, 1, timeout_ms)) {
      if (c == '\n') return s;
      s += c;
    }
    return s;
  }
  bool ready() { return line() == "ready"; }

  void close_stdin() { in_.close_write(); }
  void kill(int sig = SIGKILL) { ::kill(pid_, sig); }

  int wait() {
    if (reaped_ || pid_ <= 0) return status_;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status_;
  }

 private:
  Pipe in_, out_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

}  // namespace testutil
