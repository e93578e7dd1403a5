// Asks the kernel whether a primitive's pages are writable, and remembers the
// answer per thread (see writable_pages.hpp).
#include "writable_pages.hpp"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "errors.hpp"

namespace ipcshm::core {

std::atomic<uint64_t> g_unmap_generation{0};

namespace sync {

namespace {

// The write access check without the fault. Probe::keep adds 0 to the word
// through the kernel (FUTEX_WAKE_OP; both wake counts are 0: wakes nobody);
// Probe::overwrite has getcpu(2) store the CPU number in it.
int probe_word(const void* p, Probe how) noexcept {
  auto* word = static_cast<const uint32_t*>(p);
  long r = how == Probe::keep
               ? ::syscall(SYS_futex, word, FUTEX_WAKE_OP, 0, nullptr, word,
                           FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0))
               : ::syscall(SYS_getcpu, word, nullptr, nullptr);
  return r < 0 ? -errno : 0;
}

bool mapped(uintptr_t page) noexcept {
  unsigned char vec;
  return ::mincore(reinterpret_cast<void*>(page << kPageShift), 1, &vec) == 0 ||
         errno != ENOMEM;
}

// Makes `page` the most recent entry (pages[0]), where the fast path looks first.
void remember(ThreadState& t, uint64_t generation, uintptr_t page) noexcept {
  if (t.generation != generation) {
    t.generation = generation;
    for (uintptr_t& p : t.pages) p = ~uintptr_t{0};
  }
  unsigned i = 0;
  while (i < 3 && t.pages[i] != page) ++i;
  for (; i > 0; --i) t.pages[i] = t.pages[i - 1];
  t.pages[0] = page;
}

}  // namespace

int probe_writable(const void* p, unsigned len, const char* call, Probe how) noexcept {
  // Read before asking: an unmap during the probe makes the answer stale, and
  // then the next call asks again.
  const uint64_t generation = g_unmap_generation.load(std::memory_order_acquire);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  const uintptr_t ends[2] = {addr, (addr + len - 4) & ~uintptr_t{3}};
  for (uintptr_t word : ends) {
    int rc = probe_word(reinterpret_cast<const void*>(word), how);
    if (rc == -EFAULT) {
      if (mapped(word >> kPageShift))
        return fail_msg(EACCES,
                        "%s(%p): this process cannot write that memory (a read-only "
                        "mapping?)",
                        call, p);
      return fail_msg(EFAULT, "%s(%p): the address is not mapped in this process", call, p);
    }
    if (rc < 0) return fail(-rc, "%s(%p): probing whether it is writable", call, p);
  }
  ThreadState& t = t_sync;
  remember(t, generation, (addr + len - 1) >> kPageShift);
  remember(t, generation, addr >> kPageShift);
  return 0;
}

}  // namespace sync
}  // namespace ipcshm::core
