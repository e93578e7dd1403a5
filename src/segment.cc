// What a kind of segment cannot do, it says so: System V segments have no
// descriptor and the kernel cannot resize them.
#include "errors.hpp"
#include "segment.hpp"

namespace ipcshm::core {

int Segment::dup_fd() const {
  return fail_msg(EOPNOTSUPP,
                  "\"%s\" is a System V segment, which has no descriptor: pass its id "
                  "instead",
                  id_.c_str());
}

int Segment::resize(uint64_t) {
  return fail_msg(EOPNOTSUPP,
                  "ipcshm_resize(\"%s\"): the kernel cannot resize a System V segment; "
                  "create a new one and copy",
                  id_.c_str());
}

}  // namespace ipcshm::core
