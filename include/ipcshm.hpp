// ipcshm.hpp — optional header-only C++20 RAII wrapper over the C API of
// ipcshm.h. No second implementation: every call goes through libipcshm.
//
//   auto shm = ipcshm::shm::create("/frames-XXXXXX", 1 << 20);
//   std::span<std::byte> bytes = shm.bytes();
//   std::string id{shm.id()};          // attach it elsewhere: ipcshm::shm::attach(id)
//
// Failures throw std::system_error whose code() is the errno (generic_category)
// and whose what() carries the library's message (ipcshm_last_error()).
//
// Since 1.2, views of the signalling primitives at a place of a shm:
//
//   ipcshm::mutex m(shm, 0);            // 64 bytes at offset 0
//   if (shm.created()) m.init();
//   std::unique_lock lock(m);            // ipcshm::owner_dead if its owner died
//
// and channel ends:
//
//   auto tx = ipcshm::channel::create("/jobs-XXXXXX", 256, 64, ipcshm::channel::sender);
//   tx.send(std::as_bytes(std::span(text)));      // elsewhere:
//   auto rx = ipcshm::channel::open(id, ipcshm::channel::receiver);
//   std::vector<std::byte> msg = rx.recv_bytes(); // ipcshm::broken_pipe once the
//                                                 // sender is gone and all is read
#ifndef IPCSHM_HPP
#define IPCSHM_HPP

#if __cplusplus < 202002L
#error "ipcshm.hpp needs C++20 (std::span); from older C++, use ipcshm.h"
#endif

#include <cerrno>
#include <chrono>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "ipcshm.h"

namespace ipcshm {

// The element type code (IPCSHM_INT8...) of T, for typed arrays.
template <typename T>
constexpr uint32_t element_code() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, int8_t>) return IPCSHM_INT8;
  else if constexpr (std::is_same_v<U, uint8_t>) return IPCSHM_UINT8;
  else if constexpr (std::is_same_v<U, int16_t>) return IPCSHM_INT16;
  else if constexpr (std::is_same_v<U, uint16_t>) return IPCSHM_UINT16;
  else if constexpr (std::is_same_v<U, int32_t>) return IPCSHM_INT32;
  else if constexpr (std::is_same_v<U, uint32_t>) return IPCSHM_UINT32;
  else if constexpr (std::is_same_v<U, int64_t>) return IPCSHM_INT64;
  else if constexpr (std::is_same_v<U, uint64_t>) return IPCSHM_UINT64;
  else if constexpr (std::is_same_v<U, float>) return IPCSHM_FLOAT32;
  else if constexpr (std::is_same_v<U, double>) return IPCSHM_FLOAT64;
  else if constexpr (std::is_same_v<U, std::complex<float>>) return IPCSHM_COMPLEX64;
  else if constexpr (std::is_same_v<U, std::complex<double>>) return IPCSHM_COMPLEX128;
  else static_assert(sizeof(T) == 0, "no IPCSHM_* element type for T");
}

// Throws the library's last failure as std::system_error.
[[noreturn]] inline void throw_error(int rc, std::string_view call) {
  std::string what(call);
  what += ": ";
  what += ipcshm_last_error();
  throw std::system_error(-rc, std::generic_category(), what);
}

inline int check(int rc, std::string_view call) {
  if (rc < 0) throw_error(rc, call);
  return rc;
}

// Information about an object; struct_size already set.
inline ipcshm_info_t info(const std::string& id) {
  ipcshm_info_t out{};
  out.struct_size = sizeof out;
  check(ipcshm_info(id.c_str(), &out), "ipcshm_info");
  return out;
}

// Removes an object's name; an object already gone is no error.
inline void remove(const std::string& id) { check(ipcshm_remove(id.c_str()), "ipcshm_remove"); }

inline void chmod(const std::string& id, uint32_t perms) {
  check(ipcshm_chmod(id.c_str(), perms), "ipcshm_chmod");
}

// One mapping of one object. Move-only; the destructor detaches.
class shm {
 public:
  shm() noexcept = default;

  // Creates `id` (see ipcshm_create). created() tells whether this call made the
  // object (false: IPCSHM_OPEN_OR_CREATE found it).
  static shm create(const std::string& id, uint64_t size, uint32_t perms = 0600,
                    uint32_t flags = 0) {
    ipcshm_t* h = nullptr;
    int rc = check(ipcshm_create(id.c_str(), size, perms, flags, &h), "ipcshm_create");
    return shm(h, rc == 1);
  }

