// libFuzzer target for the signalling primitives (header 1.2, rule 2): the
// input is the 64 bytes of a primitive as another process may have left them,
// then a list of operations. Linked from the core's sources only (no object is
// created); the primitive lives in a 64-byte heap block, so AddressSanitizer
// catches any access outside it. Every call has a timeout of 0 or 1 ms and
// must return one of the documented results within a bound: no crash, no
// hang, no other error. A mutex this thread took is let go before the next
// input.
//   Built and run by tests/hardening/fuzz.sh.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "errors.hpp"
#include "ipcshm.h"
#include "sync.hpp"

namespace sync = ipcshm::core::sync;

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool documented(int rc) {
  switch (rc) {
    case 0:
    case -EINVAL:
    case -EBADMSG:
    case -EAGAIN:
    case -ETIMEDOUT:
    case -EOWNERDEAD:
    case -ENOTRECOVERABLE:
    case -EDEADLK:
    case -EPERM:
    case -EOVERFLOW:
    case -EINTR:  // libFuzzer's own SIGALRM (-timeout) may end a wait
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < IPCSHM_MUTEX_SIZE) return -1;
  // An exact 64-byte block (8-aligned, as malloc gives).
  auto* p = static_cast<unsigned char*>(std::malloc(IPCSHM_MUTEX_SIZE));
  std::memcpy(p, data, IPCSHM_MUTEX_SIZE);
  for (size_t i = IPCSHM_MUTEX_SIZE; i < size && i < IPCSHM_MUTEX_SIZE + 16; ++i) {
    const uint8_t op = data[i];
    const int64_t timeout = (op & 0x80) ? 1'000'000 : 0;
    uint64_t seen = 0;
    uint32_t value = 0;
    const int64_t t0 = now_ns();
    int rc;
    switch (op % 13) {
      case 0: rc = sync::event_notify(p); break;
      case 1: rc = sync::event_wait(p, &seen, timeout); break;
      case 2: rc = sync::event_sequence(p, &seen); break;
      case 3: rc = sync::sem_post(p); break;
      case 4: rc = sync::sem_wait(p, timeout); break;
      case 5: rc = sync::sem_value(p, &value); break;
      case 6: rc = sync::mutex_lock(p, timeout); break;
      case 7: rc = sync::mutex_unlock(p); break;
      case 8: rc = sync::mutex_consistent(p); break;
      case 9: rc = sync::wait_word(reinterpret_cast<uint32_t*>(p + 8), op, timeout); break;
      case 10: rc = sync::event_init(p); break;
      case 11: rc = sync::sem_init(p, op); break;
      default: rc = sync::mutex_init(p); break;
    }
    if (!documented(rc)) {
      std::fprintf(stderr, "fuzz_primitives: op %d: undocumented result %d (%s)\n", op % 13, rc,
                   ipcshm::core::last_error());
      std::abort();
    }
    // A dead owner is checked through /proc: well under 100 ms.
    if (now_ns() - t0 > timeout + 100'000'000) {
      std::fprintf(stderr, "fuzz_primitives: op %d took %lld ns\n", op % 13,
                   static_cast<long long>(now_ns() - t0));
      std::abort();
    }
  }
  sync::mutex_unlock(p);  // whatever this thread may hold
  std::free(p);
  return 0;
}
