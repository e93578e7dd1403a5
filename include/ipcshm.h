/* ipcshm.h — shared memory between processes, from any language.
 *
 * libipcshm maps POSIX named objects and System V segments with one small C API
 * that C, C++, Julia (ccall), Python (ctypes/cffi) and Rust (FFI) can all call.
 *
 * Rules of this API
 *
 *  1. Every object is named by one string, its id:
 *       "/name"              POSIX named object (shm_open). One leading '/', no other
 *                            '/', 1..255 bytes after the '/', not "/." or "/..".
 *                            A name that ends in "XXXXXX" is a template (as for
 *                            mkstemp): ipcshm_create replaces the X's with random
 *                            characters and ipcshm_id() tells the name it chose.
 *       "key:0x1234"         System V segment by IPC key (hex, or decimal
 *       "key:4660"           "key:4660"; key 0 is IPC_PRIVATE: say "private").
 *       "private"            a fresh System V segment (IPC_PRIVATE); create only.
 *       "shmid:65538"        System V segment by identifier; attach only.
 *     Anything else is -EINVAL, and ipcshm_last_error() says what was expected.
 *
 *  2. Functions that can fail return int: 0 or a non-negative result on success,
 *     a negative errno value on failure (-ENOENT, -EACCES, ...). Results come back
 *     through out-parameters, which are left untouched on failure.
 *     ipcshm_last_error() then returns a human-readable message for the last failure
 *     on the calling thread, naming the call and the object, e.g.
 *     'shm_open("/x"): Permission denied'. It is not cleared by a success.
 *
 *  3. Handles (ipcshm_t *) are opaque and validated: a NULL or detached handle gives
 *     -EINVAL / -EBADF (or NULL / 0 from the accessors), never a crash. One handle
 *     may be used from several threads at once; detaching it while another thread
 *     still uses its memory is the caller's race, as with munmap.
 *
 *  4. Lifetimes. By default an object is volatile, as in Julia's
 *     InterProcessCommunication.jl: it is destroyed when its last user, in any
 *     process, detaches or dies.
 *       - System V: the segment is marked for removal (IPC_RMID) as soon as its
 *         creator has attached it. The kernel destroys it with its last attachment;
 *         until then it can still be attached by "shmid:N" (not by its key).
 *         System V has no atomic create-and-mark: a creator killed in the few
 *         microseconds between shmget and IPC_RMID leaves an ordinary segment
 *         behind, for ipcrm or `ipcshm rm`.
 *       - POSIX: every handle holds a shared flock(2) on its descriptor; a handle
 *         that detaches and finds itself the only holder unlinks the name. A name
 *         whose holders all died is reclaimed by the next create or attach of it
 *         (attach then gives -ENOENT), or by `ipcshm gc`. Volatile POSIX objects
 *         carry the sticky bit (S_ISVTX) in their mode as the mark that says so;
 *         ipcshm_info() reports it in `flags`, not in `mode`.
 *     IPCSHM_PERSISTENT objects stay until ipcshm_remove() or reboot.
 *     A forked child shares its parent's handles (and their flock). Detaching an
 *     inherited handle in the child unmaps it but never destroys the object (the
 *     child cannot tell whether its parent still uses it); to count as a user of
 *     its own, the child attaches anew.
 *
 *  5. Permissions given to create and chmod are applied exactly (not masked by the
 *     umask) and always include owner read and write (0600). Bits above 0777 are
 *     -EINVAL.
 *
 *  6. Descriptors opened by the library are close-on-exec. Mappings stay valid in
 *     a forked child.
 *
 *  7. Only fixed-width types; no struct is passed by value; no callbacks; no
 *     initialisation call. Structs that may grow carry their size first.
 */
#ifndef IPCSHM_H
#define IPCSHM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(IPCSHM_NO_EXPORT_ATTRIBUTE)
#define IPCSHM_EXPORT __attribute__((visibility("default")))
#else
#define IPCSHM_EXPORT
#endif

/* C++ callers may rely on it: no function of the library throws. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define IPCSHM_NOEXCEPT noexcept
#else
#define IPCSHM_NOEXCEPT
#endif

/* The version of this header; ipcshm_version() gives the library's. */
#define IPCSHM_VERSION_MAJOR 1
#define IPCSHM_VERSION_MINOR 0
#define IPCSHM_VERSION_PATCH 0
#define IPCSHM_VERSION \
  ((IPCSHM_VERSION_MAJOR << 16) | (IPCSHM_VERSION_MINOR << 8) | IPCSHM_VERSION_PATCH)

