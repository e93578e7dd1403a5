/* A plain C99 program that uses every function of ipcshm.h, compiled with
 * -std=c99 -pedantic -Werror -Wall -Wextra: the header must be valid strict C99
 * and the library callable from C. Prints "c99 consumer: ok" and returns 0, or
 * names the first failed check and returns 1. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE 1

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "ipcshm.h"

static int failures = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "c99 consumer: %s:%d: check failed: %s (last error: %s)\n", \
              __FILE__, __LINE__, #cond, ipcshm_last_error());                   \
      ++failures;                                                                \
    }                                                                            \
  } while (0)

static int test_posix(void) {
  char name[64];
  const uint64_t size = 5000;
  ipcshm_t *a = NULL;
  ipcshm_t *b = NULL;
  ipcshm_info_t info;
  unsigned char *pa;
  const unsigned char *pb;
  uint64_t i;
  int rc;

  sprintf(name, "/ipcshm-c99-consumer-%ld", (long)getpid());
  (void)ipcshm_remove(name); /* a leftover from an earlier run with this pid */

  rc = ipcshm_create(name, size, 0600, IPCSHM_PERSISTENT, &a);
  CHECK(rc == 1);
  if (rc != 1 || a == NULL) return 1;
  CHECK(ipcshm_id(a) != NULL && strcmp(ipcshm_id(a), name) == 0);
  CHECK(ipcshm_size(a) == size);
  pa = (unsigned char *)ipcshm_pointer(a);
  CHECK(pa != NULL);
  if (pa == NULL) return 1;
  for (i = 0; i < size; ++i) CHECK(pa[i] == 0);  /* new memory reads as zeros */
  for (i = 0; i < size; ++i) pa[i] = (unsigned char)(i * 7u + 3u);

  /* A second handle on the same object sees the same bytes. */
  rc = ipcshm_attach(name, IPCSHM_READONLY, &b);
  CHECK(rc == 0);
  if (rc == 0 && b != NULL) {
    pb = (const unsigned char *)ipcshm_pointer(b);
    CHECK(pb != NULL);
    CHECK(ipcshm_size(b) == size);
    if (pb != NULL)
      for (i = 0; i < size; ++i) CHECK(pb[i] == (unsigned char)(i * 7u + 3u));
  }

  /* info by id and by handle, with struct_size set. */
  memset(&info, 0, sizeof info);
  info.struct_size = (uint32_t)sizeof info;
  CHECK(ipcshm_info(name, &info) == 0);
  CHECK(info.kind == IPCSHM_KIND_POSIX);
  CHECK(info.size == size);
  CHECK(info.mode == 0600u);
  CHECK((info.flags & IPCSHM_PERSISTENT) != 0);
  CHECK(info.uid == (uint32_t)geteuid());
  CHECK(info.cpid == -1 && info.shmid == -1);

  CHECK(ipcshm_chmod(name, 0640) == 0);
  memset(&info, 0, sizeof info);
  info.struct_size = (uint32_t)sizeof info;
  CHECK(ipcshm_handle_info(a, &info) == 0);
  CHECK(info.mode == 0640u);
  CHECK((info.flags & IPCSHM_PERSISTENT) != 0);

  /* A failure: exclusive create of an existing name. */
  {
    ipcshm_t *c = NULL;
    CHECK(ipcshm_create(name, size, 0600, 0, &c) == -EEXIST);
    CHECK(c == NULL);
    CHECK(ipcshm_last_error() != NULL && ipcshm_last_error()[0] != '\0');
  }

  if (b != NULL) CHECK(ipcshm_detach(b) == 0);
  CHECK(ipcshm_detach(a) == 0);
  CHECK(ipcshm_detach(a) == -EBADF); /* handles are validated */

  CHECK(ipcshm_remove(name) == 0);
  CHECK(ipcshm_remove(name) == 0); /* already gone */
  {
    ipcshm_t *c = NULL;
    CHECK(ipcshm_attach(name, 0, &c) == -ENOENT);
    CHECK(c == NULL);
    CHECK(ipcshm_last_error()[0] != '\0');
  }
  return 0;
}

