// Errors: every failure is a negative errno plus a thread-local message that
// names the call and the object, e.g. 'shm_open("/x"): Permission denied'.
#pragma once

#include <cerrno>
#include <string>

namespace ipcshm::core {

// Records "<what>: <strerror(err)>" as this thread's message; returns -err.
[[gnu::format(printf, 2, 3)]] int fail(int err, const char* what_fmt, ...) noexcept;

// Records the message as it is (a rule broken, not a system error); returns -err.
[[gnu::format(printf, 2, 3)]] int fail_msg(int err, const char* fmt, ...) noexcept;

// Records a message that is a string constant, without formatting it: for a
// failure that callers may meet millions of times a second (a channel polled
// with timeout 0 and nothing in it). Returns -err.
int fail_static(int err, const char* message) noexcept;

// Like fail(), with errno as the error.
#define IPCSHM_FAIL_ERRNO(...) ::ipcshm::core::fail(errno, __VA_ARGS__)

// A change that only an object's owner (or root) may make, refused by the
// kernel with EPERM, is reported as -EACCES, the library's one errno for "no
// permission" (ipcshm.h), with a message that says why.
int not_owner(const std::string& what) noexcept;

// The message of the last failure on this thread ("" before any).
const char* last_error() noexcept;

// The text of an errno value, positive or negative; never NULL, thread-safe.
const char* error_text(int err) noexcept;

}  // namespace ipcshm::core
