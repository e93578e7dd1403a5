/* A two-process demo of libipcshm.
 *
 *   ipcshm-demo write [ID]   creates a volatile object (default "/ipcshm-demo-XXXXXX"),
 *                            writes a greeting, prints the canonical id on stdout,
 *                            and waits (10 s at most) for a reader to answer.
 *   ipcshm-demo read ID      attaches the object by id, prints the greeting and
 *                            writes an answer into the same memory.
 *
 * When the writer detaches after the answer, the object, volatile, is gone.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcshm.h"

enum { SIZE = 4096, ANSWER_AT = 2048 };

static int fail(const char *what, int rc) {
  fprintf(stderr, "ipcshm-demo: %s: %s (%s)\n", what, ipcshm_last_error(),
          ipcshm_strerror(rc));
  return 1;
}

static int do_write(const char *id) {
  ipcshm_t *h = NULL;
  int rc = ipcshm_create(id, SIZE, 0600, 0, &h);
  if (rc < 0) return fail("create", rc);
  char *mem = ipcshm_pointer(h);
  snprintf(mem, ANSWER_AT, "hello from writer pid %ld", (long)getpid());
  printf("%s\n", ipcshm_id(h));
  fflush(stdout);
  fprintf(stderr, "writer: created %s (%llu bytes), wrote \"%s\"\n", ipcshm_id(h),
          (unsigned long long)ipcshm_size(h), mem);
  volatile char *answer = mem + ANSWER_AT;
  for (int i = 0; i < 10000 && answer[0] == '\0'; ++i) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  int ok = answer[0] != '\0';
  if (ok) fprintf(stderr, "writer: the reader answered \"%s\"\n", (const char *)answer);
  else fprintf(stderr, "writer: no answer within 10 s\n");
  ipcshm_detach(h);  /* the last user: the volatile object goes away */
  return ok ? 0 : 1;
}

static int do_read(const char *id) {
  ipcshm_t *h = NULL;
  int rc = ipcshm_attach(id, 0, &h);
  if (rc < 0) return fail("attach", rc);
  char *mem = ipcshm_pointer(h);
  fprintf(stderr, "reader: attached %s, read \"%s\"\n", id, mem);
  snprintf(mem + ANSWER_AT, SIZE - ANSWER_AT, "hello back from reader pid %ld",
           (long)getpid());
  ipcshm_detach(h);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "write") == 0)
    return do_write(argc >= 3 ? argv[2] : "/ipcshm-demo-XXXXXX");
  if (argc == 3 && strcmp(argv[1], "read") == 0) return do_read(argv[2]);
  fprintf(stderr, "usage: ipcshm-demo write [ID] | ipcshm-demo read ID\n");
  return 2;
}
