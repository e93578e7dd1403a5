// The channel descriptor bridge (ipcshm_channel_fd): the read end of a pipe,
// fed by a helper thread that watches the end's channel and writes when the
// end can make progress: a receiver's next message is published, a sender
// has a free slot, or the peer has gone (the call then returns -EPIPE).
//
// The helper sleeps on the same futex words as the ends, announced by
// kHelperSleeping: on the entry of the next message, announced in the notes
// the sender reads when it publishes, or on `head`, announced in the notes the
// receiver reads when it releases. It maps the channel's header and entries
// itself, from a new open file of the object, so nothing the end does to its
// own mapping can pull them from under it (futex words are shared by file and
// offset: the same in both mappings). It ends when the end is closed (the
// reader then reads end of file), or when the reader closes its descriptor
// (seen at the next wake-up, or within one slice).
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <new>

#include "channel.hpp"
#include "channels.hpp"
#include "errors.hpp"
#include "futex.hpp"
#include "helper_thread.hpp"
#include "writable_pages.hpp"

namespace ipcshm::core::channel {

struct Bridge {
  std::atomic<bool> stop{false};
  std::atomic<int> refs{2};  // the end's and the helper's
  std::atomic<const uint32_t*> sleeping_on{nullptr};
  Bridge* next = nullptr;    // the end's list
  void* mapping = nullptr;   // the helper's own mapping of header and entries
  size_t mapping_len = 0;
  Header* hdr = nullptr;
  uint64_t* entries = nullptr;
  uint32_t slot_count = 0;
  bool receiver = false;
  int probe_fd = -1;         // an open file of the object (no lock): asks about the peer's
  int64_t peer_byte = 0;
  int write_fd = -1;
};

namespace {

constexpr int64_t kSliceNs = 20'000'000;      // looks at the peer and the reader this often
constexpr int64_t kResignalNs = 100'000'000;  // a condition that holds is signalled again

void drop(Bridge* b) noexcept {
  if (b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete b;
}

bool reader_gone(int fd) noexcept {
  struct pollfd pfd = {fd, 0, 0};
  return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
}

// Writes the token unless one waits already; false if the reader is gone.
bool signal_reader(Bridge* b, uint64_t value) noexcept {
  int pending = 0;
  if (::ioctl(b->write_fd, FIONREAD, &pending) == 0 && pending > 0) return true;
  if (::write(b->write_fd, &value, sizeof value) < 0 && errno == EPIPE) return false;
  return true;
}

bool peer_gone(Bridge* b) noexcept {
  Roles& r = b->hdr->roles;
  const uint32_t word =
      shared(b->receiver ? r.sender : r.receiver).load(std::memory_order_acquire);
  if (role_taken(word) == 0) return false;
  if (!role_open(word)) return true;
  struct flock l = {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  l.l_start = b->peer_byte;
  l.l_len = 1;
  return ::fcntl(b->probe_fd, F_OFD_GETLK, &l) == 0 && l.l_type == F_UNLCK;
}

// Sleeps on `word` while it holds `expect`, announced by kHelperSleeping in
// `notes` (which the side that changes the word reads), at most until `until`.
void sleep_on(Bridge* b, uint32_t* word, uint32_t expect, uint32_t* notes, int64_t until) noexcept {
  shared(*notes).fetch_or(kHelperSleeping, std::memory_order_seq_cst);
  heavy_barrier();
  if (shared(*word).load(std::memory_order_acquire) != expect ||
      b->stop.load(std::memory_order_acquire))
    return;
  b->sleeping_on.store(word, std::memory_order_release);
  sync::futex_wait(word, expect, until);
  b->sleeping_on.store(nullptr, std::memory_order_relaxed);
}

void* helper_main(void* arg) noexcept {
  auto* b = static_cast<Bridge*>(arg);
  Header* h = b->hdr;
  const uint64_t n = b->slot_count;
  // What was announced last: the end's own position (a receiver's head, a
  // sender's tail) and when. Progress of the end's own makes whatever is
  // ready next news; the same state is announced again after kResignalNs.
  int64_t signalled_at = 0;
  uint64_t signalled_pos = 0;
  while (!b->stop.load(std::memory_order_acquire) && !reader_gone(b->write_fd)) {
    const int64_t now = sync::monotonic_ns();
    const uint64_t head = shared(h->rx.head).load(std::memory_order_acquire);
    const uint64_t tail = shared(h->tx.tail).load(std::memory_order_acquire);
    uint64_t* next = b->entries + (b->receiver ? head : tail) % n;
    const uint64_t e = shared(*next).load(std::memory_order_acquire);
    const bool ready = b->receiver ? entry_seq(e) == static_cast<uint32_t>(head)
                                   : tail - head < n;
    const uint64_t own = b->receiver ? head : tail;
    if (ready || peer_gone(b)) {
      if (signalled_at == 0 || own != signalled_pos || now - signalled_at >= kResignalNs) {
        if (!signal_reader(b, own)) break;
        signalled_at = now;
        signalled_pos = own;
      }
      // Then until the end makes progress: the receiver releases (head), the
      // sender publishes (the entry at tail).
      if (b->receiver)
        sleep_on(b, low_word(&h->rx.head), static_cast<uint32_t>(head), &h->rx.tx_notes,
                 now + kSliceNs);
      else
        sleep_on(b, low_word(next), entry_seq(e), &h->tx.rx_notes, now + kSliceNs);
    } else {
      // Until there is something: a publication, or a release.
      if (b->receiver)
        sleep_on(b, low_word(next), entry_seq(e), &h->tx.rx_notes, now + kSliceNs);
      else
        sleep_on(b, low_word(&h->rx.head), static_cast<uint32_t>(head), &h->rx.tx_notes,
                 now + kSliceNs);
    }
  }
  ::munmap(b->mapping, b->mapping_len);
  note_unmap();
  ::close(b->probe_fd);
  ::close(b->write_fd);
  drop(b);
  return nullptr;
}

void release_resources(Bridge* b) noexcept {
  if (b->mapping) {
    ::munmap(b->mapping, b->mapping_len);
    note_unmap();
  }
  if (b->probe_fd >= 0) ::close(b->probe_fd);
  if (b->write_fd >= 0) ::close(b->write_fd);
  delete b;
}

}  // namespace

void stop_bridges(Channel& ch) noexcept {
  for (Bridge* b = ch.bridges; b;) {
    Bridge* next = b->next;
    b->stop.store(true, std::memory_order_release);
    if (const uint32_t* w = b->sleeping_on.load(std::memory_order_acquire))
      sync::futex_wake(w, INT_MAX);
    drop(b);
    b = next;
  }
  ch.bridges = nullptr;
}

void drop_inherited_bridges(Channel& ch) noexcept {
  // A forked child has copies of the helpers' mappings and descriptors, but
  // no helper thread.
  for (Bridge* b = ch.bridges; b;) {
    Bridge* next = b->next;
    release_resources(b);
    b = next;
  }
  ch.bridges = nullptr;
}

int fd(uint64_t value) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_fd";
  Call c(value, kCall);
  if (c.error()) return c.error();
  Channel& ch = *c;
  auto* b = new (std::nothrow) Bridge;
  if (!b) return fail_msg(ENOMEM, "%s: out of memory", kCall);
  b->slot_count = ch.g.slot_count;
  b->receiver = ch.role == Role::receiver;
  b->peer_byte = ch.peer_lock_byte;

  int rc = -EBADF;
  try {
    rc = segment_table().with(ch.segment, -EBADF, [](Segment& s) { return s.dup_fd(); });
  } catch (...) {
    rc = fail_msg(ENOMEM, "%s: out of memory", kCall);
  }
  if (rc < 0) {
    release_resources(b);
    return rc;
  }
  b->probe_fd = rc;
  // The header and the entries, in whole blocks of the object's file system
  // (huge pages on hugetlbfs).
  struct statfs fs;
  uint64_t block = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (::fstatfs(b->probe_fd, &fs) == 0 && fs.f_bsize > 0 &&
      static_cast<uint64_t>(fs.f_bsize) > block)
    block = static_cast<uint64_t>(fs.f_bsize);
  const size_t len = static_cast<size_t>((ch.g.slots_offset + block - 1) / block * block);
  void* map = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->probe_fd, 0);
  if (map == MAP_FAILED) {
    rc = fail(errno, "%s(\"%s\"): mmap of the header", kCall, ch.id.c_str());
    release_resources(b);
    return rc;
  }
  b->mapping = map;
  b->mapping_len = len;
  b->hdr = static_cast<Header*>(map);
  b->entries = reinterpret_cast<uint64_t*>(static_cast<char*>(map) + ch.g.entries_offset);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    rc = fail(errno, "%s(\"%s\"): pipe2", kCall, ch.id.c_str());
    release_resources(b);
    return rc;
  }
  b->write_fd = fds[1];

  const int err = start_helper_thread(helper_main, b);
  if (err != 0) {
    ::close(fds[0]);
    release_resources(b);
    return fail(err, "%s(\"%s\"): pthread_create", kCall, ch.id.c_str());
  }
  b->next = ch.bridges;
  ch.bridges = b;
  return fds[0];
}

}  // namespace ipcshm::core::channel