static int test_sysv(void) {
  int32_t shmid = -1;
  int32_t key = 0;
  void *ptr = NULL;
  struct shmid_ds ds;
  int rc;

  CHECK(ipcshm_sysv_shmid_ds_size() == (uint64_t)sizeof(struct shmid_ds));

  rc = ipcshm_sysv_get(0 /* IPC_PRIVATE */, 4096, IPC_CREAT | 0600, &shmid);
  CHECK(rc == 0);
  CHECK(shmid >= 0);
  if (rc != 0 || shmid < 0) return 1;

  rc = ipcshm_sysv_attach(shmid, 0, &ptr);
  CHECK(rc == 0);
  CHECK(ptr != NULL);
  if (rc == 0 && ptr != NULL) {
    memset(ptr, 0x5a, 4096);
    CHECK(((unsigned char *)ptr)[4095] == 0x5a);
  }

  memset(&ds, 0, sizeof ds);
  CHECK(ipcshm_sysv_ctl(shmid, IPC_STAT, &ds, sizeof ds) == 0);
  CHECK(ds.shm_segsz == 4096);
  CHECK(ds.shm_nattch == 1);
  CHECK(ds.shm_cpid == getpid());
  /* A buffer shorter than struct shmid_ds is refused. */
  CHECK(ipcshm_sysv_ctl(shmid, IPC_STAT, &ds, sizeof ds - 1) == -EINVAL);
  CHECK(ipcshm_last_error()[0] != '\0');

  if (ptr != NULL) {
    CHECK(ipcshm_sysv_detach(ptr) == 0);
    CHECK(ipcshm_sysv_detach(ptr) == -EINVAL); /* no longer attached */
  }
  CHECK(ipcshm_sysv_remove(shmid) == 0);
  CHECK(ipcshm_sysv_remove(shmid) == 0); /* already removed */

  CHECK(ipcshm_ftok("/", 1, &key) == 0);
  CHECK(key != 0 && key != -1);
  CHECK(ipcshm_ftok("/", 0, &key) == -EINVAL); /* proj must be 1..255 */
  return 0;
}

/* Since 1.1: memfd, descriptors, resize, sockets, typed arrays. */
static int test_v11(void) {
  ipcshm_t *a = NULL;
  ipcshm_t *b = NULL;
  ipcshm_t *c = NULL;
  ipcshm_t *arr = NULL;
  int sv[2];
  int fd;
  uint32_t etype = 0, ndims = 0;
  int64_t dims[2] = {3, 2};
  int64_t got[2] = {0, 0};
  uint64_t offset = 0;
  double *elems;

  CHECK(ipcshm_create("memfd:c99", 4096, 0600, 0, &a) == 1);
  if (a == NULL) return 1;
  CHECK(strcmp(ipcshm_id(a), "memfd:c99") == 0);
  ((char *)ipcshm_pointer(a))[0] = 'c';
  fd = ipcshm_fd(a);
  CHECK(fd >= 0);
  CHECK(ipcshm_attach_fd(fd, 0, &b) == 0);
  if (fd >= 0) close(fd);
  CHECK(b != NULL && ((char *)ipcshm_pointer(b))[0] == 'c');
  CHECK(ipcshm_resize(b, 8192) == 0);
  CHECK(ipcshm_size(b) == 8192);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(ipcshm_send(sv[0], a) == 0);
  CHECK(ipcshm_recv(sv[1], IPCSHM_READONLY, &c) == 0);
  CHECK(c != NULL && ipcshm_size(c) == 8192);
  close(sv[0]);
  close(sv[1]);
  CHECK(ipcshm_detach(c) == 0);
  CHECK(ipcshm_detach(b) == 0);
  CHECK(ipcshm_detach(a) == 0);

  CHECK(ipcshm_array_create("memfd:c99-array", IPCSHM_FLOAT64, 2, dims, 0600, 0, &arr) == 1);
  if (arr == NULL) return 1;
  CHECK(ipcshm_array_header(arr, &etype, &ndims, got, 2, &offset) == 0);
  CHECK(etype == IPCSHM_FLOAT64 && ndims == 2 && got[0] == 3 && got[1] == 2 && offset == 64);
  elems = (double *)ipcshm_array_data(arr);
  CHECK(elems == (double *)((char *)ipcshm_pointer(arr) + 64));
  if (elems) elems[5] = 1.5;
  CHECK(ipcshm_detach(arr) == 0);
  return 0;
}