/* One mapping of one object. Opaque. (The struct tag is not "ipcshm", so that
 * C++ code, ipcshm.hpp among it, can have a namespace of that name.) */
typedef struct ipcshm_handle ipcshm_t;

/* Flags (uint32_t); 0 is the safe default: volatile, exclusive create,
 * read-write. Unknown bits are -EINVAL. */
enum {
  IPCSHM_READONLY = 1u << 0,       /* map read-only; needs only read permission;
                                      a write through the mapping faults (SIGSEGV) */
  IPCSHM_PERSISTENT = 1u << 1,     /* create: not volatile; stays until removed   */
  IPCSHM_OPEN_OR_CREATE = 1u << 2, /* create: attach the object if it exists and
                                      belongs to the caller's user (else -EACCES),
                                      otherwise create it                          */
  IPCSHM_PREFAULT = 1u << 3,       /* populate the pages at map time               */
  IPCSHM_LOCKED = 1u << 5,         /* keep the pages in RAM (mlock); -EPERM/-ENOMEM
                                      past RLIMIT_MEMLOCK                           */
  IPCSHM_RESERVE = 1u << 6         /* POSIX create: reserve the backing store now
                                      (fallocate), so a full /dev/shm is -ENOSPC at
                                      create, not SIGBUS at first write            */
};

/* Object kinds, as reported in ipcshm_info_t.kind. */
enum { IPCSHM_KIND_POSIX = 1, IPCSHM_KIND_SYSV = 2, IPCSHM_KIND_MEMFD = 3 };

/* What ipcshm_info() tells of an object. The caller sets struct_size to
 * sizeof(ipcshm_info_t) before the call; the struct only grows at its end, and the
 * library fills what both sides know (struct_size >= 88, the first version). */
typedef struct ipcshm_info {
  uint32_t struct_size; /* set by the caller: sizeof(ipcshm_info_t)               */
  uint32_t kind;        /* IPCSHM_KIND_*                                         */
  uint64_t size;        /* bytes (System V: shm_segsz)                           */
  uint64_t nattch;      /* System V attach count; POSIX: 0                       */
  int64_t atime;        /* System V: last attach; POSIX: st_atime (seconds)      */
  int64_t dtime;        /* System V: last detach; POSIX: st_mtime                */
  int64_t ctime;        /* last change (seconds)                                 */
  uint32_t mode;        /* permission bits (0777)                                */
  uint32_t uid, gid;    /* owner                                                 */
  uint32_t cuid, cgid;  /* creator (POSIX: same as owner)                        */
  int32_t cpid, lpid;   /* System V creator / last shmat-shmdt pid; POSIX: -1    */
  int32_t key;          /* System V key (0 once removed or private); POSIX: 0    */
  int32_t shmid;        /* System V identifier; POSIX: -1                        */
  uint32_t flags;       /* IPCSHM_PERSISTENT when the object is not volatile     */
} ipcshm_info_t;

/* Creates the object `id` of `size` bytes (>= 1) with permissions `perms` and
 * maps it read-write (read-only with IPCSHM_READONLY). Exclusive: an existing id
 * is -EEXIST and is left untouched, unless IPCSHM_OPEN_OR_CREATE, which attaches
 * an existing object of the caller's user if it has at least `size` bytes.
 * Returns 1 when it created the object, 0 when it attached an existing one (so the
 * caller knows whether to initialise it). New memory reads as zeros. A failure
 * leaves nothing behind. System V sizes are those the kernel keeps (not rounded
 * to pages). */
