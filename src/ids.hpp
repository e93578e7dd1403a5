// Ids: the one string that names an object in every language (SPEC §2).
#pragma once

#include <cstdint>
#include <string>

namespace ipcshm::core {

enum class IdKind { Posix, SysvKey, SysvPrivate, SysvShmid, Memfd };

struct Id {
  IdKind kind = IdKind::Posix;
  std::string name;      // Posix: "/name"; Memfd: "memfd:label"
  bool is_template = false;  // Posix, Memfd: the name ends in "XXXXXX"
  int32_t key = 0;       // SysvKey
  int32_t shmid = -1;    // SysvShmid
};

// Parses `text` into *out; -EINVAL with a message naming the rule otherwise.
int parse_id(const char* text, Id* out);

// Replaces the trailing "XXXXXX..." of a template name (or memfd id) with
// random characters.
void fill_template(std::string* name);

// The canonical id of a System V segment: "shmid:N".
std::string shmid_id(int shmid);

}  // namespace ipcshm::core
