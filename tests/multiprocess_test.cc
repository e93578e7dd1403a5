// Real processes sharing memory: a parent creates, forked children attach by the
// id the parent got, read what it wrote and write back. Children report through
// their exit codes (never gtest assertions); pipes, not sleeps, order the steps.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "process_util.hpp"
#include "test_util.hpp"

namespace {

using testutil::Child;
using testutil::describe_status;
using testutil::fill_pattern;
using testutil::has_pattern;
using testutil::is_zero;
using testutil::kTimeoutMs;
using testutil::Pipe;
using testutil::exited_with;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::run_in_child;
using testutil::unique_key;
using testutil::unique_name;


// In a child about to die of SIGSEGV on purpose: let the signal kill it (a
// sanitizer's handler would turn it into an exit code) and skip the core dump.
void die_quietly_on_sigsegv() {
  ::signal(SIGSEGV, SIG_DFL);
  ::signal(SIGBUS, SIG_DFL);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// The descriptors of this process that point to `target` (a /proc/self/fd link).
std::vector<int> fds_pointing_to(const std::string& target) {
  std::vector<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return fds;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n < 0) continue;
    buf[n] = '\0';
    if (target == buf) fds.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  return fds;
}

// The three kinds of ids that create accepts and another process attaches.
using testutil::Kind;
using testutil::kind_name;

std::string fresh_id(Kind kind) {
  switch (kind) {
    case Kind::Posix:
      return unique_name("mp");
    case Kind::SysvPrivate:
      return "private";
    case Kind::SysvKey:
      return key_id(unique_key());
  }
  return "";
}

class MultiProcess : public ::testing::TestWithParam<Kind> {
 protected:
  // Creates a volatile object of `size` bytes for the parameter's kind; the
  // guards remove/detach it whatever happens to the test.
  void create(uint64_t size, uint32_t perms = 0600, uint32_t flags = 0) {
    requested_ = fresh_id(GetParam());
    if (GetParam() != Kind::SysvPrivate) remove_.reset(requested_);
    int rc = ipcshm_create(requested_.c_str(), size, perms, flags, handle_.out());
    ASSERT_EQ(1, rc) << requested_ << ": " << ipcshm_last_error();
    ASSERT_NE(nullptr, handle_.get());
    const char* id = ipcshm_id(handle_.get());
    ASSERT_NE(nullptr, id);
    id_ = id;
    remove_.reset(id_);
    ptr_ = ipcshm_pointer(handle_.get());
    ASSERT_NE(nullptr, ptr_);
    ASSERT_EQ(size, ipcshm_size(handle_.get()));
  }

