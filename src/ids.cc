#include "ids.hpp"

#include <bsd/stdlib.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>

#include "errors.hpp"

namespace ipcshm::core {
namespace {

constexpr size_t kMaxPosixName = 255;  // NAME_MAX of the file in /dev/shm
constexpr size_t kTemplateLength = 6;  // as mkstemp
constexpr size_t kMaxMemfdLabel = 249; // NAME_MAX less memfd_create's "memfd:"

bool starts_with(const char* text, const char* prefix) {
  return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

bool ends_in_template(const char* name, size_t len) {
  return len >= kTemplateLength &&
         std::strspn(name + len - kTemplateLength, "X") == kTemplateLength;
}

int parse_posix(const char* text, Id* out) {
  const char* name = text + 1;
  size_t len = std::strlen(name);
  if (len == 0 || len > kMaxPosixName)
    return fail_msg(EINVAL,
                    "invalid id \"%.64s\": a POSIX name is '/' then 1..255 bytes "
                    "(this one has %zu)",
                    text, len);
  if (std::strchr(name, '/'))
    return fail_msg(EINVAL,
                    "invalid id \"%.64s\": a POSIX name has no '/' after the leading one",
                    text);
  if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
    return fail_msg(EINVAL, "invalid id \"%s\": \"/.\" and \"/..\" are not names", text);
  out->kind = IdKind::Posix;
  out->name = text;
  out->is_template = ends_in_template(name, len);
  return 0;
}

int parse_memfd(const char* text, Id* out) {
  const char* label = text + 6;
  size_t len = std::strlen(label);
  if (len == 0 || len > kMaxMemfdLabel)
    return fail_msg(EINVAL,
                    "invalid id \"%.64s\": a memfd id is memfd: then a label of 1..%zu bytes "
                    "(this one has %zu)",
                    text, kMaxMemfdLabel, len);
  out->kind = IdKind::Memfd;
  out->name = text;
  out->is_template = ends_in_template(label, len);
  return 0;
}

// "key:0x1234" (up to 8 hex digits) or "key:4660" (decimal, int32 or uint32
// range); key 0 is IPC_PRIVATE, which has its own id.
int parse_key(const char* text, Id* out) {
  const char* digits = text + 4;
  long long value = 0;
  if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    const char* hex = digits + 2;
    size_t n = std::strspn(hex, "0123456789abcdefABCDEF");
    if (n == 0 || n > 8 || hex[n] != '\0')
      return fail_msg(EINVAL,
                      "invalid id \"%.64s\": a System V key is key:0x followed by "
                      "1..8 hex digits, or key: and a decimal number",
                      text);
    value = static_cast<long long>(std::strtoull(hex, nullptr, 16));
  } else {
    // strtonum would also take leading blanks and '+': the id has one spelling.
    const char* err = nullptr;
    const char* first = digits[0] == '-' ? digits + 1 : digits;
    if (!std::isdigit(static_cast<unsigned char>(*first))) err = "invalid";
    if (!err) value = strtonum(digits, INT32_MIN, UINT32_MAX, &err);
    if (err)
      return fail_msg(EINVAL,
                      "invalid id \"%.64s\": a System V key is key:0x followed by "
                      "1..8 hex digits, or key: and a decimal number (%s)",
                      text, err);
  }
  if (value == 0)
    return fail_msg(EINVAL,
                    "invalid id \"%s\": key 0 is IPC_PRIVATE; say \"private\"", text);
  out->kind = IdKind::SysvKey;
  out->key = static_cast<int32_t>(static_cast<uint32_t>(value));
  return 0;
}

int parse_shmid(const char* text, Id* out) {
  const char* err = nullptr;
  long long value = 0;
  if (!std::isdigit(static_cast<unsigned char>(text[6]))) err = "invalid";
  if (!err) value = strtonum(text + 6, 0, INT_MAX, &err);
  if (err)
    return fail_msg(EINVAL,
                    "invalid id \"%.64s\": a System V identifier is shmid: and a "
                    "number 0..%d (%s)",
                    text, INT_MAX, err);
  out->kind = IdKind::SysvShmid;
  out->shmid = static_cast<int32_t>(value);
  return 0;
}

}  // namespace

int parse_id(const char* text, Id* out) {
  if (!text) return fail_msg(EINVAL, "id is NULL");
  if (text[0] == '/') return parse_posix(text, out);
  if (starts_with(text, "key:")) return parse_key(text, out);
  if (starts_with(text, "shmid:")) return parse_shmid(text, out);
  if (std::strcmp(text, "private") == 0) {
    out->kind = IdKind::SysvPrivate;
    return 0;
  }
  if (starts_with(text, "memfd:")) return parse_memfd(text, out);
  return fail_msg(EINVAL,
                  "invalid id \"%.64s\": expected \"/name\", \"key:0x1234\", "
                  "\"key:4660\", \"private\", \"shmid:N\" or \"memfd:label\"",
                  text);
}

void fill_template(std::string* name) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t i = name->size(); i > 1 && (*name)[i - 1] == 'X'; --i)
    (*name)[i - 1] = kAlphabet[arc4random_uniform(sizeof kAlphabet - 1)];
}

std::string shmid_id(int shmid) { return "shmid:" + std::to_string(shmid); }

}  // namespace ipcshm::core
