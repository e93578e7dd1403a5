/**
 * @file
 * ipcshm.h — shared memory between processes, from any language.
 *
 * libipcshm maps POSIX named objects and System V segments with one small C API
 * that C, C++, Julia (ccall), Python (ctypes/cffi) and Rust (FFI) can all call.
 *
 * Rules of this API
 *
 *  1. Every object is named by one string, its id:
 *     <pre>
 *       "/name"              POSIX named object (shm_open). One leading '/', no other
 *                            '/', 1..255 bytes after the '/', not "/." or "/..".
 *                            A name that ends in "XXXXXX" is a template (as for
 *                            mkstemp): ipcshm_create replaces the X's with random
 *                            characters and ipcshm_id() tells the name it chose.
 *       "key:0x1234"         System V segment by IPC key (hex, or decimal
 *       "key:4660"           "key:4660"; key 0 is IPC_PRIVATE: say "private").
 *       "private"            a fresh System V segment (IPC_PRIVATE); create only.
 *       "shmid:65538"        System V segment by identifier; attach only.
 *       "memfd:label"        anonymous object (memfd_create); create only. It has
 *                            no name in the system: other processes get it as a
 *                            descriptor (ipcshm_fd + ipcshm_attach_fd, or
 *                            ipcshm_send + ipcshm_recv). The label (1..249 bytes)
 *                            is what /proc/PID/fd shows; "XXXXXX" at its end is
 *                            filled with random characters, as for names.
 *     </pre>
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
 *     -EINVAL / -EBADF (or NULL / 0 from the accessors), never a crash. A handle
 *     is a value, not an address (never dereference it), and no value is given
 *     out twice in the life of a process: a handle detached twice is -EBADF even
 *     after new handles were made, and never reaches one of them. One handle
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
 *         (attach then gives -ENOENT), or by `ipcshm gc`. Removing a name takes
 *         the right to (/dev/shm is sticky: the object's owner, or root): when
 *         the last user is another user, the name stays, with no user, until one
 *         who may remove it reclaims it in the same way. Volatile POSIX objects
 *         carry the sticky bit (S_ISVTX) in their mode as the mark that says so;
 *         ipcshm_info() reports it in `flags`, not in `mode`.
 *       - memfd: the object lives while any descriptor or mapping of it does, in
 *         any process; it is never persistent and has no name to remove.
 *
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

/** Marks the functions that libipcshm exports (default visibility with GCC and
 * Clang); defining IPCSHM_NO_EXPORT_ATTRIBUTE leaves the attribute out. */
#if defined(__GNUC__) && !defined(IPCSHM_NO_EXPORT_ATTRIBUTE)
#define IPCSHM_EXPORT __attribute__((visibility("default")))
#else
#define IPCSHM_EXPORT
#endif

/** C++ callers may rely on it: no function of the library throws. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define IPCSHM_NOEXCEPT noexcept
#else
#define IPCSHM_NOEXCEPT
#endif

/** The version of this header; ipcshm_version() gives the library's.
 * @{ */
#define IPCSHM_VERSION_MAJOR 1
#define IPCSHM_VERSION_MINOR 2
#define IPCSHM_VERSION_PATCH 0
#define IPCSHM_VERSION \
  ((IPCSHM_VERSION_MAJOR << 16) | (IPCSHM_VERSION_MINOR << 8) | IPCSHM_VERSION_PATCH)
/** @} */

/** One mapping of one object. Opaque. (The struct tag is not "ipcshm", so that
 * C++ code, ipcshm.hpp among it, can have a namespace of that name.) */
typedef struct ipcshm_handle ipcshm_t;

/** Flags (uint32_t); 0 is the safe default: volatile, exclusive create,
 * read-write. Unknown bits are -EINVAL. */
enum {
  IPCSHM_READONLY = 1u << 0,       /**< map read-only; needs only read permission;
                                      a write through the mapping faults (SIGSEGV) */
  IPCSHM_PERSISTENT = 1u << 1,     /**< create: not volatile; stays until removed   */
  IPCSHM_OPEN_OR_CREATE = 1u << 2, /**< create: attach the object if it exists and is
                                      the caller's own (else -EACCES), otherwise
                                      create it. Own means: System V, owned *and*
                                      created by the caller's user (a creator keeps
                                      full access to a segment it gave away);
                                      POSIX, owned by the caller's user and with no
                                      name but this one (another user may hard-link
                                      an object it can open under the caller's
                                      name). With IPCSHM_PERSISTENT, an existing
                                      volatile object is -EEXIST; without it, an
                                      existing object keeps its own lifetime
                                      (ipcshm_handle_info tells which)             */
  IPCSHM_PREFAULT = 1u << 3,       /**< populate the pages at map time               */
  IPCSHM_HUGEPAGES = 1u << 4,      /**< create (since 1.1): back the object with huge
                                      pages. System V: SHM_HUGETLB; memfd:
                                      MFD_HUGETLB (both from the pool in
                                      /proc/sys/vm/nr_hugepages; the size is rounded
                                      up to a whole huge page); POSIX: only where
                                      /dev/shm is mounted with huge=. None
                                      available: -ENOMEM, or -EOPNOTSUPP for POSIX,
                                      with a message that says what to change      */
  IPCSHM_LOCKED = 1u << 5,         /**< keep the pages in RAM (mlock); -EPERM/-ENOMEM
                                      past RLIMIT_MEMLOCK                           */
  IPCSHM_RESERVE = 1u << 6,        /**< POSIX create: reserve the backing store now
                                      (fallocate), so a full /dev/shm is -ENOSPC at
                                      create, not SIGBUS at first write            */
  IPCSHM_UNSEALED = 1u << 7        /**< ipcshm_attach_fd / ipcshm_recv (since 1.2):
                                      accept a memfd that is not sealed against
                                      shrinking (F_SEAL_SHRINK). Without it such a
                                      memfd is -EPERM: any holder of it could
                                      truncate it and make this mapping fault
                                      (SIGBUS). Ignored for other objects          */
};

/** Object kinds, as reported in ipcshm_info_t.kind. */
enum { IPCSHM_KIND_POSIX = 1, IPCSHM_KIND_SYSV = 2, IPCSHM_KIND_MEMFD = 3 };

/** What ipcshm_info() tells of an object. The caller sets struct_size to
 * sizeof(ipcshm_info_t) before the call; the struct only grows at its end, and the
 * library fills what both sides know (struct_size >= 88, the first version). */
