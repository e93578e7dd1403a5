/* The C side of the cross-language exchange (examples/exchange.py runs it).
 *
 *   exchange-c create [SOCK]   creates a volatile POSIX object and writes a
 *                              pattern and a greeting, creates a volatile typed
 *                              array, prints the two ids (one a line), then waits
 *                              for a line on stdin and checks the marks that the
 *                              other languages left (names given on that line).
 *                              SOCK: an inherited UNIX-domain socket; C sends an
 *                              anonymous memfd object over it (to Python).
 *
 * Layout of the 4096-byte object: bytes 0..255 hold (i * 7 + 3) & 0xff; the
 * greeting is at 256; each language writes a mark at 1024 + 64 * slot.
 *
 * The array: float64, dims {3, 2}, column-major (element (i, j) at i + 3 * j),
 * element (i, j) = 10 * i + j; each language sets (slot, 1) to 100 + slot.
 *
 * The memfd "memfd:exchange" (4096 bytes): a greeting at 0; the receiver's mark
 * at MEMFD_MARK_AT.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcshm.h"

enum { SIZE = 4096, GREETING_AT = 256, MARKS_AT = 1024, MARK_SIZE = 64 };
enum { ROWS = 3, COLS = 2, MEMFD_MARK_AT = 256 };

/* Detaches a volatile POSIX object and says whether it is gone; 0 if it is. */
static int detach_and_check(ipcshm_t *h) {
  char id[300];
  snprintf(id, sizeof id, "%s", ipcshm_id(h));
  ipcshm_detach(h);
  ipcshm_info_t info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  int rc = ipcshm_info(id, &info);
  fprintf(stderr, "c:      detached; %s %s\n", id,
          rc == -ENOENT ? "is gone (volatile, last user)" : "STILL EXISTS");
  return rc != -ENOENT;
}

/* Checks the array after the others ran: column 0 as C wrote it, (slot, 1) =
 * 100 + slot for the `sides` slots that were given, the rest of column 1 as C
 * wrote it. Returns the number of wrong elements. */
static int check_array(const double *a, int sides) {
  int bad = 0;
  char seen[128] = "";
  for (int i = 0; i < ROWS; ++i) {
    bad += a[i] != 10.0 * i;
    double want = i < sides ? 100.0 + i : 10.0 * i + 1;
    bad += a[i + ROWS * 1] != want;
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof seen - n, "%s%g", i ? " " : "", a[i + ROWS * 1]);
  }
  fprintf(stderr, "c:      array column 1 now %s, column 0 unchanged: %s\n", seen,
          bad ? "WRONG" : "ok");
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 || strcmp(argv[1], "create") != 0) {
    fprintf(stderr, "usage: exchange-c create [SOCK]\n");
    return 2;
  }
  int sock = -1;
  if (argc == 3) {
    char *end = NULL;
    long v = strtol(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0' || v < 0 || v > 1 << 20) {
      fprintf(stderr, "c: SOCK is a descriptor number, not \"%s\"\n", argv[2]);
      return 2;
    }
    sock = (int)v;
  }

  ipcshm_t *h = NULL, *arr = NULL, *mfd = NULL;
  int rc = ipcshm_create("/ipcshm-exchange-XXXXXX", SIZE, 0600, 0, &h);
  if (rc < 0) {
    fprintf(stderr, "c: %s\n", ipcshm_last_error());
    return 1;
  }
  unsigned char *mem = ipcshm_pointer(h);
  for (int i = 0; i < 256; ++i) mem[i] = (unsigned char)((i * 7 + 3) & 0xff);
  snprintf((char *)mem + GREETING_AT, 128, "hello from C, pid %ld", (long)getpid());
  fprintf(stderr, "c:      created %s, wrote the pattern and \"%s\"\n", ipcshm_id(h),
          (char *)mem + GREETING_AT);

  /* The typed array, next to it. */
  const int64_t dims[2] = {ROWS, COLS};
  rc = ipcshm_array_create("/exchange-array-XXXXXX", IPCSHM_FLOAT64, 2, dims, 0600, 0, &arr);
  double *a = rc < 0 ? NULL : ipcshm_array_data(arr);
  if (!a) {
    fprintf(stderr, "c: %s\n", ipcshm_last_error());
    if (arr) ipcshm_detach(arr);
    ipcshm_detach(h);
    return 1;
  }
  for (int j = 0; j < COLS; ++j)
    for (int i = 0; i < ROWS; ++i) a[i + ROWS * j] = 10.0 * i + j;
  fprintf(stderr, "c:      created %s, float64 3x2 [0 1; 10 11; 20 21] (a[i,j] = 10i + j)\n",
          ipcshm_id(arr));

  /* An anonymous object, sent over the socket: it has no id to print. */
  char *mtext = NULL;
  if (sock >= 0) {
    rc = ipcshm_create("memfd:exchange", SIZE, 0600, 0, &mfd);
    if (rc >= 0) {
      mtext = ipcshm_pointer(mfd);
      snprintf(mtext, 128, "hello over a socket from C, pid %ld", (long)getpid());
      rc = ipcshm_send(sock, mfd);
    }
    if (rc < 0) {
      fprintf(stderr, "c: %s\n", ipcshm_last_error());
      if (mfd) ipcshm_detach(mfd);
      ipcshm_detach(arr);
      ipcshm_detach(h);
      return 1;
    }
    close(sock);
    fprintf(stderr, "c:      sent %s over the socket, with \"%s\"\n", ipcshm_id(mfd), mtext);
  }
  printf("%s\n%s\n", ipcshm_id(h), ipcshm_id(arr));
  fflush(stdout);

  /* The line names the languages expected, in slot order: "python rust c++". */
  char line[256] = "";
  if (!fgets(line, sizeof line, stdin)) {
    fprintf(stderr, "c: no line on stdin\n");
    if (mfd) ipcshm_detach(mfd);
    ipcshm_detach(arr);
    ipcshm_detach(h);
    return 1;
  }
  int bad = 0, slot = 0;
  for (char *save = NULL, *lang = strtok_r(line, " \n", &save); lang;
       lang = strtok_r(NULL, " \n", &save), ++slot) {
    const char *mark = (const char *)mem + MARKS_AT + MARK_SIZE * slot;
    int ok = strncmp(mark, lang, strlen(lang)) == 0 && mark[strlen(lang)] == ' ';
    fprintf(stderr, "c:      slot %d: \"%.*s\" %s\n", slot, MARK_SIZE, mark,
            ok ? "ok" : "MISSING");
    bad += !ok;
  }
  if (slot > ROWS) {
    fprintf(stderr, "c: %d languages, but the array has rows for %d\n", slot, ROWS);
    ++bad;
  }
  bad += check_array(a, slot);
  if (mfd) {
    const char *mark = mtext + MEMFD_MARK_AT;
    int ok = strncmp(mark, "python ", 7) == 0;
    fprintf(stderr, "c:      %s: \"%.*s\" %s\n", ipcshm_id(mfd), MARK_SIZE, mark,
            ok ? "ok" : "MISSING");
    bad += !ok;
    ipcshm_detach(mfd); /* anonymous: it ends with the last mapping */
  }
  bad += detach_and_check(h);
  bad += detach_and_check(arr);
  return bad != 0;
}
