// ipcshm.hpp — optional header-only C++20 RAII wrapper over the C API of
// ipcshm.h. No second implementation: every call goes through libipcshm.
//
//   auto shm = ipcshm::shm::create("/frames-XXXXXX", 1 << 20);
//   std::span<std::byte> bytes = shm.bytes();
//   std::string id{shm.id()};          // attach it elsewhere: ipcshm::shm::attach(id)
//
// Failures throw std::system_error whose code() is the errno (generic_category)
// and whose what() carries the library's message (ipcshm_last_error()).
#ifndef IPCSHM_HPP
#define IPCSHM_HPP

#if __cplusplus < 202002L
#error "ipcshm.hpp needs C++20 (std::span); from older C++, use ipcshm.h"
#endif

#include <cerrno>
#include <complex>
#include <cstddef>
#include <cstdint>
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

}  // namespace ipcshm

#endif  // IPCSHM_HPP
