// The C++ side of the cross-language exchange: attaches by id with the RAII
// wrapper, checks the pattern, leaves its mark in slot argv[2]; attaches the
// typed array argv[3], checks it and sets a(slot, 1) = 100 + slot.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ipcshm.hpp"

namespace {

// The typed array: double, dims {3, 2} (column-major: (i, j) at i + 3 * j);
// a(i, j) == 10i + j, except the marks of the slots before ours (a(s, 1) ==
// 100 + s); then ours. Returns 0, or the exit status.
int array_round(const char* id, int slot) {
  auto arr = ipcshm::shm::attach(id);
  std::vector<int64_t> dims = arr.dims();
  if (dims != std::vector<int64_t>{3, 2} || slot < 0 || slot >= 3) {
    std::fprintf(stderr, "c++: %s: %zu dims, not {3, 2} with a row for slot %d\n", id,
                 dims.size(), slot);
    return 4;
  }
  auto a = arr.array<double>();  // throws unless the header says double
  std::string seen;
  bool ok = true;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      double v = a[i + 3 * j];
      int want = j == 1 && i < slot ? 100 + i : 10 * i + j;
      ok = ok && v == want;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%g", j ? " " : "", v);
      seen += buf;
    }
    if (i < 2) seen += "; ";
  }
  if (!ok) {
    std::fprintf(stderr, "c++: %s holds [%s], not what C and the others wrote\n", id,
                 seen.c_str());
    return 4;
  }
  a[slot + 3 * 1] = 100 + slot;
  std::fprintf(stderr, "c++:    array %s, double %lldx%lld [%s] ok; set a[%d,1] = %d\n", id,
               static_cast<long long>(dims[0]), static_cast<long long>(dims[1]),
               seen.c_str(), slot, 100 + slot);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: exchange-cpp ID SLOT ARRAY_ID\n");
    return 2;
  }
  try {
    auto shm = ipcshm::shm::attach(argv[1]);
    auto bytes = shm.as<unsigned char>();
    for (int i = 0; i < 256; ++i)
      if (bytes[i] != ((i * 7 + 3) & 0xff)) {
        std::fprintf(stderr, "c++: pattern differs at byte %d\n", i);
        return 3;
      }
    std::fprintf(stderr, "c++:    attached %s, pattern ok, greeting \"%s\"\n", argv[1],
                 reinterpret_cast<const char*>(&bytes[256]));
    std::string mark = "c++ pid " + std::to_string(getpid()) + " was here";
    std::memcpy(&bytes[1024 + 64 * std::atoi(argv[2])], mark.c_str(), mark.size() + 1);
    return array_round(argv[3], std::atoi(argv[2]));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "c++: %s\n", e.what());
    return 1;
  }
}
