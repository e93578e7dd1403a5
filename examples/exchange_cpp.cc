// The C++ side of the cross-language exchange: attaches by id with the RAII
// wrapper, checks the pattern, leaves its mark in slot argv[2].
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ipcshm.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: exchange-cpp ID SLOT\n");
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
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "c++: %s\n", e.what());
    return 1;
  }
  return 0;
}
