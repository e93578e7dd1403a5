// Channel handles: the table of live ends, the pool their memory comes from,
// the per-thread lookup that keeps locks off the way of each message, and the
// close that waits for the calls other threads are in.
//
// A handle value is an entry of a handles::Table (kChannelTag): never reused,
// so a stale or forged one is -EBADF. Looking one up under the table's lock
// for every message would put two atomic read-modify-writes on its way, and
// each of them waits for every store before it (the message's, which may be
// waiting for the peer's cache): the very fence the channel avoids. So each
// thread remembers the ends it used last, and the memory of an end is never
// freed (a closed end goes back to a pool), so that a remembered pointer is
// always safe to read. A call then announces itself in a per-thread word (a
// hazard pointer) and checks the end's serial; a close clears the serial,
// makes both visible with membarrier(2) (the heavy side of an asymmetric
// fence, whose light side in the call is a compiler barrier) and waits until
// no thread announces that end.
#include <pthread.h>
#include <time.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "channel.hpp"
#include "errors.hpp"
#include "futex.hpp"
#include "handles.hpp"

namespace ipcshm::core::channel {
namespace {

using Ref = EndRef;

handles::Table<Ref>& table() { return end_table(); }

handles::Table<Segment>& segments() { return segment_table(); }

// Every end ever made (never freed), and those free for reuse.
std::mutex g_pool_mutex;
std::vector<Channel*>* g_all = nullptr;
std::vector<Channel*>* g_free = nullptr;

// The announcement of each thread, and where to find them all.
thread_local std::atomic<Channel*> t_hazard __attribute__((tls_model("initial-exec"))){nullptr};
thread_local bool t_registered __attribute__((tls_model("initial-exec"))) = false;
std::mutex g_hazard_mutex;
std::vector<std::atomic<Channel*>*>* g_hazards = nullptr;
pthread_key_t g_thread_key;

// The ends this thread used last, by the low bits of their handle values.
struct CacheEntry {
  uint64_t value;
  Channel* ch;
};
constexpr unsigned kCacheSize = 4;
thread_local CacheEntry t_cache[kCacheSize] __attribute__((tls_model("initial-exec"))) = {};

void forget_thread(void*) noexcept {
  std::lock_guard guard(g_hazard_mutex);
  auto& v = *g_hazards;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == &t_hazard) {
      v[i] = v.back();
      v.pop_back();
      break;
    }
  t_registered = false;
}

void before_fork() noexcept {
  g_pool_mutex.lock();
  g_hazard_mutex.lock();
}

void after_fork_parent() noexcept {
  g_hazard_mutex.unlock();
  g_pool_mutex.unlock();
}

// In a forked child only this thread lives on, and the ends it inherited are
// its parent's: they refuse calls (-EBADF), and the child's copies of their
// lock descriptors are closed, so that the parent's death is seen by the
// peer however long the child lives.
void after_fork_child() noexcept {
  new (&g_pool_mutex) std::mutex;
  new (&g_hazard_mutex) std::mutex;
  g_hazards->clear();  // keeps its capacity: no allocation here
  if (t_registered) g_hazards->push_back(&t_hazard);
  for (Channel* ch : *g_all) {
    if (ch->serial.load(std::memory_order_relaxed) == 0) continue;
    ch->inherited = true;
    if (ch->lock_fd >= 0) ::close(ch->lock_fd);
    ch->lock_fd = -1;
  }
  init_barriers(true);  // the child is a process of its own for membarrier(2)
}

// Once: the pool, the registry and the fork handlers.
void setup() noexcept {
  static const bool done = [] {
    g_all = new std::vector<Channel*>;
    g_free = new std::vector<Channel*>;
    g_hazards = new std::vector<std::atomic<Channel*>*>;
    ::pthread_key_create(&g_thread_key, forget_thread);
    ::pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    return true;
  }();
  (void)done;
}

// Adds this thread's announcement word to the registry (once per thread).
bool register_thread() noexcept {
  if (t_registered) return true;
  try {
    std::lock_guard guard(g_hazard_mutex);
    g_hazards->reserve(g_hazards->size() + 1);
    g_hazards->push_back(&t_hazard);
  } catch (...) {
    return false;
  }
  t_registered = true;
  ::pthread_setspecific(g_thread_key, &t_hazard);
  return true;
}

// Whether a thread other than this one announces a call on ch.
bool in_use_elsewhere(Channel* ch) noexcept {
  std::lock_guard guard(g_hazard_mutex);
  for (std::atomic<Channel*>* h : *g_hazards)
    if (h != &t_hazard && h->load(std::memory_order_acquire) == ch) return true;
  return false;
}

Channel* lookup(uint64_t value) noexcept {
  try {
    return table().with(value, static_cast<Channel*>(nullptr), [](Ref& r) { return r.ch; });
  } catch (...) {
    return nullptr;
  }
}

int not_live(const char* call) noexcept { return not_live_end(call); }

void pause_briefly() noexcept {
  timespec ts{0, 100'000};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

handles::Table<EndRef>& end_table() { return handles::table<EndRef, handles::kChannelTag>(); }

handles::Table<Segment>& segment_table() {
  return handles::table<Segment, handles::kSegmentTag>();
}

int not_live_end(const char* call) noexcept {
  return fail_msg(EBADF, "%s: not a live channel (closed already, or not a channel handle)",
                  call);
}

Channel* new_end() noexcept {
  setup();
  init_barriers();
  std::lock_guard guard(g_pool_mutex);
  if (!g_free->empty()) {
    Channel* ch = g_free->back();
    g_free->pop_back();
    return ch;
  }
  try {
    g_all->reserve(g_all->size() + 1);
    g_free->reserve(g_all->size() + 1);  // so that free_end never allocates
    auto* ch = new Channel;
    g_all->push_back(ch);
    return ch;
  } catch (...) {
    return nullptr;
  }
}

void free_end(Channel* ch) noexcept {
  ch->serial.store(0, std::memory_order_release);
  ch->closing.store(false, std::memory_order_relaxed);
  ch->in_call.store(false, std::memory_order_relaxed);
  ch->sleeping_on.store(nullptr, std::memory_order_relaxed);
  ch->inherited = false;
  ch->id.clear();
  ch->segment = 0;
  ch->lock_fd = -1;
  ch->g = Geometry{};
  ch->base = ch->slots = nullptr;
  ch->hdr = nullptr;
  ch->entries = nullptr;
  ch->my_notes = ch->peer_notes = ch->peer_role = ch->own_role = nullptr;
  ch->pos = ch->peer_pos = 0;
  ch->slot = 0;
  ch->fence = ch->reserved = ch->peeked = false;
  ch->peeked_len = 0;
  ch->last_probe = 0;
  ch->dead_taken = 0;
  ch->bridges = nullptr;
  std::lock_guard guard(g_pool_mutex);
  g_free->push_back(ch);  // capacity reserved in new_end
}

uint64_t register_end(Channel* ch) noexcept {
  setup();
  handles::Value value = 0;
  try {
    value = table().add(std::make_unique<Ref>(Ref{ch}));
  } catch (...) {
    fail_msg(ENOMEM, "out of memory");
    return 0;
  }
  if (value == 0) {
    fail_msg(EMFILE, "no channel handle value left in this process (2^48 used)");
    return 0;
  }
  ch->serial.store(value, std::memory_order_release);
  return value;
}

Call::Call(uint64_t value, const char* call) noexcept {
  CacheEntry& cached = t_cache[value % kCacheSize];
  Channel* ch = cached.value == value ? cached.ch : nullptr;
  if (!ch) [[unlikely]] {
    setup();
    if (!register_thread()) {
      rc_ = fail_msg(ENOMEM, "%s: out of memory", call);
      return;
    }
    ch = lookup(value);
    if (!ch) {
      rc_ = not_live(call);
      return;
    }
    cached = CacheEntry{value, ch};
  }
  t_hazard.store(ch, std::memory_order_relaxed);
  light_local_barrier();
  if (ch->serial.load(std::memory_order_acquire) != value) [[unlikely]] {
    t_hazard.store(nullptr, std::memory_order_release);
    cached.value = 0;
    rc_ = not_live(call);
    return;
  }
  if (ch->inherited) [[unlikely]] {
    t_hazard.store(nullptr, std::memory_order_release);
    rc_ = fail_msg(EBADF,
                   "%s(\"%s\"): this end was opened by the parent of this process (inherited "
                   "across fork); close it here, and open the channel anew in this process",
                   call, ch->id.c_str());
    return;
  }
  if (ch->in_call.load(std::memory_order_relaxed)) [[unlikely]] {
    t_hazard.store(nullptr, std::memory_order_release);
    rc_ = fail_msg(EBUSY,
                   "%s(\"%s\"): another thread is in a call on this end; an end is used by "
                   "one thread at a time",
                   call, ch->id.c_str());
    return;
  }
  ch->in_call.store(true, std::memory_order_relaxed);
  ch_ = ch;
  busy_ = true;
}

Call::~Call() {
  if (!busy_) return;
  ch_->in_call.store(false, std::memory_order_relaxed);
  t_hazard.store(nullptr, std::memory_order_release);
}

int close(uint64_t value) noexcept {
  static constexpr const char* kCall = "ipcshm_channel_close";
  setup();
  if (!register_thread()) return fail_msg(ENOMEM, "%s: out of memory", kCall);
  Channel* ch = lookup(value);
  if (!ch) return fail_msg(EBADF, "%s: not a live channel (closed already?)", kCall);
  if (t_hazard.load(std::memory_order_relaxed) == ch)
    return fail_msg(EBUSY, "%s(\"%s\"): this thread is in a call on that end (a signal handler?)",
                    kCall, ch->id.c_str());
  std::unique_ptr<Ref> ref;
  try {
    ref = table().take(value);
  } catch (...) {
  }
  if (!ref) return fail_msg(EBADF, "%s: not a live channel (closed already?)", kCall);

  // No call starts on it any more; those in flight see `closing` and return.
  ch->closing.store(true, std::memory_order_seq_cst);
  ch->serial.store(0, std::memory_order_seq_cst);
  heavy_local_barrier();
  for (;;) {
    if (const uint32_t* word = ch->sleeping_on.load(std::memory_order_acquire))
      sync::futex_wake(word, INT_MAX);
    if (!in_use_elsewhere(ch)) break;
    pause_briefly();
  }
  for (CacheEntry& c : t_cache)
    if (c.ch == ch) c.value = 0;

  if (ch->inherited) {
    drop_inherited_bridges(*ch);
  } else {
    stop_bridges(*ch);
    leave_role(*ch);
  }
  if (ch->lock_fd >= 0) ::close(ch->lock_fd);
  ch->lock_fd = -1;
  try {
    std::unique_ptr<Segment> seg = segments().take(ch->segment);
    seg.reset();  // unmaps; the last user of a volatile object removes it
  } catch (...) {
  }
  free_end(ch);
  return 0;
}

}  // namespace ipcshm::core::channel
