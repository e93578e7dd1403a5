// ipcshm — list, inspect, create, remove, read, write and reclaim shared memory.
//
// Built on libipcshm's public C API (ipcshm.h), libsmartcols for its tables
// (the library of lsipc and lsblk) and libbsd for sizes and numbers. It looks
// past the API only to read: /dev/shm and /proc/sysvipc/shm to list objects
// (objects.cc), /proc/locks for liveness (liveness.cc), /proc/PID/maps and
// /proc/PID/fd for holders (proc_scan.cc). The commands live in cmd_*.cc, the
// output in output.cc and columns.cc.
//
// Exit status, as ipcs/ipcrm users expect: 0 success, 1 a failure (no such object,
// permission denied, ...; the message on stderr), 2 bad usage.
#include <cinttypes>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "options.hpp"

#ifndef IPCSHM_CLI_VERSION
#define IPCSHM_CLI_VERSION "unknown"
#endif

namespace ipcshm_cli {
namespace {

const Command kCommands[] = {
    {"ls", "ipcshm ls [--posix|--sysv] [OUTPUT OPTIONS] [ID...]", ls_help, cmd_ls},
    {"info", "ipcshm info ID... [OUTPUT OPTIONS]", info_help, cmd_info},
    {"fuser", "ipcshm fuser ID... [OUTPUT OPTIONS]", fuser_help, cmd_fuser},
    {"create", "ipcshm create ID SIZE [--mode MODE] [--persistent]", create_help, cmd_create},
    {"rm", "ipcshm rm ID...", rm_help, cmd_rm},
    {"chmod", "ipcshm chmod ID MODE", chmod_help, cmd_chmod},
    {"cat", "ipcshm cat ID [--offset N] [--length N]", cat_help, cmd_cat},
    {"write", "ipcshm write ID [--offset N] < FILE", write_help, cmd_write},
    {"gc", "ipcshm gc [--dry-run] [ID...]", gc_help, cmd_gc},
};

const char kMainHelp[] =
    "Usage: ipcshm COMMAND [ARGS]...\n"
    "List, inspect, create, remove, read and write shared memory: POSIX objects\n"
    "(/dev/shm) and System V segments, through libipcshm.\n"
    "\n"
    "Commands:\n"
    "  ls [--posix|--sysv] [ID...]       list objects, their status and holders\n"
    "  info ID...                        the fields of an object that mean something\n"
    "  fuser ID...                       the processes that use an object\n"
    "  create ID SIZE [--mode MODE]      create a persistent object, print its id\n"
    "  rm ID...                          remove objects (or what squats their names)\n"
    "  chmod ID MODE                     set the permission bits (octal)\n"
    "  cat ID [--offset N] [--length N]  copy the object's bytes to stdout\n"
    "  write ID [--offset N]             copy stdin into the object\n"
    "  gc [--dry-run] [ID...]            remove volatile objects whose users died\n"
    "\n"
    "IDs:\n"
    "  /name         a POSIX object (/nameXXXXXX: a unique name, for create)\n"
    "  key:0x1234    a System V segment by key (also key:4660)\n"
    "  shmid:65538   a System V segment by identifier\n"
    "  private       a new System V segment (create only)\n"
    "\n"
    "Sizes and offsets: 4096, 64K, 1.5G (K, M, G, T, P, E: powers of 1024).\n"
    "Output options of ls, info and fuser, as lsipc's: -o/--output, --noheadings,\n"
    "-r/--raw, -J/--json, -e/--export, -b/--bytes, -P/--numeric-perms, --time-format.\n"
    "Exit status: 0 success, 1 failure (no such object, permission denied, ...),\n"
    "2 bad usage.\n"
    "\n"
    "  -h, --help     this help ('ipcshm COMMAND --help' for a command's)\n"
    "  -V, --version  the versions of the tool and of the library\n";

void print_version() {
  const uint32_t v = ipcshm_version();
  std::printf("ipcshm %s (libipcshm %" PRIu32 ".%" PRIu32 ".%" PRIu32 ")\n", IPCSHM_CLI_VERSION,
              v >> 16, (v >> 8) & 0xff, v & 0xff);
}

int finish(int status) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "ipcshm: write(stdout): %s\n", std::strerror(errno));
    return status == kExitOk ? kExitFail : status;
  }
  return status;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("ipcshm: missing command\nTry 'ipcshm --help' for more information.\n", stderr);
    return kExitUsage;
  }
  const std::string first = argv[1];
  if (first == "-h" || first == "--help" || first == "help") {
    if (first == "help" && argc > 2) {
      for (const Command& c : kCommands)
        if (c.name == std::string(argv[2])) {
          std::printf("Usage: %s\n%s", c.synopsis, c.help().c_str());
          return kExitOk;
        }
      complain("unknown command '%s'", argv[2]);
      std::fputs("Try 'ipcshm --help' for more information.\n", stderr);
      return kExitUsage;
    }
    std::fputs(kMainHelp, stdout);
    return kExitOk;
  }
  if (first == "-V" || first == "--version") {
    print_version();
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (first != c.name) continue;
    g_command = &c;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const UsageError& e) {
      complain("%s: %s", c.name, e.message.c_str());
      std::fprintf(stderr, "Usage: %s\nTry 'ipcshm %s --help' for more information.\n",
                   c.synopsis, c.name);
      return kExitUsage;
    } catch (const std::bad_alloc&) {
      complain("out of memory");
      return kExitFail;
    }
  }
  complain(first[0] == '-' ? "unknown option '%s'" : "unknown command '%s'", first.c_str());
  std::fputs("Try 'ipcshm --help' for more information.\n", stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace ipcshm_cli

int main(int argc, char** argv) {
  // The locale decides what the terminal can print and how dates are spelled,
  // as for lsipc.
  std::setlocale(LC_ALL, "");
  return ipcshm_cli::finish(ipcshm_cli::run(argc, argv));
}
