// Command lines of the ipcshm tool: commands, options, operands, numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ipcshm_cli {

struct Command {
  const char* name;
  const char* synopsis;
  std::string (*help)();  // the text after "Usage: <synopsis>"
  int (*run)(int argc, char** argv);
};

extern const Command* g_command;  // the command being run (usage errors, --help)

struct Option {
  const char* name;    // long name, without "--"
  bool has_arg;
  int key;             // passed to the callback; long-only options use keys >= 256
  char short_name = 0; // e.g. 'o' for -o, 0 for none
};

// Parses the command's options GNU style (they may follow the operands; "--"
// ends them) and returns the operands. -h/--help prints the command's help and
// sets *go_on to false. Unknown options and missing values are usage errors.
std::vector<std::string> parse_options(int argc, char** argv, const std::vector<Option>& opts,
                                       const std::function<void(int, const char*)>& on_option,
                                       bool* go_on);

void expect_operands(const std::vector<std::string>& ops, size_t min, size_t max,
                     const char* what);

// A byte count: 4096, 64K, 1.5G, 2MiB (powers of 1024; exact fractions only).
bool parse_size(const char* text, uint64_t* out, std::string* why);
uint64_t size_arg(const char* text, const char* what, bool allow_zero);

// Permission bits in octal: 0640, 640. Bits above 0777 are a usage error.
uint32_t mode_arg(const char* text);
void note_owner_bits(uint32_t mode);

}  // namespace ipcshm_cli
