// Descriptors of objects: ipcshm_fd, ipcshm_attach_fd, and ipcshm_send/ipcshm_recv
// between unrelated processes (the peer is a separate program, tests/fd_peer.c,
// that shares no memory with the test but what it receives), over a
// socketpair and over a named socket; sealing; another user; hostile messages.
#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <map>

#include "test_util.hpp"

extern char** environ;

using namespace testutil;

namespace {

// The 16 bytes that ipcshm_send writes (see src/descriptors.cc), built by hand.
struct Frame {
  uint32_t magic = 0x4d485349;
  uint16_t version = 1;
  uint16_t size = 16;
  uint32_t reserved[2] = {0, 0};
};

// Sends `bytes` with the descriptors `fds` attached, as a hostile sender would.
ssize_t send_raw(int sock, const void* bytes, size_t n, std::vector<int> fds) {
  struct iovec iov = {const_cast<void*>(bytes), n};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

struct SocketPair {
  int fd[2] = {-1, -1};
  explicit SocketPair(int type = SOCK_STREAM) { socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fd); }
  ~SocketPair() {
    close_end(0);
    close_end(1);
  }
  void close_end(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

// The peer program, spawned with `sock` as its descriptor 3 (if >= 0) and its
// stdout on a pipe; killed and reaped if the test ends early.
class Peer {
 public:
  Peer(int sock, std::vector<std::string> args) {
    const char* path = std::getenv("IPCSHM_FD_PEER");
    if (!path || !out_.ok()) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_.write_fd(), 1);
    if (sock >= 0) posix_spawn_file_actions_adddup2(&fa, sock, 3);
    args.insert(args.begin(), path);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    out_.close_write();
  }
  ~Peer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  bool started() const { return pid_ > 0; }
  // Its report, once it has written it (it then waits on the socket).
  std::map<std::string, std::string> report() {
    std::map<std::string, std::string> kv;
    std::string text;
    char c;
    while (!kv.count("end") && out_.get(&c, 1)) {
      if (c != '\n') {
        text += c;
        continue;
      }
      auto eq = text.find('=');
      if (eq != std::string::npos) kv[text.substr(0, eq)] = text.substr(eq + 1);
      text.clear();
    }
    return kv;
  }
  int wait() {
    int status = -1;
    if (pid_ > 0) {
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    return status;
  }

 private:
  Pipe out_;
  pid_t pid_ = -1;
};

class FdPass : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("IPCSHM_FD_PEER")) GTEST_SKIP() << "IPCSHM_FD_PEER is not set";
  }
};

// Waits for the peer's "d" on sock (it has written its pattern).
bool peer_done(int sock) {
  struct pollfd p = {sock, POLLIN, 0};
  char c;
  return poll(&p, 1, kTimeoutMs) == 1 && read(sock, &c, 1) == 1 && c == 'd';
}

}  // namespace

TEST_F(FdPass, MemfdOverSocketpairToAnUnrelatedProcess) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:fdpass-XXXXXX", 64 * 1024, 0600, 0, h.out()))
      << ipcshm_last_error();
  fill_pattern(ipcshm_pointer(h.get()), ipcshm_size(h.get()), 7);
  SocketPair sp;
  Peer peer(sp.fd[1], {"fd:3", "7"});
  ASSERT_TRUE(peer.started());
  sp.close_end(1);
  ASSERT_EQ(0, ipcshm_send(sp.fd[0], h.get())) << ipcshm_last_error();
  auto r = peer.report();
  EXPECT_EQ("0", r["recv"]) << r["error"];
  EXPECT_EQ(id_of(h.get()), r["id"]);
  EXPECT_EQ(std::to_string(IPCSHM_KIND_MEMFD), r["kind"]);
  EXPECT_EQ("65536", r["size"]);
  EXPECT_EQ("ok", r["pattern"]);
  EXPECT_EQ("0", r["resize"]) << r["resize_error"];  // growing is allowed
  ASSERT_TRUE(peer_done(sp.fd[0]));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 64 * 1024, 8)) << "the peer's writes";
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
  EXPECT_EQ(2u * 64 * 1024, info.size) << "grown by the peer; sealed against shrinking";
  sp.close_end(0);
  EXPECT_TRUE(exited_with(peer.wait(), 0));
}