  std::string requested_;
  std::string id_;
  void* ptr_ = nullptr;
  RemoveGuard remove_{""};
  HandleGuard handle_;
};

// ---------------------------------------------------------------------------

TEST_P(MultiProcess, ChildAttachesByIdSeesPatternAndParentSeesChildWrite) {
  const uint64_t size = 3 * ipcshm_page_size() + 123;
  ASSERT_NO_FATAL_FAILURE(create(size));
  if (GetParam() == Kind::Posix) {
    EXPECT_EQ(requested_, id_);
  }
  if (GetParam() != Kind::Posix) {
    EXPECT_TRUE(id_.starts_with("shmid:")) << id_;
  }
  fill_pattern(ptr_, size, 7);

  const std::string id = id_;
  int status = run_in_child([&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
    HandleGuard g(h);
    if (ipcshm_size(h) != size) return 2;
    const char* cid = ipcshm_id(h);
    if (!cid || id != cid) return 3;
    void* p = ipcshm_pointer(h);
    if (!p) return 4;
    if (!has_pattern(p, size, 7)) return 5;
    fill_pattern(p, size, 99);
    if (ipcshm_detach(g.release()) != 0) return 6;
    return 0;
  });
  ASSERT_TRUE(exited_with(status, 0)) << describe_status(status);
  EXPECT_TRUE(has_pattern(ptr_, size, 99)) << "the parent does not see the child's write";
  if (GetParam() == Kind::Posix) {
    EXPECT_TRUE(posix_exists(id_));
  }
}

TEST_P(MultiProcess, ReadOnlyChildThatWritesIsKilledBySigsegvAndDataIsUnchanged) {
  const uint64_t size = 2 * ipcshm_page_size();
  ASSERT_NO_FATAL_FAILURE(create(size));
  fill_pattern(ptr_, size, 42);
  ASSERT_NE(0xA5, static_cast<uint8_t*>(ptr_)[100]);

  const std::string id = id_;
  int status = run_in_child([&] {
    ipcshm_t* h = nullptr;
    if (ipcshm_attach(id.c_str(), IPCSHM_READONLY, &h) != 0) return 1;
    void* p = ipcshm_pointer(h);
    if (!p) return 2;
    if (!has_pattern(p, size, 42)) return 3;  // reading is allowed
    die_quietly_on_sigsegv();
    static_cast<volatile uint8_t*>(p)[100] = 0xA5;
    return 4;  // the write did not fault
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << describe_status(status);
  EXPECT_TRUE(has_pattern(ptr_, size, 42)) << "a read-only child changed the data";
}

TEST_P(MultiProcess, ForkedChildUsesTheParentsMappingDirectly) {
  const uint64_t size = ipcshm_page_size() + 1;
  ASSERT_NO_FATAL_FAILURE(create(size));
  fill_pattern(ptr_, size, 3);

  ipcshm_t* inherited = handle_.get();
  const std::string id = id_;
  void* parent_ptr = ptr_;
  int status = run_in_child([&] {
    // The handle and its mapping came with fork(): use them without attaching.
    if (ipcshm_pointer(inherited) != parent_ptr) return 1;
    if (ipcshm_size(inherited) != size) return 2;
    const char* cid = ipcshm_id(inherited);
    if (!cid || id != cid) return 3;
    if (!has_pattern(parent_ptr, size, 3)) return 4;
    fill_pattern(parent_ptr, size, 200);
    return 0;  // no detach: the handle is the parent's
  });
  ASSERT_TRUE(exited_with(status, 0)) << describe_status(status);
  EXPECT_TRUE(has_pattern(ptr_, size, 200)) << "the child's write through the inherited "
                                               "mapping is not visible";
  // The parent's handle still works after the child is gone.
  EXPECT_EQ(ptr_, ipcshm_pointer(handle_.get()));
  ipcshm_info_t info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(0, ipcshm_handle_info(handle_.get(), &info)) << ipcshm_last_error();
  if (GetParam() == Kind::Posix) {
    EXPECT_TRUE(posix_exists(id_));
  }
}

TEST_P(MultiProcess, ChildrenWritingInTurnSeeEachOther) {
  // Two children attach at the same time and pass a token through the memory.
  const uint64_t size = 64;
  ASSERT_NO_FATAL_FAILURE(create(size));
  std::memset(ptr_, 0, size);
  const std::string id = id_;
  Pipe ready, go;
  ASSERT_TRUE(ready.ok() && go.ok());

  auto player = [&](uint32_t me) {
    return [&, me]() -> int {
      ipcshm_t* h = nullptr;
      if (ipcshm_attach(id.c_str(), 0, &h) != 0) return 1;
      HandleGuard g(h);
      if (!ready.put_byte()) return 2;
      if (!go.get_byte()) return 3;
      std::atomic_ref<uint32_t> turn(*static_cast<uint32_t*>(ipcshm_pointer(h)));
      struct timespec start;
      clock_gettime(CLOCK_MONOTONIC, &start);
      for (uint32_t round = 0; round < 100; ++round) {
        // Player `me` moves when turn % 2 == me.
        for (;;) {
          uint32_t t = turn.load();
          if (t % 2 == me) break;
          struct timespec now;
          clock_gettime(CLOCK_MONOTONIC, &now);
          if (now.tv_sec - start.tv_sec > 10) return 4;
          sched_yield();
        }
        turn.fetch_add(1);
      }
      return 0;
    };
  };
  Child a(player(0));
  Child b(player(1));
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(ready.get_byte() && ready.get_byte()) << "children did not attach";
  ASSERT_TRUE(go.put("gg", 2));
  int sa = a.wait();
  int sb = b.wait();
  EXPECT_TRUE(exited_with(sa, 0)) << describe_status(sa);
  EXPECT_TRUE(exited_with(sb, 0)) << describe_status(sb);
  EXPECT_EQ(200u, *static_cast<uint32_t*>(ptr_));
}

INSTANTIATE_TEST_SUITE_P(Kinds, MultiProcess,
                         ::testing::Values(Kind::Posix, Kind::SysvPrivate, Kind::SysvKey),
                         kind_name);

// ---------------------------------------------------------------------------
// Close-on-exec.

TEST(MultiProcessExec, ExecedChildDoesNotInheritTheLibrarysDescriptors) {
  if (::access("/bin/ls", X_OK) != 0) GTEST_SKIP() << "no /bin/ls";
  const std::string name = unique_name("exec");
  RemoveGuard rm(name);
  HandleGuard created, attached;
  ASSERT_EQ(1, ipcshm_create(name.c_str(), 4096, 0600, 0, created.out()))
      << ipcshm_last_error();
  ASSERT_EQ(0, ipcshm_attach(name.c_str(), 0, attached.out())) << ipcshm_last_error();

  // A volatile object's handles hold their descriptors (for the flock): find them.
  const std::string target = "/dev/shm" + name;
  std::vector<int> lib_fds = fds_pointing_to(target);
  ASSERT_GE(lib_fds.size(), 1u) << "no descriptor of this process points to " << target;
  for (int fd : lib_fds) {
    int fdflags = ::fcntl(fd, F_GETFD);
    ASSERT_GE(fdflags, 0);
    EXPECT_TRUE(fdflags & FD_CLOEXEC) << "fd " << fd << " -> " << target
                                      << " is not close-on-exec";
  }

  Pipe out;
  ASSERT_TRUE(out.ok());
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out.write_fd(), STDOUT_FILENO);  // the copy is not close-on-exec
    ::execl("/bin/ls", "ls", "-l", "/proc/self/fd", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  out.close_write();
  std::string listing = out.slurp();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ASSERT_TRUE(exited_with(status, 0)) << describe_status(status) << "\n" << listing;
  EXPECT_NE(std::string::npos, listing.find("->")) << listing;  // ls did list links
  EXPECT_EQ(std::string::npos, listing.find(name.substr(1)))
      << "the exec'ed program inherited a descriptor of " << target << ":\n"
      << listing;
  EXPECT_EQ(std::string::npos, listing.find("/dev/shm/"))
      << "the exec'ed program inherited a /dev/shm descriptor:\n"
      << listing;
}

// ---------------------------------------------------------------------------
// IPCSHM_OPEN_OR_CREATE across processes.

void open_or_create_second_process_attaches(const std::string& requested, uint32_t flags,
                                            bool by_requested_id) {
  const uint64_t size = 5000;
  RemoveGuard rm(requested);
  HandleGuard h;
  int rc = ipcshm_create(requested.c_str(), size, 0600, flags | IPCSHM_OPEN_OR_CREATE,
                         h.out());
  ASSERT_EQ(1, rc) << "the first caller must create: " << ipcshm_last_error();
  const char* cid = ipcshm_id(h.get());
  ASSERT_NE(nullptr, cid);
  RemoveGuard rm_id{std::string(cid)};
  void* p = ipcshm_pointer(h.get());
  ASSERT_NE(nullptr, p);
  ASSERT_TRUE(is_zero(p, size)) << "new memory must read as zeros";
  fill_pattern(p, size, 11);

  const std::string id = by_requested_id ? requested : std::string(cid);
  int status = run_in_child([&] {
    ipcshm_t* ch = nullptr;
    int r = ipcshm_create(id.c_str(), size, 0600, flags | IPCSHM_OPEN_OR_CREATE, &ch);
    if (r == 1) {
      ipcshm_detach(ch);
      return 1;  // created a second object
    }
    if (r != 0) return 2;
    HandleGuard g(ch);
    if (ipcshm_size(ch) < size) return 3;
    if (!has_pattern(ipcshm_pointer(ch), size, 11)) return 4;
    fill_pattern(ipcshm_pointer(ch), size, 12);
    // Asking for less than there is attaches too.
    ipcshm_t* small = nullptr;
    if (ipcshm_create(id.c_str(), 1, 0600, flags | IPCSHM_OPEN_OR_CREATE, &small) != 0)
      return 5;
    ipcshm_detach(small);
    return 0;
  });
  ASSERT_TRUE(exited_with(status, 0)) << describe_status(status);
  EXPECT_TRUE(has_pattern(p, size, 12)) << "the parent does not see the second process's write";
}

TEST(MultiProcessOpenOrCreate, PosixFirstCreatesSecondProcessAttaches) {
  open_or_create_second_process_attaches(unique_name("ooc"), 0, true);
}

TEST(MultiProcessOpenOrCreate, PosixPersistentFirstCreatesSecondProcessAttaches) {
  open_or_create_second_process_attaches(unique_name("oocp"), IPCSHM_PERSISTENT, true);
}

// A volatile System V segment loses its key as soon as its creator has attached
// it (header: attachable by shmid:N, not by its key), so OPEN_OR_CREATE by key
// is meaningful for persistent segments.
TEST(MultiProcessOpenOrCreate, SysvKeyPersistentFirstCreatesSecondProcessAttaches) {
  open_or_create_second_process_attaches(key_id(unique_key()), IPCSHM_PERSISTENT, true);
}

// Two children start together (released by one write to a pipe) and both call
// create with OPEN_OR_CREATE: exactly one creates, and both see the same memory
// (each adds 1 to a counter in it and waits until it reads 2).
void race_open_or_create(const std::string& id, uint32_t flags) {
  const uint64_t size = 4096;
  Pipe go, ready;
  ASSERT_TRUE(go.ok() && ready.ok());
  auto racer = [&]() -> int {
    if (!ready.put_byte()) return 20;
    if (!go.get_byte()) return 21;
    ipcshm_t* h = nullptr;
    int rc = ipcshm_create(id.c_str(), size, 0600, flags | IPCSHM_OPEN_OR_CREATE, &h);
    if (rc != 0 && rc != 1) return 22;
    HandleGuard g(h);
    void* p = ipcshm_pointer(h);
    if (!p) return 23;
    std::atomic_ref<uint32_t> counter(*static_cast<uint32_t*>(p));
    counter.fetch_add(1);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (counter.load() < 2) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > 5) return 24;  // not the same memory
      sched_yield();
    }
    if (counter.load() != 2) return 25;
    return 10 + rc;  // 11: created, 10: attached
  };
  Child a(racer);
  Child b(racer);
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(ready.get_byte() && ready.get_byte());
  ASSERT_TRUE(go.put("go", 2));
  int sa = a.wait();
  int sb = b.wait();
  ASSERT_TRUE(WIFEXITED(sa)) << describe_status(sa);
  ASSERT_TRUE(WIFEXITED(sb)) << describe_status(sb);
  int ca = WEXITSTATUS(sa), cb = WEXITSTATUS(sb);
  EXPECT_TRUE((ca == 11 && cb == 10) || (ca == 10 && cb == 11))
      << "child A " << describe_status(sa) << ", child B " << describe_status(sb)
      << " (11 = created, 10 = attached, 24 = saw different memory)";
}

TEST(MultiProcessOpenOrCreate, PosixRaceExactlyOneCreates) {
  for (int round = 0; round < 10; ++round) {
    const std::string name = unique_name("race");
    RemoveGuard rm(name);
    ASSERT_NO_FATAL_FAILURE(race_open_or_create(name, 0)) << "round " << round;
    // Both children detached: the volatile object is gone with its last user.
    EXPECT_FALSE(posix_exists(name)) << "round " << round;
  }
}

TEST(MultiProcessOpenOrCreate, PosixPersistentRaceExactlyOneCreates) {
  for (int round = 0; round < 10; ++round) {
    const std::string name = unique_name("racep");
    RemoveGuard rm(name);
    ASSERT_NO_FATAL_FAILURE(race_open_or_create(name, IPCSHM_PERSISTENT)) << "round " << round;
    EXPECT_TRUE(posix_exists(name)) << "round " << round;
    EXPECT_EQ(0, ipcshm_remove(name.c_str())) << ipcshm_last_error();
    EXPECT_FALSE(posix_exists(name));
  }
}

TEST(MultiProcessOpenOrCreate, SysvKeyPersistentRaceExactlyOneCreates) {
  for (int round = 0; round < 10; ++round) {
    const int32_t key = unique_key();
    const std::string id = key_id(key);
    RemoveGuard rm(id);
    ASSERT_NO_FATAL_FAILURE(race_open_or_create(id, IPCSHM_PERSISTENT)) << "round " << round;
    int shmid = ::shmget(key, 0, 0);
    EXPECT_GE(shmid, 0) << "the persistent segment is gone";
    EXPECT_EQ(0, ipcshm_remove(id.c_str())) << ipcshm_last_error();
    if (shmid >= 0) {
      EXPECT_FALSE(testutil::sysv_exists(shmid));
    }
  }
}

}  // namespace