  // Maps the existing object `id` (IPCSHM_READONLY for read-only).
  static shm attach(const std::string& id, uint32_t flags = 0) {
    ipcshm_t* h = nullptr;
    check(ipcshm_attach(id.c_str(), flags, &h), "ipcshm_attach");
    return shm(h, false);
  }

  // Maps the POSIX or memfd object open as fd (see ipcshm_attach_fd).
  static shm attach_fd(int fd, uint32_t flags = 0) {
    ipcshm_t* h = nullptr;
    check(ipcshm_attach_fd(fd, flags, &h), "ipcshm_attach_fd");
    return shm(h, false);
  }

  // Receives an object that ipcshm_send sent on `sock`.
  static shm recv(int sock, uint32_t flags = 0) {
    ipcshm_t* h = nullptr;
    check(ipcshm_recv(sock, flags, &h), "ipcshm_recv");
    return shm(h, false);
  }

  // Creates a typed array of T with dimensions dims (column-major, as in Julia).
  template <typename T>
  static shm create_array(const std::string& id, std::span<const int64_t> dims,
                          uint32_t perms = 0600, uint32_t flags = 0) {
    ipcshm_t* h = nullptr;
    int rc = check(ipcshm_array_create(id.c_str(), element_code<T>(),
                                       static_cast<uint32_t>(dims.size()), dims.data(), perms,
                                       flags, &h),
                   "ipcshm_array_create");
    return shm(h, rc == 1);
  }

  shm(shm&& other) noexcept
      : h_(std::exchange(other.h_, nullptr)), created_(other.created_) {}
  shm& operator=(shm&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, nullptr);
      created_ = other.created_;
    }
    return *this;
  }
  shm(const shm&) = delete;
  shm& operator=(const shm&) = delete;
  ~shm() { reset(); }

  explicit operator bool() const noexcept { return h_ != nullptr; }
  bool created() const noexcept { return created_; }
  void* data() const noexcept { return ipcshm_pointer(h_); }
  uint64_t size() const noexcept { return ipcshm_size(h_); }

  // The canonical id; valid while this object is attached.
  std::string_view id() const noexcept {
    const char* s = ipcshm_id(h_);
    return s ? std::string_view(s) : std::string_view();
  }

  std::span<std::byte> bytes() const noexcept {
    return {static_cast<std::byte*>(data()), static_cast<size_t>(size())};
  }

  // The memory as an array of T (as many whole T as fit).
  template <typename T>
  std::span<T> as() const noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "shared memory holds plain data");
    return {static_cast<T*>(data()), static_cast<size_t>(size() / sizeof(T))};
  }

  // The elements of the typed array this object holds, as T; throws
  // std::system_error(EBADMSG) if the header is invalid or not of type T.
  // dims() gives its dimensions.
  template <typename T>
  std::span<T> array() const {
    uint32_t etype = 0;
    size_t count = 1;
    for (int64_t d : dims(&etype)) count *= static_cast<size_t>(d);
    if (etype != element_code<T>())
      throw std::system_error(EBADMSG, std::generic_category(),
                              "ipcshm::shm::array: the array's element type code is " +
                                  std::to_string(etype) + ", not " +
                                  std::to_string(element_code<T>()));
    void* data = ipcshm_array_data(h_);
    if (!data) throw_error(-EBADMSG, "ipcshm_array_data");
    return {static_cast<T*>(data), count};
  }

  // The dimensions of the typed array this object holds (and its element type
  // code in *etype, if given).
  std::vector<int64_t> dims(uint32_t* etype = nullptr) const {
    uint32_t ndims = 0;
    int rc = ipcshm_array_header(h_, etype, &ndims, nullptr, 0, nullptr);
    if (rc < 0 && rc != -ERANGE) throw_error(rc, "ipcshm_array_header");
    std::vector<int64_t> out(ndims);
    check(ipcshm_array_header(h_, etype, &ndims, out.data(), ndims, nullptr),
          "ipcshm_array_header");
    return out;
  }

  // A new close-on-exec descriptor of the object (POSIX, memfd); the caller
  // closes it.
  int fd() const { return check(ipcshm_fd(h_), "ipcshm_fd"); }

  // Sends the object over a UNIX-domain socket (see ipcshm_send).
  void send(int sock) const { check(ipcshm_send(sock, h_), "ipcshm_send"); }

  // Changes the object's size; data() and every span taken before may move.
  void resize(uint64_t size) { check(ipcshm_resize(h_, size), "ipcshm_resize"); }

  ipcshm_info_t info() const {
    ipcshm_info_t out{};
    out.struct_size = sizeof out;
    check(ipcshm_handle_info(h_, &out), "ipcshm_handle_info");
    return out;
  }

  // The C handle, still owned by this object.
  ipcshm_t* handle() const noexcept { return h_; }

  // Detaches now (the destructor does it otherwise).
  void reset() noexcept {
    if (h_) ipcshm_detach(h_);
    h_ = nullptr;
  }

 private:
  shm(ipcshm_t* h, bool created) noexcept : h_(h), created_(created) {}
  ipcshm_t* h_ = nullptr;
  bool created_ = false;
};

