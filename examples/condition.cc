// The condition-variable pattern across processes with ipcshm.hpp: an
// ipcshm::mutex guards the shared state, an ipcshm::event announces each change
// of it. A waiter reads the event's sequence while it holds the mutex, unlocks,
// then waits for the sequence to move on: a notify that comes in between is not
// lost.
//
// A producer hands numbers to a consumer, in another process (this program run
// again), through a one-slot mailbox in a new volatile object.
//
//   usage: condition-cpp [COUNT]            the producer; it starts the consumer
//          condition-cpp consume ID COUNT   the consumer (exit status 3 if it did
//                                           not receive 1..COUNT)
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "ipcshm.hpp"

namespace {

struct mailbox {                           // at offset 0 of the object
  unsigned char mu[IPCSHM_MUTEX_SIZE];     // offset 0
  unsigned char ev[IPCSHM_EVENT_SIZE];     // offset 64
  uint32_t full;                           // 1 while `number` holds one
  uint64_t number;                         // 0: no more
};

// Takes the mutex. If the other process died holding it, the slot may be
// half-written: empty it, mark the state repaired, and go on holding it.
std::unique_lock<ipcshm::mutex> take(ipcshm::mutex& m, mailbox* box) {
  try {
    return std::unique_lock<ipcshm::mutex>(m);
  } catch (const ipcshm::owner_dead& e) {
    box->full = 0;
    e.consistent();
    return e.take();
  }
}

// Holding the mutex (`lock`), waits until the slot's flag is `full`; holds the
// mutex again when it returns.
void wait_until(ipcshm::mutex& m, ipcshm::event& ev, mailbox* box,
                std::unique_lock<ipcshm::mutex>& lock, uint32_t full) {
  while (box->full != full) {
    uint64_t seen = ev.sequence();  // under the mutex: before looking away
    lock.unlock();
    ev.wait(seen);                  // returns once a notify came after `seen`
    lock = take(m, box);
  }
}

void put(ipcshm::mutex& m, ipcshm::event& ev, mailbox* box, uint64_t number) {
  auto lock = take(m, box);
  wait_until(m, ev, box, lock, 0);
  box->number = number;
  box->full = 1;
  lock.unlock();
  ev.notify();                      // after the change, outside the lock
}

int produce(const char* self, uint64_t count) {
  auto shm = ipcshm::shm::create("/condition-XXXXXX", sizeof(mailbox));
  auto* box = static_cast<mailbox*>(shm.data());
  ipcshm::mutex m(shm, offsetof(mailbox, mu));
  m.init();
  ipcshm::event ev(shm, offsetof(mailbox, ev));
  ev.init();
  std::string id(shm.id());
  std::string n = std::to_string(count);
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    execl(self, self, "consume", id.c_str(), n.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (uint64_t n = 1; n <= count; ++n) put(m, ev, box, n);
  put(m, ev, box, 0);
  int status = 0;
  waitpid(pid, &status, 0);
  std::printf("producer: handed over %llu numbers\n", static_cast<unsigned long long>(count));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int consume(const char* id, uint64_t count) {
  auto shm = ipcshm::shm::attach(id);
  auto* box = static_cast<mailbox*>(shm.data());
  ipcshm::mutex m(shm, offsetof(mailbox, mu));
  ipcshm::event ev(shm, offsetof(mailbox, ev));
  uint64_t total = 0, received = 0;
  for (;;) {
    auto lock = take(m, box);
    wait_until(m, ev, box, lock, 1);
    uint64_t n = box->number;
    box->full = 0;
    lock.unlock();
    ev.notify();
    if (n == 0) break;
    total += n;
    ++received;
  }
  std::printf("consumer: received %llu numbers, sum %llu\n",
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(total));
  std::fflush(stdout);
  return received == count && total == count * (count + 1) / 2 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::string(argv[1]) == "consume")
      return consume(argv[2], std::strtoull(argv[3], nullptr, 10));
    uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100;
    return produce("/proc/self/exe", count);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "condition-cpp: %s\n", e.what());
    return 1;
  }
}
