/* cli_holder: a process that holds a shared memory object for the CLI tests,
 * on the public C API (so that it works in sanitized builds too).
 *
 *   cli_holder create ID SIZE   create the volatile object ID (a template works)
 *                               and write "held" at its start
 *   cli_holder attach ID [ro]   attach the existing object ID (read-only: "ro")
 *
 * It prints the object's id and then obeys lines on stdin: "detach" detaches
 * (a volatile object is destroyed if this was its last user), prints
 * "detached" and exits; end of input exits without detaching (the process's
 * exit then does what the kernel does). The tests SIGKILL it to leave a dead
 * volatile object behind. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcshm.h"

int main(int argc, char **argv) {
  ipcshm_t *h = NULL;
  int rc;
  char line[64];
  if (argc >= 4 && strcmp(argv[1], "create") == 0) {
    rc = ipcshm_create(argv[2], strtoull(argv[3], NULL, 10), 0600, 0, &h);
    if (rc >= 0) memcpy(ipcshm_pointer(h), "held", 4);
  } else if (argc >= 3 && strcmp(argv[1], "attach") == 0) {
    rc = ipcshm_attach(argv[2], argc > 3 && strcmp(argv[3], "ro") == 0 ? IPCSHM_READONLY : 0, &h);
  } else {
    fprintf(stderr, "usage: cli_holder create ID SIZE | cli_holder attach ID [ro]\n");
    return 2;
  }
  if (rc < 0) {
    fprintf(stderr, "cli_holder: %s\n", ipcshm_last_error());
    return 1;
  }
  printf("%s\n", ipcshm_id(h));
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    if (strcmp(line, "detach\n") == 0) {
      rc = ipcshm_detach(h);
      printf(rc == 0 ? "detached\n" : "detach failed\n");
      fflush(stdout);
      return rc == 0 ? 0 : 1;
    }
  }
  return 0;
}
