/* The C side of the cross-language exchange (examples/exchange.py runs it).
 *
 *   exchange-c create          creates a volatile POSIX object, writes a pattern
 *                              and a greeting, prints the id, then waits for a
 *                              line on stdin and checks the marks that the other
 *                              languages left (names given on that line).
 *
 * Layout of the 4096-byte object: bytes 0..255 hold (i * 7 + 3) & 0xff; the
 * greeting is at 256; each language writes a mark at 1024 + 64 * slot.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipcshm.h"

enum { SIZE = 4096, GREETING_AT = 256, MARKS_AT = 1024, MARK_SIZE = 64 };

int main(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "create") != 0) {
    fprintf(stderr, "usage: exchange-c create\n");
    return 2;
  }
  ipcshm_t *h = NULL;
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
  printf("%s\n", ipcshm_id(h));
  fflush(stdout);

  /* The line names the languages expected, in slot order: "python rust c++". */
  char line[256] = "";
  if (!fgets(line, sizeof line, stdin)) {
    fprintf(stderr, "c: no line on stdin\n");
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
  char id[300];
  snprintf(id, sizeof id, "%s", ipcshm_id(h));
  ipcshm_detach(h);
  ipcshm_info_t info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  rc = ipcshm_info(id, &info);
  fprintf(stderr, "c:      detached; %s %s\n", id,
          rc == -ENOENT ? "is gone (volatile, last user)" : "STILL EXISTS");
  return bad || rc != -ENOENT;
}
