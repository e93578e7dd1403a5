/* A C program of a user, built against an installed libipcshm with nothing but
 * `pkg-config --cflags --libs ipcshm` (tests/install/install_test.py and
 * tests/packaging/debian-root.sh drive it).
 *
 *   consumer create ID LIB   creates the persistent POSIX object ID and writes a
 *                            pattern into it
 *   consumer verify ID LIB   checks the answer of another program (C++, Rust or
 *                            Python: the complement of every byte), removes ID
 *
 * LIB is the installed library this program must have loaded (not the build
 * tree's): checked in /proc/self/maps. */
#define _XOPEN_SOURCE 700

#include <ipcshm.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 10000u

static int loaded_from(const char *want) {
  char want_real[PATH_MAX], line[PATH_MAX + 256];
  int found = 0;
  FILE *maps;
  if (!realpath(want, want_real)) {
    perror(want);
    return 0;
  }
  maps = fopen("/proc/self/maps", "r");
  if (!maps) return 0;
  while (fgets(line, sizeof line, maps)) {
    char *path = strchr(line, '/');
    char real[PATH_MAX];
    if (!path || !strstr(path, "libipcshm")) continue;
    path[strcspn(path, "\n")] = '\0';
    if (!realpath(path, real) || strcmp(real, want_real) != 0) {
      fprintf(stderr, "consumer: loaded %s, expected %s\n", path, want_real);
      fclose(maps);
      return 0;
    }
    found = 1;
  }
  fclose(maps);
  if (!found) fprintf(stderr, "consumer: no libipcshm in /proc/self/maps\n");
  return found;
}

static unsigned char pattern(uint64_t i) { return (unsigned char)(i * 7u + 1u); }

int main(int argc, char **argv) {
  ipcshm_t *h = NULL;
  unsigned char *p;
  uint64_t i;
  int rc;
  if (argc != 4) {
    fprintf(stderr, "usage: consumer create|verify ID LIB\n");
    return 2;
  }
  if (!loaded_from(argv[3])) return 1;
  if (ipcshm_version() != (uint32_t)IPCSHM_VERSION) {
    fprintf(stderr, "consumer: header/library version mismatch\n");
    return 1;
  }
  if (strcmp(argv[1], "create") == 0) {
    rc = ipcshm_create(argv[2], SIZE, 0600, IPCSHM_PERSISTENT, &h);
    if (rc != 1) {
      fprintf(stderr, "consumer: ipcshm_create: %d %s\n", rc, ipcshm_last_error());
      return 1;
    }
    if (ipcshm_size(h) != SIZE) {
      fprintf(stderr, "consumer: size %lu\n", (unsigned long)ipcshm_size(h));
      return 1;
    }
    p = (unsigned char *)ipcshm_pointer(h);
    for (i = 0; i < SIZE; i++) p[i] = pattern(i);
    printf("consumer.c: created %s (%u bytes)\n", ipcshm_id(h), SIZE);
    return ipcshm_detach(h) == 0 ? 0 : 1;
  }
  if (strcmp(argv[1], "verify") == 0) {
    ipcshm_info_t info;
    rc = ipcshm_attach(argv[2], IPCSHM_READONLY, &h);
    if (rc != 0) {
      fprintf(stderr, "consumer: ipcshm_attach: %d %s\n", rc, ipcshm_last_error());
      return 1;
    }
    p = (unsigned char *)ipcshm_pointer(h);
    for (i = 0; i < SIZE; i++) {
      if (p[i] != (unsigned char)~pattern(i)) {
        fprintf(stderr, "consumer: byte %lu is %u, expected the answer %u\n",
                (unsigned long)i, p[i], (unsigned char)~pattern(i));
        return 1;
      }
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    rc = ipcshm_handle_info(h, &info);
    if (rc != 0 || info.kind != IPCSHM_KIND_POSIX || info.size != SIZE ||
        !(info.flags & IPCSHM_PERSISTENT)) {
      fprintf(stderr, "consumer: ipcshm_handle_info: rc %d kind %u size %lu flags %u\n",
              rc, info.kind, (unsigned long)info.size, info.flags);
      return 1;
    }
    if (ipcshm_detach(h) != 0 || ipcshm_remove(argv[2]) != 0) {
      fprintf(stderr, "consumer: detach/remove: %s\n", ipcshm_last_error());
      return 1;
    }
    rc = ipcshm_attach(argv[2], 0, &h);
    if (rc != -ENOENT) {
      fprintf(stderr, "consumer: attach after remove gave %d, not -ENOENT\n", rc);
      return 1;
    }
    printf("consumer.c: verified the answer and removed %s\n", argv[2]);
    return 0;
  }
  fprintf(stderr, "consumer: unknown mode %s\n", argv[1]);
  return 2;
}
