// The command that reclaims volatile objects whose users all died: gc.
//
// Whether an object is dead is read first from /proc/locks, which changes
// nothing (liveness.cc): a live object is left alone without being touched,
// and one held with an exclusive flock (another user can hold one on a file
// with the volatile mark) is skipped and reported rather than waited for. An
// object that looks dead is reclaimed through the library: ipcshm_attach()
// takes its lock, finds it dead, removes it and says -ENOENT. Should someone
// take an exclusive lock in between, that attach gives up after a while
// (attach.cc), and the object is skipped too.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "attach.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "liveness.hpp"
#include "objects.hpp"
#include "options.hpp"
#include "proc_scan.hpp"
#include "text.hpp"

namespace ipcshm_cli {

std::string gc_help() {
  return "Remove volatile POSIX objects whose users are all gone (their processes died\n"
         "without detaching), and print 'removed ID' for each. Live objects, persistent\n"
         "objects and System V segments (which the kernel reclaims itself) are left\n"
         "alone. With IDs, only those objects are considered.\n"
         "\n"
         "  --dry-run   print 'would remove ID' for each, and remove nothing\n"
         "\n"
         "Liveness is read from /proc/locks, without opening or locking the objects.\n"
         "An object held with an exclusive flock is skipped and reported on stderr, as is\n"
         "one gc may not open or remove, and one whose lock it could not get within 2\n"
         "seconds; skipping alone does not fail the command. Where /proc/locks may hide\n"
         "locks (a pid namespace other than the initial one), an object without a visible\n"
         "lock is reclaimed only if the library, which takes its lock, finds it dead;\n"
         "--dry-run reports it as unknown.\n";
}

namespace {

bool still_there(const Object& o) {
  struct stat st;
  const std::string path = kShmDir + o.id;
  return ::lstat(path.c_str(), &st) == 0 && file_key(st) == o.file;
}

// Reclaims an object that looks dead. kExitOk or kExitFail.
int reclaim(const Object& o) {
  const char* id = o.id.c_str();
  ipcshm_t* h = nullptr;
  const int rc = attach_bounded(o.id, IPCSHM_READONLY, &h);
  if (rc >= 0) {  // live after all: someone attached meanwhile
    ipcshm_detach(h);
    return kExitOk;
  }
  if (gave_up_waiting(rc)) {
    complain("%s: skipped: another process holds its flock exclusively (gave up after %d s)",
             id, kLockWaitSeconds);
    return kExitOk;
  }
  switch (rc) {
    case -ENOENT:
      if (still_there(o)) complain("%s: skipped: %s", id, ipcshm_last_error());  // not removable
      else std::printf("removed %s\n", terminal_text(o.id).c_str());
      return kExitOk;
    case -EACCES:
    case -EPERM:
      complain("%s: skipped: %s", id, ipcshm_last_error());
      return kExitOk;
    default:
      return library_failure(rc);
  }
}

// Whether gc could remove a dead object, told without touching it (for
// --dry-run): reclaiming attaches it (read permission), and /dev/shm is sticky.
enum class Removable { kYes, kGone, kNo };

Removable removable(const Object& o, std::string* why) {
  const std::string path = kShmDir + o.id;
  if (::faccessat(AT_FDCWD, path.c_str(), R_OK, AT_EACCESS) != 0) {
    if (errno == ENOENT) return Removable::kGone;
    *why = format("open(\"%s\"): %s", path.c_str(), std::strerror(errno));
    return Removable::kNo;
  }
  const uid_t me = ::geteuid();
  if (me != 0 && me != o.info.uid) {
    const std::string owner = user_name(o.info.uid);
    *why = format("it belongs to %s, and only its owner or root may remove it",
                  owner.empty() ? format("uid %u", o.info.uid).c_str() : owner.c_str());
    return Removable::kNo;
  }
  return Removable::kYes;
}

}  // namespace

int cmd_gc(int argc, char** argv) {
  bool dry_run = false, go_on;
  auto ops = parse_options(argc, argv, {{"dry-run", false, 'n'}},
                           [&](int, const char*) { dry_run = true; }, &go_on);
  if (!go_on) return kExitOk;
  int status = kExitOk;
  std::vector<Object> objects;
  if (ops.empty()) {
    if (!list_posix(&objects)) status = kExitFail;
  } else {
    for (const std::string& id : ops)
      if (id.empty() || id[0] != '/')
        usage_error("gc takes POSIX ids (/name) only, not '%s'", id.c_str());
    for (const std::string& id : ops) {
      Object o;
      std::string why;
      if (resolve(id, &o, &why) < 0) {
        complain("%s", why.c_str());
        status = kExitFail;
      } else if (o.kind == 0) {
        complain("%s", not_an_object(o).c_str());
        status = kExitFail;
      } else {
        objects.push_back(std::move(o));
      }
    }
  }
  const LockTable locks = read_locks();
  for (const Object& o : objects) {
    if (o.kind != IPCSHM_KIND_POSIX || !o.is_volatile()) continue;
    const char* id = o.id.c_str();
    switch (posix_liveness(o, locks)) {
      case Liveness::kNotVolatile:
      case Liveness::kLive:
        break;
      case Liveness::kExclusive:
        complain("%s: skipped: held with an exclusive flock by %s (attaching it would wait)", id,
                 exclusive_holders(o, locks).c_str());
        break;
      case Liveness::kOrphaned:
        if (!dry_run) {
          if (reclaim(o) != kExitOk) status = kExitFail;
          break;
        }
        switch (std::string why; removable(o, &why)) {
          case Removable::kYes: std::printf("would remove %s\n", terminal_text(o.id).c_str()); break;
          case Removable::kNo: complain("%s: skipped: %s", id, why.c_str()); break;
          case Removable::kGone: break;  // removed meanwhile
        }
        break;
      case Liveness::kUnknown:
        if (dry_run)
          complain("%s: unknown: no lock on it in sight, but /proc/locks %s; gc would attach it "
                   "to find out",
                   id, locks.readable ? "hides the locks of processes outside this pid namespace"
                                      : "cannot be read");
        else if (reclaim(o) != kExitOk) status = kExitFail;
        break;
    }
  }
  return status;
}

}  // namespace ipcshm_cli
