// RAII owners of the kernel resources a handle holds: a descriptor, a mmap
// mapping, a System V attachment. Move-only; release on destruction.
#pragma once

#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstddef>
#include <utility>

#include "writable_pages.hpp"

namespace ipcshm::core {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A mapping made by mmap(2).
class Mapping {
 public:
  Mapping() noexcept = default;
  Mapping(void* addr, size_t len) noexcept : addr_(addr), len_(len) {}
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      len_ = std::exchange(o.len_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  void* get() const noexcept { return addr_; }
  size_t size() const noexcept { return len_; }
  // Takes over what mremap(2) made of this mapping (the old one is gone).
  void moved(void* addr, size_t len) noexcept {
    if (addr != addr_) note_unmap();  // the old range may now hold anything
    addr_ = addr;
    len_ = len;
  }
  void reset() noexcept {
    if (addr_) {
      ::munmap(addr_, len_);
      note_unmap();  // forget that these pages were writable (writable_pages.hpp)
    }
    addr_ = nullptr;
    len_ = 0;
  }

 private:
  void* addr_ = nullptr;
  size_t len_ = 0;
};

// An attachment made by shmat(2).
class SysvAttachment {
 public:
  SysvAttachment() noexcept = default;
  explicit SysvAttachment(void* addr) noexcept : addr_(addr) {}
  SysvAttachment(SysvAttachment&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)) {}
  SysvAttachment& operator=(SysvAttachment&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
    }
    return *this;
  }
  SysvAttachment(const SysvAttachment&) = delete;
  SysvAttachment& operator=(const SysvAttachment&) = delete;
  ~SysvAttachment() { reset(); }

  void* get() const noexcept { return addr_; }
  void reset() noexcept {
    if (addr_) {
      ::shmdt(addr_);
      note_unmap();
    }
    addr_ = nullptr;
  }

 private:
  void* addr_ = nullptr;
};

}  // namespace ipcshm::core
