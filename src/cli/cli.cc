// Messages and usage errors of the ipcshm tool.
#include "cli.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "text.hpp"

namespace ipcshm_cli {
namespace {

std::string vformat(const char* fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  char small[256];
  const int n = std::vsnprintf(small, sizeof small, fmt, copy);
  va_end(copy);
  if (n < 0) return fmt;
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  big.resize(static_cast<size_t>(n));
  return big;
}

}  // namespace

std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

void usage_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  throw UsageError{std::move(s)};
}

void complain(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const std::string s = vformat(fmt, ap);
  va_end(ap);
  std::fflush(stdout);
  std::fprintf(stderr, "ipcshm: %s\n", terminal_text(s).c_str());
}

int library_failure(int rc) {
  const char* msg = ipcshm_last_error();
  complain("%s", msg && *msg ? msg : ipcshm_strerror(rc));
  return kExitFail;
}

ipcshm_info_t blank_info() {
  ipcshm_info_t info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  return info;
}

}  // namespace ipcshm_cli