// ---------------------------------------------------------------------------
// Signalling (since 1.2): views of an event, a semaphore or a mutex at a place
// of a mapping. A view is a pointer: it does not own the memory nor keep the
// shm attached (as std::span), and copies of it name the same primitive.
// Initialise a primitive once (init(), typically when shm::created()), before
// anyone uses it. Waits that a signal handler interrupts (-EINTR) are
// resumed, with what is left of their timeout.

namespace detail {

// The primitive at `offset` of the mapping: 8-aligned and inside it.
inline void* place(const shm& s, uint64_t offset, std::string_view what) {
  if (offset % 8 != 0 || offset > s.size() || s.size() - offset < 64)
    throw std::system_error(EINVAL, std::generic_category(),
                            std::string(what) + ": offset " + std::to_string(offset) +
                                " is not an 8-aligned place for 64 bytes in a mapping of " +
                                std::to_string(s.size()) + " bytes");
  return static_cast<unsigned char*>(s.data()) + offset;
}

// A timeout in nanoseconds for the C API: never negative (0 only tries),
// at most INT64_MAX.
template <typename Rep, typename Period>
int64_t timeout_ns(const std::chrono::duration<Rep, Period>& d) {
  using namespace std::chrono;
  if (d <= d.zero()) return 0;
  if (duration_cast<duration<double, std::nano>>(d).count() >= 9.2e18) return INT64_MAX;
  return duration_cast<nanoseconds>(d).count();
}

// Calls fn(timeout_ns) until it is not -EINTR: with no timeout (-1) as it
// is, otherwise with the time left until the deadline (0 once past it).
template <typename Fn>
int retry(Fn&& fn, int64_t timeout) {
  if (timeout <= 0) {
    int rc;
    do rc = fn(timeout);
    while (rc == -EINTR);
    return rc;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout);
  for (int64_t left = timeout;;) {
    int rc = fn(left);
    if (rc != -EINTR) return rc;
    left = timeout_ns(deadline - std::chrono::steady_clock::now());
  }
}

template <typename Clock, typename Duration>
int64_t timeout_until(const std::chrono::time_point<Clock, Duration>& t) {
  return timeout_ns(t - Clock::now());
}

}  // namespace detail

// An event (ipcshm_event_*): a sequence number that notify() increments.
//
//   ipcshm::event ev(shm, 64);
//   uint64_t seen = ev.sequence();   // before looking at the shared state
//   ...                              // nothing to do yet
//   seen = ev.wait(seen);            // returns once a notify came
class event {
 public:
  event(const shm& s, uint64_t offset) : p_(detail::place(s, offset, "ipcshm::event")) {}
  explicit event(void* place) noexcept : p_(place) {}

  // Makes the memory an event with sequence 0 (once, before anyone uses it).
  void init() { check(ipcshm_event_init(p_), "ipcshm_event_init"); }

  uint64_t sequence() const {
    uint64_t seq = 0;
    check(ipcshm_event_sequence(p_, &seq), "ipcshm_event_sequence");
    return seq;
  }

  // Wakes every waiter.
  void notify() { check(ipcshm_event_notify(p_), "ipcshm_event_notify"); }