IPCSHM_EXPORT int ipcshm_create(const char *id, uint64_t size, uint32_t perms,
                                uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;

/* Maps the existing object `id` ("/name", "key:...", "shmid:N"), read-write or,
 * with IPCSHM_READONLY, read-only (which needs only read permission). A missing
 * object is -ENOENT; a volatile POSIX object whose users are all gone is -ENOENT
 * too (and is removed). */
IPCSHM_EXPORT int ipcshm_attach(const char *id, uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;

/* Unmaps and frees the handle. A volatile object is destroyed when its last user
 * detaches. Detaching a handle twice is -EBADF; NULL is -EINVAL. */
IPCSHM_EXPORT int ipcshm_detach(ipcshm_t *h) IPCSHM_NOEXCEPT;

/* Removes the name of an object ("/name": shm_unlink; System V: IPC_RMID). Users
 * that have it mapped keep their memory. An object already gone is 0, as
 * InterProcessCommunication.jl's shmrm. */
IPCSHM_EXPORT int ipcshm_remove(const char *id) IPCSHM_NOEXCEPT;

/* The address of the mapping; NULL for an invalid handle. */
IPCSHM_EXPORT void *ipcshm_pointer(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/* The size of the mapping in bytes; 0 for an invalid handle. */
IPCSHM_EXPORT uint64_t ipcshm_size(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/* The canonical id ("/name" or "shmid:N") that attaches the same object from
 * another process; NULL for an invalid handle. Valid until ipcshm_detach(h). */
IPCSHM_EXPORT const char *ipcshm_id(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/* Fills *info for the object `id` (needs no more than read permission). */
IPCSHM_EXPORT int ipcshm_info(const char *id, ipcshm_info_t *info) IPCSHM_NOEXCEPT;

/* Fills *info for the object that the handle maps. */
IPCSHM_EXPORT int ipcshm_handle_info(const ipcshm_t *h, ipcshm_info_t *info) IPCSHM_NOEXCEPT;

/* Sets the permission bits of `id` to `perms` | 0600 (System V: IPC_SET;
 * POSIX: fchmod, keeping the volatile mark). Only the owner (or root) may. */
IPCSHM_EXPORT int ipcshm_chmod(const char *id, uint32_t perms) IPCSHM_NOEXCEPT;

/* (major << 16) | (minor << 8) | patch of the library that is loaded. */
IPCSHM_EXPORT uint32_t ipcshm_version(void) IPCSHM_NOEXCEPT;

/* The text of an errno value; `err` may be negative or positive. Never NULL. */
IPCSHM_EXPORT const char *ipcshm_strerror(int err) IPCSHM_NOEXCEPT;

/* The message of the last failure on this thread ("" if none yet). The string
 * stays valid until the next failing call on this thread. */
IPCSHM_EXPORT const char *ipcshm_last_error(void) IPCSHM_NOEXCEPT;

/* The size of a page in bytes. */
IPCSHM_EXPORT uint64_t ipcshm_page_size(void) IPCSHM_NOEXCEPT;

/* Low-level System V, as InterProcessCommunication.jl has them (shmget, shmat,
 * shmdt, shmctl, shmrm). No lifetime management: the caller decides. */

/* shmget(key, size, shmflg): key 0 is IPC_PRIVATE. shmflg is shmget's (IPC_CREAT,
 * IPC_EXCL, permission bits). */
IPCSHM_EXPORT int ipcshm_sysv_get(int32_t key, uint64_t size, int32_t shmflg,
                                  int32_t *shmid) IPCSHM_NOEXCEPT;

/* shmat(shmid, NULL, readonly ? SHM_RDONLY : 0). */
IPCSHM_EXPORT int ipcshm_sysv_attach(int32_t shmid, int readonly, void **ptr) IPCSHM_NOEXCEPT;

/* shmdt(ptr). An address that is not attached is -EINVAL. */
IPCSHM_EXPORT int ipcshm_sysv_detach(const void *ptr) IPCSHM_NOEXCEPT;

/* shmctl(shmid, cmd, buf). `buf` points to a struct shmid_ds (IPC_STAT, IPC_SET,
 * SHM_STAT) or struct shminfo / shm_info (IPC_INFO, SHM_INFO) of `bufsize` bytes;
 * a buffer shorter than the command needs is -EINVAL. IPC_RMID, SHM_LOCK and
 * SHM_UNLOCK take no buffer (buf may be NULL). */
IPCSHM_EXPORT int ipcshm_sysv_ctl(int32_t shmid, int32_t cmd, void *buf,
                                  uint64_t bufsize) IPCSHM_NOEXCEPT;

/* shmctl(shmid, IPC_RMID). A segment already removed is 0. */
IPCSHM_EXPORT int ipcshm_sysv_remove(int32_t shmid) IPCSHM_NOEXCEPT;

/* sizeof(struct shmid_ds) on this platform, for callers without the C headers. */
IPCSHM_EXPORT uint64_t ipcshm_sysv_shmid_ds_size(void) IPCSHM_NOEXCEPT;

/* ftok(path, proj): proj must be 1..255. */
IPCSHM_EXPORT int ipcshm_ftok(const char *path, int32_t proj, int32_t *key) IPCSHM_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* IPCSHM_H */
