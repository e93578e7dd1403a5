// The registry of live handles. Every handle the C API gives out is in it until
// detached, so a stale or forged handle is found out (-EBADF), not followed.
#pragma once

#include <mutex>
#include <shared_mutex>

#include "segment.hpp"

// The opaque type behind ipcshm_t: a one-field wrapper, as the C layer hands out.
struct ipcshm_handle {
  ipcshm::core::SegmentPtr rep;
};

namespace ipcshm::core::handles {

// Registers a new handle owning seg.
ipcshm_t* add(SegmentPtr seg);

// Unregisters h and gives back its segment; nullptr if h is not live.
SegmentPtr take(ipcshm_t* h);

// Calls fn(segment) under the registry's shared lock if h is live; otherwise
// returns fallback.
template <typename T, typename Fn>
T with(const ipcshm_t* h, T fallback, Fn&& fn);

// The same under the exclusive lock, for a change of the segment's address or
// size (no other thread reads them meanwhile).
template <typename T, typename Fn>
T with_exclusive(ipcshm_t* h, T fallback, Fn&& fn);

// Implementation detail of with().
std::shared_mutex& lock();
bool live(const ipcshm_t* h);

template <typename T, typename Fn>
T with(const ipcshm_t* h, T fallback, Fn&& fn) {
  if (!h) return fallback;
  std::shared_lock guard(lock());
  if (!live(h)) return fallback;
  return fn(*h->rep);
}

template <typename T, typename Fn>
T with_exclusive(ipcshm_t* h, T fallback, Fn&& fn) {
  if (!h) return fallback;
  std::unique_lock guard(lock());
  if (!live(h)) return fallback;
  return fn(*h->rep);
}

}  // namespace ipcshm::core::handles