  // Waits until the sequence differs from `seen`, and returns it.
  uint64_t wait(uint64_t seen) {
    check(detail::retry([&](int64_t t) { return ipcshm_event_wait(p_, &seen, t); }, -1),
          "ipcshm_event_wait");
    return seen;
  }

  // The same, at most for `d`: std::nullopt if it timed out.
  template <typename Rep, typename Period>
  std::optional<uint64_t> wait_for(uint64_t seen, const std::chrono::duration<Rep, Period>& d) {
    return timed_wait(seen, detail::timeout_ns(d));
  }

  template <typename Clock, typename Duration>
  std::optional<uint64_t> wait_until(uint64_t seen,
                                     const std::chrono::time_point<Clock, Duration>& t) {
    return timed_wait(seen, detail::timeout_until(t));
  }

  // A new non-blocking, close-on-exec descriptor that becomes readable after a
  // notify (see ipcshm_event_fd); the caller closes it.
  int fd() { return check(ipcshm_event_fd(p_), "ipcshm_event_fd"); }

  void* native_handle() const noexcept { return p_; }

 private:
  std::optional<uint64_t> timed_wait(uint64_t seen, int64_t timeout) {
    int rc = detail::retry([&](int64_t t) { return ipcshm_event_wait(p_, &seen, t); }, timeout);
    if (rc == -ETIMEDOUT || rc == -EAGAIN) return std::nullopt;
    check(rc, "ipcshm_event_wait");
    return seen;
  }

  void* p_;
};

// A counting semaphore (ipcshm_sem_*), with InterProcessCommunication.jl's
// names (post, wait, try_wait, value) and std::counting_semaphore's (release,
// acquire, try_acquire, try_acquire_for, try_acquire_until). A process that
// dies after taking a unit does not give it back.
class semaphore {
 public:
  semaphore(const shm& s, uint64_t offset) : p_(detail::place(s, offset, "ipcshm::semaphore")) {}
  explicit semaphore(void* place) noexcept : p_(place) {}

  void init(uint32_t value) { check(ipcshm_sem_init(p_, value), "ipcshm_sem_init"); }

  // Adds one; std::system_error(EOVERFLOW) at UINT32_MAX.
  void post() { check(ipcshm_sem_post(p_), "ipcshm_sem_post"); }

  void wait() {
    check(detail::retry([&](int64_t t) { return ipcshm_sem_wait(p_, t); }, -1), "ipcshm_sem_wait");
  }

  // Takes one if the count is not 0; false otherwise.
  bool try_wait() { return timed_wait(0); }

  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& d) {
    return timed_wait(detail::timeout_ns(d));
  }

  template <typename Clock, typename Duration>
  bool wait_until(const std::chrono::time_point<Clock, Duration>& t) {
    return timed_wait(detail::timeout_until(t));
  }

  uint32_t value() const {
    uint32_t v = 0;
    check(ipcshm_sem_value(p_, &v), "ipcshm_sem_value");
    return v;
  }

  void release(uint32_t n = 1) {
    for (uint32_t i = 0; i < n; ++i) post();
  }
  void acquire() { wait(); }
  bool try_acquire() { return try_wait(); }
  template <typename Rep, typename Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& d) {
    return wait_for(d);
  }
  template <typename Clock, typename Duration>
  bool try_acquire_until(const std::chrono::time_point<Clock, Duration>& t) {
    return wait_until(t);
  }

  void* native_handle() const noexcept { return p_; }

 private:
  bool timed_wait(int64_t timeout) {
    int rc = detail::retry([&](int64_t t) { return ipcshm_sem_wait(p_, t); }, timeout);
    if (rc == -ETIMEDOUT || rc == -EAGAIN) return false;
    check(rc, "ipcshm_sem_wait");
    return true;
  }

  void* p_;
};

class mutex;

// Thrown by mutex::lock and the try_lock family when the mutex's previous
// owner died holding it (-EOWNERDEAD). The calling thread holds the mutex
// then, and so does the exception: repair the data it guards and call
// consistent(). When the last copy of the exception is destroyed the mutex is
// unlocked -- which, without consistent(), makes it -ENOTRECOVERABLE for
// everyone, so data that may be half-updated is never trusted by accident. To
// keep holding it past the catch, take(): a std::unique_lock that owns it.
//
//   try {
//     std::unique_lock lock(m);
//     use(data);
//   } catch (const ipcshm::owner_dead& e) {
//     repair(data);
//     e.consistent();                // then the exception's end unlocks it
//   }
class owner_dead : public std::system_error {
 public:
  owner_dead(mutex& m, const std::string& what);

