/* The messages of the channel tests, checkable by whoever receives them (C99;
 * used by tests/channel_peer.c and the C++ suites).
 *
 * Message number `seq` of a stream with seed `seed` has a length and bytes
 * that both derive from (seed, seq): a 16-byte head (seq, length, FNV-1a of
 * the rest), then pseudo-random bytes. A receiver regenerates the whole
 * message and compares it byte for byte, so a message torn or half-written
 * (a sender killed while writing it) cannot pass. */
#ifndef IPCSHM_TESTS_CHANNEL_MSG_H
#define IPCSHM_TESTS_CHANNEL_MSG_H

#include <stdint.h>
#include <string.h>

enum { CHMSG_HEAD = 16 };

static inline uint64_t chmsg_mix(uint64_t x) {
  /* splitmix64 */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The length of message seq: CHMSG_HEAD .. max_len, every length in between
 * equally likely (max_len >= CHMSG_HEAD). */
static inline uint32_t chmsg_len(uint64_t seed, uint64_t seq, uint32_t max_len) {
  return CHMSG_HEAD + (uint32_t)(chmsg_mix(seed * 31 + seq) % (max_len - CHMSG_HEAD + 1));
}

static inline uint32_t chmsg_fnv(const unsigned char* p, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Writes message seq (chmsg_len bytes) at p. */
static inline void chmsg_fill(unsigned char* p, uint64_t seed, uint64_t seq, uint32_t len) {
  uint64_t x = chmsg_mix(seed ^ (seq << 20) ^ 0x5bd1e995u);
  for (uint32_t i = CHMSG_HEAD; i < len; ++i) {
    if ((i & 7) == 0) x = chmsg_mix(x);
    p[i] = (unsigned char)(x >> ((i & 7) * 8));
  }
  uint32_t sum = chmsg_fnv(p + CHMSG_HEAD, len - CHMSG_HEAD);
  memcpy(p, &seq, 8);
  memcpy(p + 8, &len, 4);
  memcpy(p + 12, &sum, 4);
}

/* 1 if the n bytes at p are exactly message seq of the stream, else 0. The
 * scratch buffer holds at least n bytes. */
static inline int chmsg_check(const unsigned char* p, uint32_t n, uint64_t seed, uint64_t seq,
                              uint32_t max_len, unsigned char* scratch) {
  if (n != chmsg_len(seed, seq, max_len)) return 0;
  chmsg_fill(scratch, seed, seq, n);
  return memcmp(p, scratch, n) == 0;
}

/* The sequence number a message claims (its first 8 bytes). */
static inline uint64_t chmsg_seq(const unsigned char* p) {
  uint64_t seq;
  memcpy(&seq, p, 8);
  return seq;
}

#endif
