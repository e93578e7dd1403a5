// What every part of the ipcshm tool shares: exit codes, messages, usage errors.
#pragma once

#include <cstdint>
#include <string>

#include "ipcshm.h"

namespace ipcshm_cli {

// Exit status, as ipcs/ipcrm users expect.
constexpr int kExitOk = 0;
constexpr int kExitFail = 1;   // no such object, permission denied, ... (message on stderr)
constexpr int kExitUsage = 2;  // bad command line

constexpr const char* kShmDir = "/dev/shm";

// Thrown for a bad command line: main prints it with the command's usage and
// exits 2.
struct UsageError {
  std::string message;
};

[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...);
[[noreturn, gnu::format(printf, 1, 2)]] void usage_error(const char* fmt, ...);

// "ipcshm: <message>" on stderr, with control characters, bidi overrides and
// bytes that are not UTF-8 escaped (messages carry other users' object names).
[[gnu::format(printf, 1, 2)]] void complain(const char* fmt, ...);

// The library's message for the failure just seen (rc < 0); returns kExitFail.
int library_failure(int rc);

// An ipcshm_info_t ready for ipcshm_info().
ipcshm_info_t blank_info();

}  // namespace ipcshm_cli
