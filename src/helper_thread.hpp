// Starting the detached helper threads of the descriptor bridges
// (ipcshm_event_fd, ipcshm_channel_fd): a small stack, every signal blocked.
#pragma once

namespace ipcshm::core {

// Starts fn(arg) on a detached thread that blocks every signal (they are meant
// for the caller's threads). 0, or the error number of pthread_create.
int start_helper_thread(void* (*fn)(void*), void* arg) noexcept;

}  // namespace ipcshm::core
