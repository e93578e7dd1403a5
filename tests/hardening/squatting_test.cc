// Squatting (issue "Hardening"): another user takes a name first. What
// permissions_test.cc already covers is not repeated here (OPEN_OR_CREATE and
// exclusive create against another user's *persistent* POSIX object and System V
// key segment). Added: another user's *volatile* POSIX object, while its creator
// lives and after it died; root's orphan met by an unprivileged user; and names
// squatted by things that are not shared memory objects (a symlink, a FIFO).
// CI runs as root: the other user is `nobody`, in a forked child.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "process_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::Child;
using testutil::describe_status;
using testutil::drop_to_nobody;
using testutil::exited_with;
using testutil::fill_pattern;
using testutil::fresh_info;
using testutil::HandleGuard;
using testutil::has_pattern;
using testutil::nobody_uid;
using testutil::Pipe;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::run_in_child;
using testutil::unique_name;

constexpr int kCannotDrop = 90;
constexpr uint64_t kSize = 5000;

#define SKIP_UNLESS_ROOT_WITH_NOBODY()                                        \
  do {                                                                        \
    if (::geteuid() != 0 || nobody_uid() == static_cast<uid_t>(-1))           \
      GTEST_SKIP() << "needs to run as root on a system with a nobody user"; \
  } while (0)

// In a child: become nobody, create a volatile 0644 object with a pattern, tell
// the parent, and hold it until the parent closes the pipe (or kills the child).
int nobody_holds_volatile(const std::string& name, Pipe& ready, Pipe& done) {
  ready.close_read();
  done.close_write();
  if (!drop_to_nobody()) return kCannotDrop;
  ipcshm_t* h = nullptr;
  if (ipcshm_create(name.c_str(), kSize, 0644, 0, &h) != 1) return 1;
  fill_pattern(ipcshm_pointer(h), kSize, 91);
  if (!ready.put_byte()) return 2;
  char c;
  (void)::read(done.read_fd(), &c, 1);  // until the parent closes its end
  return ipcshm_detach(h) == 0 ? 0 : 3;
}

// The object is nobody's, volatile, 0644, kSize bytes, with the pattern.
void expect_untouched(const std::string& name) {
  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(name.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(static_cast<uint32_t>(nobody_uid()), info.uid);
  EXPECT_EQ(0644u, info.mode);
  EXPECT_EQ(kSize, info.size);
  EXPECT_EQ(0u, info.flags & IPCSHM_PERSISTENT) << "the volatile mark is gone";
  struct stat st;
  ASSERT_EQ(0, ::stat(("/dev/shm" + name).c_str(), &st));
  EXPECT_EQ(01644u, st.st_mode & 07777);
}

TEST(Squatting, AnotherUsersLiveVolatilePosixObjectIsNotReclaimedNorTaken) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const std::string name = unique_name("squat-live");
  RemoveGuard rm(name);
  Pipe ready, done;
  ASSERT_TRUE(ready.ok() && done.ok());
  Child child([&] { return nobody_holds_volatile(name, ready, done); });
  ASSERT_TRUE(child.started());
  ready.close_write();
  done.close_read();
  ASSERT_TRUE(ready.get_byte()) << "the child did not create: "
                                << describe_status(child.wait());

  ASSERT_NO_FATAL_FAILURE(expect_untouched(name));
  for (uint32_t flags : {0u, static_cast<uint32_t>(IPCSHM_PERSISTENT)}) {
    SCOPED_TRACE(testing::Message() << "flags " << flags);
    // Exclusive create: the name is in use by a live holder, root or not.
    ipcshm_t* const sentinel = reinterpret_cast<ipcshm_t*>(static_cast<uintptr_t>(0x50));
    ipcshm_t* h = sentinel;
    EXPECT_EQ(-EEXIST, ipcshm_create(name.c_str(), kSize, 0600, flags, &h))
        << ipcshm_last_error();
    EXPECT_EQ(sentinel, h);
    // OPEN_OR_CREATE: another user's object.
    EXPECT_EQ(-EACCES, ipcshm_create(name.c_str(), kSize, 0600, flags | IPCSHM_OPEN_OR_CREATE,
                                     &h))
        << ipcshm_last_error();
    EXPECT_EQ(sentinel, h);
    EXPECT_STRNE("", ipcshm_last_error());
    ASSERT_NO_FATAL_FAILURE(expect_untouched(name));
  }
  {
    // Root may still read it by attaching (root passes the mode); the data is
    // nobody's, and this extra holder does not change the object.
    HandleGuard ro;
    ASSERT_EQ(0, ipcshm_attach(name.c_str(), IPCSHM_READONLY, ro.out())) << ipcshm_last_error();
    EXPECT_TRUE(has_pattern(ipcshm_pointer(ro.get()), kSize, 91)) << "the data changed";
  }
  EXPECT_TRUE(posix_exists(name)) << "root's detach destroyed an object another process holds";

  // The creator lets go: it was the last holder, the object goes.
  done.close_write();
  int status = child.wait();
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status);
  EXPECT_FALSE(posix_exists(name));
}

