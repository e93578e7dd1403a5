// The objects the tool shows: listing /dev/shm and /proc/sysvipc/shm, resolving ids.
//
// The library names objects but does not list them, so the names come from
// readdir(/dev/shm) and /proc/sysvipc/shm; what is shown of an object comes
// from ipcshm_info() (System V: /proc's line where IPC_STAT is not permitted)
// and, for channels, ipcshm_channel_info(). Nothing here maps, locks or
// writes an object: lstat, /proc, and the read-only look of
// ipcshm_channel_info() at a header.
#include "objects.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli.hpp"
#include "text.hpp"

namespace ipcshm_cli {

constexpr const char* kSysvTable = "/proc/sysvipc/shm";

FileKey file_key(const struct stat& st) {
  return FileKey{major(st.st_dev), minor(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
}

const char* kind_name(const Object& o) {
  switch (o.kind) {
    case IPCSHM_KIND_POSIX: return o.channel ? "channel" : "posix";
    case IPCSHM_KIND_SYSV: return "sysv";
    case IPCSHM_KIND_MEMFD: return "memfd";
    default: break;
  }
  switch (o.file_mode & S_IFMT) {
    case S_IFIFO: return "fifo";
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "chardev";
    case S_IFBLK: return "blockdev";
    default: return "unknown";
  }
}

std::string what_it_is(const Object& o) {
  switch (o.file_mode & S_IFMT) {
    case S_IFIFO: return "a FIFO";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFREG: return "a regular file";
    default: return "a file of unknown type";
  }
}

std::string not_an_object(const Object& o) {
  const std::string owner = user_name(o.info.uid);
  return format("%s is not a shared memory object: %s/%s is %s of %s ('ipcshm rm %s' "
                "removes it)",
                o.id.c_str(), kShmDir, o.id.c_str() + 1, what_it_is(o).c_str(),
                owner.empty() ? format("uid %u", o.info.uid).c_str() : owner.c_str(),
                o.id.c_str());
}

bool posix_name_shape(const std::string& id) {
  return id.size() >= 2 && id.size() <= 256 && id[0] == '/' &&
         id.find('/', 1) == std::string::npos && id != "/." && id != "/..";
}

void read_channel(Object* o) {
  o->channel = false;
  if (o->kind != IPCSHM_KIND_POSIX || o->info.size == 0) return;
  ipcshm_channel_info_t ch{};
  ch.struct_size = sizeof ch;
  // -EBADMSG: not a channel (or a header the library will not trust);
  // -EACCES: not readable by the caller; -ENOENT: gone meanwhile.
  if (ipcshm_channel_info(o->id.c_str(), &ch) != 0) return;
  o->ch = ch;
  o->channel = true;
}

namespace {

// What a name that is no object shows: its owner, permissions and times.
void fill_from_stat(const struct stat& st, Object* o) {
  o->kind = 0;
  o->file_mode = st.st_mode;
  o->file = file_key(st);
  o->info = blank_info();
  o->info.size = static_cast<uint64_t>(st.st_size);
  o->info.mode = st.st_mode & 0777;
  o->info.uid = o->info.cuid = st.st_uid;
  o->info.gid = o->info.cgid = st.st_gid;
  o->info.atime = st.st_atime;
  o->info.dtime = st.st_mtime;
  o->info.ctime = st.st_ctime;
  o->info.cpid = o->info.lpid = -1;
  o->info.shmid = -1;
}

// One line of /proc/sysvipc/shm.
struct SysvRow {
  int32_t key, shmid, cpid, lpid;
  unsigned perms, uid, gid, cuid, cgid;
  unsigned long long size, nattch;
  long long atime, dtime, ctime;
};

bool parse_sysv_row(const char* line, SysvRow* r) {
  return std::sscanf(line,
                     "%" SCNd32 " %" SCNd32 " %o %llu %" SCNd32 " %" SCNd32
                     " %llu %u %u %u %u %lld %lld %lld",
                     &r->key, &r->shmid, &r->perms, &r->size, &r->cpid, &r->lpid, &r->nattch,
                     &r->uid, &r->gid, &r->cuid, &r->cgid, &r->atime, &r->dtime,
                     &r->ctime) == 14;
}

// Every row of /proc/sysvipc/shm; false (with a message) if it cannot be read.
// A kernel without System V IPC has no table: no rows.
bool read_sysv_table(std::vector<SysvRow>* rows, bool quiet) {
  FILE* f = std::fopen(kSysvTable, "re");
  if (!f) {
    if (errno == ENOENT) return true;
    if (!quiet) complain("fopen(\"%s\"): %s", kSysvTable, std::strerror(errno));
    return false;
  }
  bool ok = true, header = true;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    if (header) {
      header = false;
      continue;
    }
    SysvRow r;
    if (!parse_sysv_row(line, &r)) {
      if (!quiet) complain("%s: unexpected line: %s", kSysvTable, line);
      ok = false;
      continue;
    }
    rows->push_back(r);
  }
  std::fclose(f);
  return ok;
}

void fill_from_row(const SysvRow& r, ipcshm_info_t* in) {
  *in = blank_info();
  in->kind = IPCSHM_KIND_SYSV;
  in->size = r.size;
  in->nattch = r.nattch;
  in->atime = r.atime;
  in->dtime = r.dtime;
  in->ctime = r.ctime;
  in->mode = r.perms & 0777;
  in->uid = r.uid;
  in->gid = r.gid;
  in->cuid = r.cuid;
  in->cgid = r.cgid;
  in->cpid = r.cpid;
  in->lpid = r.lpid;
  in->key = r.key;
  in->shmid = r.shmid;
  in->flags = (r.perms & kSysvDest) ? 0 : IPCSHM_PERSISTENT;
}

const SysvRow* find_row(const std::vector<SysvRow>& rows, int32_t shmid) {
  for (const SysvRow& r : rows)
    if (r.shmid == shmid) return &r;
  return nullptr;
}

// The shmid a well-formed System V id names, from /proc (for ids the caller
// may not IPC_STAT). -1 if none.
int32_t sysv_id_in_table(const std::string& id, const std::vector<SysvRow>& rows) {
  if (id.rfind("shmid:", 0) == 0) return static_cast<int32_t>(std::strtol(id.c_str() + 6, nullptr, 10));
  if (id.rfind("key:", 0) != 0) return -1;
  const char* digits = id.c_str() + 4;
  const bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  const uint32_t key = hex ? static_cast<uint32_t>(std::strtoull(digits + 2, nullptr, 16))
                           : static_cast<uint32_t>(std::strtoll(digits, nullptr, 10));
  for (const SysvRow& r : rows)
    if (static_cast<uint32_t>(r.key) == key && key != 0 && !(r.perms & kSysvDest)) return r.shmid;
  return -1;
}

}  // namespace

bool list_posix(std::vector<Object>* out) {
  DIR* dir = opendir(kShmDir);
  if (!dir) {
    if (errno == ENOENT) return true;
    complain("opendir(\"%s\"): %s", kShmDir, std::strerror(errno));
    return false;
  }
  bool ok = true;
  std::vector<Object> found;
  for (;;) {
    errno = 0;  // readdir tells the end from an error by errno only
    struct dirent* de = readdir(dir);
    if (!de) break;
    const std::string name = de->d_name;
    if (name == "." || name == ".." || name.rfind("sem.", 0) == 0) continue;
    struct stat st;
    if (::fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      complain("stat(\"%s/%s\"): %s", kShmDir, de->d_name, std::strerror(errno));
      ok = false;
      continue;
    }
    Object o;
    o.id = "/" + name;
    if (!S_ISREG(st.st_mode)) {
      fill_from_stat(st, &o);
      found.push_back(std::move(o));
      continue;
    }
    o.info = blank_info();
    const int rc = ipcshm_info(o.id.c_str(), &o.info);
    if (rc == -ENOENT) continue;
    if (rc < 0) {
      library_failure(rc);
      ok = false;
      continue;
    }
    o.kind = IPCSHM_KIND_POSIX;
    o.file_mode = st.st_mode;
    o.file = file_key(st);
    read_channel(&o);
    found.push_back(std::move(o));
  }
  if (errno != 0) {
    complain("readdir(\"%s\"): %s", kShmDir, std::strerror(errno));
    ok = false;
  }
  closedir(dir);
  std::sort(found.begin(), found.end(), [](const Object& a, const Object& b) { return a.id < b.id; });
  for (Object& o : found) out->push_back(std::move(o));
  return ok;
}

bool list_sysv(std::vector<Object>* out) {
  std::vector<SysvRow> rows;
  bool ok = read_sysv_table(&rows, false);
  std::sort(rows.begin(), rows.end(),
            [](const SysvRow& a, const SysvRow& b) { return a.shmid < b.shmid; });
  for (const SysvRow& r : rows) {
    Object o;
    o.id = format("shmid:%" PRId32, r.shmid);
    o.kind = IPCSHM_KIND_SYSV;
    o.sysv_perms = r.perms;
    o.info = blank_info();
    const int rc = ipcshm_info(o.id.c_str(), &o.info);
    if (rc == -ENOENT || rc == -EIDRM) continue;  // removed meanwhile
    if (rc < 0) {
      // Not permitted to look closer: what /proc tells is all there is.
      fill_from_row(r, &o.info);
      o.from_proc = true;
    }
    out->push_back(std::move(o));
  }
  return ok;
}

int resolve(const std::string& id, Object* o, std::string* why) {
  *o = Object{};
  o->info = blank_info();
  const int rc = ipcshm_info(id.c_str(), &o->info);
  if (rc == 0) {
    o->kind = o->info.kind;
    if (o->kind == IPCSHM_KIND_SYSV) {
      o->id = format("shmid:%" PRId32, o->info.shmid);
      std::vector<SysvRow> rows;
      read_sysv_table(&rows, true);
      if (const SysvRow* r = find_row(rows, o->info.shmid)) o->sysv_perms = r->perms;
      else o->sysv_perms = (o->info.flags & IPCSHM_PERSISTENT) ? 0 : kSysvDest;
    } else {
      o->id = id;
      struct stat st;
      const std::string path = kShmDir + id;
      if (::lstat(path.c_str(), &st) == 0) {
        o->file_mode = st.st_mode;
        o->file = file_key(st);
      }
      read_channel(o);
    }
    return 0;
  }
  if ((rc == -EINVAL || rc == -ELOOP) && posix_name_shape(id)) {
    struct stat st;
    const std::string path = kShmDir + id;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      o->id = id;
      fill_from_stat(st, o);
      return 0;
    }
  }
  if (rc == -EINVAL) usage_error("%s", ipcshm_last_error());
  if (rc == -EACCES || rc == -EPERM) {
    // System V: /proc/sysvipc/shm tells everyone what ipcs shows.
    std::vector<SysvRow> rows;
    if (read_sysv_table(&rows, true)) {
      const int32_t shmid = sysv_id_in_table(id, rows);
      if (const SysvRow* r = shmid >= 0 ? find_row(rows, shmid) : nullptr) {
        o->id = format("shmid:%" PRId32, r->shmid);
        o->kind = IPCSHM_KIND_SYSV;
        o->sysv_perms = r->perms;
        o->from_proc = true;
        fill_from_row(*r, &o->info);
        return 0;
      }
    }
  }
  *why = ipcshm_last_error();
  return rc;
}

}  // namespace ipcshm_cli
