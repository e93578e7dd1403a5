// Descriptors of objects. Mapping one opens the object anew through
// /proc/self/fd: the new open file is the handle's own (so its flock counts as
// a user of a volatile POSIX object, and detaching it cannot end the sender's
// lock) and has the access mode asked for. Where the object's permissions do
// not let this user open it (a descriptor received from another user, which is
// what SCM_RIGHTS is for), the handle shares the received open file instead.
//
// The message ipcshm_send writes is 16 bytes (kMagic, version, sizes) with the
// descriptor attached; ipcshm_recv trusts neither: a message that is not
// exactly one of those, with exactly one descriptor, is -EBADMSG.
#include "descriptors.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "errors.hpp"
#include "memfd.hpp"
#include "posix_shm.hpp"
#include "resources.hpp"

namespace ipcshm::core {
namespace {

constexpr uint32_t kMagic = 0x4d485349;  // "ISHM" in memory on little-endian
constexpr uint16_t kVersion = 1;
constexpr int kMaxFds = 16;              // received at most (all closed but one)
constexpr const char kDeleted[] = " (deleted)";

struct Frame {
  uint32_t magic;
  uint16_t version;
  uint16_t size;  // sizeof(Frame)
  uint32_t reserved[2];
};
static_assert(sizeof(Frame) == 16);

bool ends_with(const std::string& s, const char* tail) {
  size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// What kind of descriptor fd is, for messages.
const char* file_type(mode_t mode) {
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// The id of the object open as fd, from the link /proc/self/fd/N: "/name" for
// a file in /dev/shm, "memfd:label" for a memfd; *is_memfd tells which.
int id_of(int fd, const struct stat& st, std::string* id, bool* is_memfd) {
  char path[64], target[512];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return IPCSHM_FAIL_ERRNO("ipcshm_attach_fd(%d): readlink(\"%s\")", fd, path);
  std::string link(target, static_cast<size_t>(n));
  if (link.rfind("/memfd:", 0) == 0) {
    if (ends_with(link, kDeleted)) link.resize(link.size() - (sizeof kDeleted - 1));
    *id = link.substr(1);
    *is_memfd = true;
    return 0;
  }
  constexpr const char kShm[] = "/dev/shm/";
  if (link.rfind(kShm, 0) == 0) {
    if (st.st_nlink == 0 && ends_with(link, kDeleted))
      link.resize(link.size() - (sizeof kDeleted - 1));
    std::string name = link.substr(sizeof kShm - 2);  // keeps the '/'
    if (name.size() > 1 && name.find('/', 1) == std::string::npos) {
      *id = name;
      *is_memfd = false;
      return 0;
    }
  }
  return fail_msg(EINVAL,
                  "ipcshm_attach_fd(%d): \"%.200s\" is neither a POSIX shared memory object "
                  "(in /dev/shm) nor a memfd",
                  fd, link.c_str());
}

}  // namespace

int attach_fd(int fd, uint32_t flags, SegmentPtr* out) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return fail(errno, "ipcshm_attach_fd(%d): not an open descriptor", fd);
  if (fl & O_PATH)
    return fail_msg(EBADF, "ipcshm_attach_fd(%d): an O_PATH descriptor cannot be mapped", fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(errno, "ipcshm_attach_fd(%d): fstat", fd);
  if (!S_ISREG(st.st_mode))
    return fail_msg(EINVAL, "ipcshm_attach_fd(%d): %s, not a shared memory object", fd,
                    file_type(st.st_mode));
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return fail(errno, "ipcshm_attach_fd(%d): fstatfs", fd);
  if (fs.f_type != TMPFS_MAGIC && fs.f_type != HUGETLBFS_MAGIC)
    return fail_msg(EINVAL, "ipcshm_attach_fd(%d): a file on a disk file system (0x%lx), not "
                    "shared memory", fd, static_cast<unsigned long>(fs.f_type));
  std::string id;
  bool is_memfd = false;
  if (int rc = id_of(fd, st, &id, &is_memfd); rc < 0) return rc;
  const bool readonly = flags & IPCSHM_READONLY;
  if ((fl & O_ACCMODE) == O_WRONLY)
    return fail_msg(EACCES, "ipcshm_attach_fd(%d, \"%s\"): the descriptor is write-only; "
                    "mapping needs read access", fd, id.c_str());
  if ((fl & O_ACCMODE) == O_RDONLY && !readonly)
    return fail_msg(EACCES, "ipcshm_attach_fd(%d, \"%s\"): the descriptor is read-only; "
                    "attach it with IPCSHM_READONLY", fd, id.c_str());

  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  UniqueFd own(::open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK));
  bool own_file = static_cast<bool>(own);
  if (!own_file) {
    if (errno != EACCES && errno != EPERM)
      return IPCSHM_FAIL_ERRNO("ipcshm_attach_fd(%d): open(\"%s\")", fd, path);
    own.reset(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!own) return IPCSHM_FAIL_ERRNO("ipcshm_attach_fd(%d): fcntl(F_DUPFD_CLOEXEC)", fd);
  }
  if (is_memfd) return memfd::attach_open(id, std::move(own), flags, out);
  return posix::attach_open(id, std::move(own), own_file, flags, out);
}

int send_fd(int sock, int fd) {
  UniqueFd owned(fd);
  Frame frame{kMagic, kVersion, sizeof(Frame), {0, 0}};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {&frame, sizeof frame};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  size_t sent = 0;
  while (sent < sizeof frame) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOTSOCK)
        return fail(errno, "ipcshm_send(%d): not a socket", sock);
      if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
        return fail(errno, "ipcshm_send(%d): the peer is gone (or the socket is not "
                    "connected)", sock);
      return fail(errno, "ipcshm_send(%d): sendmsg", sock);
    }
    // A stream socket may take part of the bytes; the descriptor went with the
    // first of them.
    sent += static_cast<size_t>(n);
    iov.iov_base = reinterpret_cast<char*>(&frame) + sent;
    iov.iov_len = sizeof frame - sent;
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
  }
  return 0;
}

int recv(int sock, uint32_t flags, SegmentPtr* out) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return fail(errno, "ipcshm_recv(%d): not a socket", sock);
  Frame frame{};
  size_t got = 0;
  std::vector<UniqueFd> fds;
  bool truncated = false;
  while (got < sizeof frame) {
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    struct iovec iov = {reinterpret_cast<char*>(&frame) + got, sizeof frame - got};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "ipcshm_recv(%d): recvmsg", sock);
    }
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
        fds.emplace_back(received);
      }
    }
    truncated = truncated || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC));
    if (n == 0) {
      if (got == 0 && fds.empty())
        return fail_msg(ECONNRESET, "ipcshm_recv(%d): the peer closed the socket", sock);
      break;
    }
    got += static_cast<size_t>(n);
    if (type != SOCK_STREAM) break;  // one datagram is one message
  }
  if (truncated || got != sizeof frame || frame.magic != kMagic ||
      frame.version != kVersion || frame.size != sizeof frame)
    return fail_msg(EBADMSG,
                    "ipcshm_recv(%d): the message is not from ipcshm_send (%zu bytes%s, %zu "
                    "descriptors)",
                    sock, got, truncated ? ", truncated" : "", fds.size());
  if (fds.size() != 1)
    return fail_msg(EBADMSG, "ipcshm_recv(%d): the message carries %zu descriptors, not 1",
                    sock, fds.size());
  return attach_fd(fds[0].get(), flags, out);
}

}  // namespace ipcshm::core
