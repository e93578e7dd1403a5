// System V segments.
//
// Volatile lifetime (SPEC §4): the creator marks the segment for removal
// (IPC_RMID) as soon as it has attached it; the kernel then destroys it with its
// last attachment, also when the holders die. Linux still lets others attach a
// marked segment by its identifier, which is why the canonical id is "shmid:N".
#include "sysv_shm.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "errors.hpp"
#include "fd_segment.hpp"
#include "resources.hpp"

namespace ipcshm::core::sysv {
namespace {

constexpr int kCreateAttempts = 100;

class SysvSegment final : public Segment {
 public:
  SysvSegment(int shmid, SysvAttachment att, uint64_t size) : shmid_(shmid), att_(std::move(att)) {
    addr_ = att_.get();
    size_ = size;
    id_ = shmid_id(shmid);
  }
  int info(ipcshm_info_t* info) const override;

 private:
  int shmid_;
  SysvAttachment att_;
};

unsigned long long read_limit(const char* path) {
  unsigned long long value = 0;
  std::ifstream in(path);
  in >> value;
  return value;
}

// What the id names, for messages: "key:0x1234", "private" or "shmid:N".
std::string describe(const Id& id) {
  char buf[32];
  switch (id.kind) {
    case IdKind::SysvKey:
      std::snprintf(buf, sizeof buf, "key:0x%x", static_cast<unsigned>(id.key));
      return buf;
    case IdKind::SysvPrivate:
      return "private";
    default:
      return shmid_id(id.shmid);
  }
}

// shmid of a key or shmid id; -ENOENT if none.
int find(const Id& id, int* shmid) {
  if (id.kind == IdKind::SysvShmid) {
    *shmid = id.shmid;
    return 0;
  }
  int r = ::shmget(id.key, 0, 0);
  if (r < 0) return IPCSHM_FAIL_ERRNO("shmget(%s)", describe(id).c_str());
  *shmid = r;
  return 0;
}

// The failure of IPC_STAT, with a missing segment reported as -ENOENT (the
// kernel says EINVAL).
int stat_error(int err, const std::string& what) {
  if (err == EINVAL || err == EIDRM)
    return fail_msg(ENOENT, "shmctl(%s, IPC_STAT): no such System V segment", what.c_str());
  return fail(err, "shmctl(%s, IPC_STAT)", what.c_str());
}

int stat_segment(int shmid, const std::string& what, struct shmid_ds* ds) {
  return ::shmctl(shmid, IPC_STAT, ds) == 0 ? 0 : stat_error(errno, what);
}

void fill_info(int shmid, const struct shmid_ds& ds, ipcshm_info_t* info) {
  info->kind = IPCSHM_KIND_SYSV;
  info->size = ds.shm_segsz;
  info->nattch = ds.shm_nattch;
  info->atime = ds.shm_atime;
  info->dtime = ds.shm_dtime;
  info->ctime = ds.shm_ctime;
  info->mode = ds.shm_perm.mode & kPermMask;
  info->uid = ds.shm_perm.uid;
  info->gid = ds.shm_perm.gid;
  info->cuid = ds.shm_perm.cuid;
  info->cgid = ds.shm_perm.cgid;
  info->cpid = ds.shm_cpid;
  info->lpid = ds.shm_lpid;
  info->key = ds.shm_perm.__key;
  info->shmid = shmid;
  info->flags = (ds.shm_perm.mode & SHM_DEST) ? 0 : IPCSHM_PERSISTENT;
}

int SysvSegment::info(ipcshm_info_t* info) const {
  struct shmid_ds ds;
  if (int rc = stat_segment(shmid_, id_, &ds); rc < 0) return rc;
  fill_info(shmid_, ds, info);
  return 0;
}

int shmget_error(int err, const Id& id, uint64_t size) {
  std::string what = describe(id);
  auto bytes = static_cast<unsigned long long>(size);
  if (err == EINVAL)
    return fail(err, "shmget(%s, %llu bytes; shmmax is %llu bytes, or the segment exists "
                "smaller)",
                what.c_str(), bytes, read_limit("/proc/sys/kernel/shmmax"));
  if (err == ENOMEM)
    return fail(err, "shmget(%s, %llu bytes; shmmax is %llu bytes, shmall %llu pages, "
                "more than memory can back)",
                what.c_str(), bytes, read_limit("/proc/sys/kernel/shmmax"),
                read_limit("/proc/sys/kernel/shmall"));
  if (err == ENOSPC)
    return fail(err, "shmget(%s, %llu bytes; shmall is %llu pages, shmmni %llu segments)",
                what.c_str(), bytes, read_limit("/proc/sys/kernel/shmall"),
                read_limit("/proc/sys/kernel/shmmni"));
  return fail(err, "shmget(%s, %llu bytes)", what.c_str(), bytes);
}

// Attaches shmid and applies the page options; on failure nothing stays attached.
int map_segment(int shmid, const std::string& what, uint64_t size, uint32_t flags,
                SegmentPtr* out) {
  const bool readonly = flags & IPCSHM_READONLY;
  void* addr = ::shmat(shmid, nullptr, readonly ? SHM_RDONLY : 0);
  if (addr == reinterpret_cast<void*>(-1)) {
    if (errno == EINVAL || errno == EIDRM)
      return fail_msg(ENOENT, "shmat(%s): no such System V segment", what.c_str());
    return IPCSHM_FAIL_ERRNO("shmat(%s)", what.c_str());
  }
  SysvAttachment att(addr);
  const std::string id = shmid_id(shmid);
  if (flags & IPCSHM_LOCKED) {
    if (int rc = lock_pages(addr, size, id); rc < 0) return rc;
  }
  if (flags & (IPCSHM_PREFAULT | IPCSHM_RESERVE)) {
    if (int rc = populate_pages(addr, size, !readonly, id); rc < 0) return rc;
  }
  *out = std::make_unique<SysvSegment>(shmid, std::move(att), size);
  return 0;
}

int open_existing(int shmid, const std::string& what, uint32_t flags, uint64_t min_size,
                  bool owner_only, SegmentPtr* out) {
  struct shmid_ds ds;
  if (int rc = stat_segment(shmid, what, &ds); rc < 0) return rc;
  // IPCSHM_OPEN_OR_CREATE attaches only the caller's own segment: owned and
  // created by its user. Its creator keeps full access whoever owns it, so a
  // segment that another user created and gave away (IPC_SET) is still theirs.
  if (owner_only && (ds.shm_perm.uid != ::geteuid() || ds.shm_perm.cuid != ::geteuid()))
    return fail_msg(EACCES,
                    "shmget(%s): Permission denied (it exists, created by uid %u and owned "
                    "by uid %u, not the caller's uid %u)",
                    what.c_str(), static_cast<unsigned>(ds.shm_perm.cuid),
                    static_cast<unsigned>(ds.shm_perm.uid), static_cast<unsigned>(::geteuid()));
  if (ds.shm_segsz < min_size)
    return fail_msg(EINVAL, "%s exists with %llu bytes, fewer than the %llu asked for",
                    what.c_str(), static_cast<unsigned long long>(ds.shm_segsz),
                    static_cast<unsigned long long>(min_size));
  return map_segment(shmid, what, ds.shm_segsz, flags, out);
}

}  // namespace

int create(const Id& id, uint64_t size, uint32_t perms, uint32_t flags, SegmentPtr* out) {
  const key_t key = id.kind == IdKind::SysvPrivate ? IPC_PRIVATE : id.key;
  const int mode = static_cast<int>(perms | kOwnerReadWrite) |
                   ((flags & IPCSHM_HUGEPAGES) ? SHM_HUGETLB : 0);
  int shmid = -1;
  for (int attempt = 0; shmid < 0; ++attempt) {
    shmid = ::shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
    if (shmid >= 0) break;
    int err = errno;
    if (err == ENOMEM && (flags & IPCSHM_HUGEPAGES))
      return hugepages_error(err, "shmget", describe(id), size);
    if (err == EPERM && (flags & IPCSHM_HUGEPAGES))
      return fail(err, "shmget(%s, SHM_HUGETLB; needs CAP_IPC_LOCK or membership of the "
                  "group in /proc/sys/vm/hugetlb_shm_group)", describe(id).c_str());
    if (err != EEXIST || !(flags & IPCSHM_OPEN_OR_CREATE)) return shmget_error(err, id, size);
    int existing = ::shmget(key, 0, 0);
    if (existing >= 0) {
      int rc = open_existing(existing, describe(id), flags, size, true, out);
      if (rc != -ENOENT || attempt >= kCreateAttempts) return rc;
    } else if (errno != ENOENT || attempt >= kCreateAttempts) {
      return IPCSHM_FAIL_ERRNO("shmget(%s)", describe(id).c_str());
    }
    // Removed between the two shmget calls: create it after all.
  }
  // The segment is new: shmget applied the mode exactly, and its size is size.
  int rc = map_segment(shmid, describe(id), size, flags, out);
  if (rc < 0 || !(flags & IPCSHM_PERSISTENT)) {
    if (::shmctl(shmid, IPC_RMID, nullptr) != 0 && rc >= 0) {
      rc = IPCSHM_FAIL_ERRNO("shmctl(shmid:%d, IPC_RMID)", shmid);
      out->reset();
    }
  }
  return rc < 0 ? rc : 1;
}

int attach(const Id& id, uint32_t flags, SegmentPtr* out) {
  if (id.kind == IdKind::SysvPrivate)
    return fail_msg(EINVAL, "\"private\" names no existing segment: attach by shmid:N");
  int shmid = -1;
  if (int rc = find(id, &shmid); rc < 0) return rc;
  return open_existing(shmid, describe(id), flags, 0, false, out);
}

int remove(const Id& id) {
  if (id.kind == IdKind::SysvPrivate)
    return fail_msg(EINVAL, "\"private\" names no existing segment: remove by shmid:N");
  int shmid = -1;
  if (int rc = find(id, &shmid); rc < 0) return rc == -ENOENT ? 0 : rc;
  if (::shmctl(shmid, IPC_RMID, nullptr) == 0 || errno == EINVAL || errno == EIDRM) return 0;
  if (errno == EPERM) return not_owner("shmctl(" + describe(id) + ", IPC_RMID)");
  return IPCSHM_FAIL_ERRNO("shmctl(%s, IPC_RMID)", describe(id).c_str());
}

int info(const Id& id, ipcshm_info_t* info) {
  if (id.kind == IdKind::SysvPrivate)
    return fail_msg(EINVAL, "\"private\" names no existing segment: ask by shmid:N");
  int shmid = -1;
  if (int rc = find(id, &shmid); rc < 0) return rc;
  struct shmid_ds ds;
  // The description is made for a failure only: info is called often.
  if (::shmctl(shmid, IPC_STAT, &ds) != 0) return stat_error(errno, describe(id));
  fill_info(shmid, ds, info);
  return 0;
}

int chmod(const Id& id, uint32_t perms) {
  if (id.kind == IdKind::SysvPrivate)
    return fail_msg(EINVAL, "\"private\" names no existing segment: chmod by shmid:N");
  int shmid = -1;
  if (int rc = find(id, &shmid); rc < 0) return rc;
  struct shmid_ds ds;
  if (int rc = stat_segment(shmid, describe(id), &ds); rc < 0) return rc;
  ds.shm_perm.mode = static_cast<unsigned short>(perms | kOwnerReadWrite);
  if (::shmctl(shmid, IPC_SET, &ds) != 0) {
    if (errno == EPERM) return not_owner("shmctl(" + describe(id) + ", IPC_SET)");
    return IPCSHM_FAIL_ERRNO("shmctl(%s, IPC_SET)", describe(id).c_str());
  }
  return 0;
}

int get(int32_t key, uint64_t size, int32_t shmflg, int32_t* shmid) {
  int r = ::shmget(key, size, shmflg);
  if (r < 0) {
    Id id;
    id.kind = key == IPC_PRIVATE ? IdKind::SysvPrivate : IdKind::SysvKey;
    id.key = key;
    return shmget_error(errno, id, size);
  }
  *shmid = r;
  return 0;
}

int attach_raw(int32_t shmid, bool readonly, void** ptr) {
  void* addr = ::shmat(shmid, nullptr, readonly ? SHM_RDONLY : 0);
  if (addr == reinterpret_cast<void*>(-1)) return IPCSHM_FAIL_ERRNO("shmat(shmid:%d)", shmid);
  *ptr = addr;
  return 0;
}

int detach_raw(const void* ptr) {
  if (::shmdt(ptr) != 0) return IPCSHM_FAIL_ERRNO("shmdt(%p)", ptr);
  note_unmap();
  return 0;
}

int ctl(int32_t shmid, int32_t cmd, void* buf, uint64_t bufsize) {
  uint64_t need;
  const char* name;
  switch (cmd) {
    case IPC_STAT: need = sizeof(struct shmid_ds); name = "IPC_STAT"; break;
    case IPC_SET: need = sizeof(struct shmid_ds); name = "IPC_SET"; break;
    case SHM_STAT: need = sizeof(struct shmid_ds); name = "SHM_STAT"; break;
    case SHM_STAT_ANY: need = sizeof(struct shmid_ds); name = "SHM_STAT_ANY"; break;
    case IPC_INFO: need = sizeof(struct shminfo); name = "IPC_INFO"; break;
    case SHM_INFO: need = sizeof(struct shm_info); name = "SHM_INFO"; break;
    case IPC_RMID: need = 0; name = "IPC_RMID"; break;
    case SHM_LOCK: need = 0; name = "SHM_LOCK"; break;
    case SHM_UNLOCK: need = 0; name = "SHM_UNLOCK"; break;
    default:
      return fail_msg(EINVAL, "shmctl(shmid:%d, %d): unknown command", shmid, cmd);
  }
  if (need > 0 && (!buf || bufsize < need))
    return fail_msg(EINVAL, "shmctl(shmid:%d, %s): the buffer has %llu bytes, %llu needed",
                    shmid, name, static_cast<unsigned long long>(buf ? bufsize : 0),
                    static_cast<unsigned long long>(need));
  int r = ::shmctl(shmid, cmd, need > 0 ? static_cast<struct shmid_ds*>(buf) : nullptr);
  if (r < 0) return IPCSHM_FAIL_ERRNO("shmctl(shmid:%d, %s)", shmid, name);
  return r;
}

int remove_raw(int32_t shmid) {
  if (shmid < 0) return fail_msg(EINVAL, "shmid %d is negative", shmid);
  if (::shmctl(shmid, IPC_RMID, nullptr) == 0 || errno == EINVAL || errno == EIDRM) return 0;
  return IPCSHM_FAIL_ERRNO("shmctl(shmid:%d, IPC_RMID)", shmid);
}

int ftok(const char* path, int32_t proj, int32_t* key) {
  if (proj < 1 || proj > 255)
    return fail_msg(EINVAL, "ftok(\"%s\", %d): proj must be 1..255", path, proj);
  errno = 0;
  key_t k = ::ftok(path, proj);
  if (k == -1 && errno != 0) return IPCSHM_FAIL_ERRNO("ftok(\"%s\", %d)", path, proj);
  *key = k;
  return 0;
}

uint64_t shmid_ds_size() { return sizeof(struct shmid_ds); }

}  // namespace ipcshm::core::sysv
