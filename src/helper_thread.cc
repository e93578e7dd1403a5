// Starting the detached helper threads of the descriptor bridges.
#include "helper_thread.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstddef>

namespace ipcshm::core {

namespace {
constexpr size_t kHelperStack = 256 * 1024;
}

int start_helper_thread(void* (*fn)(void*), void* arg) noexcept {
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  ::pthread_attr_setstacksize(&attr, kHelperStack);
  pthread_t thread;
  const int err = ::pthread_create(&thread, &attr, fn, arg);
  ::pthread_attr_destroy(&attr);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}

}  // namespace ipcshm::core
