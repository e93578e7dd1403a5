// libipcshm channel benchmarks (Google Benchmark, SPEC §11): a channel
// between two processes against the floor written here, a minimal
// single-producer single-consumer ring (busy-polling, 64-bit indices on
// separate cache lines, no length, no liveness), and against a pipe, a UNIX
// socket pair and a POSIX message queue. Every variant writes its payload
// and reads it on the other side (a benchmark that never touches the bytes
// measures nothing). bench/run interleaves the repetitions and prints medians
// and ratios.
//
//   BM_chlat_*    one-way latency of a 32-byte message: round trips between
//                 two processes, one-way (RTT/2) per message. "busy": the
//                 receiving side polls (timeout 0, or the ring's index),
//                 "wait": it blocks in the call (the library spins, then
//                 sleeps).
//   BM_chtput_*   throughput of 32-byte messages from one process to the
//                 other; per message.
//   BM_chbig_*    1 MiB messages: the sender writes the bytes into the slot
//                 (reserve/commit), the receiver reads every byte where they
//                 are (peek/release); against memcpy of the same bytes into a
//                 ring of as many buffers. Per message; bytes/s too.
//   Google Benchmark prints the time of a whole batch; bench/report.py
//   divides it by the counter msgs_per_iter.
//
// The two processes are pinned to CPUs 0 and 1 (where there are two).
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ipcshm.h"

namespace {

constexpr uint32_t kSmall = 32;         // the small messages' size
constexpr uint32_t kSlots = 1024;       // slots of every ring, small messages
constexpr uint64_t kBig = 1 << 20;      // the large messages' size
constexpr uint32_t kBigSlots = 8;
constexpr int kBatch = 256;             // round trips per latency iteration
constexpr int kMessages = 1 << 16;      // messages per throughput iteration
constexpr int kBigBatch = 16;           // 1 MiB messages per iteration

// An iteration's time is that of its whole batch (so that --benchmark_min_time
// is the time spent); the messages it carried are a counter, by which
// bench/report.py divides: its figures are per message (latency: per one-way
// trip, RTT/2).
void per_message(benchmark::State& st, int messages) {
  st.counters["msgs_per_iter"] = messages;
}

int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int ncpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % CPU_SETSIZE, &set);
  ::sched_setaffinity(0, sizeof set, &set);  // best effort
}

void unpin() {
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int i = 0; i < ncpus(); ++i) CPU_SET(i, &all);
  ::sched_setaffinity(0, sizeof all, &all);
}

// ---------------------------------------------------------------------------
// The floor: a minimal SPSC ring of fixed 32-byte messages in 64-byte slots.

struct alignas(64) Ring {
  alignas(64) std::atomic<uint64_t> head;  // consumer's
  alignas(64) std::atomic<uint64_t> tail;  // producer's
  alignas(64) unsigned char slots[kSlots][64];
};

// Waiting: `pause` only (the floor as SPEC §11 defines it), or (yield) a
// sched_yield every 64 turns, as the library's spin does: on a machine with
// more runnable tasks than CPUs a spin that never yields keeps its peer off
// the CPU for a whole time slice per message.
struct RingEnd {
  Ring* r;
  bool yield = false;
  uint64_t pos = 0, other = 0;  // own index, the other's as last read
  unsigned turns = 0;
  void relax() {
    cpu_relax();
    if (yield && ++turns % 64 == 0) ::sched_yield();
  }
  void send(const void* msg) {
    while (pos - other >= kSlots) {
      other = r->head.load(std::memory_order_acquire);
      if (pos - other >= kSlots) relax();
    }
    std::memcpy(r->slots[pos % kSlots], msg, kSmall);
    r->tail.store(++pos, std::memory_order_release);
  }
  // True and the message in buf if there is one.
  bool try_recv(void* buf) {
    if (pos == other) {
      other = r->tail.load(std::memory_order_acquire);
      if (pos == other) return false;
    }
    std::memcpy(buf, r->slots[pos % kSlots], kSmall);
    r->head.store(++pos, std::memory_order_release);
    return true;
  }
  void recv(void* buf) {
    while (!try_recv(buf)) relax();
  }
};

// What the two processes share besides their channels.
struct Control {
  alignas(64) std::atomic<uint64_t> acked;  // throughput: messages the receiver has
  alignas(64) Ring ab;                      // floor ring, benchmark -> peer
  alignas(64) Ring ba;                      // and back
};

// ---------------------------------------------------------------------------
// Transports: how a message goes from one side to the other.

