// Handle tables: the values the C API hands out for its opaque handles, and the
// objects behind them. A value is never reused in the life of a process, so a
// stale, doubled or forged handle is found out (-EBADF), never followed.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <unordered_map>

namespace ipcshm::core::handles {

// A handle value: the type's tag in the top byte (so that no such value is a
// canonical x86-64 or AArch64 user address, and dereferencing one faults at
// once), a salt chosen at random per process in the next byte, and a counter
// in the low 48 bits that only grows. One handle type's values are never
// another's. 2^48 handles per process is the limit (then -EMFILE).
using Value = uint64_t;

// The tag of each C handle type.
enum Tag : uint8_t { kSegmentTag = 0xa5, kChannelTag = 0xc3 };

// The next counter, shared by every table; 0 once the 48 bits are spent.
uint64_t next_serial() noexcept;
// This process's salt (the byte below the tag).
uint64_t salt() noexcept;

// The live handles of one type T. Each C handle type has its own table, made
// once and never destroyed (a late detach at exit still finds it).
template <typename T>
class Table {
 public:
  explicit Table(uint8_t tag) : tag_(static_cast<Value>(tag) << 56) {}
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Registers obj and gives its handle value; 0 when the values are spent.
  Value add(std::unique_ptr<T> obj) {
    const uint64_t serial = next_serial();
    if (serial == 0) return 0;
    const Value value = tag_ | (salt() << 48) | serial;
    std::unique_lock guard(mutex_);
    map_.emplace(value, std::move(obj));
    return value;
  }

  // Unregisters value and gives back its object; nullptr if it is not live.
  std::unique_ptr<T> take(Value value) {
    std::unique_lock guard(mutex_);
    auto it = map_.find(value);
    if (it == map_.end()) return nullptr;
    std::unique_ptr<T> obj = std::move(it->second);
    map_.erase(it);
    return obj;
  }

  // fn(object) under the table's shared lock if value is live, else fallback.
  template <typename R, typename Fn>
  R with(Value value, R fallback, Fn&& fn) {
    std::shared_lock guard(mutex_);
    auto it = map_.find(value);
    if (it == map_.end()) return fallback;
    return fn(*it->second);
  }

  // The same under the exclusive lock, for a change that no other thread may
  // see halfway (a segment's address and size during a resize).
  template <typename R, typename Fn>
  R with_exclusive(Value value, R fallback, Fn&& fn) {
    std::unique_lock guard(mutex_);
    auto it = map_.find(value);
    if (it == map_.end()) return fallback;
    return fn(*it->second);
  }

  // fork() while another thread holds the lock would leave it held for good in
  // the child: the table's lock is held across fork, the parent releases it,
  // the child starts with a fresh one (a pthread rwlock cannot be released by
  // the child's other thread id).
  void before_fork() { mutex_.lock(); }
  void after_fork_parent() { mutex_.unlock(); }
  void after_fork_child() { new (&mutex_) std::shared_mutex; }

 private:
  const Value tag_;
  std::shared_mutex mutex_;
  std::unordered_map<Value, std::unique_ptr<T>> map_;
};

// The table of handle type T, made on first use with `tag`, with its fork
// handlers registered.
template <typename T, uint8_t Tag>
Table<T>& table() {
  static Table<T>* t = [] {
    auto* made = new Table<T>(Tag);
    ::pthread_atfork([] { table<T, Tag>().before_fork(); },
                     [] { table<T, Tag>().after_fork_parent(); },
                     [] { table<T, Tag>().after_fork_child(); });
    return made;
  }();
  return *t;
}

// Conversions between a C handle pointer and its value.
template <typename Handle>
Value value_of(const Handle* h) noexcept {
  return static_cast<Value>(reinterpret_cast<uintptr_t>(h));
}
template <typename Handle>
Handle* handle_of(Value v) noexcept {
  return reinterpret_cast<Handle*>(static_cast<uintptr_t>(v));
}

}  // namespace ipcshm::core::handles
