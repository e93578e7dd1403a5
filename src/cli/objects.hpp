// The objects the tool shows: listing /dev/shm and /proc/sysvipc/shm, resolving ids.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "ipcshm.h"

namespace ipcshm_cli {

// A file's identity: how /proc/locks, /proc/PID/maps and fds name it.
struct FileKey {
  unsigned major = 0, minor = 0;
  unsigned long long ino = 0;
  auto operator<=>(const FileKey&) const = default;
};
FileKey file_key(const struct stat& st);

constexpr uint32_t kSysvDest = 01000;     // SHM_DEST in /proc/sysvipc/shm's perms
constexpr uint32_t kSysvLocked = 02000;   // SHM_LOCKED
constexpr uint32_t kSysvHugetlb = 04000;  // SHM_HUGETLB
constexpr uint32_t kSysvNoreserve = 010000;  // SHM_NORESERVE

struct Object {
  std::string id;        // canonical: "/name" or "shmid:N"
  uint32_t kind = 0;     // IPCSHM_KIND_POSIX or _SYSV; 0: a name in /dev/shm that is
                         // not a shared memory object (a FIFO, directory, symlink...)
  ipcshm_info_t info{};  // from ipcshm_info() (System V: or /proc's line)
  mode_t file_mode = 0;  // POSIX names: lstat's st_mode (type and bits)
  FileKey file;          // POSIX names: the file's identity
  uint32_t sysv_perms = 0;  // System V: /proc's perms (SHM_DEST, SHM_LOCKED, ...)
  bool from_proc = false;   // System V: IPC_STAT not permitted, fields from /proc
  bool channel = false;     // POSIX: a channel, as ipcshm_channel_info() read it
  ipcshm_channel_info_t ch{};  // its slots, fill level and ends (if channel)

  bool is_volatile() const { return kind != 0 && !(info.flags & IPCSHM_PERSISTENT); }
};

const char* kind_name(const Object& o);  // posix, channel, sysv, fifo, directory, ...

// Whether a POSIX object is a channel, and its state, through
// ipcshm_channel_info(): its header read (checked as any untrusted header),
// each end's lock asked about, nothing mapped, locked or taken. An object that
// is not one, whose header the library rejects, or that the caller may not
// read, is not shown as a channel.
void read_channel(Object* o);

// Every name in /dev/shm (POSIX semaphores, sem.*, left out), sorted by name,
// objects and non-objects alike. Failures are reported; false if any.
bool list_posix(std::vector<Object>* out);
// Every System V segment, sorted by shmid.
bool list_sysv(std::vector<Object>* out);

// Finds the object an id names. 0: found (o->kind is 0 for a name in /dev/shm
// that is not an object); < 0: -errno, the message in ipcshm_last_error() or in
// *why. A malformed id (or "private", or a memfd) is a usage error.
int resolve(const std::string& id, Object* o, std::string* why);

// "a FIFO", "a directory", ... for messages about names that are not objects.
std::string what_it_is(const Object& o);
// The message for a name in /dev/shm that is not an object (o.kind == 0).
std::string not_an_object(const Object& o);

// True if id has the shape of a POSIX name: "/" then 1..255 bytes, no other "/",
// not "/." or "/..".
bool posix_name_shape(const std::string& id);

}  // namespace ipcshm_cli
