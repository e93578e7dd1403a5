#include "handles.hpp"

#include <pthread.h>

#include <mutex>
#include <new>
#include <unordered_set>

namespace ipcshm::core::handles {
namespace {

// Function-local statics: safe to use from other static initialisers and never
// destroyed before a late detach at exit.
std::unordered_set<const ipcshm_t*>& registry() {
  static auto* set = new std::unordered_set<const ipcshm_t*>;
  return *set;
}

}  // namespace

std::shared_mutex& lock() {
  // fork() while another thread holds the lock would leave it locked for good in
  // the child: hold it across fork; the parent unlocks it, the child starts with
  // a fresh one (a pthread rwlock cannot be unlocked by the child's other tid).
  static auto* mutex = [] {
    auto* m = new std::shared_mutex;
    ::pthread_atfork([] { lock().lock(); }, [] { lock().unlock(); },
                     [] { new (&lock()) std::shared_mutex; });
    return m;
  }();
  return *mutex;
}

bool live(const ipcshm_t* h) { return registry().count(h) != 0; }

ipcshm_t* add(SegmentPtr seg) {
  auto handle = std::make_unique<ipcshm_t>();
  handle->rep = std::move(seg);
  std::unique_lock guard(lock());
  registry().insert(handle.get());
  return handle.release();
}

SegmentPtr take(ipcshm_t* h) {
  {
    std::unique_lock guard(lock());
    if (registry().erase(h) == 0) return nullptr;
  }
  std::unique_ptr<ipcshm_t> handle(h);
  return std::move(handle->rep);
}

}  // namespace ipcshm::core::handles
