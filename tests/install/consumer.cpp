// A C++ program of a user, built against an installed libipcshm with nothing but
// `pkg-config --cflags --libs ipcshm` (tests/install/install_test.py drives it),
// through the installed C++ wrapper ipcshm.hpp.
//
//   consumer_cpp ID LIB   attaches ID (made by consumer.c), checks its pattern
//                         and answers with the complement of every byte
//
// LIB is the installed library this program must have loaded: checked in
// /proc/self/maps.
#include <ipcshm.hpp>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

constexpr uint64_t kSize = 10000;

unsigned char pattern(uint64_t i) { return static_cast<unsigned char>(i * 7u + 1u); }

bool loaded_from(const std::filesystem::path& want) {
  const auto want_real = std::filesystem::canonical(want);
  std::ifstream maps("/proc/self/maps");
  bool found = false;
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos || line.find("libipcshm", slash) == std::string::npos)
      continue;
    const std::filesystem::path path = line.substr(slash);
    if (std::filesystem::canonical(path) != want_real) {
      std::fprintf(stderr, "consumer_cpp: loaded %s, expected %s\n", path.c_str(),
                   want_real.c_str());
      return false;
    }
    found = true;
  }
  if (!found) std::fprintf(stderr, "consumer_cpp: no libipcshm in /proc/self/maps\n");
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer_cpp ID LIB\n");
    return 2;
  }
  try {
    if (!loaded_from(argv[2])) return 1;
    auto shm = ipcshm::shm::attach(argv[1]);
    if (shm.size() != kSize) {
      std::fprintf(stderr, "consumer_cpp: size %llu\n",
                   static_cast<unsigned long long>(shm.size()));
      return 1;
    }
    auto bytes = shm.bytes();
    for (std::size_t i = 0; i < bytes.size(); i++) {
      const auto b = std::to_integer<unsigned char>(bytes[i]);
      if (b != pattern(i)) {
        std::fprintf(stderr, "consumer_cpp: byte %zu is %u, expected %u\n", i, b,
                     pattern(i));
        return 1;
      }
    }
    for (std::size_t i = 0; i < bytes.size(); i++)
      bytes[i] = static_cast<std::byte>(static_cast<unsigned char>(~pattern(i)));
    std::printf("consumer.cpp: checked %s and wrote the answer\n",
                std::string(shm.id()).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer_cpp: %s\n", e.what());
    return 1;
  }
}
