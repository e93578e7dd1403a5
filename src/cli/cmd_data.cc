// The commands that read and write an object's bytes: cat, write.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "attach.hpp"
#include "cli.hpp"
#include "liveness.hpp"
#include "commands.hpp"
#include "objects.hpp"
#include "options.hpp"

namespace ipcshm_cli {

std::string cat_help() {
  return
    "Copy the bytes of ID to stdout, raw. The object is attached read-only, so read\n"
    "permission is enough.\n"
    "\n"
    "  --offset N   start N bytes in (default 0)\n"
    "  --length N   copy N bytes (default: to the end)\n"
    "\n"
    "N takes the suffixes of sizes (4K). A range past the end of the object is an\n"
    "error (exit 1) and copies nothing. A volatile object that another process\n"
      "holds with an exclusive flock (every attach would wait for it) is an error\n"
      "that names the process.\n";
}

std::string write_help() {
  return
    "Copy stdin into ID, from the start or from --offset, never past the object's\n"
    "end. Bytes after the input are left as they are.\n"
    "\n"
    "  --offset N   start N bytes in (default 0)\n"
    "\n"
    "Input that does not fit is an error (exit 1). From a regular file it is\n"
    "refused before anything is written; from a pipe, the bytes that fit have been\n"
    "written when the excess shows, and the message says how many. A locked object\n"
      "is refused as by cat.\n";
}

namespace {

// Attaches an object for cat/write: a malformed id is a usage error, a name in
// /dev/shm that is not an object a failure that says what it is, and an object
// another process holds locked a failure rather than a wait.
int attach_object(const std::string& id, uint32_t flags, ipcshm_t** h) {
  Object o;
  std::string why;
  if (int rc = resolve(id, &o, &why); rc < 0) {
    complain("%s", why.c_str());
    return rc;
  }
  if (o.kind == 0) {
    complain("%s", not_an_object(o).c_str());
    return -EINVAL;
  }
  if (o.kind == IPCSHM_KIND_POSIX && o.is_volatile()) {
    const LockTable locks = read_locks();
    if (posix_liveness(o, locks) == Liveness::kExclusive) {
      complain("%s: held with an exclusive flock by %s (attaching it would wait)", id.c_str(),
               exclusive_holders(o, locks).c_str());
      return -EBUSY;
    }
  }
  const int rc = attach_bounded(id, flags, h);
  if (gave_up_waiting(rc)) {
    complain("%s: another process holds its flock exclusively (gave up after %d s)", id.c_str(),
             kLockWaitSeconds);
    return rc;
  }
  if (rc < 0) {
    library_failure(rc);
    return rc;
  }
  return 0;
}

bool write_all(int fd, const char* p, uint64_t n) {
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 20));
    ssize_t w = ::write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<uint64_t>(w);
  }
  return true;
}

}  // namespace

int cmd_cat(int argc, char** argv) {
  uint64_t offset = 0, length = 0;
  bool has_length = false, go_on;
  auto ops = parse_options(
      argc, argv, {{"offset", true, 'o'}, {"length", true, 'l'}},
      [&](int key, const char* arg) {
        if (key == 'o') offset = size_arg(arg, "offset", true);
        if (key == 'l') {
          length = size_arg(arg, "length", true);
          has_length = true;
        }
      },
      &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, 1, "ID");
  ipcshm_t* h = nullptr;
  if (attach_object(ops[0], IPCSHM_READONLY, &h) < 0) return kExitFail;
  const uint64_t size = ipcshm_size(h);
  int status = kExitOk;
  if (offset > size) {
    complain("offset %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)", offset,
             ops[0].c_str(), size);
    status = kExitFail;
  } else if (has_length && length > size - offset) {
    complain("%" PRIu64 " bytes from offset %" PRIu64 " go past the end of %s (%" PRIu64
             " bytes)",
             length, offset, ops[0].c_str(), size);
    status = kExitFail;
  } else {
    if (!has_length) length = size - offset;
    std::fflush(stdout);
    if (!write_all(STDOUT_FILENO, static_cast<const char*>(ipcshm_pointer(h)) + offset, length)) {
      complain("write(stdout): %s", std::strerror(errno));
      status = kExitFail;
    }
  }
  ipcshm_detach(h);
  return status;
}

int cmd_write(int argc, char** argv) {
  uint64_t offset = 0;
  bool go_on;
  auto ops = parse_options(
      argc, argv, {{"offset", true, 'o'}},
      [&](int, const char* arg) { offset = size_arg(arg, "offset", true); }, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, 1, "ID");
  ipcshm_t* h = nullptr;
  if (attach_object(ops[0], 0, &h) < 0) return kExitFail;
  const uint64_t size = ipcshm_size(h);
  const char* id = ops[0].c_str();
  int status = kExitOk;
  if (offset > size) {
    complain("offset %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)", offset, id, size);
    ipcshm_detach(h);
    return kExitFail;
  }
  const uint64_t room = size - offset;
  // A regular file tells its length: refuse what cannot fit before writing.
  struct stat st;
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t pos = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (pos >= 0 && st.st_size > pos && static_cast<uint64_t>(st.st_size - pos) > room) {
      complain("stdin has %" PRIu64 " bytes; only %" PRIu64 " fit in %s after offset %" PRIu64
               " (%" PRIu64 " bytes): nothing written",
               static_cast<uint64_t>(st.st_size - pos), room, id, offset, size);
      ipcshm_detach(h);
      return kExitFail;
    }
  }
  char* p = static_cast<char*>(ipcshm_pointer(h)) + offset;
  uint64_t done = 0;
  for (;;) {
    char extra;
    const bool full = done == room;
    size_t want = full ? 1 : static_cast<size_t>(std::min<uint64_t>(room - done, 1u << 20));
    ssize_t r = ::read(STDIN_FILENO, full ? &extra : p + done, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      complain("read(stdin): %s (%" PRIu64 " bytes written to %s)", std::strerror(errno), done,
               id);
      status = kExitFail;
      break;
    }
    if (r == 0) break;
    if (full) {
      complain("stdin has more than the %" PRIu64 " bytes that fit in %s after offset %" PRIu64
               " (%" PRIu64 " bytes): the first %" PRIu64 " bytes were written",
               room, id, offset, size, done);
      status = kExitFail;
      break;
    }
    done += static_cast<uint64_t>(r);
  }
  ipcshm_detach(h);
  return status;
}

}  // namespace ipcshm_cli
