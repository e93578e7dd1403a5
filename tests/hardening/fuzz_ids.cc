// libFuzzer target for id parsing (SPEC §2, header rule 1): the internal parser
// ipcshm::core::parse_id, linked from src/ids.cc and src/errors.cc, so that the
// fuzzer never creates, attaches or removes a real object. Besides the
// sanitizers' checks, every result is checked against the rules of the header:
// an id is accepted only in one of its forms, and what it parses to formats back
// to an id that parses to the same thing.
//   Built and run by tests/hardening/fuzz.sh.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "errors.hpp"
#include "ids.hpp"

using ipcshm::core::Id;
using ipcshm::core::IdKind;

namespace {

[[noreturn]] void broken(const char* rule, const std::string& text) {
  std::fprintf(stderr, "fuzz_ids: %s: \"%s\" (last error: %s)\n", rule, text.c_str(),
               ipcshm::core::last_error());
  std::abort();
}

void check_posix(const std::string& text, const Id& id) {
  const std::string name = text.substr(1);
  if (text[0] != '/') broken("a POSIX id without its '/'", text);
  if (name.empty() || name.size() > 255) broken("a POSIX name of the wrong length", text);
  if (name.find('/') != std::string::npos) broken("a POSIX name with a second '/'", text);
  if (name == "." || name == "..") broken("\"/.\" or \"/..\" accepted", text);
  if (id.name != text) broken("the name is not the id", text);
  const bool tmpl = name.size() >= 6 && name.compare(name.size() - 6, 6, "XXXXXX") == 0;
  if (id.is_template != tmpl) broken("template flag wrong", text);
  if (tmpl) {
    std::string filled = id.name;
    ipcshm::core::fill_template(&filled);
    Id again;
    if (filled.size() != text.size() || ipcshm::core::parse_id(filled.c_str(), &again) != 0 ||
        again.kind != IdKind::Posix)
      broken("a filled template is not a valid name of the same length", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A C string, as every caller of the API passes: up to the first NUL.
  const std::string text(reinterpret_cast<const char*>(data), strnlen(
      reinterpret_cast<const char*>(data), size));
  Id id;
  const int rc = ipcshm::core::parse_id(text.c_str(), &id);
  if (rc == -EINVAL) {
    if (ipcshm::core::last_error()[0] == '\0') broken("-EINVAL without a message", text);
    return 0;
  }
  if (rc != 0) broken("a result other than 0 or -EINVAL", text);

  char buf[64];
  Id again;
  switch (id.kind) {
    case IdKind::Posix:
      check_posix(text, id);
      break;
    case IdKind::SysvKey:
      if (text.compare(0, 4, "key:") != 0) broken("a key without \"key:\"", text);
      if (id.key == 0) broken("key 0 accepted (it is \"private\")", text);
      std::snprintf(buf, sizeof buf, "key:0x%x", static_cast<unsigned>(id.key));
      if (ipcshm::core::parse_id(buf, &again) != 0 || again.kind != IdKind::SysvKey ||
          again.key != id.key)
        broken("a key does not format back to itself", text);
      std::snprintf(buf, sizeof buf, "key:%u", static_cast<unsigned>(id.key));
      if (ipcshm::core::parse_id(buf, &again) != 0 || again.key != id.key)
        broken("a key does not format back to itself in decimal", text);
      break;
    case IdKind::SysvPrivate:
      if (text != "private") broken("\"private\" from another text", text);
      break;
    case IdKind::SysvShmid:
      if (text.compare(0, 6, "shmid:") != 0) broken("a shmid without \"shmid:\"", text);
      if (id.shmid < 0) broken("a negative shmid accepted", text);
      if (ipcshm::core::shmid_id(id.shmid) != "shmid:" + std::to_string(id.shmid) ||
          ipcshm::core::parse_id(ipcshm::core::shmid_id(id.shmid).c_str(), &again) != 0 ||
          again.shmid != id.shmid)
        broken("a shmid does not format back to itself", text);
      break;
    case IdKind::Memfd:
      if (text.compare(0, 6, "memfd:") != 0) broken("a memfd id without \"memfd:\"", text);
      if (text.size() < 7 || text.size() > 6 + 249) broken("a memfd label not 1..249 bytes", text);
      if (id.name != text) broken("a memfd id that is not the text", text);
      if (id.is_template) {
        std::string filled = id.name;
        ipcshm::core::fill_template(&filled);
        if (filled.size() != text.size() || filled.compare(0, 6, "memfd:") != 0 ||
            ipcshm::core::parse_id(filled.c_str(), &again) != 0 || again.kind != IdKind::Memfd)
          broken("a filled memfd template is not a memfd id of the same length", text);
      }
      break;
  }
  return 0;
}
