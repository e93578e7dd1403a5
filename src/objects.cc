// The operations on objects named by an id, dispatched to the kind the id names.
#include "objects.hpp"

#include <cstdio>

#include "errors.hpp"
#include "ids.hpp"
#include "memfd.hpp"
#include "posix_shm.hpp"
#include "sysv_shm.hpp"

namespace ipcshm::core {

int create(const char* text, uint64_t size, uint32_t perms, uint32_t flags,
           SegmentPtr* out) {
  Id id;
  if (int rc = parse_id(text, &id); rc < 0) return rc;
  switch (id.kind) {
    case IdKind::Posix:
      return posix::create(id.name, id.is_template, size, perms, flags, out);
    case IdKind::SysvKey:
    case IdKind::SysvPrivate:
      return sysv::create(id, size, perms, flags, out);
    case IdKind::Memfd:
      return memfd::create(id.name, id.is_template, size, perms, flags, out);
    case IdKind::SysvShmid:
      break;
  }
  return fail_msg(EINVAL,
                  "cannot create \"%s\": the kernel chooses identifiers; create "
                  "\"private\" or \"key:...\" and read ipcshm_id()",
                  text);
}

int attach(const char* text, uint32_t flags, SegmentPtr* out) {
  Id id;
  if (int rc = parse_id(text, &id); rc < 0) return rc;
  if (id.kind == IdKind::Posix) {
    if (id.is_template)
      return fail_msg(EINVAL, "cannot attach \"%s\": a name ending in XXXXXX is a template",
                      text);
    return posix::attach(id.name, flags, out);
  }
  if (id.kind == IdKind::Memfd) return memfd::no_name("ipcshm_attach", id.name);
  return sysv::attach(id, flags, out);
}

int create_shaped(const char* id, uint64_t size, uint32_t perms, uint32_t flags,
                  const char* call, const char* what, SegmentPtr* out) {
  const int rc = create(id, size, perms, flags, out);
  if (rc != -EINVAL || !(flags & IPCSHM_OPEN_OR_CREATE)) return rc;
  // -EINVAL may mean that the object exists but is too small, which a
  // read-only look tells; any other -EINVAL stays as it was.
  char saved[512];
  std::snprintf(saved, sizeof saved, "%s", last_error());
  SegmentPtr probe;
  if (attach(id, IPCSHM_READONLY, &probe) == 0 && probe->size() < size)
    return fail_msg(EEXIST, "%s(\"%s\"): exists with a different %s (%llu bytes, fewer than "
                    "the %llu of the one asked for)",
                    call, id, what, static_cast<unsigned long long>(probe->size()),
                    static_cast<unsigned long long>(size));
  return fail_msg(-rc, "%s", saved);
}

int remove(const char* text) {
  Id id;
  if (int rc = parse_id(text, &id); rc < 0) return rc;
  if (id.kind == IdKind::Memfd) return memfd::no_name("ipcshm_remove", id.name);
  return id.kind == IdKind::Posix ? posix::remove(id.name) : sysv::remove(id);
}

int info(const char* text, ipcshm_info_t* info) {
  Id id;
  if (int rc = parse_id(text, &id); rc < 0) return rc;
  if (id.kind == IdKind::Memfd) return memfd::no_name("ipcshm_info", id.name);
  return id.kind == IdKind::Posix ? posix::info(id.name, info) : sysv::info(id, info);
}

int chmod(const char* text, uint32_t perms) {
  Id id;
  if (int rc = parse_id(text, &id); rc < 0) return rc;
  if (id.kind == IdKind::Memfd) return memfd::no_name("ipcshm_chmod", id.name);
  return id.kind == IdKind::Posix ? posix::chmod(id.name, perms) : sysv::chmod(id, perms);
}

}  // namespace ipcshm::core