  ipcshm::mutex& get_mutex() const noexcept { return *m_; }
  // Marks the data repaired (ipcshm_mutex_consistent); the mutex stays held.
  void consistent() const;
  // The held mutex as a std::unique_lock; the exception no longer unlocks it.
  // Once only (std::system_error(EINVAL) after that).
  std::unique_lock<ipcshm::mutex> take() const;

 private:
  // Shared by the copies of the exception: unlocks when the last one goes,
  // unless taken.
  struct held {
    explicit held(void* p) noexcept : place(p) {}
    held(const held&) = delete;
    held& operator=(const held&) = delete;
    ~held() {
      if (!taken) ipcshm_mutex_unlock(place);
    }
    void* place;
    bool taken = false;
  };
  ipcshm::mutex* m_;
  std::shared_ptr<held> held_;
};

// A robust mutex (ipcshm_mutex_*), a Lockable and TimedLockable for
// std::unique_lock, std::lock_guard and std::scoped_lock. Errors other than
// owner death throw std::system_error: ENOTRECOVERABLE, EDEADLK (this thread
// holds it already), EPERM (unlock by a thread that does not hold it).
class mutex {
 public:
  mutex(const shm& s, uint64_t offset) : p_(detail::place(s, offset, "ipcshm::mutex")) {}
  explicit mutex(void* place) noexcept : p_(place) {}

  void init() { check(ipcshm_mutex_init(p_), "ipcshm_mutex_init"); }

  void lock() { timed_lock(-1); }
  bool try_lock() { return timed_lock(0); }

  template <typename Rep, typename Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& d) {
    return timed_lock(detail::timeout_ns(d));
  }

  template <typename Clock, typename Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& t) {
    return timed_lock(detail::timeout_until(t));
  }

  void unlock() { check(ipcshm_mutex_unlock(p_), "ipcshm_mutex_unlock"); }

  // After owner_dead: the data is repaired (see ipcshm_mutex_consistent).
  void consistent() { check(ipcshm_mutex_consistent(p_), "ipcshm_mutex_consistent"); }

  void* native_handle() const noexcept { return p_; }

 private:
  bool timed_lock(int64_t timeout) {
    int rc = detail::retry([&](int64_t t) { return ipcshm_mutex_lock(p_, t); }, timeout);
    if (rc == -ETIMEDOUT || rc == -EAGAIN) return false;
    if (rc == -EOWNERDEAD)
      throw owner_dead(*this, std::string("ipcshm_mutex_lock: ") + ipcshm_last_error());
    check(rc, "ipcshm_mutex_lock");
    return true;
  }

  void* p_;
};

inline owner_dead::owner_dead(ipcshm::mutex& m, const std::string& what)
    : std::system_error(EOWNERDEAD, std::generic_category(), what),
      m_(&m),
      held_(std::make_shared<held>(m.native_handle())) {}

inline void owner_dead::consistent() const { m_->consistent(); }

inline std::unique_lock<ipcshm::mutex> owner_dead::take() const {
  if (held_->taken)
    throw std::system_error(EINVAL, std::generic_category(),
                            "ipcshm::owner_dead::take: the lock was taken already");
  held_->taken = true;
  return std::unique_lock<ipcshm::mutex>(*m_, std::adopt_lock);
}

// ---------------------------------------------------------------------------
// Channels (since 1.2).

// Thrown by a channel end's calls when the peer's role is vacant after having
// been taken (-EPIPE): a sender's receiver closed or died, or a receiver's
// sender did, and every message it sent has been received.
class broken_pipe : public std::system_error {
 public:
  explicit broken_pipe(const std::string& what)
      : std::system_error(EPIPE, std::generic_category(), what) {}
};

// One end of a channel (ipcshm_channel_*). Move-only; the destructor closes
// it. Waits that a signal handler interrupts (-EINTR) are resumed with what
// is left of their timeout. Failures throw std::system_error (EMSGSIZE,
// EBUSY, EBADMSG, ...); a vacant peer throws ipcshm::broken_pipe. The timed
// and try_ forms return false or std::nullopt where the call would have to
// wait longer.
class channel {
 public:
  enum role : uint32_t { sender = IPCSHM_SENDER, receiver = IPCSHM_RECEIVER };

