// What /proc tells about who uses an object: the flock table and each process's
// mappings and descriptors. Read-only: nothing here opens, locks or maps an object.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "objects.hpp"

namespace ipcshm_cli {

struct FileLock {
  pid_t pid;        // the process that took it (it may have handed the descriptor on)
  bool exclusive;
};

// /proc/locks: the flock(2) locks granted on each file (waiters left out).
struct LockTable {
  bool readable = false;  // /proc/locks could be read
  bool complete = false;  // and lists every lock: /proc belongs to the initial pid
                          // namespace. Elsewhere the kernel leaves out the locks
                          // of processes outside the namespace and of takers that
                          // died having handed their descriptor on.
  bool paged = false;     // it came in more than one piece (see read_locks)
  std::map<FileKey, std::vector<FileLock>> held;
};
LockTable read_locks();

// For a file that `locks` shows no flock on, although the table came in pages:
// reads /proc/locks again, up to `tries` times, and says whether a lock on the
// file showed up in one of them (so the file is not to be called orphaned).
bool lock_seen_on_rereading(const FileKey& file, int tries);

// A process that uses an object.
struct Holder {
  pid_t pid = 0;
  uint32_t uid = 0;
  bool inspected = false;  // its mappings and descriptors could be read
  bool map_rw = false, map_ro = false;  // maps it (System V: attached)
  bool fd = false;                      // holds a descriptor of it
  bool flock_sh = false, flock_ex = false;  // holds its flock (from /proc/locks)
  unsigned attaches = 0;                // System V: attachments seen in its maps
};

struct HolderScan {
  std::map<FileKey, std::vector<Holder>> posix;  // by file, sorted by pid
  std::map<int32_t, std::vector<Holder>> sysv;   // by shmid, sorted by pid
  unsigned processes = 0;  // processes looked at
  unsigned hidden = 0;     // of which the caller may not read the maps or fds
};

// Scans every process for mappings and descriptors of the given POSIX files
// and of System V segments, and adds the flock holders of the POSIX files.
HolderScan scan_holders(const std::set<FileKey>& files, const LockTable& locks);

// The holders of one object, and how many more may exist unseen: System V:
// attachments the caller could not see (nattch minus those seen); POSIX: the
// processes the caller may not inspect (any of them might hold it).
const std::vector<Holder>& holders_of(const HolderScan& scan, const Object& o);
uint64_t hidden_holders(const HolderScan& scan, const Object& o);

// What a holder does with an object: "map-rw,fd,flock-sh", "shmat", ...
std::string access_text(const Holder& h);

// A process's command line (arguments joined by spaces), or "" if it has none
// (kernel thread, zombie) or is gone.
std::string process_command(pid_t pid);

}  // namespace ipcshm_cli
