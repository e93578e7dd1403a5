// What /proc tells about who uses an object: the flock table and each process's
// mappings and descriptors. Read-only: nothing here opens, locks or maps an object.
//
// POSIX objects are recognised by their file identity (device and inode), as
// /proc/locks and /proc/PID/maps print it and as stat(2) of /proc/PID/fd/N
// gives it; System V segments by the "/SYSV<key>" mappings, whose inode number
// is the shmid. Descriptors are stat'ed only when their link names a file in
// /dev/shm, so that a descriptor on a hung network file system cannot stall
// the scan. Processes whose maps or descriptors the caller may not read (other
// users' processes, for anyone but root) are counted as hidden.
#include "proc_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli.hpp"

namespace ipcshm_cli {
namespace {

// The inode number of the initial pid namespace (PROC_PID_INIT_INO).
constexpr unsigned long long kInitPidNamespace = 0xEFFFFFFCULL;

bool initial_pid_namespace(const char* link) {
  struct stat st;
  return ::stat(link, &st) == 0 && static_cast<unsigned long long>(st.st_ino) == kInitPidNamespace;
}

// True if the process whose /proc directory is dir_fd is a kernel thread
// (which maps and holds no shared memory object). /proc/PID/stat is readable
// by all (but with hidepid=).
bool is_kernel_thread(int dir_fd) {
  constexpr unsigned long kPfKthread = 0x00200000;  // PF_KTHREAD
  const int fd = ::openat(dir_fd, "stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* after_comm = std::strrchr(buf, ')');  // the command may hold spaces and ')'
  unsigned long flags = 0;
  return after_comm && std::sscanf(after_comm + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
         (flags & kPfKthread);
}

// True if /proc/2 is a kernel thread (kthreadd): kernel threads live in the
// initial pid namespace and no other.
bool proc_shows_kernel_threads() {
  const int dir = ::open("/proc/2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  const bool kthread = is_kernel_thread(dir);
  ::close(dir);
  return kthread;
}

// Whether /proc belongs to the initial pid namespace, where /proc/locks hides
// nothing (the kernel filters it by the namespace of the /proc mount, not of
// the reader). The caller's own namespace tells if it is the initial one; if
// not, /proc may still be the host's: it then shows kernel threads, and its
// pid 1 is in the initial namespace (which only a privileged caller can check).
bool proc_shows_every_lock() {
  return initial_pid_namespace("/proc/self/ns/pid") || proc_shows_kernel_threads() ||
         initial_pid_namespace("/proc/1/ns/pid");
}

// Reads a whole file of /proc into *out; -errno on failure.
int read_all(int dirfd, const char* name, std::string* out) {
  const int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = -errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return 0;
}

bool denied(int err) { return err == -EACCES || err == -EPERM; }

struct ProcessFinds {
  std::map<FileKey, Holder> files;
  std::map<int32_t, Holder> segments;
};

// Calls fn(line) for each line of text, without its newline.
template <typename Fn>
void for_each_line(const std::string& text, Fn&& fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    fn(text.substr(pos, end - pos));
    pos = end + 1;
  }
}

// Parses /proc/PID/maps: mappings of the wanted files, and System V attachments.
void parse_maps(const std::string& text, const std::set<FileKey>& files, ProcessFinds* finds) {
  for_each_line(text, [&](const std::string& line) {
    // "7f..-7f.. rw-s 00000000 00:1a 1234    /dev/shm/name"
    char perms[8];
    unsigned long long offset, ino;
    unsigned maj, min;
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%*s %7s %llx %x:%x %llu %n", perms, &offset, &maj, &min, &ino,
                    &path_at) != 5 ||
        ino == 0)
      return;
    const bool writable = perms[1] == 'w';
    const char* path = line.c_str() + path_at;
    if (std::strncmp(path, "/SYSV", 5) == 0) {
      Holder& h = finds->segments[static_cast<int32_t>(ino)];
      (writable ? h.map_rw : h.map_ro) = true;
      if (offset == 0) ++h.attaches;  // later pieces of one attachment have offsets
      return;
    }
    const FileKey key{maj, min, ino};
    if (files.count(key)) {
      Holder& h = finds->files[key];
      (writable ? h.map_rw : h.map_ro) = true;
    }
  });
}

// Looks through /proc/PID/fd for descriptors of the wanted files; -errno if
// the directory cannot be read.
int scan_fds(int pid_dir, const std::set<FileKey>& files, ProcessFinds* finds) {
  const int fd_dir = ::openat(pid_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0) return -errno;
  DIR* dir = ::fdopendir(fd_dir);
  if (!dir) {
    const int err = -errno;
    ::close(fd_dir);
    return err;
  }
  const std::string prefix = std::string(kShmDir) + "/";
  while (struct dirent* de = ::readdir(dir)) {
    if (de->d_name[0] == '.') continue;
    char target[4096];
    const ssize_t n = ::readlinkat(fd_dir, de->d_name, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::strncmp(target, prefix.c_str(), prefix.size()) != 0) continue;
    struct stat st;
    if (::fstatat(fd_dir, de->d_name, &st, 0) != 0) continue;
    const FileKey key = file_key(st);
    if (files.count(key)) finds->files[key].fd = true;
  }
  ::closedir(dir);
  return 0;
}

void add_holder(std::vector<Holder>* list, Holder h) {
  auto it = std::lower_bound(list->begin(), list->end(), h.pid,
                             [](const Holder& a, pid_t pid) { return a.pid < pid; });
  list->insert(it, h);
}

}  // namespace

namespace {

// Reads /proc/locks once into *text; the number of read(2) calls that returned
// data, or -1.
int read_lock_text(std::string* text) {
  const int fd = ::open("/proc/locks", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int chunks = 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return -1;
    }
    if (n == 0) break;
    ++chunks;
    text->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return chunks;
}

void parse_locks(const std::string& text, LockTable* table) {
  for_each_line(text, [&](const std::string& line) {
    // "1: FLOCK  ADVISORY  READ 9822 00:1b:240040 0 EOF"; "1: -> FLOCK ..." waits.
    char type[16], access[16], dev[64];
    int pid;
    if (std::sscanf(line.c_str(), "%*d: %15s %*s %15s %d %63s", type, access, &pid, dev) != 4)
      return;
    if (std::strcmp(type, "FLOCK") != 0) return;
    unsigned maj, min;
    unsigned long long ino;
    if (std::sscanf(dev, "%x:%x:%llu", &maj, &min, &ino) != 3) return;
    const FileLock lock{static_cast<pid_t>(pid), std::strcmp(access, "WRITE") == 0};
    std::vector<FileLock>& held = table->held[FileKey{maj, min, ino}];
    if (std::none_of(held.begin(), held.end(), [&](const FileLock& l) {
          return l.pid == lock.pid && l.exclusive == lock.exclusive;
        }))
      held.push_back(lock);
  });
}

}  // namespace

LockTable read_locks() {
  // The kernel hands /proc/locks out a page at a time and finds its place again
  // by counting entries, so a lock released meanwhile in the part already read
  // makes the next page skip one entry. A table of more than one page is read
  // three times and the locks seen are merged: a lock held all along is missed
  // only if it is skipped every time.
  LockTable table;
  std::string text;
  const int chunks = read_lock_text(&text);
  if (chunks < 0) return table;
  parse_locks(text, &table);
  for (int again = 0; chunks > 1 && again < 2; ++again) {
    std::string more;
    if (read_lock_text(&more) >= 0) parse_locks(more, &table);
  }
  table.readable = true;
  table.paged = chunks > 1;
  table.complete = proc_shows_every_lock();
  return table;
}

bool lock_seen_on_rereading(const FileKey& file, int tries) {
  for (int i = 0; i < tries; ++i) {
    // A pause, so that each reading meets the table in another state.
    struct timespec pause = {0, 200000};
    ::nanosleep(&pause, nullptr);
    std::string text;
    if (read_lock_text(&text) < 0) return false;
    LockTable one;
    parse_locks(text, &one);
    if (one.held.count(file)) return true;
  }
  return false;
}

HolderScan scan_holders(const std::set<FileKey>& files, const LockTable& locks) {
  HolderScan scan;
  DIR* proc = ::opendir("/proc");
  if (!proc) return scan;
  const pid_t self = ::getpid();
  std::set<pid_t> inspected;
  while (struct dirent* de = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    const int pid_dir = ::openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pid_dir < 0) continue;  // gone
    struct stat pst;
    if (::fstat(pid_dir, &pst) != 0) {
      ::close(pid_dir);
      continue;
    }
    ProcessFinds finds;
    std::string maps;
    const int maps_rc = read_all(pid_dir, "maps", &maps);
    const int fds_rc = maps_rc == 0 ? scan_fds(pid_dir, files, &finds) : 0;
    const bool visible = maps_rc == 0 && fds_rc == 0;
    const bool kthread = !visible && is_kernel_thread(pid_dir);
    ::close(pid_dir);
    if ((maps_rc < 0 && !denied(maps_rc)) || (fds_rc < 0 && !denied(fds_rc)) || kthread)
      continue;  // exited meanwhile, or a kernel thread
    ++scan.processes;
    if (!visible) {
      ++scan.hidden;
      continue;
    }
    inspected.insert(static_cast<pid_t>(pid));
    parse_maps(maps, files, &finds);
    for (auto& [key, h] : finds.files) {
      h.pid = static_cast<pid_t>(pid);
      h.uid = pst.st_uid;
      h.inspected = true;
      scan.posix[key].push_back(h);
    }
    for (auto& [shmid, h] : finds.segments) {
      h.pid = static_cast<pid_t>(pid);
      h.uid = pst.st_uid;
      h.inspected = true;
      scan.sysv[shmid].push_back(h);
    }
  }
  ::closedir(proc);
  for (auto& [key, list] : scan.posix)
    std::sort(list.begin(), list.end(), [](const Holder& a, const Holder& b) { return a.pid < b.pid; });
  for (auto& [key, list] : scan.sysv)
    std::sort(list.begin(), list.end(), [](const Holder& a, const Holder& b) { return a.pid < b.pid; });