  channel() noexcept = default;

  // Creates a channel of slot_count slots of slot_size bytes and opens its
  // end of role r (see ipcshm_channel_create). created() tells whether this
  // call made it (false: IPCSHM_OPEN_OR_CREATE found it).
  static channel create(const std::string& id, uint32_t slot_size, uint32_t slot_count, role r,
                        uint32_t perms = 0600, uint32_t flags = 0) {
    ipcshm_channel_t* ch = nullptr;
    int rc = check(ipcshm_channel_create(id.c_str(), slot_size, slot_count, perms, flags, r, &ch),
                   "ipcshm_channel_create");
    return channel(ch, rc == 1);
  }

  // Opens the end of role r of the channel "/name".
  static channel open(const std::string& id, role r) {
    ipcshm_channel_t* ch = nullptr;
    check(ipcshm_channel_open(id.c_str(), r, &ch), "ipcshm_channel_open");
    return channel(ch, false);
  }

  // Opens the end of role r of the channel in the object open as fd (a memfd
  // received over a socket, say); fd stays the caller's.
  static channel open_fd(int fd, role r) {
    ipcshm_channel_t* ch = nullptr;
    check(ipcshm_channel_open_fd(fd, r, &ch), "ipcshm_channel_open_fd");
    return channel(ch, false);
  }

  channel(channel&& other) noexcept
      : ch_(std::exchange(other.ch_, nullptr)), created_(other.created_) {}
  channel& operator=(channel&& other) noexcept {
    if (this != &other) {
      close();
      ch_ = std::exchange(other.ch_, nullptr);
      created_ = other.created_;
    }
    return *this;
  }
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;
  ~channel() { close(); }

  explicit operator bool() const noexcept { return ch_ != nullptr; }
  bool created() const noexcept { return created_; }

  // --- sending ---

  // Sends msg as one message, waiting while the channel is full.
  void send(std::span<const std::byte> msg) { timed_send(msg, -1, "ipcshm_channel_send"); }

  // The same, waiting at most d (false: still full); try_send only tries.
  template <typename Rep, typename Period>
  bool send_for(std::span<const std::byte> msg, const std::chrono::duration<Rep, Period>& d) {
    return timed_send(msg, detail::timeout_ns(d), "ipcshm_channel_send");
  }
  bool try_send(std::span<const std::byte> msg) {
    return timed_send(msg, 0, "ipcshm_channel_send");
  }

  // Zero-copy: the next free slot (slot_size() bytes, 64-byte aligned) to
  // write the message in, waiting while there is none; commit(n) sends its
  // first n bytes. Nothing of it is delivered before the commit.
  std::span<std::byte> reserve() { return *timed_reserve(-1); }
  template <typename Rep, typename Period>
  std::optional<std::span<std::byte>> reserve_for(const std::chrono::duration<Rep, Period>& d) {
    return timed_reserve(detail::timeout_ns(d));
  }
  std::optional<std::span<std::byte>> try_reserve() { return timed_reserve(0); }
  void commit(size_t n) { call(ipcshm_channel_commit(ch_, n), "ipcshm_channel_commit"); }

  // --- receiving ---

  // Copies the next message into buf and returns its length, waiting while
  // there is none. A buffer of slot_size() bytes fits every message; a
  // message longer than buf: std::system_error(EMSGSIZE), and the message
  // stays (recv_bytes() sizes the buffer itself).
  size_t recv(std::span<std::byte> buf) { return *timed_recv(buf, -1); }
  template <typename Rep, typename Period>
  std::optional<size_t> recv_for(std::span<std::byte> buf,
                                 const std::chrono::duration<Rep, Period>& d) {
    return timed_recv(buf, detail::timeout_ns(d));
  }
  std::optional<size_t> try_recv(std::span<std::byte> buf) { return timed_recv(buf, 0); }

  // The next message as a vector of its exact length (the names of
  // multiprocessing.Connection), waiting while there is none.
  std::vector<std::byte> recv_bytes() {
    std::span<const std::byte> msg = peek();
    std::vector<std::byte> out(msg.begin(), msg.end());
    release();
    return out;
  }