TEST_F(FdPass, SealedAgainstGrowingTheReceiverCannotGrowIt) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:sealed", 8192, 0600, 0, h.out())) << ipcshm_last_error();
  fill_pattern(ipcshm_pointer(h.get()), 8192, 21);
  int fd = ipcshm_fd(h.get());
  ASSERT_GE(fd, 0) << ipcshm_last_error();
  EXPECT_EQ(F_SEAL_SHRINK, fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK) << "sealed from creation";
  ASSERT_EQ(0, fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
  close(fd);
  SocketPair sp;
  Peer peer(sp.fd[1], {"fd:3", "21"});
  sp.close_end(1);
  ASSERT_EQ(0, ipcshm_send(sp.fd[0], h.get())) << ipcshm_last_error();
  auto r = peer.report();
  EXPECT_EQ("ok", r["pattern"]);
  EXPECT_EQ(std::to_string(-EPERM), r["resize"]);
  EXPECT_NE(std::string::npos, r["resize_error"].find("F_SEAL_GROW")) << r["resize_error"];
  ASSERT_TRUE(peer_done(sp.fd[0]));
  EXPECT_EQ(-EPERM, ipcshm_resize(h.get(), 16384));
  EXPECT_EQ(8192u, ipcshm_size(h.get()));
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
  EXPECT_EQ(8192u, info.size);
  sp.close_end(0);
  EXPECT_TRUE(exited_with(peer.wait(), 0));
}

TEST_F(FdPass, VolatilePosixOverANamedSocketLivesWhileTheReceiverHoldsIt) {
  char dir[] = "/tmp/ipcshm-test-sock-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(dir));
  const std::string path = std::string(dir) + "/s";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(0, bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  ASSERT_EQ(0, listen(listener, 1));

  const std::string name = unique_name("named-sock");
  RemoveGuard rg(name);
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, &h)) << ipcshm_last_error();
  fill_pattern(ipcshm_pointer(h), 4096, 33);
  Peer peer(-1, {"path:" + path, "33"});
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  close(listener);
  unlink(path.c_str());
  rmdir(dir);
  ASSERT_GE(conn, 0);
  EXPECT_EQ(0, ipcshm_send(conn, h)) << ipcshm_last_error();
  auto r = peer.report();
  EXPECT_EQ(name, r["id"]);
  EXPECT_EQ(std::to_string(IPCSHM_KIND_POSIX), r["kind"]);
  EXPECT_EQ("ok", r["pattern"]);
  EXPECT_EQ("0", r["resize"]) << r["resize_error"];
  ASSERT_TRUE(peer_done(conn));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h), 4096, 34));
  // The creator leaves first: the receiver is a user of its own, so the
  // volatile object stays...
  ASSERT_EQ(0, ipcshm_detach(h));
  EXPECT_TRUE(posix_exists(name)) << "destroyed while the receiver still holds it";
  // ...until the receiver detaches too.
  close(conn);
  EXPECT_TRUE(exited_with(peer.wait(), 0));
  EXPECT_FALSE(posix_exists(name)) << "the last user detached";
}

