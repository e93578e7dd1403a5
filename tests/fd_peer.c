/* fd_peer: the other process of the descriptor-passing tests, a separate
 * program (spawned, so it shares no memory with the test but what it receives).
 *
 *   fd_peer SOCKET SEED [--readonly] [--nobody] [--attach-by-id]
 *
 * SOCKET is "fd:N" (an inherited socket) or "path:/x/y" (a named socket to
 * connect to). The peer receives one object with ipcshm_recv, prints what it
 * finds as "key=value" lines on stdout (the last is "end=1"), writes the byte pattern SEED+1 over the
 * object (unless read-only), writes "d" on the socket, and keeps the object
 * until the test closes its end of the socket. --nobody: drop root first (so the
 * object's permissions would refuse it); --attach-by-id: also try
 * ipcshm_attach(id) and report its result. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipcshm.h"

static uint8_t pattern_byte(size_t i, uint8_t seed) {
  return (uint8_t)((i * 131u + seed) ^ (i >> 8)); /* as tests/process_util.hpp */
}

static int open_socket(const char* spec) {
  if (strncmp(spec, "fd:", 3) == 0) return atoi(spec + 3);
  if (strncmp(spec, "path:", 5) != 0) return -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", spec + 5);
  if (s < 0 || connect(s, (struct sockaddr*)&addr, sizeof addr) != 0) return -1;
  return s;
}

static int drop_to_nobody(void) {
  struct passwd* pw = getpwnam("nobody");
  return pw && setgroups(0, NULL) == 0 && setgid(pw->pw_gid) == 0 &&
                 setuid(pw->pw_uid) == 0
             ? 0
             : -1;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const uint8_t seed = (uint8_t)atoi(argv[2]);
  int readonly = 0, nobody = 0, by_id = 0;
  for (int i = 3; i < argc; ++i) {
    readonly |= strcmp(argv[i], "--readonly") == 0;
    nobody |= strcmp(argv[i], "--nobody") == 0;
    by_id |= strcmp(argv[i], "--attach-by-id") == 0;
  }
  if (nobody && drop_to_nobody() != 0) return 3;
  int sock = open_socket(argv[1]);
  if (sock < 0) return 4;

  ipcshm_t* h = NULL;
  int rc = ipcshm_recv(sock, readonly ? IPCSHM_READONLY : 0, &h);
  printf("recv=%d\n", rc);
  if (rc < 0) {
    printf("error=%s\nend=1\n", ipcshm_last_error());
    return 0;
  }
  ipcshm_info_t info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  ipcshm_handle_info(h, &info);
  const uint8_t* p = ipcshm_pointer(h);
  const uint64_t size = ipcshm_size(h);
  int pattern_ok = 1;
  for (uint64_t i = 0; i < size; ++i) pattern_ok &= p[i] == pattern_byte(i, seed);
  printf("id=%s\nkind=%u\nsize=%llu\nuid=%u\npattern=%s\n", ipcshm_id(h), info.kind,
         (unsigned long long)size, (unsigned)geteuid(), pattern_ok ? "ok" : "bad");
  if (by_id) {
    ipcshm_t* again = NULL;
    printf("attach_by_id=%d\n", ipcshm_attach(ipcshm_id(h), readonly ? IPCSHM_READONLY : 0,
                                              &again));
    if (again) ipcshm_detach(again);
  }
  if (!readonly) {
    rc = ipcshm_resize(h, size * 2);
    printf("resize=%d\n", rc);
    if (rc < 0) printf("resize_error=%s\n", ipcshm_last_error());
    if (rc == 0) ipcshm_resize(h, size); /* memfd: -EPERM (sealed); POSIX: back */
    uint8_t* w = ipcshm_pointer(h);
    for (uint64_t i = 0; i < size; ++i) w[i] = pattern_byte(i, (uint8_t)(seed + 1));
  }
  printf("end=1\n");
  fflush(stdout);
  if (write(sock, "d", 1) != 1) return 5;
  char c;
  while (read(sock, &c, 1) > 0) {
  }
  return ipcshm_detach(h) == 0 ? 0 : 6;
}