  // Zero-copy: the next message in its slot, waiting while there is none; it
  // stays there, unchanged, until release().
  std::span<const std::byte> peek() { return *timed_peek(-1); }
  template <typename Rep, typename Period>
  std::optional<std::span<const std::byte>> peek_for(const std::chrono::duration<Rep, Period>& d) {
    return timed_peek(detail::timeout_ns(d));
  }
  std::optional<std::span<const std::byte>> try_peek() { return timed_peek(0); }
  void release() { call(ipcshm_channel_release(ch_), "ipcshm_channel_release"); }

  // --- the channel ---

  ipcshm_channel_info_t info() const {
    ipcshm_channel_info_t out{};
    out.struct_size = sizeof out;
    check(ipcshm_channel_handle_info(ch_, &out), "ipcshm_channel_handle_info");
    return out;
  }
  uint32_t slot_size() const { return info().slot_size; }
  uint32_t slot_count() const { return info().slot_count; }
  // Messages sent and not yet received (a snapshot).
  uint64_t queued() const { return info().queued; }

  // The channel's object (ipcshm_id, ipcshm_fd, ipcshm_send work on it); owned
  // by this end.
  const ipcshm_t* handle() const {
    const ipcshm_t* h = nullptr;
    check(ipcshm_channel_handle(ch_, &h), "ipcshm_channel_handle");
    return h;
  }
  std::string_view id() const {
    const char* s = ipcshm_id(handle());
    return s ? std::string_view(s) : std::string_view();
  }

  // A new non-blocking, close-on-exec descriptor that becomes readable when
  // this end can go on (see ipcshm_channel_fd); the caller closes it.
  int fd() { return check(ipcshm_channel_fd(ch_), "ipcshm_channel_fd"); }

  ipcshm_channel_t* native_handle() const noexcept { return ch_; }

  // Closes now (the destructor does it otherwise).
  void close() noexcept {
    if (ch_) ipcshm_channel_close(ch_);
    ch_ = nullptr;
  }

 private:
  channel(ipcshm_channel_t* ch, bool created) noexcept : ch_(ch), created_(created) {}

  // check(), with -EPIPE as broken_pipe.
  static int call(int rc, std::string_view what) {
    if (rc == -EPIPE) throw broken_pipe(std::string(what) + ": " + ipcshm_last_error());
    return check(rc, what);
  }
  static bool waited_out(int rc) { return rc == -ETIMEDOUT || rc == -EAGAIN; }

  bool timed_send(std::span<const std::byte> msg, int64_t timeout, std::string_view what) {
    int rc = detail::retry(
        [&](int64_t t) { return ipcshm_channel_send(ch_, msg.data(), msg.size(), t); }, timeout);
    if (waited_out(rc)) return false;
    call(rc, what);
    return true;
  }
  std::optional<std::span<std::byte>> timed_reserve(int64_t timeout) {
    void* slot = nullptr;
    int rc = detail::retry([&](int64_t t) { return ipcshm_channel_reserve(ch_, &slot, t); },
                           timeout);
    if (waited_out(rc)) return std::nullopt;
    call(rc, "ipcshm_channel_reserve");
    return std::span<std::byte>(static_cast<std::byte*>(slot), slot_size());
  }
  std::optional<size_t> timed_recv(std::span<std::byte> buf, int64_t timeout) {
    uint64_t len = 0;
    int rc = detail::retry(
        [&](int64_t t) { return ipcshm_channel_recv(ch_, buf.data(), buf.size(), &len, t); },
        timeout);
    if (waited_out(rc)) return std::nullopt;
    call(rc, "ipcshm_channel_recv");
    return static_cast<size_t>(len);
  }
  std::optional<std::span<const std::byte>> timed_peek(int64_t timeout) {
    const void* msg = nullptr;
    uint64_t len = 0;
    int rc = detail::retry([&](int64_t t) { return ipcshm_channel_peek(ch_, &msg, &len, t); },
                           timeout);
    if (waited_out(rc)) return std::nullopt;
    call(rc, "ipcshm_channel_peek");
    return std::span<const std::byte>(static_cast<const std::byte*>(msg),
                                      static_cast<size_t>(len));
  }

  ipcshm_channel_t* ch_ = nullptr;
  bool created_ = false;
};

}  // namespace ipcshm

#endif  // IPCSHM_HPP
