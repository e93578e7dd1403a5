#include "errors.hpp"

#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace ipcshm::core {
namespace {

// A fixed buffer: recording an error never allocates, so it works when memory
// is what ran out.
thread_local char t_message[512];
// A constant message that stands for t_message while it is set (fail_static).
thread_local const char* t_static __attribute__((tls_model("initial-exec"))) = nullptr;

}  // namespace

const char* error_text(int err) noexcept {
  if (err == INT_MIN) return "Unknown error";
  if (err < 0) err = -err;
  if (err == 0) return "Success";
  const char* text = strerrordesc_np(err);
  return text ? text : "Unknown error";
}

int fail(int err, const char* what_fmt, ...) noexcept {
  if (err <= 0) err = EIO;  // a failure must never look like success
  t_static = nullptr;
  va_list ap;
  va_start(ap, what_fmt);
  int n = std::vsnprintf(t_message, sizeof t_message, what_fmt, ap);
  va_end(ap);
  if (n >= 0 && static_cast<size_t>(n) < sizeof t_message)
    std::snprintf(t_message + n, sizeof t_message - n, ": %s", error_text(err));
  return -err;
}

int fail_msg(int err, const char* fmt, ...) noexcept {
  if (err <= 0) err = EIO;
  t_static = nullptr;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(t_message, sizeof t_message, fmt, ap);
  va_end(ap);
  return -err;
}

int not_owner(const std::string& what) noexcept {
  return fail_msg(EACCES,
                  "%s: Permission denied (only its owner or root may; the kernel says "
                  "Operation not permitted)",
                  what.c_str());
}

int fail_static(int err, const char* message) noexcept {
  t_static = message;
  return err > 0 ? -err : -EIO;
}

const char* last_error() noexcept { return t_static ? t_static : t_message; }

}  // namespace ipcshm::core
