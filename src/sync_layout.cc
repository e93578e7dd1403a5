// The magic and version check of events, semaphores and mutexes.
#include "sync_layout.hpp"

#include <cerrno>

#include "errors.hpp"

namespace ipcshm::core::sync {

const char* kind_of_magic(uint32_t magic) noexcept {
  switch (magic) {
    case kEventMagic:
      return "event";
    case kSemaphoreMagic:
      return "semaphore";
    case kMutexMagic:
      return "mutex";
    default:
      return nullptr;
  }
}

int header_error(const void* p, uint32_t magic, const char* call) noexcept {
  auto* words = static_cast<uint32_t*>(const_cast<void*>(p));
  const uint32_t found = at(words[0]).load(std::memory_order_acquire);
  if (found != magic) {
    const char* other = kind_of_magic(found);
    auto article = [](uint32_t m) { return m == kEventMagic ? "an" : "a"; };
    if (other)
      return fail_msg(EINVAL, "%s(%p): that is %s %s, not %s %s", call, p, article(found), other,
                      article(magic), kind_of_magic(magic));
    return fail_msg(EINVAL,
                    "%s(%p): not an initialised %s (its first word is 0x%08x; initialise it "
                    "once with ipcshm_%s_init)",
                    call, p, kind_of_magic(magic), found,
                    magic == kSemaphoreMagic ? "sem" : kind_of_magic(magic));
  }
  const uint32_t version = at(words[1]).load(std::memory_order_relaxed);
  if (version != kLayoutVersion)
    return fail_msg(EBADMSG,
                    "%s(%p): this %s has layout version %u; this library knows version %u "
                    "(overwritten, or made by a newer library)",
                    call, p, kind_of_magic(magic), version, kLayoutVersion);
  return 0;  // it changed back meanwhile: fine now
}

}  // namespace ipcshm::core::sync