TEST_F(FdPass, ReceiverThatMayNotOpenTheObjectStillMapsWhatItIsSent) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to send to another user";
  const std::string name = unique_name("other-user");
  RemoveGuard rg(name);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, IPCSHM_PERSISTENT, h.out()));
  fill_pattern(ipcshm_pointer(h.get()), 4096, 50);
  SocketPair sp;
  Peer peer(sp.fd[1], {"fd:3", "50", "--nobody", "--attach-by-id"});
  sp.close_end(1);
  ASSERT_EQ(0, ipcshm_send(sp.fd[0], h.get()));
  auto r = peer.report();
  EXPECT_EQ("0", r["recv"]) << r["error"];
  EXPECT_EQ(std::to_string(nobody_uid()), r["uid"]);
  EXPECT_EQ(std::to_string(-EACCES), r["attach_by_id"]) << "by name it is refused";
  EXPECT_EQ("ok", r["pattern"]) << "but the descriptor it was given maps";
  ASSERT_TRUE(peer_done(sp.fd[0]));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 4096, 51));
  sp.close_end(0);
  EXPECT_TRUE(exited_with(peer.wait(), 0));
  EXPECT_TRUE(posix_exists(name)) << "persistent: the receiver's detach leaves it";
}

TEST_F(FdPass, ReadOnlyReceiver) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:ro", 4096, 0600, 0, h.out()));
  fill_pattern(ipcshm_pointer(h.get()), 4096, 60);
  SocketPair sp;
  Peer peer(sp.fd[1], {"fd:3", "60", "--readonly"});
  sp.close_end(1);
  ASSERT_EQ(0, ipcshm_send(sp.fd[0], h.get()));
  auto r = peer.report();
  EXPECT_EQ("ok", r["pattern"]);
  EXPECT_EQ(0u, r.count("resize"));
  ASSERT_TRUE(peer_done(sp.fd[0]));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(h.get()), 4096, 60)) << "unchanged";
  sp.close_end(0);
  EXPECT_TRUE(exited_with(peer.wait(), 0));
}

// ---------------------------------------------------------------------------
// ipcshm_fd and ipcshm_attach_fd in one process.

TEST(AttachFd, MemfdDescriptorRoundTrip) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:rt", 10000, 0640, 0, h.out()));
  fill_pattern(ipcshm_pointer(h.get()), 10000, 3);
  int fd = ipcshm_fd(h.get());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
  HandleGuard a;
  ASSERT_EQ(0, ipcshm_attach_fd(fd, 0, a.out())) << ipcshm_last_error();
  EXPECT_GE(fcntl(fd, F_GETFD), 0) << "the caller's descriptor stays open";
  close(fd);
  EXPECT_EQ("memfd:rt", id_of(a.get()));
  EXPECT_EQ(10000u, ipcshm_size(a.get()));
  EXPECT_NE(ipcshm_pointer(h.get()), ipcshm_pointer(a.get()));
  EXPECT_TRUE(has_pattern(ipcshm_pointer(a.get()), 10000, 3));
  static_cast<char*>(ipcshm_pointer(a.get()))[0] = 42;
  EXPECT_EQ(42, static_cast<char*>(ipcshm_pointer(h.get()))[0]);
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_handle_info(a.get(), &info));
  EXPECT_EQ(static_cast<uint32_t>(IPCSHM_KIND_MEMFD), info.kind);
  EXPECT_EQ(0640u, info.mode);
}

TEST(AttachFd, ReadOnlyDescriptorsStayReadOnly) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("memfd:rofd", 4096, 0600, 0, h.out()));
  HandleGuard ro;
  int fd = ipcshm_fd(h.get());
  ASSERT_EQ(0, ipcshm_attach_fd(fd, IPCSHM_READONLY, ro.out()));
  close(fd);
  int rofd = ipcshm_fd(ro.get());
  ASSERT_GE(rofd, 0);
  EXPECT_EQ(O_RDONLY, fcntl(rofd, F_GETFL) & O_ACCMODE);
  HandleGuard rw;
  EXPECT_EQ(-EACCES, ipcshm_attach_fd(rofd, 0, rw.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "IPCSHM_READONLY"));
  EXPECT_EQ(nullptr, rw.get());
  EXPECT_EQ(-EPERM, ipcshm_resize(ro.get(), 8192));
  close(rofd);
  int status = status_of_write(ipcshm_pointer(ro.get()));
  EXPECT_TRUE(killed_by(status, SIGSEGV)) << describe_status(status);
}

