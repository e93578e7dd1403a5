// The signalling core behind the C API: events, semaphores, robust mutexes
// and the event descriptor bridge. Pointers are not NULL and 8-aligned (the C
// layer checked); everything else about the memory is checked here.
#pragma once

#include <cstdint>

namespace ipcshm::core::sync {

// ipcshm_wait and ipcshm_wake (futex.cc); the word is 4-aligned.
int wait_word(const uint32_t* word, uint32_t expected, int64_t timeout_ns) noexcept;
int wake_word(uint32_t* word, uint32_t count) noexcept;

int event_init(void* ev) noexcept;
int event_notify(void* ev) noexcept;
int event_sequence(const void* ev, uint64_t* seq) noexcept;
int event_wait(void* ev, uint64_t* seen, int64_t timeout_ns) noexcept;
int event_fd(void* ev) noexcept;

// The wait of event_wait without the spin, for the descriptor bridge.
int event_wait_quiet(void* ev, uint64_t* seen, int64_t timeout_ns) noexcept;

int sem_init(void* sem, uint32_t value) noexcept;
int sem_post(void* sem) noexcept;
int sem_wait(void* sem, int64_t timeout_ns) noexcept;
int sem_value(const void* sem, uint32_t* value) noexcept;

int mutex_init(void* m) noexcept;
int mutex_lock(void* m, int64_t timeout_ns) noexcept;
int mutex_consistent(void* m) noexcept;
int mutex_unlock(void* m) noexcept;

}  // namespace ipcshm::core::sync