struct Transport {
  virtual ~Transport() = default;
  // Runs in the parent before fork / in each process after it.
  virtual bool setup(std::string* why) = 0;
  virtual bool open_parent(std::string*) { return true; }
  virtual bool open_child() { return true; }
  virtual void send(const void* msg, uint32_t len) = 0;  // parent -> child (a) or back (b)
  virtual void recv(void* buf, uint32_t len) = 0;
  virtual void send_back(const void* msg, uint32_t len) = 0;
  virtual void recv_back(void* buf, uint32_t len) = 0;
  virtual void teardown() {}
};

void must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "channel_bench: %s failed: %s (%s)\n", what, std::strerror(errno),
                 ipcshm_last_error());
    std::abort();
  }
}

// Channel a (parent sends), channel b (child sends). busy: receivers poll
// with timeout 0; zero_copy: reserve/commit and peek/release.
struct ChannelTransport : Transport {
  bool busy, zero_copy;
  uint32_t slot_size, slots;
  std::string id_a, id_b;
  ipcshm_channel_t *a = nullptr, *b = nullptr;  // this process's ends
  ChannelTransport(bool busy_, bool zero_copy_, uint32_t slot_size_ = kSmall,
                   uint32_t slots_ = kSlots)
      : busy(busy_), zero_copy(zero_copy_), slot_size(slot_size_), slots(slots_) {}

  bool setup(std::string* why) override {
    char name[64];
    std::snprintf(name, sizeof name, "/ipcshm_bench_%d_chXXXXXX", static_cast<int>(::getpid()));
    if (ipcshm_channel_create(name, slot_size, slots, 0600, 0, IPCSHM_SENDER, &a) != 1 ||
        ipcshm_channel_create(name, slot_size, slots, 0600, 0, IPCSHM_RECEIVER, &b) != 1) {
      *why = ipcshm_last_error();
      return false;
    }
    const ipcshm_t* h;
    ipcshm_channel_handle(a, &h);
    id_a = ipcshm_id(h);
    ipcshm_channel_handle(b, &h);
    id_b = ipcshm_id(h);
    return true;
  }
  bool open_child() override {
    // The parent's ends are not the child's (fork): it opens its own.
    return ipcshm_channel_open(id_a.c_str(), IPCSHM_RECEIVER, &a) == 0 &&
           ipcshm_channel_open(id_b.c_str(), IPCSHM_SENDER, &b) == 0;
  }
  void put(ipcshm_channel_t* ch, const void* msg, uint32_t len) {
    if (zero_copy) {
      void* slot;
      must(ipcshm_channel_reserve(ch, &slot, -1) == 0, "reserve");
      std::memcpy(slot, msg, len);
      must(ipcshm_channel_commit(ch, len) == 0, "commit");
    } else {
      must(ipcshm_channel_send(ch, msg, len, -1) == 0, "send");
    }
  }
  void take(ipcshm_channel_t* ch, void* buf, uint32_t cap) {
    const int64_t timeout = busy ? 0 : -1;
    uint64_t len = 0;
    int rc;
    if (zero_copy) {
      const void* msg;
      while ((rc = ipcshm_channel_peek(ch, &msg, &len, timeout)) == -EAGAIN) cpu_relax();
      must(rc == 0, "peek");
      std::memcpy(buf, msg, len);
      must(ipcshm_channel_release(ch) == 0, "release");
    } else {
      while ((rc = ipcshm_channel_recv(ch, buf, cap, &len, timeout)) == -EAGAIN) cpu_relax();
      must(rc == 0, "recv");
    }
  }
  void send(const void* m, uint32_t n) override { put(a, m, n); }
  void recv(void* buf, uint32_t n) override { take(a, buf, n); }
  void send_back(const void* m, uint32_t n) override { put(b, m, n); }
  void recv_back(void* buf, uint32_t n) override { take(b, buf, n); }
  void teardown() override {
    ipcshm_channel_close(a);
    ipcshm_channel_close(b);
  }
};

struct RingTransport : Transport {
  Control* c;
  RingEnd ab, ba;
  explicit RingTransport(Control* control, bool yield = false) : c(control) {
    ab.yield = ba.yield = yield;
  }
  bool setup(std::string*) override {
    ab.r = &c->ab;
    ba.r = &c->ba;
    return true;
  }
  void send(const void* m, uint32_t) override { ab.send(m); }
  void recv(void* buf, uint32_t) override { ab.recv(buf); }
  void send_back(const void* m, uint32_t) override { ba.send(m); }
  void recv_back(void* buf, uint32_t) override { ba.recv(buf); }
};

bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n) {
    ssize_t k = ::write(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
bool read_all(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n) {
    ssize_t k = ::read(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// A pipe or a UNIX socket pair each way; one read per message.
struct FdTransport : Transport {
  bool socket;
  int ab[2] = {-1, -1}, ba[2] = {-1, -1};
  explicit FdTransport(bool socket_) : socket(socket_) {}
  bool setup(std::string* why) override {
    const bool ok = socket ? ::socketpair(AF_UNIX, SOCK_STREAM, 0, ab) == 0 &&
                                 ::socketpair(AF_UNIX, SOCK_STREAM, 0, ba) == 0
                           : ::pipe(ab) == 0 && ::pipe(ba) == 0;
    if (!ok) *why = std::strerror(errno);
    return ok;
  }
  void send(const void* m, uint32_t n) override { must(write_all(ab[1], m, n), "write"); }
  void recv(void* buf, uint32_t n) override { must(read_all(ab[0], buf, n), "read"); }
  void send_back(const void* m, uint32_t n) override { must(write_all(ba[1], m, n), "write"); }
  void recv_back(void* buf, uint32_t n) override { must(read_all(ba[0], buf, n), "read"); }
  void teardown() override {
    for (int fd : {ab[0], ab[1], ba[0], ba[1]}) ::close(fd);
  }
};

struct MqTransport : Transport {
  std::string name_a, name_b;
  mqd_t a = -1, b = -1;
  bool setup(std::string* why) override {
    char n[64];
    std::snprintf(n, sizeof n, "/ipcshm_bench_%d_a", static_cast<int>(::getpid()));
    name_a = n;
    std::snprintf(n, sizeof n, "/ipcshm_bench_%d_b", static_cast<int>(::getpid()));
    name_b = n;
    struct mq_attr attr = {};
    attr.mq_maxmsg = 10;  // the default limit of /proc/sys/fs/mqueue/msg_max
    attr.mq_msgsize = kSmall;
    a = ::mq_open(name_a.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    b = ::mq_open(name_b.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (a < 0 || b < 0) {
      *why = std::string("mq_open: ") + std::strerror(errno);
      teardown();
      return false;
    }
    return true;
  }
  void send(const void* m, uint32_t n) override {
    must(::mq_send(a, static_cast<const char*>(m), n, 0) == 0, "mq_send");
  }
  void recv(void* buf, uint32_t) override {
    must(::mq_receive(a, static_cast<char*>(buf), kSmall, nullptr) >= 0, "mq_receive");
  }
  void send_back(const void* m, uint32_t n) override {
    must(::mq_send(b, static_cast<const char*>(m), n, 0) == 0, "mq_send");
  }
  void recv_back(void* buf, uint32_t) override {
    must(::mq_receive(b, static_cast<char*>(buf), kSmall, nullptr) >= 0, "mq_receive");
  }
  void teardown() override {
    if (a >= 0) ::mq_close(a);
    if (b >= 0) ::mq_close(b);
    ::mq_unlink(name_a.c_str());
    ::mq_unlink(name_b.c_str());
    a = b = -1;
  }
};

Control* make_control() {
  void* p = ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  return p == MAP_FAILED ? nullptr : new (p) Control{};
}

// Forks the peer, which runs body() until killed (or returns).
template <typename Body>
pid_t spawn(Transport& t, Body body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ncpus() > 1) pin(1);
    if (!t.open_child()) ::_exit(3);
    body();
    ::_exit(0);
  }
  if (ncpus() > 1) pin(0);
  return pid;
}

void reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  unpin();
}

// ---------------------------------------------------------------------------
// Latency: round trips of 32 bytes, written and read each way.

void latency(benchmark::State& st, Transport& t, Control* c) {
  std::string why;
  if (!c || !t.setup(&why)) return st.SkipWithError(("setup: " + why).c_str());
  pid_t pid = spawn(t, [&] {
    unsigned char in[kSmall], out[kSmall];
    std::memset(out, 'b', sizeof out);
    for (uint64_t i = 0;; ++i) {
      t.recv(in, kSmall);
      std::memcpy(out, in, 8);  // echo the sequence number
      t.send_back(out, kSmall);
    }
  });
  unsigned char msg[kSmall], in[kSmall];
  std::memset(msg, 'a', sizeof msg);
  uint64_t seq = 0;
  for (auto _ : st) {
    const int64_t t0 = now_ns();
    for (int i = 0; i < kBatch; ++i) {
      ++seq;
      std::memcpy(msg, &seq, 8);
      t.send(msg, kSmall);
      t.recv_back(in, kSmall);
      uint64_t echo;
      std::memcpy(&echo, in, 8);
      if (echo != seq) std::abort();
    }
    st.SetIterationTime(static_cast<double>(now_ns() - t0) * 1e-9);
  }
  per_message(st, 2 * kBatch);
  reap(pid);
  t.teardown();
}

// ---------------------------------------------------------------------------
// Throughput: 32-byte messages one way; the receiver says how far it got.

void throughput(benchmark::State& st, Transport& t, Control* c) {
  std::string why;
  if (!c || !t.setup(&why)) return st.SkipWithError(("setup: " + why).c_str());
  c->acked.store(0);
  pid_t pid = spawn(t, [&] {
    unsigned char in[kSmall];
    uint64_t sum = 0;
    for (uint64_t n = 1;; ++n) {
      t.recv(in, kSmall);
      sum += in[0] + in[31];
      benchmark::DoNotOptimize(sum);
      if (n % kMessages == 0) c->acked.store(n, std::memory_order_release);
    }
  });
  unsigned char msg[kSmall];
  std::memset(msg, 'm', sizeof msg);
  uint64_t sent = 0;
  for (auto _ : st) {
    const int64_t t0 = now_ns();
    for (int i = 0; i < kMessages; ++i) {
      msg[0] = static_cast<unsigned char>(i);
      t.send(msg, kSmall);
    }
    sent += kMessages;
    while (c->acked.load(std::memory_order_acquire) < sent) cpu_relax();
    st.SetIterationTime(static_cast<double>(now_ns() - t0) * 1e-9);
  }
  per_message(st, kMessages);
  st.counters["msgs_per_s"] = benchmark::Counter(
      static_cast<double>(sent), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  reap(pid);
  t.teardown();
}

// ---------------------------------------------------------------------------
// 1 MiB messages in place, and memcpy of the same bytes.

void big(benchmark::State& st, bool zero_copy, Control* c) {
  ChannelTransport t(false, zero_copy, kBig, kBigSlots);
  std::string why;
  if (!c || !t.setup(&why)) return st.SkipWithError(("setup: " + why).c_str());
  c->acked.store(0);
  std::vector<unsigned char> src(kBig);
  for (size_t i = 0; i < kBig; ++i) src[i] = static_cast<unsigned char>(i * 7);
  pid_t pid = spawn(t, [&] {
    std::vector<unsigned char> copy(zero_copy ? 0 : kBig);
    for (uint64_t n = 1;; ++n) {
      uint64_t sum = 0, len = 0;
      const uint64_t* words;
      if (zero_copy) {
        const void* msg;
        while (ipcshm_channel_peek(t.a, &msg, &len, -1) != 0) {
        }
        words = static_cast<const uint64_t*>(msg);
      } else {
        while (ipcshm_channel_recv(t.a, copy.data(), kBig, &len, -1) != 0) {
        }
        words = reinterpret_cast<const uint64_t*>(copy.data());
      }
      for (size_t i = 0; i < len / 8; ++i) sum += words[i];  // every byte read
      benchmark::DoNotOptimize(sum);
      if (zero_copy) ipcshm_channel_release(t.a);
      c->acked.store(n, std::memory_order_release);
    }
  });
  uint64_t sent = 0;
  for (auto _ : st) {
    const int64_t t0 = now_ns();
    for (int i = 0; i < kBigBatch; ++i) {
      src[0] = static_cast<unsigned char>(i);
      if (zero_copy) {
        void* slot;
        must(ipcshm_channel_reserve(t.a, &slot, -1) == 0, "reserve");
        std::memcpy(slot, src.data(), kBig);
        must(ipcshm_channel_commit(t.a, kBig) == 0, "commit");
      } else {
        must(ipcshm_channel_send(t.a, src.data(), kBig, -1) == 0, "send");
      }
    }
    sent += kBigBatch;
    while (c->acked.load(std::memory_order_acquire) < sent) cpu_relax();
    st.SetIterationTime(static_cast<double>(now_ns() - t0) * 1e-9);
  }
  per_message(st, kBigBatch);
  st.SetBytesProcessed(static_cast<int64_t>(sent * kBig));
  reap(pid);
  t.teardown();
}

// memcpy of the 1 MiB message into a ring of as many buffers as the channel
// has slots (the same memory), in one process: the bandwidth to match.
void BM_chbig_memcpy(benchmark::State& st) {
  std::vector<unsigned char> src(kBig);
  for (size_t i = 0; i < kBig; ++i) src[i] = static_cast<unsigned char>(i * 7);
  std::vector<std::vector<unsigned char>> dst(kBigSlots, std::vector<unsigned char>(kBig, 1));
  uint64_t n = 0;
  for (auto _ : st) {
    std::memcpy(dst[n++ % kBigSlots].data(), src.data(), kBig);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<int64_t>(n * kBig));
}

// ---------------------------------------------------------------------------

Control* g_control = nullptr;

void BM_chlat_ring(benchmark::State& st) {
  RingTransport t(g_control);
  new (&g_control->ab) Ring{};
  new (&g_control->ba) Ring{};
  latency(st, t, g_control);
}
void BM_chlat_ring_yield(benchmark::State& st) {
  RingTransport t(g_control, true);
  new (&g_control->ab) Ring{};
  new (&g_control->ba) Ring{};
  latency(st, t, g_control);
}
void BM_chlat_ipcshm_busy(benchmark::State& st) {
  ChannelTransport t(true, false);
  latency(st, t, g_control);
}
void BM_chlat_ipcshm_busy_zero_copy(benchmark::State& st) {
  ChannelTransport t(true, true);
  latency(st, t, g_control);
}
void BM_chlat_ipcshm_wait(benchmark::State& st) {
  ChannelTransport t(false, false);
  latency(st, t, g_control);
}
void BM_chlat_pipe(benchmark::State& st) {
  FdTransport t(false);
  latency(st, t, g_control);
}
void BM_chlat_socket(benchmark::State& st) {
  FdTransport t(true);
  latency(st, t, g_control);
}
void BM_chlat_mqueue(benchmark::State& st) {
  MqTransport t;
  latency(st, t, g_control);
}

void BM_chtput_ring(benchmark::State& st) {
  RingTransport t(g_control);
  new (&g_control->ab) Ring{};
  throughput(st, t, g_control);
}
void BM_chtput_ring_yield(benchmark::State& st) {
  RingTransport t(g_control, true);
  new (&g_control->ab) Ring{};
  throughput(st, t, g_control);
}
void BM_chtput_ipcshm(benchmark::State& st) {
  ChannelTransport t(false, false);
  throughput(st, t, g_control);
}
void BM_chtput_ipcshm_busy(benchmark::State& st) {
  ChannelTransport t(true, false);
  throughput(st, t, g_control);
}
void BM_chtput_ipcshm_zero_copy(benchmark::State& st) {
  ChannelTransport t(true, true);
  throughput(st, t, g_control);
}
void BM_chtput_pipe(benchmark::State& st) {
  FdTransport t(false);
  throughput(st, t, g_control);
}
void BM_chtput_socket(benchmark::State& st) {
  FdTransport t(true);
  throughput(st, t, g_control);
}
void BM_chtput_mqueue(benchmark::State& st) {
  MqTransport t;
  throughput(st, t, g_control);
}

void BM_chbig_ipcshm_zero_copy(benchmark::State& st) { big(st, true, g_control); }
void BM_chbig_ipcshm_copy(benchmark::State& st) { big(st, false, g_control); }

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_control = make_control();
  if (!g_control) return 1;
#define REG(fn) benchmark::RegisterBenchmark(#fn, fn)
  for (auto* b : {REG(BM_chlat_ring), REG(BM_chlat_ring_yield), REG(BM_chlat_ipcshm_busy),
                  REG(BM_chlat_ipcshm_busy_zero_copy), REG(BM_chlat_ipcshm_wait),
                  REG(BM_chlat_pipe), REG(BM_chlat_socket), REG(BM_chlat_mqueue)})
    b->UseManualTime()->Unit(benchmark::kNanosecond);
  for (auto* b : {REG(BM_chtput_ring), REG(BM_chtput_ring_yield), REG(BM_chtput_ipcshm),
                  REG(BM_chtput_ipcshm_busy),
                  REG(BM_chtput_ipcshm_zero_copy), REG(BM_chtput_pipe), REG(BM_chtput_socket),
                  REG(BM_chtput_mqueue)})
    b->UseManualTime()->Unit(benchmark::kNanosecond);
  for (auto* b : {REG(BM_chbig_ipcshm_zero_copy), REG(BM_chbig_ipcshm_copy)})
    b->UseManualTime()->Unit(benchmark::kMicrosecond);
  REG(BM_chbig_memcpy)->Unit(benchmark::kMicrosecond);
#undef REG
  benchmark::AddCustomContext("cpus_online", std::to_string(ncpus()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