typedef struct ipcshm_info {
  uint32_t struct_size; /**< set by the caller: sizeof(ipcshm_info_t)             */
  uint32_t kind;        /**< IPCSHM_KIND_*                                       */
  uint64_t size;        /**< bytes (System V: shm_segsz)                         */
  uint64_t nattch;      /**< System V attach count; POSIX, memfd: 0              */
  int64_t atime;        /**< System V: last attach; POSIX: st_atime (seconds)    */
  int64_t dtime;        /**< System V: last detach; POSIX: st_mtime              */
  int64_t ctime;        /**< last change (seconds)                               */
  uint32_t mode;        /**< permission bits (0777)                              */
  /** @{ */
  uint32_t uid, gid;    /**< owner                                               */
  /** @} */
  /** @{ */
  uint32_t cuid, cgid;  /**< creator (POSIX: same as owner)                      */
  /** @} */
  /** @{ */
  int32_t cpid, lpid;   /**< System V creator / last shmat-shmdt pid; else -1    */
  /** @} */
  int32_t key;          /**< System V key (0 once removed or private); else 0    */
  int32_t shmid;        /**< System V identifier; else -1                        */
  uint32_t flags;       /**< IPCSHM_PERSISTENT when the object is not volatile;
                           IPCSHM_HUGEPAGES when it is a memfd in huge pages     */
} ipcshm_info_t;

/** Creates the object `id` of `size` bytes (>= 1) with permissions `perms` and
 * maps it read-write (read-only with IPCSHM_READONLY). Exclusive: an existing id
 * is -EEXIST and is left untouched, unless IPCSHM_OPEN_OR_CREATE, which attaches
 * an existing object of the caller's user if it has at least `size` bytes.
 * Returns 1 when it created the object, 0 when it attached an existing one (so the
 * caller knows whether to initialise it). New memory reads as zeros. A failure
 * leaves nothing behind. A "memfd:label" object is always new and lives while it
 * is used: IPCSHM_PERSISTENT and IPCSHM_OPEN_OR_CREATE are -EINVAL for it. System V sizes are those the kernel keeps (not rounded
 * to pages). */
