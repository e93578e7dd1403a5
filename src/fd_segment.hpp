// Objects reached through a descriptor, POSIX and memfd: the descriptor and
// the mapping a handle holds, and what both kinds do alike with them (map with
// the page options, hand out descriptors, resize, report fstat).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "resources.hpp"
#include "segment.hpp"

namespace ipcshm::core {

class FdSegment : public Segment {
 public:
  int dup_fd() const override;
  int resize(uint64_t size) override;

 protected:
  // flags: those given at create or attach (READONLY, PREFAULT, LOCKED and
  // RESERVE apply to memory that resize adds). granule: the size unit of the
  // backing store (a huge page for hugetlbfs, else 1).
  FdSegment(std::string id, UniqueFd fd, Mapping map, uint32_t flags, uint64_t granule);

  UniqueFd fd_;
  Mapping map_;
  uint32_t flags_;
  uint64_t granule_;
};

// Maps `size` bytes of fd, read-only with IPCSHM_READONLY, and applies the page
// options (IPCSHM_PREFAULT, IPCSHM_LOCKED). On failure nothing stays mapped
// and the message names `id` and, for ENOMEM, the limit that said no.
int map_fd(int fd, uint64_t size, uint32_t flags, const std::string& id, Mapping* out);

// The size unit of the file system that holds fd: its huge page size on
// hugetlbfs, else 1 (tmpfs sizes files to the byte). *huge tells which.
uint64_t size_granule(int fd, bool* huge);

// size rounded up to a whole number of granules (a granule of 1 changes nothing);
// the caller checks that it does not overflow.
uint64_t round_up(uint64_t size, uint64_t granule);

// The message of a failed ftruncate/fallocate of `id` to `size` bytes: names
// the free space of /dev/shm on ENOSPC and the seals on EPERM.
int size_error(int err, int fd, const std::string& id, uint64_t size, const char* call);

// Fills *info from fstat for an object of `kind` with info->flags = flags.
void fill_stat_info(const struct stat& st, uint32_t kind, uint32_t flags, ipcshm_info_t* info);

// The message for an exhausted huge page pool, naming /proc/sys/vm/nr_hugepages.
int hugepages_error(int err, const char* call, const std::string& id, uint64_t size);

}  // namespace ipcshm::core