/* Since 1.2: a channel, both ends in this process, every channel call. */
static int test_channel(void) {
  char name[64];
  ipcshm_channel_t *tx = NULL;
  ipcshm_channel_t *rx = NULL;
  const ipcshm_t *h = NULL;
  ipcshm_channel_info_t info;
  char buf[16];
  uint64_t len = 0;
  void *slot = NULL;
  const void *msg = NULL;
  int fd;

  sprintf(name, "/ipcshm-c99-channel-%ld", (long)getpid());
  (void)ipcshm_remove(name);
  CHECK(ipcshm_channel_create(name, 16, 4, 0600, 0, IPCSHM_SENDER, &tx) == 1);
  if (tx == NULL) return 1;
  CHECK(ipcshm_channel_open(name, IPCSHM_RECEIVER, &rx) == 0);
  if (rx == NULL) return 1;
  CHECK(ipcshm_channel_send(tx, "copy", 4, 0) == 0);
  CHECK(ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0) == 0);
  CHECK(len == 4 && memcmp(buf, "copy", 4) == 0);
  CHECK(ipcshm_channel_reserve(tx, &slot, -1) == 0);
  if (slot != NULL) memcpy(slot, "in place", 8);
  CHECK(ipcshm_channel_commit(tx, 8) == 0);
  fd = ipcshm_channel_fd(rx);
  CHECK(fd >= 0);
  CHECK(ipcshm_channel_peek(rx, &msg, &len, -1) == 0);
  CHECK(len == 8 && msg != NULL && memcmp(msg, "in place", 8) == 0);
  CHECK(ipcshm_channel_release(rx) == 0);
  CHECK(ipcshm_channel_recv(rx, buf, sizeof buf, &len, 0) == -EAGAIN);
  CHECK(ipcshm_channel_handle(tx, &h) == 0);
  CHECK(h != NULL && strcmp(ipcshm_id(h), name) == 0);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK(ipcshm_channel_handle_info(rx, &info) == 0);
  CHECK(info.slot_size == 16 && info.slot_count == 4 && info.sent == 2 && info.queued == 0);
  CHECK(ipcshm_channel_info(name, &info) == 0);
  CHECK(info.sender == IPCSHM_END_OPEN && info.receiver == IPCSHM_END_OPEN);
  CHECK(ipcshm_channel_close(tx) == 0);
  CHECK(ipcshm_channel_recv(rx, buf, sizeof buf, &len, -1) == -EPIPE);
  CHECK(ipcshm_channel_close(rx) == 0);
  if (fd >= 0) close(fd);
  CHECK(ipcshm_channel_close(rx) == -EBADF);
  CHECK(ipcshm_channel_open_fd(-1, IPCSHM_SENDER, &tx) == -EBADF);
  return 0;
}

int main(void) {
  uint32_t version = ipcshm_version();
  uint64_t page = ipcshm_page_size();
  const char *text;

  CHECK((version >> 16) == IPCSHM_VERSION_MAJOR);
  CHECK(version >= (uint32_t)IPCSHM_VERSION);
  CHECK(page >= 4096 && (page & (page - 1)) == 0);
  CHECK(page == (uint64_t)sysconf(_SC_PAGESIZE));

  text = ipcshm_strerror(-ENOENT);
  CHECK(text != NULL && strcmp(text, strerror(ENOENT)) == 0);
  text = ipcshm_strerror(EACCES);
  CHECK(text != NULL && strcmp(text, strerror(EACCES)) == 0);
  CHECK(ipcshm_strerror(0) != NULL);

  /* A failure sets the thread's message. */
  {
    ipcshm_t *h = NULL;
    CHECK(ipcshm_attach("not an id", 0, &h) == -EINVAL);
    CHECK(h == NULL);
    CHECK(ipcshm_last_error() != NULL && ipcshm_last_error()[0] != '\0');
  }

  test_posix();
  test_v11();
  test_sysv();
  test_channel();

  if (failures != 0) {
    fprintf(stderr, "c99 consumer: %d check(s) failed\n", failures);
    return 1;
  }
  printf("c99 consumer: ok\n");
  return 0;
}