TEST(AttachFd, PosixDescriptorMakesAUserOfItsOwn) {
  const std::string name = unique_name("fd-user");
  RemoveGuard rg(name);
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, &h));
  int fd = ipcshm_fd(h);
  HandleGuard a;
  ASSERT_EQ(0, ipcshm_attach_fd(fd, 0, a.out())) << ipcshm_last_error();
  close(fd);
  EXPECT_EQ(name, id_of(a.get()));
  ASSERT_EQ(0, ipcshm_detach(h));
  EXPECT_TRUE(posix_exists(name)) << "the descriptor's handle still uses it";
  ASSERT_EQ(0, ipcshm_detach(a.release()));
  EXPECT_FALSE(posix_exists(name));
}

TEST(AttachFd, RemovedPosixObjectIsENOENT) {
  const std::string name = unique_name("fd-removed");
  RemoveGuard rg(name);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, IPCSHM_PERSISTENT, h.out()));
  int fd = ipcshm_fd(h.get());
  ASSERT_EQ(0, ipcshm_remove(name.c_str()));
  HandleGuard a;
  EXPECT_EQ(-ENOENT, ipcshm_attach_fd(fd, 0, a.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "removed")) << ipcshm_last_error();
  close(fd);
}

TEST(AttachFd, BadDescriptors) {
  const int before = open_fd_count();
  HandleGuard a;
  EXPECT_EQ(-EBADF, ipcshm_attach_fd(-1, 0, a.out()));
  EXPECT_EQ(-EBADF, ipcshm_attach_fd(999999, 0, a.out()));
  EXPECT_EQ(-EINVAL, ipcshm_attach_fd(0, 0, nullptr));
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  EXPECT_EQ(-EINVAL, ipcshm_attach_fd(devnull, 0, a.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "not a shared memory object"));
  close(devnull);
  int fds[2];
  ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
  EXPECT_EQ(-EINVAL, ipcshm_attach_fd(fds[0], IPCSHM_READONLY, a.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "pipe")) << ipcshm_last_error();
  close(fds[0]);
  close(fds[1]);
  char path[] = "/tmp/ipcshm-test-file-XXXXXX";
  int file = mkostemp(path, O_CLOEXEC);
  ASSERT_GE(file, 0);
  unlink(path);
  ASSERT_EQ(0, ftruncate(file, 4096));
  int rc = ipcshm_attach_fd(file, 0, a.out());
  EXPECT_EQ(-EINVAL, rc) << "a file in /tmp, whatever file system that is";
  close(file);
  int opath = open("/dev/shm", O_PATH | O_CLOEXEC);
  EXPECT_EQ(-EBADF, ipcshm_attach_fd(opath, 0, a.out()));
  close(opath);
  EXPECT_EQ(-EINVAL, ipcshm_attach_fd(0, 1u << 4, a.out())) << "HUGEPAGES is for create";
  EXPECT_EQ(nullptr, a.get());
  EXPECT_EQ(before, open_fd_count()) << "a descriptor leaked";
}

TEST(AttachFd, SystemVHasNoDescriptor) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", 4096, 0600, 0, h.out()));
  EXPECT_EQ(-EOPNOTSUPP, ipcshm_fd(h.get()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "System V"));
  SocketPair sp;
  EXPECT_EQ(-EOPNOTSUPP, ipcshm_send(sp.fd[0], h.get()));
}

