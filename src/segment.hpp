// A segment: one mapping of one object, as a handle holds it. The kinds
// (POSIX, System V) differ in how they map, what detaching means for the
// object's lifetime, and where their information comes from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ipcshm.h"

namespace ipcshm::core {

class Segment {
 public:
  virtual ~Segment() = default;  // unmaps, and ends a volatile object's life if last
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  void* addr() const noexcept { return addr_; }
  uint64_t size() const noexcept { return size_; }
  const std::string& id() const noexcept { return id_; }

  // Fills every field of *info but struct_size.
  virtual int info(ipcshm_info_t* info) const = 0;

  // A new close-on-exec descriptor of the object (ipcshm_fd), or -errno.
  virtual int dup_fd() const;

  // Changes the object's size and maps it anew (ipcshm_resize), or -errno.
  virtual int resize(uint64_t size);

  // A pinned segment belongs to a channel end (ipcshm_channel_handle): it is
  // neither detached nor resized through its own handle, only closed with
  // the channel, whose addresses into it must stay valid.
  bool pinned() const noexcept { return pinned_; }
  void pin() noexcept { pinned_ = true; }

 protected:
  Segment() = default;
  void* addr_ = nullptr;
  uint64_t size_ = 0;
  std::string id_;

 private:
  bool pinned_ = false;
};

using SegmentPtr = std::unique_ptr<Segment>;

// Flags every kind accepts.
constexpr uint32_t kKnownFlags = IPCSHM_READONLY | IPCSHM_PERSISTENT |
                                 IPCSHM_OPEN_OR_CREATE | IPCSHM_PREFAULT |
                                 IPCSHM_HUGEPAGES | IPCSHM_LOCKED | IPCSHM_RESERVE |
                                 IPCSHM_UNSEALED;

// Permission bits that create and chmod accept, and those always added.
constexpr uint32_t kPermMask = 0777;
constexpr uint32_t kOwnerReadWrite = 0600;

// mlock(2) the range, with a message naming RLIMIT_MEMLOCK on failure.
int lock_pages(void* addr, uint64_t size, const std::string& id);

// Populates the pages of a range (for IPCSHM_PREFAULT); writable: for writing.
int populate_pages(void* addr, uint64_t size, bool writable, const std::string& id);

}  // namespace ipcshm::core
