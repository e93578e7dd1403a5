// The cached process id (process_id.hpp).
#include "process_id.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

namespace ipcshm::core {
namespace {

std::atomic<pid_t> g_pid{0};

void forget_in_child() noexcept { g_pid.store(0, std::memory_order_relaxed); }

[[maybe_unused]] const int g_atfork = ::pthread_atfork(nullptr, nullptr, forget_in_child);

}  // namespace

pid_t process_id() noexcept {
  pid_t pid = g_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = ::getpid();
    g_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

}  // namespace ipcshm::core
