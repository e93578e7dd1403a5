// The counter and the per-process salt behind every handle value.
#include "handles.hpp"

#include <bsd/stdlib.h>

#include <atomic>

namespace ipcshm::core::handles {

uint64_t next_serial() noexcept {
  static std::atomic<uint64_t> counter{0};
  constexpr uint64_t kLast = (uint64_t{1} << 48) - 1;
  uint64_t n = counter.load(std::memory_order_relaxed);
  do {
    if (n >= kLast) return 0;
  } while (!counter.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return n + 1;
}

uint64_t salt() noexcept {
  static const uint64_t s = arc4random_uniform(256);
  return s;
}

}  // namespace ipcshm::core::handles