IPCSHM_EXPORT int ipcshm_create(const char *id, uint64_t size, uint32_t perms,
                                uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;

/** Maps the existing object `id` ("/name", "key:...", "shmid:N"), read-write or,
 * with IPCSHM_READONLY, read-only (which needs only read permission). A missing
 * object is -ENOENT; a volatile POSIX object whose users are all gone is -ENOENT
 * too (and is removed). Joining a volatile POSIX object takes a shared flock,
 * which an exclusive flock held by someone else delays: the library holds one
 * for microseconds only, so after a second of it the call gives up with -EBUSY
 * (another process is squatting the object), as ipcshm_create does. */
IPCSHM_EXPORT int ipcshm_attach(const char *id, uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;

/** Unmaps and frees the handle. A volatile object is destroyed when its last user
 * detaches. Detaching a handle twice is -EBADF; NULL is -EINVAL. The handle of
 * a channel's object (ipcshm_channel_handle) is -EBUSY: it goes with
 * ipcshm_channel_close. */
IPCSHM_EXPORT int ipcshm_detach(ipcshm_t *h) IPCSHM_NOEXCEPT;

/** Removes the name of an object ("/name": shm_unlink; System V: IPC_RMID). Users
 * that have it mapped keep their memory. An object already gone is 0, as
 * InterProcessCommunication.jl's shmrm. Only the owner (or root) may: another
 * user gets -EACCES for both kinds (the kernel says EPERM; the library reports
 * every lack of permission as -EACCES). */
IPCSHM_EXPORT int ipcshm_remove(const char *id) IPCSHM_NOEXCEPT;

/** The address of the mapping; NULL for an invalid handle. */
IPCSHM_EXPORT void *ipcshm_pointer(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/** The size of the mapping in bytes; 0 for an invalid handle. */
IPCSHM_EXPORT uint64_t ipcshm_size(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/** The canonical id ("/name", "shmid:N" or "memfd:label") of the object; the first
 * two attach the same object from another process (a memfd travels as a
 * descriptor). NULL for an invalid handle. Valid until ipcshm_detach(h). */
IPCSHM_EXPORT const char *ipcshm_id(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/** Fills *info for the object `id` (needs no more than read permission). */
IPCSHM_EXPORT int ipcshm_info(const char *id, ipcshm_info_t *info) IPCSHM_NOEXCEPT;

/** Fills *info for the object that the handle maps. */
IPCSHM_EXPORT int ipcshm_handle_info(const ipcshm_t *h, ipcshm_info_t *info) IPCSHM_NOEXCEPT;

/** Sets the permission bits of `id` to `perms` | 0600 (System V: IPC_SET;
 * POSIX: fchmod, keeping the volatile mark). Only the owner (or root) may:
 * another user gets -EACCES, as for ipcshm_remove. */
IPCSHM_EXPORT int ipcshm_chmod(const char *id, uint32_t perms) IPCSHM_NOEXCEPT;

/** (major << 16) | (minor << 8) | patch of the library that is loaded. */
IPCSHM_EXPORT uint32_t ipcshm_version(void) IPCSHM_NOEXCEPT;

/** The text of an errno value; `err` may be negative or positive. Never NULL. */
IPCSHM_EXPORT const char *ipcshm_strerror(int err) IPCSHM_NOEXCEPT;

/** The message of the last failure on this thread ("" if none yet). The string
 * stays valid until the next failing call on this thread. */
IPCSHM_EXPORT const char *ipcshm_last_error(void) IPCSHM_NOEXCEPT;

/** The size of a page in bytes. */
IPCSHM_EXPORT uint64_t ipcshm_page_size(void) IPCSHM_NOEXCEPT;

/** @name Descriptors, resizing, sockets (since 1.1)
 * Since 1.1: descriptors, resizing, passing objects over UNIX-domain sockets.
 *
 * A descriptor of a POSIX or memfd object can travel to another process (over a
 * socket, or inherited across exec) and be mapped there. Mapping a descriptor
 * opens the object anew (through /proc/self/fd), so the new handle is a user of
 * its own: a volatile POSIX object lives while it is attached, and a read-only
 * descriptor stays read-only (without IPCSHM_READONLY it is -EACCES). The
 * caller's descriptor is neither consumed nor changed. System V segments have no
 * descriptor: pass their "shmid:N" id instead (-EOPNOTSUPP).
 *
 * memfd objects are sealed against shrinking (F_SEAL_SHRINK) from their
 * creation, so no holder can make another's mapping fault by truncating it.
 * To freeze an object's size before giving it away, add F_SEAL_GROW (and, to
 * keep receivers from writing, F_SEAL_FUTURE_WRITE) with fcntl(F_ADD_SEALS) on
 * a descriptor from ipcshm_fd().
 * @{ */

/** A new close-on-exec descriptor of the handle's object (>= 0), which the caller
 * closes; read-only if the handle is. It is a new open file of the object (the
 * object reopened), not a duplicate of the handle's own descriptor: its offset,
 * status flags and flock(2) locks are its own, so nothing done to it can end
 * the handle's part in a volatile object's lifetime. Do not flock it all the
 * same: volatile POSIX objects count their users with shared flocks, and an
 * exclusive flock on any descriptor of one makes its attachers wait, then fail
 * with -EBUSY. (A handle that maps a descriptor received from a user whose
 * object this user may not open shares that descriptor's open file: then the
 * new descriptor is a duplicate of it, which carries no lock of the handle's.)
 * Anyone who holds a writable descriptor of a POSIX object can truncate it and
 * make every mapping of it fault (SIGBUS) past the new end; memfd objects made
 * by the library are sealed against it (below). */
IPCSHM_EXPORT int ipcshm_fd(const ipcshm_t *h) IPCSHM_NOEXCEPT;

/** Maps the POSIX or memfd object open as `fd` (flags: IPCSHM_READONLY,
 * IPCSHM_PREFAULT, IPCSHM_LOCKED, IPCSHM_UNSEALED). A POSIX object whose name was
 * removed meanwhile is -ENOENT, as for ipcshm_attach; a descriptor of anything
 * else (a regular file on disk, a socket) is -EINVAL. A memfd that is not sealed
 * against shrinking (F_SEAL_SHRINK, as the library seals every memfd it makes)
 * is -EPERM unless IPCSHM_UNSEALED accepts it: whoever else holds it could
 * truncate it under the new mapping. */
IPCSHM_EXPORT int ipcshm_attach_fd(int fd, uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;

/** Changes the size of a POSIX or memfd object to `size` (>= 1) bytes and maps it
 * anew: ipcshm_pointer(h) may move, so pointers into the old mapping are invalid
 * afterwards (and must not be in use by other threads meanwhile). Grown memory
 * reads as zeros; IPCSHM_RESERVE, IPCSHM_LOCKED and IPCSHM_PREFAULT given at
 * create or attach apply to it. Other processes see the new size when they
 * attach; their mappings keep their old length, and the bytes they map beyond a
 * shrunken end fault (SIGBUS). So shrinking a volatile POSIX object is -EBUSY
 * while another handle, in any process, is a user of it (and through a handle
 * inherited across fork, which cannot tell); the handle that shrinks it is the
 * only user meanwhile. A persistent POSIX object keeps no count of its users:
 * shrink it only when nothing else maps it. A memfd object
 * cannot shrink (F_SEAL_SHRINK: -EPERM), nor grow once sealed (F_SEAL_GROW:
 * -EPERM). A read-only handle is -EPERM; System V is -EOPNOTSUPP (the kernel
 * cannot resize a segment); the handle of a channel's object
 * (ipcshm_channel_handle) is -EBUSY. Read ipcshm_pointer() and ipcshm_size()
 * again after any result: a failure to prefault the grown pages (-ENOMEM)
 * comes after the move. */
IPCSHM_EXPORT int ipcshm_resize(ipcshm_t *h, uint64_t size) IPCSHM_NOEXCEPT;

/** Sends the handle's object over the connected UNIX-domain socket `sock` (stream,
 * seqpacket or datagram), as a descriptor (SCM_RIGHTS) in one small message. The
 * sender keeps its handle. The descriptor sent is one that ipcshm_fd() would
 * give: a new open file of the object, with no lock of the sender's. */
IPCSHM_EXPORT int ipcshm_send(int sock, const ipcshm_t *h) IPCSHM_NOEXCEPT;

/** Receives one object sent by ipcshm_send on `sock` and maps it, as
 * ipcshm_attach_fd(fd, flags, out) would; the received descriptor is closed. A
 * message that is not from ipcshm_send (no descriptor, several, wrong bytes) is
 * -EBADMSG and every descriptor it carried is closed; the peer closing the
 * socket is -ECONNRESET. The message is consumed whatever the result (a
 * read-only object received without IPCSHM_READONLY is -EACCES, and gone; an
 * unsealed memfd without IPCSHM_UNSEALED is -EPERM, and gone, as the frame is
 * easily forged by any sender); on
 * a stream socket a foreign message may leave bytes behind, so keep such a
 * socket for ipcshm_send's messages. Blocks as the socket does (-EAGAIN if
 * non-blocking). */
IPCSHM_EXPORT int ipcshm_recv(int sock, uint32_t flags, ipcshm_t **out) IPCSHM_NOEXCEPT;
/** @} */

/** @name Typed arrays (since 1.1)
 * Since 1.1: typed arrays, byte for byte as InterProcessCommunication.jl's
 * WrappedArray header "WA-1", so that Julia reads what C, Python or Rust wrote,
 * and back. At the start of the object, native-endian:
 *     uint32 magic 0x57412D31 ("WA-1"), uint16 etype, uint16 ndims,
 *     int64 offset, then ndims x int64 dimensions,
 * and the elements at `offset` = round_up(16 + 8 * ndims, 64), column-major (the
 * first dimension varies fastest, as in Julia and Fortran).
 * @{ */

/** Element types of typed arrays (the header's etype). */
enum {
  IPCSHM_INT8 = 1, IPCSHM_UINT8, IPCSHM_INT16, IPCSHM_UINT16, IPCSHM_INT32,
  IPCSHM_UINT32, IPCSHM_INT64, IPCSHM_UINT64, IPCSHM_FLOAT32, IPCSHM_FLOAT64,
  IPCSHM_COMPLEX64, IPCSHM_COMPLEX128
};

/** Creates the object `id` holding an array of element type `etype`
 * (IPCSHM_INT8..IPCSHM_COMPLEX128) and `ndims` (1..65535) dimensions
 * dims[0..ndims-1] (each >= 0), writes its header and returns as ipcshm_create
 * does (1: created, all elements zero; 0: IPCSHM_OPEN_OR_CREATE attached an
 * existing array, which must have the same type and dimensions, else -EEXIST; an
 * existing object with no valid header is -EBADMSG, after waiting up to a second
 * for a creator that has not written it yet). IPCSHM_READONLY is -EINVAL: the
 * header has to be written. The element count must fit in an int64_t (Julia's
 * Int). A dimension may be 0 (an empty array), which InterProcessCommunication.jl
 * cannot read (its reader wants every dimension >= 1): give arrays meant for
 * IPC.jl dimensions >= 1. */
IPCSHM_EXPORT int ipcshm_array_create(const char *id, uint32_t etype, uint32_t ndims,
                                      const int64_t *dims, uint32_t perms, uint32_t flags,
                                      ipcshm_t **out) IPCSHM_NOEXCEPT;

/** Reads and checks the array header of the handle's object (it is shared memory,
 * so it is copied first and then trusted no further): the magic, the element
 * type, ndims >= 1, dimensions >= 0, the offset, and that the elements fit in the
 * mapping, without overflow. Otherwise -EBADMSG, with a message that says what is
 * wrong. Each out-pointer may be NULL. dims receives min(ndims, maxdims)
 * dimensions; when maxdims < ndims the result is -ERANGE, with *etype, *ndims
 * and *offset set, so the caller can ask again with room for all (dims may be
 * NULL when maxdims is 0). On -EBADMSG nothing is written. */
IPCSHM_EXPORT int ipcshm_array_header(const ipcshm_t *h, uint32_t *etype, uint32_t *ndims,
                                      int64_t *dims, uint32_t maxdims,
                                      uint64_t *offset) IPCSHM_NOEXCEPT;

/** The address of the first element, once the header has been checked as
 * ipcshm_array_header does (for an array with no element: the end of its
 * header's room, not to be read); NULL (and ipcshm_last_error() says why) if the
 * handle is invalid or holds no valid array. */
IPCSHM_EXPORT void *ipcshm_array_data(const ipcshm_t *h) IPCSHM_NOEXCEPT;
/** @} */

/** @name Low-level System V
 * Low-level System V, as InterProcessCommunication.jl has them (shmget, shmat,
 * shmdt, shmctl, shmrm). No lifetime management: the caller decides.
 * @{ */

/** shmget(key, size, shmflg): key 0 is IPC_PRIVATE. shmflg is shmget's (IPC_CREAT,
 * IPC_EXCL, permission bits). */
IPCSHM_EXPORT int ipcshm_sysv_get(int32_t key, uint64_t size, int32_t shmflg,
                                  int32_t *shmid) IPCSHM_NOEXCEPT;

/** shmat(shmid, NULL, readonly ? SHM_RDONLY : 0). */
IPCSHM_EXPORT int ipcshm_sysv_attach(int32_t shmid, int readonly, void **ptr) IPCSHM_NOEXCEPT;

/** shmdt(ptr). An address that is not attached is -EINVAL. */
IPCSHM_EXPORT int ipcshm_sysv_detach(const void *ptr) IPCSHM_NOEXCEPT;

/** shmctl(shmid, cmd, buf). `buf` points to a struct shmid_ds (IPC_STAT, IPC_SET,
 * SHM_STAT) or struct shminfo / shm_info (IPC_INFO, SHM_INFO) of `bufsize` bytes;
 * a buffer shorter than the command needs is -EINVAL. IPC_RMID, SHM_LOCK and
 * SHM_UNLOCK take no buffer (buf may be NULL). */
IPCSHM_EXPORT int ipcshm_sysv_ctl(int32_t shmid, int32_t cmd, void *buf,
                                  uint64_t bufsize) IPCSHM_NOEXCEPT;

/** shmctl(shmid, IPC_RMID). A segment already removed is 0. */
IPCSHM_EXPORT int ipcshm_sysv_remove(int32_t shmid) IPCSHM_NOEXCEPT;

/** sizeof(struct shmid_ds) on this platform, for callers without the C headers. */
IPCSHM_EXPORT uint64_t ipcshm_sysv_shmid_ds_size(void) IPCSHM_NOEXCEPT;

/** ftok(path, proj): proj must be 1..255. */
IPCSHM_EXPORT int ipcshm_ftok(const char *path, int32_t proj, int32_t *key) IPCSHM_NOEXCEPT;
/** @} */

/** @name Signalling (since 1.2)
 * Since 1.2: signalling: wait/wake on a word, events, semaphores and robust
 * mutexes that live inside shared memory.
 *
 *  1. A primitive is IPCSHM_EVENT_SIZE, IPCSHM_SEM_SIZE or IPCSHM_MUTEX_SIZE
 *     (64) bytes at an 8-byte aligned place that the caller chooses in any
 *     mapping: an object of this library (POSIX, System V, memfd), or memory
 *     mapped some other way, shared or, between the threads of one process, not
 *     shared. The layout is the library's own (never a libc type such as
 *     pthread_mutex_t or sem_t, which glibc and musl lay out differently), so C,
 *     C++, Python, Rust and Julia processes use the same primitive. A NULL or
 *     misaligned pointer is -EINVAL.
 *
 *  2. Initialise a primitive once (ipcshm_event_init, ipcshm_sem_init,
 *     ipcshm_mutex_init), before anyone uses it: typically the creator, when
 *     ipcshm_create returned 1, before it tells others the id. Initialising one
 *     that is in use breaks it for its users. A primitive's first word is a
 *     magic number of its kind: memory never initialised, or holding another
 *     kind, is -EINVAL; a primitive overwritten with impossible contents is
 *     -EBADMSG. Garbage never makes a call crash, read outside the 64 bytes or
 *     hang: a wait on a primitive that is overwritten meanwhile ends within
 *     0.1 s, with the error (or, if the garbage changed what it waited for,
 *     as if woken).
 *
 *  3. Every call but ipcshm_event_sequence, ipcshm_sem_value, ipcshm_wait and
 *     ipcshm_wake writes the primitive. In memory this process may only read (a
 *     read-only mapping: IPCSHM_READONLY, a read-only descriptor, mprotect) such
 *     a call is -EACCES, and at an address where nothing is mapped, -EFAULT. The
 *     library asks the kernel (a futex operation that reports the fault instead
 *     of taking it) the first time a thread uses a page, and remembers the answer
 *     until the library unmaps any of its mappings (ipcshm_detach, ipcshm_resize,
 *     ipcshm_sysv_detach, ...). Mappings the caller changes by itself are not
 *     watched: memory found writable, then unmapped or mprotect-ed by the caller
 *     and mapped read-only (or not at all) at the same address, is accessed as
 *     before, and the access faults (SIGSEGV), as any would.
 *
 *  4. Timeouts are int64_t nanoseconds: < 0 waits for ever, 0 only tries
 *     (-EAGAIN if the call would have to wait), > 0 is relative, measured on
 *     CLOCK_MONOTONIC; when it passes the call returns -ETIMEDOUT (within a few
 *     milliseconds of it).
 *
 *  5. A signal handler that runs while a call sleeps ends the wait with -EINTR
 *     (so Python's Ctrl-C interrupts a blocked wait), whether or not it was
 *     installed with SA_RESTART (the library's futex waits always have a
 *     deadline, and the kernel restarts none of those). A handler that runs
 *     while the call spins, or between two of its sleeps (see 6), does not end
 *     it. The C++ wrapper retries on -EINTR.
 *
 *  6. A wait first spins for a few microseconds (yielding the CPU: with two CPUs
 *     a spinner that does not yield can starve the very process it waits for),
 *     then sleeps in the kernel (FUTEX_WAIT on the shared word, never
 *     FUTEX_PRIVATE_FLAG) in slices of at most 0.1 s (20 ms for a mutex); a
 *     slice that ends without a wake-up checks the primitive again (a mutex:
 *     also whether its owner lives).
 *     Sleepers are counted in the primitive, so a notify, post or unlock that
 *     nobody waits for makes no system call. A process killed while asleep
 *     leaves that count one too high; it then costs each later notify, post or
 *     unlock one system call, and nothing else.
 *
 *  7. Processes that share a mutex must see each other's thread ids: one pid
 *     namespace (and one time namespace), with its /proc mounted. See
 *     ipcshm_mutex_lock.
 * @{ */

/** The sizes of the primitives in bytes (each 8-byte aligned in the mapping).
 * @{ */
enum { IPCSHM_EVENT_SIZE = 64, IPCSHM_SEM_SIZE = 64, IPCSHM_MUTEX_SIZE = 64 };
/** @} */

/** Wait and wake on any 32-bit word of a mapping: the futex contract, for
 * languages that cannot make the system call. `word` must be 4-byte aligned
 * (else -EINVAL); it may be in a read-only mapping. The kernel compares and
 * sleeps atomically: a wake that comes after the caller last read the word is
 * not lost, provided the waker changes the word before it wakes. No spinning,
 * no sleeper count: ipcshm_wake always asks the kernel.
 *
 * ipcshm_wait sleeps while *word == expected: 0 when woken, or at once if
 * *word != expected (wake-ups may also be spurious: check the word again);
 * -ETIMEDOUT; -EINTR; -EAGAIN for timeout 0 when *word == expected. */
IPCSHM_EXPORT int ipcshm_wait(const uint32_t *word, uint32_t expected,
                              int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Wakes up to `count` waiters of ipcshm_wait on `word` (UINT32_MAX: all) and
 * returns how many it woke. */
IPCSHM_EXPORT int ipcshm_wake(uint32_t *word, uint32_t count) IPCSHM_NOEXCEPT;

/** Events: a doorbell with a 64-bit sequence number, which every notify
 * increments. A waiter remembers the sequence it has seen and waits for it to
 * change ("eventcount"): a notify that comes between its read of the sequence
 * and its wait is never lost, and several notifies before it looks are seen as
 * one change. Nothing is owned, so a notifier that dies wedges nobody.
 *
 * With a mutex this is a condition variable (the order matters: read the
 * sequence while holding the mutex, unlock, then wait):
 *
 *     struct shared {                           // at offset 0 of the object:
 *       unsigned char mu[IPCSHM_MUTEX_SIZE];     // offset 0
 *       unsigned char ev[IPCSHM_EVENT_SIZE];     // offset 64 (8-aligned)
 *       int ready;
 *     } *s = ipcshm_pointer(h);
 *     // consumer
 *     ipcshm_mutex_lock(s->mu, -1);
 *     while (!s->ready) {
 *       uint64_t seen;
 *       ipcshm_event_sequence(s->ev, &seen);   // under the mutex
 *       ipcshm_mutex_unlock(s->mu);
 *       ipcshm_event_wait(s->ev, &seen, -1);   // returns once a notify came
 *       ipcshm_mutex_lock(s->mu, -1);          // (check -EOWNERDEAD in real code)
 *     }
 *     ipcshm_mutex_unlock(s->mu);
 *     // producer
 *     ipcshm_mutex_lock(s->mu, -1);
 *     s->ready = 1;
 *     ipcshm_mutex_unlock(s->mu);
 *     ipcshm_event_notify(s->ev);              // wakes every waiter
 *
 * ipcshm_event_init sets the sequence to 0. */
IPCSHM_EXPORT int ipcshm_event_init(void *ev) IPCSHM_NOEXCEPT;

/** Increments the sequence and wakes every waiter (and every descriptor of
 * ipcshm_event_fd). No system call when nobody waits. */
IPCSHM_EXPORT int ipcshm_event_notify(void *ev) IPCSHM_NOEXCEPT;

/** The current sequence in *seq (works in a read-only mapping). */
IPCSHM_EXPORT int ipcshm_event_sequence(const void *ev, uint64_t *seq) IPCSHM_NOEXCEPT;

/** Returns 0 as soon as the sequence differs from *seen, and stores it in *seen
 * (at once if it differs already); -ETIMEDOUT, -EINTR, or -EAGAIN for timeout 0
 * with no change. Start with *seen from ipcshm_event_sequence, read before
 * looking at the shared state that the event announces changes of. */
IPCSHM_EXPORT int ipcshm_event_wait(void *ev, uint64_t *seen, int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** A new descriptor (>= 0; close-on-exec, non-blocking) that becomes readable
 * after every notify that comes after this call, for poll/epoll, asyncio
 * (loop.add_reader), tokio (AsyncFd) or Julia (FDWatcher). The caller closes it
 * to stop.
 *
 * A read of 8 bytes returns the event's sequence (uint64_t, native byte order)
 * as a helper thread of the library saw it after a notify. At most one such
 * value waits in the descriptor: notifies that come before the caller reads
 * coalesce into it, so read ipcshm_event_sequence for the latest. With nothing
 * to read, read(2) fails with EAGAIN. Read 8 bytes at a time (a shorter read
 * leaves the rest for the next one). A read that returns 0 (end of file) means
 * the event was overwritten and the descriptor will never become readable
 * again.
 *
 * Each descriptor has a helper thread that sleeps on the event (counted as a
 * sleeper, so every notify makes a system call while a descriptor is open) and
 * that holds a mapping of its own of the event's page(s). Detaching the
 * mapping (ipcshm_detach, munmap) while the descriptor is open is therefore
 * safe: the descriptor goes on working, and the event's memory stays allocated
 * (a System V segment counts it as an attachment) until the descriptor is
 * closed. The helper notices the close at the next notify or within 0.1 s, and
 * then ends and unmaps its mapping. In a forked child the descriptor is fed by
 * the parent's helper. Memory that cannot be mapped a second time (huge pages,
 * or memory that is not a shared mapping) is -EOPNOTSUPP. Do not shrink an
 * object below the event while a descriptor is open: the helper would fault. */
IPCSHM_EXPORT int ipcshm_event_fd(void *ev) IPCSHM_NOEXCEPT;

/** Counting semaphores, as InterProcessCommunication.jl's Semaphore (post, wait,
 * timedwait, trywait, value). The count is a count, not an ownership: a process
 * that dies after ipcshm_sem_wait does not give its unit back (as POSIX
 * semaphores); use a mutex where a dead holder must be noticed. */
IPCSHM_EXPORT int ipcshm_sem_init(void *sem, uint32_t value) IPCSHM_NOEXCEPT;

/** Adds one to the count and wakes one waiter; -EOVERFLOW (count unchanged) at
 * UINT32_MAX. No system call when nobody waits. */
IPCSHM_EXPORT int ipcshm_sem_post(void *sem) IPCSHM_NOEXCEPT;

/** Takes one from the count, waiting while it is 0: 0; -ETIMEDOUT; -EINTR;
 * -EAGAIN for timeout 0 with a count of 0 (trywait). */
IPCSHM_EXPORT int ipcshm_sem_wait(void *sem, int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** The current count in *value (works in a read-only mapping). */
IPCSHM_EXPORT int ipcshm_sem_value(const void *sem, uint32_t *value) IPCSHM_NOEXCEPT;

/** Robust mutexes: the owner's death never wedges the others.
 *
 * The owner is a thread, named in the mutex by its thread id and its start
 * time (clock ticks after boot, /proc/TID/stat field 22), written in one
 * atomic step with the lock itself. A waiter that has slept for 20 ms on the
 * same owner reads that owner's /proc entry: no such thread, a zombie, or a
 * thread that started at another time means the owner died, however it died
 * (SIGKILL included; a thread that exits while its process lives is an owner
 * that died, as in POSIX). A blocked waiter so notices the death within about
 * 20 ms, and a reused pid or tid is never taken for the dead owner: since the
 * kernel dates threads in 10 ms ticks, a thread's first lock call within the
 * tick it was started in waits until that tick is over (at most 10 ms, once per
 * thread), so that every later thread with its tid starts in a later tick.
 *
 * Requirements: the processes sharing a mutex are in one pid namespace (and
 * time namespace) and /proc is that namespace's (else the first lock call is
 * -EOPNOTSUPP). With /proc mounted hidepid=1 or 2, other users' processes are
 * hidden: an owner of another user is then checked with kill(tid, 0) only,
 * which sees that it died but not a reuse of its tid.
 *
 * Locks are not recursive (-EDEADLK), carry no priority inheritance, and
 * belong to the thread: another thread's unlock is -EPERM, and a forked child
 * does not hold the locks its parent held. Waiters are not served in order. */
IPCSHM_EXPORT int ipcshm_mutex_init(void *m) IPCSHM_NOEXCEPT;

/** Takes the mutex, waiting while another thread holds it. Returns
 *   0                 the caller holds it;
 *   -EOWNERDEAD       the caller holds it, but its previous owner died holding
 *                     it: the data it guards may be half-updated. Repair it,
 *                     then call ipcshm_mutex_consistent(); unlocking without
 *                     that makes the mutex -ENOTRECOVERABLE for everyone
 *                     (waiters included) until ipcshm_mutex_init;
 *   -ENOTRECOVERABLE  the mutex was unlocked after -EOWNERDEAD without
 *                     ipcshm_mutex_consistent; nobody holds it;
 *   -EDEADLK          this thread holds it already;
 *   -ETIMEDOUT, -EAGAIN (timeout 0: held by a live thread), -EINTR.
 * A mutex whose owner died is taken with -EOWNERDEAD also by a call with a
 * timeout (0 included), not reported busy, once the death is known: a thread
 * that found the owner alive looks again after 20 ms at most, so a try
 * (timeout 0) within 20 ms of such a look may still be -EAGAIN. */
IPCSHM_EXPORT int ipcshm_mutex_lock(void *m, int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Marks the data guarded by the mutex repaired after -EOWNERDEAD; the caller
 * still holds the mutex and unlocks it as usual. -EINVAL unless the calling
 * thread holds the mutex after -EOWNERDEAD. */
IPCSHM_EXPORT int ipcshm_mutex_consistent(void *m) IPCSHM_NOEXCEPT;

/** Releases the mutex and wakes one waiter (no system call when nobody waits).
 * -EPERM if the calling thread does not hold it. After -EOWNERDEAD without
 * ipcshm_mutex_consistent, this makes the mutex -ENOTRECOVERABLE (and returns
 * 0). */
IPCSHM_EXPORT int ipcshm_mutex_unlock(void *m) IPCSHM_NOEXCEPT;
/** @} */

/** @name Channels (since 1.2)
 * Since 1.2: channels, bounded first-in first-out queues of messages from one
 * sender to one receiver, in a POSIX ("/name") or memfd object: the
 * cross-process, cross-language multiprocessing.Queue or Pipe, with no
 * pickling, no feeder thread and no copy through the kernel.
 *
 *  1. A channel has `slot_count` slots of `slot_size` bytes, fixed when it is
 *     made. A message is 0 to slot_size bytes; each slot's payload starts
 *     64-byte aligned. The object holds a header (256 bytes), 8 bytes per
 *     slot, then the slots, each slot_size rounded up to 64 bytes. System V
 *     ids are -EOPNOTSUPP: an end's liveness is told by a lock on a
 *     descriptor, which a System V segment has not.
 *
 *  2. An end opens one role: IPCSHM_SENDER or IPCSHM_RECEIVER. A channel has
 *     at most one live end of each role: a second one is -EBUSY while the
 *     first lives; once that end closed or its process died (however it died,
 *     SIGKILL included), a new end may take the role and carry on where it
 *     left off. An end holds a write lock (fcntl F_OFD_SETLK) on byte 0
 *     (sender) or 1 (receiver) of the object through an open file of its own,
 *     which the kernel drops with the process: do not take fcntl locks on
 *     those bytes yourself.
 *
 *  3. -EPIPE means that the peer's role is vacant after having been taken: a
 *     send, reserve or commit to a channel whose receiver closed or died, and
 *     no new receiver opened, is -EPIPE (nothing is sent); a recv or peek gets
 *     every message committed, then -EPIPE while the sender's role is vacant.
 *     Before a peer has ever opened, there is no -EPIPE: a sender fills the
 *     slots and then waits, a receiver waits (timeouts apply). A call that
 *     waits notices the peer's close at once and its death within 0.1 s
 *     (it asks the kernel about the peer's lock every 20 ms). A receiver's
 *     death is seen by a sender when it has to wait (the slots are full); the
 *     messages it sent meanwhile stay in the channel for the next receiver.
 *     A message is delivered once it is committed (a send returned 0, a
 *     commit returned 0) and only then: the bytes of a message whose sender
 *     died while writing it (between reserve and commit, or inside send) are
 *     never delivered. A receiver that dies between peek and release leaves
 *     that message to the next receiver.
 *
 *  4. Timeouts are as for signalling: int64_t nanoseconds, < 0 for ever, 0
 *     only tries (-EAGAIN), > 0 relative (-ETIMEDOUT). A wait spins for a few
 *     microseconds (yielding the CPU), then sleeps in the kernel (FUTEX_WAIT);
 *     a signal handler that runs while it sleeps ends it with -EINTR. The way
 *     of a message has no system call, no lock and no fence while neither
 *     side sleeps: the side that goes to sleep pays (membarrier(2)), and the
 *     side that wakes it clears its mark, so the next message makes no system
 *     call either.
 *
 *  5. Lifetimes are those of any object (rule 4 at the top): by default a
 *     channel is volatile and goes when its last end closes (also when its
 *     creator closes before a peer ever opened); when the ends died, the name
 *     is reclaimed by the next open of the id (-ENOENT) or by `ipcshm gc`.
 *     IPCSHM_PERSISTENT keeps it, and the messages in it, until
 *     ipcshm_remove. A memfd channel lives while a descriptor or mapping of it
 *     does. It travels as a descriptor: ipcshm_send(sock, h) of its handle
 *     (ipcshm_channel_handle); the peer then calls ipcshm_recv(sock, 0, &h),
 *     ipcshm_channel_open_fd(fd = ipcshm_fd(h), role, &ch), closes fd and
 *     detaches h (its end keeps the object).
 *
 *  6. A header read from shared memory is not trusted: an object that is not
 *     a channel, or whose header or indices another process overwrote, is
 *     -EBADMSG, never an access outside the mapping nor a crash. Every index
 *     an end uses is its own, checked against slot_count, and every length
 *     against slot_size. (Whoever may write the object can still garble the
 *     messages in it, or truncate a POSIX object under the mapping: give write
 *     permission only to peers you trust with the data.)
 *
 *  7. Handles (ipcshm_channel_t *) are values, validated as ipcshm_t handles
 *     are: a NULL one is -EINVAL, a closed, stale or forged one -EBADF, never
 *     followed. An end is used by one thread at a time: a call while another
 *     thread is in a call on the same end is -EBUSY (best effort; do not rely
 *     on it to serialise). Any thread may close an end at any time: a call
 *     that another thread is blocked in then returns -EBADF. In a forked
 *     child, the ends inherited from the parent are the parent's: calls on
 *     them are -EBADF, and closing them there releases nothing of the
 *     parent's (the child's copy of the lock descriptor is closed at fork, so
 *     the parent's death is seen even while the child lives). A child that
 *     wants an end opens one.
 * @{ */

/** A channel end. Opaque: a value, never an address. */
typedef struct ipcshm_channel ipcshm_channel_t;

/** The roles of an end. */
enum { IPCSHM_SENDER = 1, IPCSHM_RECEIVER = 2 };

/** The state of a role, as ipcshm_channel_info reports it. */
enum {
  IPCSHM_END_NEVER = 0,  /**< no end ever took the role                         */
  IPCSHM_END_OPEN = 1,   /**< an end holds it                                   */
  IPCSHM_END_CLOSED = 2, /**< vacant: its last end closed                       */
  IPCSHM_END_DIED = 3    /**< vacant: its last end's process died holding it    */
};

/** What ipcshm_channel_info() tells of a channel. The caller sets struct_size
 * to sizeof(ipcshm_channel_info_t); the struct only grows at its end, and the
 * library fills what both sides know (struct_size >= 48, the first version). */
typedef struct ipcshm_channel_info {
  uint32_t struct_size; /**< set by the caller: sizeof(ipcshm_channel_info_t)  */
  uint32_t kind;        /**< IPCSHM_KIND_POSIX or IPCSHM_KIND_MEMFD            */
  uint32_t slot_size;   /**< the longest message, in bytes                     */
  uint32_t slot_count;  /**< how many messages it holds at most                */
  uint32_t sender;      /**< IPCSHM_END_* of the sender's role                 */
  uint32_t receiver;    /**< IPCSHM_END_* of the receiver's role               */
  uint64_t queued;      /**< messages committed and not yet released           */
  uint64_t sent;        /**< messages committed since the channel was made     */
  uint64_t received;    /**< messages released since the channel was made      */
} ipcshm_channel_info_t;

/** Creates a channel of `slot_count` (1 to 2^30) slots of `slot_size` (>= 1)
 * bytes in the object `id` ("/name", "/nameXXXXXX" or "memfd:label") and
 * opens its end of `role` in *out. perms and flags are those of
 * ipcshm_create (IPCSHM_READONLY is -EINVAL). Returns 1 when it created the
 * channel; 0 when IPCSHM_OPEN_OR_CREATE found one of the caller's, which must
 * have the same slot size and count (else -EEXIST), and opened the role in it
 * (-EBUSY if that role is open). ipcshm_id(h) of ipcshm_channel_handle tells
 * the name a template became. A failure leaves nothing behind. */
IPCSHM_EXPORT int ipcshm_channel_create(const char *id, uint32_t slot_size, uint32_t slot_count,
                                        uint32_t perms, uint32_t flags, uint32_t role,
                                        ipcshm_channel_t **out) IPCSHM_NOEXCEPT;

/** Opens the end of `role` of the channel "/name" (read and write permission
 * needed). -ENOENT if it does not exist (or its ends all died: the name is
 * then removed); -EBUSY if a live end holds the role; -EBADMSG if the object
 * is not a channel (an opener waits up to a second for the header of a
 * channel whose creator is still writing it). A "memfd:label" id has no name:
 * -EINVAL (see ipcshm_channel_open_fd). */
IPCSHM_EXPORT int ipcshm_channel_open(const char *id, uint32_t role,
                                      ipcshm_channel_t **out) IPCSHM_NOEXCEPT;

/** Opens the end of `role` of the channel in the POSIX or memfd object open as
 * `fd` (a descriptor received with SCM_RIGHTS, inherited, or from ipcshm_fd);
 * fd stays the caller's. As ipcshm_channel_open otherwise; a memfd not sealed
 * against shrinking is -EPERM (see ipcshm_attach_fd). */
IPCSHM_EXPORT int ipcshm_channel_open_fd(int fd, uint32_t role,
                                         ipcshm_channel_t **out) IPCSHM_NOEXCEPT;

/** Copies the `len` bytes at msg (NULL if len is 0) into the channel as one
 * message, waiting while every slot is full. -EMSGSIZE if len > slot_size;
 * -EPIPE if the receiver's role is vacant (rule 3); -EAGAIN, -ETIMEDOUT,
 * -EINTR; -EBUSY while a slot is reserved on this end; -EBADF on a receiver
 * end. */
IPCSHM_EXPORT int ipcshm_channel_send(ipcshm_channel_t *ch, const void *msg, uint64_t len,
                                      int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Copies the next message into buf (cap bytes; buf may be NULL if cap is 0),
 * stores its length in *len and releases its slot, waiting while there is
 * none. A message longer than cap is -EMSGSIZE with its length in *len: it
 * stays in the channel (call again with a buffer that size). -EPIPE once the
 * channel is empty and the sender's role vacant (rule 3); -EAGAIN, -ETIMEDOUT,
 * -EINTR; -EBUSY while a message is peeked on this end; -EBADF on a sender
 * end; -EBADMSG if the channel was overwritten. */
IPCSHM_EXPORT int ipcshm_channel_recv(ipcshm_channel_t *ch, void *buf, uint64_t cap,
                                      uint64_t *len, int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Zero-copy sending, first half: *slot gets the address of the next free
 * slot (64-byte aligned, slot_size bytes that the caller may write), waiting
 * while there is none, as send does. The message is sent by
 * ipcshm_channel_commit; until then the receiver sees nothing of it, and if
 * this end closes or its process dies first, nothing of it is ever delivered.
 * A second reserve before the commit gives the same slot again. Errors as
 * ipcshm_channel_send. */
IPCSHM_EXPORT int ipcshm_channel_reserve(ipcshm_channel_t *ch, void **slot,
                                         int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Sends the first `len` bytes of the reserved slot as one message; never
 * waits. -EINVAL if no slot is reserved; -EMSGSIZE if len > slot_size (the
 * slot stays reserved); -EPIPE if the receiver's role is vacant (the
 * reservation is dropped, and nothing is sent). */
IPCSHM_EXPORT int ipcshm_channel_commit(ipcshm_channel_t *ch, uint64_t len) IPCSHM_NOEXCEPT;

/** Zero-copy receiving, first half: *msg gets the address of the next
 * message in its slot and *len its length, waiting while there is none, as
 * recv does. The message stays in the channel, unchanged, until
 * ipcshm_channel_release; a second peek before the release gives the same
 * message again. Errors as ipcshm_channel_recv. */
IPCSHM_EXPORT int ipcshm_channel_peek(ipcshm_channel_t *ch, const void **msg, uint64_t *len,
                                      int64_t timeout_ns) IPCSHM_NOEXCEPT;

/** Releases the peeked message's slot to the sender (its address is not to be
 * used afterwards); never waits. -EINVAL if no message is peeked. */
IPCSHM_EXPORT int ipcshm_channel_release(ipcshm_channel_t *ch) IPCSHM_NOEXCEPT;

/** Closes the end and frees the handle: its role becomes vacant (the peer
 * gets -EPIPE once it has what was committed), a reserved slot is dropped, a
 * peeked message stays for the next receiver, and a volatile channel whose
 * other end is closed too is destroyed. A call that another thread is in on
 * this end returns -EBADF first. Closing twice is -EBADF; NULL is -EINVAL. */
IPCSHM_EXPORT int ipcshm_channel_close(ipcshm_channel_t *ch) IPCSHM_NOEXCEPT;

/** The handle of the channel's object in *h: ipcshm_id, ipcshm_size,
 * ipcshm_handle_info, ipcshm_fd and ipcshm_send work on it (so a memfd channel
 * travels to a peer), ipcshm_detach and ipcshm_resize do not (-EBUSY). It is
 * owned by the end and valid until ipcshm_channel_close. */
IPCSHM_EXPORT int ipcshm_channel_handle(const ipcshm_channel_t *ch,
                                        const ipcshm_t **h) IPCSHM_NOEXCEPT;

/** Fills *info for the channel "/name" without opening an end: it reads the
 * header (read permission suffices) and asks the kernel whether each role's
 * lock is held (F_OFD_GETLK), taking no lock, mapping nothing and changing
 * nothing (what `ipcshm ls` shows). An object that is not a channel is
 * -EBADMSG. */
IPCSHM_EXPORT int ipcshm_channel_info(const char *id,
                                      ipcshm_channel_info_t *info) IPCSHM_NOEXCEPT;

/** Fills *info for the channel of an end (any kind, memfd too); this end's
 * own role is IPCSHM_END_OPEN. queued is how many messages the receiver has
 * still to take (multiprocessing.Queue.qsize), a snapshot. */
IPCSHM_EXPORT int ipcshm_channel_handle_info(const ipcshm_channel_t *ch,
                                             ipcshm_channel_info_t *info) IPCSHM_NOEXCEPT;

/** A new descriptor (>= 0; close-on-exec, non-blocking) that becomes readable
 * when this end can make progress without waiting: a receiver when a message
 * is there, a sender when a slot is free, either of them when its peer's role
 * is vacant (the call then returns -EPIPE). For poll/epoll, asyncio
 * (loop.add_reader), tokio (AsyncFd) or Julia (FDWatcher); the caller closes
 * it to stop.
 *
 * Use it this way: when it is readable, read it (8 bytes: the channel's
 * count of messages released, for a receiver, or sent, for a sender; only a
 * hint), then call recv or peek (send, reserve) with timeout 0 until -EAGAIN,
 * and wait for readability again. It becomes readable after each change (a
 * message published, a slot released, the peer gone); if what it announced
 * still holds 0.1 s after a read, it becomes readable again. A read that
 * returns 0 (end of file) means the end was closed; with nothing to read,
 * read(2) fails with EAGAIN.
 *
 * A helper thread per descriptor watches the channel through a mapping of
 * its own of the header and the entries (so closing the end while the
 * descriptor is open is safe), and counts as a sleeper: while it waits, the
 * peer's messages (or releases) cost a system call each. It ends when the end
 * is closed, or when the descriptor is closed (seen within 20 ms). */
IPCSHM_EXPORT int ipcshm_channel_fd(ipcshm_channel_t *ch) IPCSHM_NOEXCEPT;
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* IPCSHM_H */
