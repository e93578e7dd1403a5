// Whether an object is live, orphaned or removed, told from /proc without touching it.
//
// ipcshm.h, rule 4: every user of a volatile POSIX object holds a shared flock
// on it, and the last one to detach takes the lock exclusively and unlinks the
// name. Trying a lock here, even for an instant and without blocking, would
// make that last user's exclusive attempt fail, and the object would outlive
// its users. So liveness is read from the kernel's lock table, /proc/locks,
// which lists every granted flock by device and inode and changes nothing.
// System V segments need none of this: the kernel's own flags (SHM_DEST) say
// what lsipc says.
#include "liveness.hpp"

#include <sys/stat.h>

namespace ipcshm_cli {

// Readings of /proc/locks that must all miss a lock before an object is called
// orphaned, beyond the three that read_locks merges.
constexpr int kOrphanRereads = 16;

Liveness posix_liveness(const Object& o, const LockTable& locks) {
  if (o.kind != IPCSHM_KIND_POSIX || !o.is_volatile()) return Liveness::kNotVolatile;
  bool shared = false, exclusive = false;
  if (auto it = locks.held.find(o.file); it != locks.held.end())
    for (const FileLock& l : it->second) (l.exclusive ? exclusive : shared) = true;
  if (shared) return Liveness::kLive;
  if (exclusive) return Liveness::kExclusive;
  if (!locks.complete) return Liveness::kUnknown;
  // A table read in pages may have skipped the one lock of a live object (the
  // kernel finds its place again by counting, and locks come and go): before
  // calling an object orphaned, look again, until the miss is unlikely beyond
  // measure. Live objects are the common case and cost nothing more.
  if (locks.paged && lock_seen_on_rereading(o.file, kOrphanRereads)) return Liveness::kLive;
  return Liveness::kOrphaned;
}

std::string status_text(const Object& o, const LockTable& locks) {
  std::string words;
  auto add = [&](const char* w) {
    if (!words.empty()) words += ',';
    words += w;
  };
  switch (o.kind) {
    case IPCSHM_KIND_POSIX:
      switch (posix_liveness(o, locks)) {
        case Liveness::kLive: add("live"); break;
        case Liveness::kOrphaned: add("orphaned"); break;
        case Liveness::kExclusive: add("exclusive"); break;
        case Liveness::kUnknown: add("unknown"); break;
        case Liveness::kNotVolatile: break;
      }
      if (o.info.size == 0) add("empty");
      // A channel's indices that no sender and receiver can have made (the
      // receiver more than the ring behind, or ahead by more than the one
      // message a dying sender may leave uncounted): its header was overwritten.
      if (o.channel && o.ch.sent - o.ch.received > o.ch.slot_count &&
          o.ch.received - o.ch.sent != 1)
        add("bad");
      break;
    case IPCSHM_KIND_SYSV:
      if (o.sysv_perms & kSysvDest) add("dest");
      if (o.sysv_perms & kSysvLocked) add("locked");
      if (o.sysv_perms & kSysvHugetlb) add("hugetlb");
      if (o.sysv_perms & kSysvNoreserve) add("noreserve");
      break;
    default:
      add("not-shm");
      break;
  }
  return words;
}

}  // namespace ipcshm_cli