TEST(AttachFd, NullAndDetachedHandles) {
  EXPECT_EQ(-EINVAL, ipcshm_fd(nullptr));
  EXPECT_EQ(-EINVAL, ipcshm_send(0, nullptr));
  ipcshm_t* h = nullptr;
  ASSERT_EQ(1, ipcshm_create("memfd:gone", 4096, 0600, 0, &h));
  ASSERT_EQ(0, ipcshm_detach(h));
  EXPECT_EQ(-EBADF, ipcshm_fd(h));
  SocketPair sp;
  EXPECT_EQ(-EBADF, ipcshm_send(sp.fd[0], h));
  EXPECT_EQ(-EINVAL, ipcshm_recv(sp.fd[1], 0, nullptr));
}

// ---------------------------------------------------------------------------
// ipcshm_recv trusts nothing it is sent.

TEST(Recv, HostileMessagesAreEBADMSGAndLeakNoDescriptor) {
  HandleGuard obj;
  ASSERT_EQ(1, ipcshm_create("memfd:bait", 4096, 0600, 0, obj.out()));
  const int bait = ipcshm_fd(obj.get());
  const int before = open_fd_count();
  Frame good;
  Frame bad_magic;
  bad_magic.magic = 0x12345678;
  Frame bad_version;
  bad_version.version = 2;
  struct Case {
    const char* what;
    const void* bytes;
    size_t n;
    std::vector<int> fds;
  };
  const char garbage[16] = "not a frame....";
  const std::vector<Case> cases = {
      {"no descriptor", &good, sizeof good, {}},
      {"two descriptors", &good, sizeof good, {bait, bait}},
      {"wrong magic", &bad_magic, sizeof bad_magic, {bait}},
      {"wrong version", &bad_version, sizeof bad_version, {bait}},
      {"garbage", garbage, sizeof garbage, {bait}},
  };
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    for (const Case& c : cases) {
      SocketPair sp(type);
      ASSERT_EQ(static_cast<ssize_t>(c.n), send_raw(sp.fd[0], c.bytes, c.n, c.fds));
      if (type == SOCK_STREAM) sp.close_end(0);  // a short stream ends
      HandleGuard h;
      EXPECT_EQ(-EBADMSG, ipcshm_recv(sp.fd[1], 0, h.out())) << c.what << " type " << type;
      EXPECT_EQ(nullptr, h.get());
    }
    // Short and long datagrams.
    if (type != SOCK_STREAM) {
      SocketPair sp(type);
      char longer[32] = {};
      std::memcpy(longer, &good, sizeof good);
      ASSERT_GT(send_raw(sp.fd[0], longer, sizeof longer, {bait}), 0);
      ASSERT_GT(send_raw(sp.fd[0], &good, 8, {bait}), 0);
      HandleGuard h;
      EXPECT_EQ(-EBADMSG, ipcshm_recv(sp.fd[1], 0, h.out())) << "truncated";
      EXPECT_EQ(-EBADMSG, ipcshm_recv(sp.fd[1], 0, h.out())) << "short";
    }
  }
  EXPECT_EQ(before, open_fd_count()) << "a received descriptor leaked";
  close(bait);
}

// A good frame that carries the object's descriptor and more (a second object,
// a pipe, the same descriptor again, up to more than the receiver takes): the
// message is -EBADMSG, nothing is mapped, and every descriptor that arrived is
// closed, on every socket type.
TEST(Recv, ExtraDescriptorsWithAGoodFrameAreRefusedAndClosed) {
  HandleGuard obj, other;
  ASSERT_EQ(1, ipcshm_create("memfd:extra", 4096, 0600, 0, obj.out()));
  ASSERT_EQ(1, ipcshm_create("memfd:other", 4096, 0600, 0, other.out()));
  const int a = ipcshm_fd(obj.get());
  const int b = ipcshm_fd(other.get());
  int p[2];
  ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
  const int before = open_fd_count();
  const std::vector<std::vector<int>> sets = {{a, b}, {a, p[0]}, {a, a, a}, {p[1], a}, {a, b, p[0], p[1]}};
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    for (const auto& fds : sets) {
      {
        SocketPair sp(type);
        Frame good;
        ASSERT_EQ(16, send_raw(sp.fd[0], &good, sizeof good, fds));
        HandleGuard h;
        EXPECT_EQ(-EBADMSG, ipcshm_recv(sp.fd[1], 0, h.out()))
            << fds.size() << " descriptors, type " << type << ": " << ipcshm_last_error();
        EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "descriptors"))
            << ipcshm_last_error();
        EXPECT_EQ(nullptr, h.get());
      }
      EXPECT_EQ(before, open_fd_count()) << "a received descriptor leaked";
    }
  }
  close(a);
  close(b);
  close(p[0]);
  close(p[1]);
}

