/* channel_peer: the other process of the channel tests, a C program on the
 * public API (spawned, so that it shares nothing with the test but the
 * channel; killed at random moments by the crash tests).
 *
 *   channel_peer send ID COUNT SEED MAXLEN [--zero-copy-every K] [--pause-us P]
 *                                          [--counter CID] [--create SLOTS]
 *   channel_peer recv ID COUNT SEED MAXLEN [--peek-every K]
 *   channel_peer hold ID sender|receiver
 *
 * ID is a channel id ("/name"), or "fd:N" for an inherited descriptor of its
 * object (ipcshm_channel_open_fd). Every mode opens its end, then prints
 * "ready" on stdout.
 *   send: sends messages 0..COUNT-1 of the stream SEED (tests/channel_msg.h,
 *     lengths up to MAXLEN; COUNT 0: for ever). Every K-th goes through
 *     reserve/commit, written in two halves with a pause of P/10 to P
 *     microseconds between (so that a kill lands in the middle of a
 *     zero-copy write; P is 0 by default). --counter CID: after
 *     each commit, the count of messages committed goes to the first 8
 *     bytes of the POSIX object CID, and the next 8 bytes say 1 while a slot
 *     is reserved. --create SLOTS: creates the channel (volatile, slots of
 *     MAXLEN bytes) instead of opening it. Then closes; exit 0.
 *   recv: receives until -EPIPE, checks each message byte for byte and that
 *     they come in order; every K-th through peek/release. Exit 0 if it got
 *     exactly COUNT (any number if COUNT is -1); prints "received N".
 *   hold: holds the role until its standard input closes (or it is killed).
 * Failures: a message on stderr and exit 10 or more. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel_msg.h"
#include "ipcshm.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_end(const char* id, uint32_t role, ipcshm_channel_t** ch) {
  int rc = strncmp(id, "fd:", 3) == 0 ? ipcshm_channel_open_fd(atoi(id + 3), role, ch)
                                       : ipcshm_channel_open(id, role, ch);
  if (rc < 0) fprintf(stderr, "channel_peer: open %s: %s\n", id, ipcshm_last_error());
  return rc;
}

static void ready(void) {
  fputs("ready\n", stdout);
  fflush(stdout);
}

static int do_send(const char* id, uint64_t count, uint64_t seed, uint32_t max_len,
                   uint64_t zero_copy_every, uint64_t pause_us, const char* counter_id,
                   uint32_t create_slots) {
  ipcshm_channel_t* ch;
  if (create_slots) {
    if (ipcshm_channel_create(id, max_len, create_slots, 0600, 0, IPCSHM_SENDER, &ch) != 1) {
      fprintf(stderr, "channel_peer: create %s: %s\n", id, ipcshm_last_error());
      return 10;
    }
  } else if (open_end(id, IPCSHM_SENDER, &ch) < 0) {
    return 10;
  }
  volatile uint64_t* counter = NULL;
  ipcshm_t* side = NULL;
  if (counter_id) {
    if (ipcshm_attach(counter_id, 0, &side) < 0) {
      fprintf(stderr, "channel_peer: attach %s: %s\n", counter_id, ipcshm_last_error());
      return 11;
    }
    counter = (volatile uint64_t*)ipcshm_pointer(side);
  }
  unsigned char* buf = malloc(max_len);
  if (!buf) return 12;
  ready();
  for (uint64_t seq = 0; count == 0 || seq < count; ++seq) {
    const uint32_t len = chmsg_len(seed, seq, max_len);
    int rc;
    if (zero_copy_every && seq % zero_copy_every == 0) {
      void* slot;
      rc = ipcshm_channel_reserve(ch, &slot, -1);
      if (rc == 0) {
        if (counter) __atomic_store_n(counter + 1, 1, __ATOMIC_RELEASE);
        chmsg_fill(buf, seed, seq, len);
        const uint32_t half = len / 2;
        memcpy(slot, buf, half);
        if (pause_us) {
          const int64_t until = now_ns() + (int64_t)(pause_us * 100 +
                                                     chmsg_mix(seq) % (pause_us * 900 + 1));
          while (now_ns() < until) {
          }
        }
        memcpy((unsigned char*)slot + half, buf + half, len - half);
        rc = ipcshm_channel_commit(ch, len);
        if (counter) {
          __atomic_store_n(counter, seq + 1, __ATOMIC_RELEASE);
          __atomic_store_n(counter + 1, 0, __ATOMIC_RELEASE);
        }
      }
    } else {
      chmsg_fill(buf, seed, seq, len);
      rc = ipcshm_channel_send(ch, buf, len, -1);
    }
    if (rc < 0) {
      fprintf(stderr, "channel_peer: message %llu: %s\n", (unsigned long long)seq,
              ipcshm_last_error());
      return 13;
    }
    if (counter) __atomic_store_n(counter, seq + 1, __ATOMIC_RELEASE);
  }
  free(buf);
  if (side) ipcshm_detach(side);
  if (ipcshm_channel_close(ch) != 0) return 14;
  return 0;
}

static int do_recv(const char* id, int64_t count, uint64_t seed, uint32_t max_len,
                   uint64_t peek_every) {
  ipcshm_channel_t* ch;
  if (open_end(id, IPCSHM_RECEIVER, &ch) < 0) return 10;
  unsigned char* buf = malloc(max_len);
  unsigned char* scratch = malloc(max_len);
  if (!buf || !scratch) return 12;
  ready();
  uint64_t seq = 0;
  for (;; ++seq) {
    uint64_t len = 0;
    const unsigned char* msg = buf;
    int rc;
    const int peeking = peek_every && seq % peek_every == 0;
    if (peeking) {
      const void* p;
      rc = ipcshm_channel_peek(ch, &p, &len, -1);
      msg = p;
    } else {
      rc = ipcshm_channel_recv(ch, buf, max_len, &len, -1);
    }
    if (rc == -EPIPE) break;
    if (rc < 0) {
      fprintf(stderr, "channel_peer: receiving message %llu: %s\n", (unsigned long long)seq,
              ipcshm_last_error());
      return 13;
    }
    if (!chmsg_check(msg, (uint32_t)len, seed, seq, max_len, scratch)) {
      fprintf(stderr, "channel_peer: message %llu is wrong (%llu bytes, claims %llu)\n",
              (unsigned long long)seq, (unsigned long long)len,
              (unsigned long long)(len >= 8 ? chmsg_seq(msg) : 0));
      return 15;
    }
    if (peeking && ipcshm_channel_release(ch) != 0) return 16;
  }
  printf("received %llu\n", (unsigned long long)seq);
  free(buf);
  free(scratch);
  if (ipcshm_channel_close(ch) != 0) return 14;
  if (count >= 0 && seq != (uint64_t)count) {
    fprintf(stderr, "channel_peer: received %llu messages, not %lld\n", (unsigned long long)seq,
            (long long)count);
    return 17;
  }
  return 0;
}

static int do_hold(const char* id, const char* role) {
  ipcshm_channel_t* ch;
  if (open_end(id, strcmp(role, "sender") == 0 ? IPCSHM_SENDER : IPCSHM_RECEIVER, &ch) < 0)
    return 10;
  ready();
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return ipcshm_channel_close(ch) == 0 ? 0 : 14;
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "hold") == 0) return do_hold(argv[2], argv[3]);
  if (argc < 6) {
    fprintf(stderr, "usage: channel_peer send|recv ID COUNT SEED MAXLEN [options]\n");
    return 2;
  }
  const char* id = argv[2];
  const long long count = atoll(argv[3]);
  const uint64_t seed = strtoull(argv[4], NULL, 0);
  const uint32_t max_len = (uint32_t)strtoul(argv[5], NULL, 0);
  if (max_len < CHMSG_HEAD) return 2;
  uint64_t every = 0, pause_us = 0;
  uint32_t create_slots = 0;
  const char* counter = NULL;
  for (int i = 6; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--zero-copy-every") == 0 || strcmp(argv[i], "--peek-every") == 0)
      every = strtoull(argv[i + 1], NULL, 0);
    else if (strcmp(argv[i], "--pause-us") == 0)
      pause_us = strtoull(argv[i + 1], NULL, 0);
    else if (strcmp(argv[i], "--counter") == 0)
      counter = argv[i + 1];
    else if (strcmp(argv[i], "--create") == 0)
      create_slots = (uint32_t)strtoul(argv[i + 1], NULL, 0);
    else
      return 2;
  }
  if (strcmp(argv[1], "send") == 0)
    return do_send(id, (uint64_t)count, seed, max_len, every, pause_us, counter, create_slots);
  if (strcmp(argv[1], "recv") == 0) return do_recv(id, count, seed, max_len, every);
  return 2;
}
