/* cli_holder ID SIZE: creates the volatile POSIX object ID (a template works),
 * writes "held" at its start, prints its id and holds it until killed. The CLI
 * tests SIGKILL it to leave a dead volatile object for `ipcshm gc`, or keep it
 * running as a live user. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcshm.h"

int main(int argc, char **argv) {
  ipcshm_t *h = NULL;
  int rc;
  if (argc != 3) {
    fprintf(stderr, "usage: cli_holder ID SIZE\n");
    return 2;
  }
  rc = ipcshm_create(argv[1], strtoull(argv[2], NULL, 10), 0600, 0, &h);
  if (rc < 0) {
    fprintf(stderr, "cli_holder: %s\n", ipcshm_last_error());
    return 1;
  }
  memcpy(ipcshm_pointer(h), "held", 4);
  printf("%s\n", ipcshm_id(h));
  fflush(stdout);
  for (;;) pause();
}