TEST(Recv, AGoodFrameWithAPipeIsRefused) {
  int fds[2];
  ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
  SocketPair sp;
  Frame good;
  ASSERT_EQ(16, send_raw(sp.fd[0], &good, sizeof good, {fds[0]}));
  HandleGuard h;
  EXPECT_EQ(-EINVAL, ipcshm_recv(sp.fd[1], IPCSHM_READONLY, h.out()));
  close(fds[0]);
  close(fds[1]);
}

TEST(Recv, ClosedPeerAndNonSockets) {
  SocketPair sp;
  sp.close_end(0);
  HandleGuard h;
  EXPECT_EQ(-ECONNRESET, ipcshm_recv(sp.fd[1], 0, h.out()));
  EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "closed"));
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(-ENOTSOCK, ipcshm_recv(devnull, 0, h.out()));
  HandleGuard obj;
  ASSERT_EQ(1, ipcshm_create("memfd:x", 4096, 0600, 0, obj.out()));
  EXPECT_EQ(-ENOTSOCK, ipcshm_send(devnull, obj.get()));
  close(devnull);
  EXPECT_EQ(-EPIPE, ipcshm_send(sp.fd[1], obj.get()));
  EXPECT_EQ(-EBADF, ipcshm_recv(-1, 0, h.out()));
  EXPECT_EQ(-EINVAL, ipcshm_recv(sp.fd[1], 1u << 31, h.out()));
  SocketPair nb(SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_EQ(-EAGAIN, ipcshm_recv(nb.fd[1], 0, h.out()));
  EXPECT_EQ(nullptr, h.get());
}

// ---------------------------------------------------------------------------
// What a descriptor from ipcshm_fd or ipcshm_send carries: a new open file of
// the object, not the handle's, so no lock of the handle's goes with it.

// 1.1 handed out a duplicate of the handle's own descriptor: a flock(LOCK_UN)
// on it ended the handle's shared lock, the live object looked dead, and the
// next attacher removed it (and a create made a second object of the name).
TEST(FdLocks, UnlockingTheHandedOutDescriptorLeavesTheObjectAlive) {
  const std::string name = unique_name("fd-unlock");
  RemoveGuard rm(name);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, h.out())) << ipcshm_last_error();
  fill_pattern(ipcshm_pointer(h.get()), 4096, 3);
  const int fd = ipcshm_fd(h.get());
  ASSERT_GE(fd, 0) << ipcshm_last_error();
  // Ordinary user code that serialises with flock on the descriptor it was given.
  ASSERT_EQ(0, flock(fd, LOCK_EX | LOCK_NB) == 0 ? -1 : 0)
      << "an exclusive lock was granted: the descriptor shares the handle's lock";
  ASSERT_EQ(0, flock(fd, LOCK_UN));
  close(fd);
  int status = run_in_child([&] {
    ipcshm_t* a = nullptr;
    if (ipcshm_attach(name.c_str(), 0, &a) != 0) return 1;  // taken for dead
    bool same = has_pattern(ipcshm_pointer(a), 4096, 3);
    ipcshm_detach(a);
    ipcshm_t* c = nullptr;
    int rc = ipcshm_create(name.c_str(), 4096, 0600, IPCSHM_OPEN_OR_CREATE, &c);
    if (c) ipcshm_detach(c);
    if (rc != 0) return 2;  // a second object under the same name
    return same ? 0 : 3;
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status)
                                      << " (1: the live object was removed; 2: re-created)";
  EXPECT_TRUE(posix_exists(name));
}