  // The flock holders, which /proc/locks shows to everyone: a process that
  // could not be inspected still shows as a holder by its lock. A lock whose
  // taker was inspected and holds no descriptor any more (it handed it on) or
  // is gone says nothing about who holds it now.
  for (const FileKey& key : files) {
    auto it = locks.held.find(key);
    if (it == locks.held.end()) continue;
    std::vector<Holder>& list = scan.posix[key];
    for (const FileLock& lock : it->second) {
      auto h = std::find_if(list.begin(), list.end(), [&](const Holder& x) { return x.pid == lock.pid; });
      if (h == list.end()) {
        struct stat pst;
        if (lock.pid <= 0 || inspected.count(lock.pid) ||
            ::stat(format("/proc/%d", static_cast<int>(lock.pid)).c_str(), &pst) != 0)
          continue;
        Holder added;
        added.pid = lock.pid;
        added.uid = pst.st_uid;
        (lock.exclusive ? added.flock_ex : added.flock_sh) = true;
        add_holder(&list, added);
        continue;
      }
      (lock.exclusive ? h->flock_ex : h->flock_sh) = true;
    }
    if (list.empty()) scan.posix.erase(key);
  }
  return scan;
}

const std::vector<Holder>& holders_of(const HolderScan& scan, const Object& o) {
  static const std::vector<Holder> none;
  if (o.kind == IPCSHM_KIND_SYSV) {
    auto it = scan.sysv.find(o.info.shmid);
    return it == scan.sysv.end() ? none : it->second;
  }
  auto it = scan.posix.find(o.file);
  return it == scan.posix.end() ? none : it->second;
}

uint64_t hidden_holders(const HolderScan& scan, const Object& o) {
  if (o.kind == IPCSHM_KIND_SYSV) {
    uint64_t seen = 0;
    for (const Holder& h : holders_of(scan, o)) seen += h.attaches;
    return o.info.nattch > seen ? o.info.nattch - seen : 0;
  }
  return scan.hidden;
}

std::string access_text(const Holder& h) {
  std::string words;
  auto add = [&](const std::string& w) {
    if (!words.empty()) words += ',';
    words += w;
  };
  if (h.attaches > 0) {
    if (h.map_rw) add("shmat-rw");
    if (h.map_ro) add("shmat-ro");
    if (h.attaches > 1) words += format(":%u", h.attaches);
  } else {
    if (h.map_rw) add("map-rw");
    if (h.map_ro) add("map-ro");
  }
  if (h.fd) add("fd");
  if (h.flock_sh) add("flock-sh");
  if (h.flock_ex) add("flock-ex");
  return words;
}

std::string process_command(pid_t pid) {
  std::string text;
  const int proc = ::open(format("/proc/%d", static_cast<int>(pid)).c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return text;
  read_all(proc, "cmdline", &text);
  ::close(proc);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

}  // namespace ipcshm_cli
