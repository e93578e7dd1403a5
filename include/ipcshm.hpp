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

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "ipcshm.h"

namespace ipcshm {

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