TEST(Squatting, AnotherUsersDeadVolatilePosixObjectIsReclaimedByCreateAndAttach) {
  // Header rule 4: a name whose holders all died is reclaimed by the next create
  // or attach, whoever owned it (root, whom the sticky /dev/shm lets unlink).
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  for (bool by_create : {true, false}) {
    SCOPED_TRACE(by_create ? "create" : "attach");
    const std::string name = unique_name("squat-dead");
    RemoveGuard rm(name);
    Pipe ready, done;
    ASSERT_TRUE(ready.ok() && done.ok());
    Child child([&] { return nobody_holds_volatile(name, ready, done); });
    ready.close_write();
    done.close_read();
    ASSERT_TRUE(ready.get_byte()) << describe_status(child.wait());
    ::kill(child.pid(), SIGKILL);
    child.wait();
    ASSERT_TRUE(posix_exists(name));

    HandleGuard h;
    if (by_create) {
      ASSERT_EQ(1, ipcshm_create(name.c_str(), 64, 0600, 0, h.out())) << ipcshm_last_error();
      ipcshm_info_t info = fresh_info();
      ASSERT_EQ(0, ipcshm_handle_info(h.get(), &info));
      EXPECT_EQ(0u, info.uid) << "not a new object";
      EXPECT_EQ(64u, info.size);
      EXPECT_TRUE(testutil::is_zero(ipcshm_pointer(h.get()), 64));
    } else {
      EXPECT_EQ(-ENOENT, ipcshm_attach(name.c_str(), IPCSHM_READONLY, h.out()));
      EXPECT_FALSE(posix_exists(name));
    }
  }
}