// The same through a peer that takes the descriptor with a plain recvmsg, not
// ipcshm_recv, and holds an exclusive flock on it: attachers are not hung,
// and the object's life is not the peer's to end.
TEST(FdLocks, APeerLockingTheSentDescriptorNeitherHangsNorKills) {
  const std::string name = unique_name("fd-peer-lock");
  RemoveGuard rm(name);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, h.out())) << ipcshm_last_error();
  SocketPair sp;
  ASSERT_EQ(0, ipcshm_send(sp.fd[0], h.get())) << ipcshm_last_error();
  Pipe result;
  ASSERT_TRUE(result.ok());
  Child peer([&] {
    char buf[16];
    struct iovec iov = {buf, sizeof buf};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (recvmsg(sp.fd[1], &msg, 0) != 16) return 1;
    int fd;
    std::memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    // Not granted while the sender's handle holds its shared lock.
    char got = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'X' : 'w';
    flock(fd, LOCK_UN);  // and whatever it tries, the handle's lock stays
    result.put_byte(got);
    pause();
    return 0;
  });
  char got = 0;
  ASSERT_TRUE(result.get(&got, 1));
  EXPECT_EQ('w', got) << "the peer's descriptor shares the sender's lock";
  HandleGuard a;
  EXPECT_EQ(0, ipcshm_attach(name.c_str(), 0, a.out())) << ipcshm_last_error();
  EXPECT_TRUE(posix_exists(name));
}

// A memfd that is not sealed against shrinking can be truncated by its sender
// under the receiver's mapping (SIGBUS): refused unless the caller accepts it
// with IPCSHM_UNSEALED. The forged frame is exactly ipcshm_send's.
TEST(FdSeals, AnUnsealedMemfdIsRefusedUnlessAccepted) {
  const int before = open_fd_count();
  int raw = memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(raw, 0);
  ASSERT_EQ(0, ftruncate(raw, 8192));
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    SocketPair sp(type);
    Frame good;
    ASSERT_EQ(16, send_raw(sp.fd[0], &good, sizeof good, {raw}));
    HandleGuard h;
    EXPECT_EQ(-EPERM, ipcshm_recv(sp.fd[1], 0, h.out())) << "type " << type;
    EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "F_SEAL_SHRINK")) << ipcshm_last_error();
    EXPECT_EQ(nullptr, h.get());
  }
  {
    HandleGuard h;
    EXPECT_EQ(-EPERM, ipcshm_attach_fd(raw, 0, h.out()));
    EXPECT_EQ(nullptr, h.get());
    // Accepted on purpose: mapped, and the risk is the caller's.
    ASSERT_EQ(0, ipcshm_attach_fd(raw, IPCSHM_UNSEALED, h.out())) << ipcshm_last_error();
    EXPECT_EQ(8192u, ipcshm_size(h.get()));
    SocketPair sp;
    Frame good;
    ASSERT_EQ(16, send_raw(sp.fd[0], &good, sizeof good, {raw}));
    HandleGuard r;
    ASSERT_EQ(0, ipcshm_recv(sp.fd[1], IPCSHM_UNSEALED, r.out())) << ipcshm_last_error();
  }
  // Sealed, the same descriptor is accepted.
  ASSERT_EQ(0, fcntl(raw, F_ADD_SEALS, F_SEAL_SHRINK));
  {
    HandleGuard h;
    EXPECT_EQ(0, ipcshm_attach_fd(raw, 0, h.out())) << ipcshm_last_error();
  }
  close(raw);
  EXPECT_EQ(before, open_fd_count()) << "a refused descriptor leaked";
}
