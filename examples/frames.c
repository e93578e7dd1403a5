/* frames: C sends frames through channels to receivers in other languages.
 *
 *   frames COUNT RECEIVER...
 *
 * For each RECEIVER (a shell command), a channel in an anonymous memfd object
 * (64 slots of 1 KiB): the receiver is started with the channel's object as
 * its standard input (it opens the receiving end from that descriptor, with
 * ipcshm_channel_open_fd) and prints its own summary line. Frames 0..COUNT-1
 * go to every receiver in turn, written in place (ipcshm_channel_reserve and
 * ipcshm_channel_commit): a frame is its number n (8 bytes, little-endian), then
 * frame_len(n) - 8 bytes of (uint8_t)n, where frame_len(n) is 8 + a
 * pseudo-random 0..1015 drawn from n (splitmix64; bindings/python/examples/
 * frames.py and bindings/rust/ipcshm/examples/channel.rs read and write the
 * same frames). When every frame is sent the ends
 * close, each receiver gets what is left and then -EPIPE, and exits; frames
 * exits 0 if every receiver did. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipcshm.h"

enum { kSlotSize = 1024, kSlots = 64, kMaxReceivers = 8 };

static int fail(const char* what, int rc) {
  fprintf(stderr, "frames: %s: %s (%s)\n", what, strerror(-rc), ipcshm_last_error());
  return 1;
}

/* Starts `sh -c cmd` with the object of ch as its standard input. */
static pid_t start_receiver(ipcshm_channel_t* ch, const char* cmd) {
  const ipcshm_t* h;
  int rc = ipcshm_channel_handle(ch, &h);
  if (rc < 0) return fail("ipcshm_channel_handle", rc), -1;
  const int fd = ipcshm_fd(h); /* a descriptor of our own, close-on-exec */
  if (fd < 0) return fail("ipcshm_fd", fd), -1;
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    if (dup2(fd, STDIN_FILENO) < 0) _exit(127);
    execl("/bin/sh", "sh", "-c", cmd, (char*)NULL);
    _exit(127);
  }
  close(fd);
  if (pid < 0) perror("frames: fork");
  return pid;
}

static uint64_t frame_len(uint64_t n) {
  uint64_t z = n + 0x9E3779B97F4A7C15u; /* splitmix64 */
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return 8 + (z ^ (z >> 31)) % 1016;
}

int main(int argc, char** argv) {
  const int receivers = argc - 2;
  if (receivers < 1 || receivers > kMaxReceivers) {
    fprintf(stderr, "usage: frames COUNT RECEIVER... (1 to %d receivers)\n", kMaxReceivers);
    return 2;
  }
  char* end;
  errno = 0;
  const unsigned long long count = strtoull(argv[1], &end, 10);
  if (errno || *end || end == argv[1]) {
    fprintf(stderr, "frames: COUNT: not a number: %s\n", argv[1]);
    return 2;
  }

  ipcshm_channel_t* ch[kMaxReceivers] = {0};
  pid_t pid[kMaxReceivers];
  int status = 0;
  for (int i = 0; i < receivers; ++i) {
    int rc = ipcshm_channel_create("memfd:frames", kSlotSize, kSlots, 0600, 0, IPCSHM_SENDER,
                                   &ch[i]);
    if (rc < 0) return fail("ipcshm_channel_create", rc);
    pid[i] = start_receiver(ch[i], argv[i + 2]);
    if (pid[i] < 0) return 1;
  }

  uint64_t bytes = 0;
  for (uint64_t n = 0; n < count && status == 0; ++n) {
    const uint64_t len = frame_len(n);
    for (int i = 0; i < receivers; ++i) {
      void* slot;
      int rc = ipcshm_channel_reserve(ch[i], &slot, -1);
      if (rc < 0) {
        status = fail(argv[i + 2], rc); /* -EPIPE: that receiver died */
        break;
      }
      for (int b = 0; b < 8; ++b) ((unsigned char*)slot)[b] = (unsigned char)(n >> (8 * b));
      memset((char*)slot + 8, (unsigned char)n, len - 8);
      rc = ipcshm_channel_commit(ch[i], len);
      if (rc < 0) {
        status = fail("ipcshm_channel_commit", rc);
        break;
      }
      bytes += len;
    }
  }
  for (int i = 0; i < receivers; ++i) {
    int rc = ipcshm_channel_close(ch[i]); /* the receiver gets -EPIPE after the last frame */
    if (rc < 0) status = fail("ipcshm_channel_close", rc);
  }
  for (int i = 0; i < receivers; ++i) {
    int ws;
    if (waitpid(pid[i], &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
      fprintf(stderr, "frames: receiver `%s` failed\n", argv[i + 2]);
      status = 1;
    }
  }
  if (status == 0)
    printf("C sender: %llu frames to each of %d receivers, %" PRIu64 " bytes in all\n", count,
           receivers, bytes);
  return status;
}