TEST(Squatting, RootsDeadVolatileObjectIsNotTakenByAnotherUser) {
  // The other way round: root's creator died, nobody cannot unlink root's file in
  // the sticky /dev/shm. Its create and attach fail; the object stays as it was
  // (for root, or gc, to reclaim).
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  for (uint32_t perms : {0600u, 0644u, 0666u}) {
    SCOPED_TRACE(testing::Message() << std::oct << "perms 0" << perms);
    const std::string name = unique_name("squat-root");
    RemoveGuard rm(name);
    int status = run_in_child([&] {
      ipcshm_t* h = nullptr;
      if (ipcshm_create(name.c_str(), kSize, perms, 0, &h) != 1) return 1;
      fill_pattern(ipcshm_pointer(h), kSize, 92);
      ::kill(::getpid(), SIGKILL);  // dies holding it
      return 2;
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << describe_status(status);
    ASSERT_TRUE(posix_exists(name));

    status = run_in_child([&] {
      if (!drop_to_nobody()) return kCannotDrop;
      ipcshm_t* h = nullptr;
      int rc = ipcshm_create(name.c_str(), kSize, 0666, 0, &h);
      if (rc >= 0) return 10;
      if (rc != -EEXIST && rc != -EACCES) return 11;
      rc = ipcshm_create(name.c_str(), kSize, 0666, IPCSHM_OPEN_OR_CREATE, &h);
      if (rc != -EACCES) return 12;
      rc = ipcshm_attach(name.c_str(), IPCSHM_READONLY, &h);
      if (rc == 0) return 13;  // nobody alive holds it: never attached
      return 0;
    });
    EXPECT_TRUE(exited_with(status, 0))
        << describe_status(status)
        << " (10: nobody created over root's name, 11: not -EEXIST/-EACCES, 12: "
           "OPEN_OR_CREATE not -EACCES, 13: attached a dead object)";
    // Untouched: root's, volatile, with the pattern.
    struct stat st;
    ASSERT_EQ(0, ::stat(("/dev/shm" + name).c_str(), &st)) << "nobody removed root's object";
    EXPECT_EQ(0u, st.st_uid);
    EXPECT_EQ(static_cast<mode_t>(01000 | perms), st.st_mode & 07777);
    EXPECT_EQ(static_cast<off_t>(kSize), st.st_size);
    int fd = ::open(("/dev/shm" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string data(kSize, '\0');
    EXPECT_EQ(static_cast<ssize_t>(kSize), ::pread(fd, data.data(), kSize, 0));
    ::close(fd);
    EXPECT_TRUE(has_pattern(data.data(), kSize, 92)) << "the data changed";
    // Root's attach reclaims it.
    HandleGuard h;
    EXPECT_EQ(-ENOENT, ipcshm_attach(name.c_str(), 0, h.out()));
    EXPECT_FALSE(posix_exists(name));
  }
}

TEST(Squatting, SymlinkInDevShmIsNotFollowed) {
  // Another user puts a symlink where root's object will be: root's create,
  // OPEN_OR_CREATE, attach and chmod never reach the target.
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const std::string name = unique_name("squat-link");
  RemoveGuard rm(name);
  char target[] = "/tmp/ipcshm-squat-target-XXXXXX";
  int tfd = ::mkstemp(target);
  ASSERT_GE(tfd, 0);
  ASSERT_EQ(3, ::write(tfd, "abc", 3));
  ::close(tfd);
  ASSERT_EQ(0, ::chmod(target, 0600));
  int status = run_in_child([&] {
    if (!drop_to_nobody()) return kCannotDrop;
    return ::symlink(target, ("/dev/shm" + name).c_str()) == 0 ? 0 : 1;
  });
  ASSERT_TRUE(exited_with(status, 0)) << describe_status(status);

  HandleGuard h;
  int rc = ipcshm_create(name.c_str(), 4096, 0666, 0, h.out());
  EXPECT_EQ(-EEXIST, rc) << ipcshm_last_error();
  rc = ipcshm_create(name.c_str(), 4096, 0666, IPCSHM_OPEN_OR_CREATE, h.out());
  EXPECT_LT(rc, 0) << "OPEN_OR_CREATE opened a symlink's target";
  EXPECT_LT(ipcshm_attach(name.c_str(), 0, h.out()), 0) << "attach followed a symlink";
  EXPECT_LT(ipcshm_chmod(name.c_str(), 0666), 0) << "chmod followed a symlink";
  ipcshm_info_t info = testutil::fresh_info();
  EXPECT_EQ(-ELOOP, ipcshm_info(name.c_str(), &info)) << "info followed a symlink";
  EXPECT_EQ(nullptr, h.get());

  struct stat st;
  ASSERT_EQ(0, ::stat(target, &st));
  EXPECT_EQ(3, st.st_size) << "the target was truncated or grown";
  EXPECT_EQ(0600u, st.st_mode & 07777) << "the target's mode changed";
  // remove unlinks the link, not the target.
  EXPECT_EQ(0, ipcshm_remove(name.c_str())) << ipcshm_last_error();
  EXPECT_EQ(0, ::access(target, F_OK));
  struct stat lst;
  EXPECT_NE(0, ::lstat(("/dev/shm" + name).c_str(), &lst));
  ::unlink(target);
}

// A FIFO squatting a name must not make any call block in open(2); every call
// refuses it as "not a shared memory object".
TEST(Squatting, FifoInDevShmDoesNotHang) {
  const std::string name = unique_name("squat-fifo");
  RemoveGuard rm(name);
  ASSERT_EQ(0, ::mkfifo(("/dev/shm" + name).c_str(), 0666));
  int status = run_in_child([&] {
    ::alarm(5);
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(name.c_str(), IPCSHM_READONLY, &h) >= 0) return 1;
    if (ipcshm_attach(name.c_str(), 0, &h) >= 0) return 2;
    if (ipcshm_create(name.c_str(), 64, 0600, 0, &h) != -EEXIST) return 3;
    if (ipcshm_create(name.c_str(), 64, 0600, IPCSHM_OPEN_OR_CREATE | IPCSHM_READONLY, &h) >= 0)
      return 4;
    if (ipcshm_chmod(name.c_str(), 0644) != -EINVAL) return 5;
    ipcshm_info_t info = testutil::fresh_info();
    if (ipcshm_info(name.c_str(), &info) != -EINVAL) return 6;
    return 0;
  });
  EXPECT_TRUE(exited_with(status, 0)) << describe_status(status) << " (SIGALRM: it hung)";
  ::unlink(("/dev/shm" + name).c_str());
}

// Another user plants a file with the volatile mark (the sticky bit) under a
// name root will use, and holds an exclusive flock on it for as long as it
// likes. 1.1 waited for the shared lock without bound: root's attach, create
// and `ipcshm gc` hung for good. Every wait on a lock another user can hold is
// bounded: -EBUSY, with a message that names the holder.
TEST(Squatting, AnExclusiveFlockHeldByAnotherUserDoesNotHang) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  const std::string name = unique_name("squat-flock");
  RemoveGuard rm(name);
  Pipe ready, done;
  ASSERT_TRUE(ready.ok() && done.ok());
  Child squatter([&] {
    ready.close_read();
    done.close_write();
    if (!drop_to_nobody()) return kCannotDrop;
    int fd = ::open(("/dev/shm" + name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return 1;
    if (::fchmod(fd, 01666) != 0 || ::ftruncate(fd, kSize) != 0) return 2;
    if (::flock(fd, LOCK_EX) != 0) return 3;
    if (!ready.put_byte()) return 4;
    char c;
    (void)::read(done.read_fd(), &c, 1);
    return 0;
  });
  ASSERT_TRUE(squatter.started());
  ready.close_write();
  done.close_read();
  ASSERT_TRUE(ready.get_byte()) << describe_status(squatter.wait());
  struct stat st;
  ASSERT_EQ(0, ::stat(("/dev/shm" + name).c_str(), &st));
  ASSERT_EQ(01666u, st.st_mode & 07777) << "the planted file lacks the volatile mark";

  // Each call in a child with an alarm: a hang is a failure, not a stuck run.
  const pid_t holder = squatter.pid();
  int status = run_in_child([&] {
    ::alarm(20);
    ipcshm_t* h = nullptr;
    for (uint32_t flags : {0u, static_cast<uint32_t>(IPCSHM_READONLY)}) {
      if (ipcshm_attach(name.c_str(), flags, &h) != -EBUSY) return 1;
      // The message names the holder, so that an administrator can act.
      if (!std::strstr(ipcshm_last_error(), std::to_string(holder).c_str())) return 2;
    }
    // Not root's object: OPEN_OR_CREATE refuses it before any wait.
    if (ipcshm_create(name.c_str(), kSize, 0600, IPCSHM_OPEN_OR_CREATE, &h) != -EACCES) return 3;
    // An exclusive create sees a held (so live) object.
    if (ipcshm_create(name.c_str(), kSize, 0600, 0, &h) != -EEXIST) return 4;
    // Through a descriptor as well.
    int fd = ::open(("/dev/shm" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 5;
    int rc = ipcshm_attach_fd(fd, IPCSHM_READONLY, &h);
    ::close(fd);
    if (rc != -EBUSY) return 6;
    return 0;
  });
  EXPECT_TRUE(exited_with(status, 0))
      << describe_status(status) << " (SIGALRM: a call hung; 1: attach not -EBUSY; 2: the "
      << "message does not name the holder; 3: OPEN_OR_CREATE; 4: create; 6: attach_fd)";
  EXPECT_TRUE(posix_exists(name)) << "a live (held) object was removed";
  done.close_write();
  EXPECT_TRUE(exited_with(squatter.wait(), 0));
  // Let go, the planted object has no user: it is reclaimed like any orphan.
  HandleGuard h;
  EXPECT_EQ(-ENOENT, ipcshm_attach(name.c_str(), 0, h.out())) << ipcshm_last_error();
  EXPECT_FALSE(posix_exists(name));
}

// Another user's empty file under a name: OPEN_OR_CREATE says -EACCES at once
// (not the caller's), not -EINVAL after waiting for a creator to size it.
TEST(Squatting, AnotherUsersEmptyFileIsEacces) {
  SKIP_UNLESS_ROOT_WITH_NOBODY();
  for (mode_t mode : {0666, 01666}) {
    SCOPED_TRACE(testing::Message() << "mode 0" << std::oct << mode);
    const std::string name = unique_name("squat-empty");
    RemoveGuard rm(name);
    int status = run_in_child([&] {
      if (!drop_to_nobody()) return kCannotDrop;
      int fd = ::open(("/dev/shm" + name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0 || ::fchmod(fd, mode) != 0) return 1;
      return 0;  // exits: a volatile-marked one is dead, a plain one is just there
    });
    ASSERT_TRUE(exited_with(status, 0)) << describe_status(status);
    HandleGuard h;
    int rc = ipcshm_create(name.c_str(), kSize, 0600, IPCSHM_OPEN_OR_CREATE, h.out());
    if (mode & S_ISVTX) {
      // A volatile-marked file nobody holds is an orphan: reclaimed, then created.
      EXPECT_EQ(1, rc) << ipcshm_last_error();
    } else {
      EXPECT_EQ(-EACCES, rc) << ipcshm_last_error();
      EXPECT_NE(nullptr, std::strstr(ipcshm_last_error(), "belongs to uid"));
    }
  }
}

}  // namespace
