// The C ABI of signalling (since 1.2): the pointers are checked here, the
// primitive's contents in the core (sync.hpp).
#include <cstdint>

#include "c_api.hpp"
#include "errors.hpp"
#include "ipcshm.h"
#include "sync.hpp"

namespace {

namespace core = ipcshm::core;
namespace sync = ipcshm::core::sync;
using ipcshm::capi::guarded;

int check_place(const void* p, const char* call) {
  if (!p) return core::fail_msg(EINVAL, "%s: the pointer is NULL", call);
  if (reinterpret_cast<uintptr_t>(p) % 8 != 0)
    return core::fail_msg(EINVAL,
                          "%s(%p): not 8-byte aligned (a primitive needs an 8-aligned place)",
                          call, p);
  return 0;
}

int check_word(const void* p, const char* call) {
  if (!p) return core::fail_msg(EINVAL, "%s: word is NULL", call);
  if (reinterpret_cast<uintptr_t>(p) % 4 != 0)
    return core::fail_msg(EINVAL, "%s(%p): the word is not 4-byte aligned", call, p);
  return 0;
}

int check_out(const void* out, const char* what, const char* call) {
  if (!out) return core::fail_msg(EINVAL, "%s: %s is NULL", call, what);
  return 0;
}

}  // namespace

extern "C" {

int ipcshm_wait(const uint32_t* word, uint32_t expected, int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (int rc = check_word(word, "ipcshm_wait"); rc < 0) return rc;
    return sync::wait_word(word, expected, timeout_ns);
  });
}

int ipcshm_wake(uint32_t* word, uint32_t count) noexcept {
  return guarded([&] {
    if (int rc = check_word(word, "ipcshm_wake"); rc < 0) return rc;
    return sync::wake_word(word, count);
  });
}

int ipcshm_event_init(void* ev) noexcept {
  return guarded([&] {
    if (int rc = check_place(ev, "ipcshm_event_init"); rc < 0) return rc;
    return sync::event_init(ev);
  });
}

int ipcshm_event_notify(void* ev) noexcept {
  return guarded([&] {
    if (int rc = check_place(ev, "ipcshm_event_notify"); rc < 0) return rc;
    return sync::event_notify(ev);
  });
}

int ipcshm_event_sequence(const void* ev, uint64_t* seq) noexcept {
  return guarded([&] {
    if (int rc = check_place(ev, "ipcshm_event_sequence"); rc < 0) return rc;
    if (int rc = check_out(seq, "seq", "ipcshm_event_sequence"); rc < 0) return rc;
    return sync::event_sequence(ev, seq);
  });
}

int ipcshm_event_wait(void* ev, uint64_t* seen, int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (int rc = check_place(ev, "ipcshm_event_wait"); rc < 0) return rc;
    if (int rc = check_out(seen, "seen", "ipcshm_event_wait"); rc < 0) return rc;
    return sync::event_wait(ev, seen, timeout_ns);
  });
}

int ipcshm_event_fd(void* ev) noexcept {
  return guarded([&] {
    if (int rc = check_place(ev, "ipcshm_event_fd"); rc < 0) return rc;
    return sync::event_fd(ev);
  });
}

int ipcshm_sem_init(void* sem, uint32_t value) noexcept {
  return guarded([&] {
    if (int rc = check_place(sem, "ipcshm_sem_init"); rc < 0) return rc;
    return sync::sem_init(sem, value);
  });
}

int ipcshm_sem_post(void* sem) noexcept {
  return guarded([&] {
    if (int rc = check_place(sem, "ipcshm_sem_post"); rc < 0) return rc;
    return sync::sem_post(sem);
  });
}

int ipcshm_sem_wait(void* sem, int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (int rc = check_place(sem, "ipcshm_sem_wait"); rc < 0) return rc;
    return sync::sem_wait(sem, timeout_ns);
  });
}

int ipcshm_sem_value(const void* sem, uint32_t* value) noexcept {
  return guarded([&] {
    if (int rc = check_place(sem, "ipcshm_sem_value"); rc < 0) return rc;
    if (int rc = check_out(value, "value", "ipcshm_sem_value"); rc < 0) return rc;
    return sync::sem_value(sem, value);
  });
}

int ipcshm_mutex_init(void* m) noexcept {
  return guarded([&] {
    if (int rc = check_place(m, "ipcshm_mutex_init"); rc < 0) return rc;
    return sync::mutex_init(m);
  });
}

int ipcshm_mutex_lock(void* m, int64_t timeout_ns) noexcept {
  return guarded([&] {
    if (int rc = check_place(m, "ipcshm_mutex_lock"); rc < 0) return rc;
    return sync::mutex_lock(m, timeout_ns);
  });
}

int ipcshm_mutex_consistent(void* m) noexcept {
  return guarded([&] {
    if (int rc = check_place(m, "ipcshm_mutex_consistent"); rc < 0) return rc;
    return sync::mutex_consistent(m);
  });
}

int ipcshm_mutex_unlock(void* m) noexcept {
  return guarded([&] {
    if (int rc = check_place(m, "ipcshm_mutex_unlock"); rc < 0) return rc;
    return sync::mutex_unlock(m);
  });
}

}  // extern "C"
