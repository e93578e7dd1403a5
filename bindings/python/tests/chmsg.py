"""The message streams of tests/channel_msg.h, with numpy, for the channel
tests against tests/channel_peer.c: message `seq` of stream `seed` is a 16-byte
head (seq, length, FNV-1a of the rest) and pseudo-random bytes, its length and
bytes derived from (seed, seq). A whole stream is made at once (a row per
message), so that 10^6 messages are made or checked in about a second."""
import numpy as np

HEAD = 16
_U = np.uint64


def _mix(x):
    # splitmix64, wrapping as uint64_t does
    x = x + _U(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U(30))) * _U(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U(27))) * _U(0x94D049BB133111EB)
    return x ^ (x >> _U(31))


def stream(seed, count, max_len):
    """(rows, lengths): rows[i, :lengths[i]] is message i (chmsg_fill)."""
    with np.errstate(over="ignore"):
        seq = np.arange(count, dtype=_U)
        span = _U(max_len - HEAD + 1)
        lengths = (HEAD + _mix(_U(seed * 31 % 2**64) + seq) % span).astype(np.int64)
        words = -(-(max_len - HEAD) // 8)
        x = _mix(_U(seed) ^ (seq << _U(20)) ^ _U(0x5BD1E995))
        body = np.empty((count, words), dtype=_U)
        for k in range(words):
            x = _mix(x)
            body[:, k] = x
    body_bytes = body.view(np.uint8)[:, :max_len - HEAD]     # little-endian words
    h = np.full(count, 2166136261, dtype=np.uint32)
    blen = lengths - HEAD
    with np.errstate(over="ignore"):
        for j in range(max_len - HEAD):
            nh = (h ^ body_bytes[:, j]) * np.uint32(16777619)
            h = np.where(j < blen, nh, h)
    rows = np.zeros((count, max_len), dtype=np.uint8)
    rows[:, 0:8] = seq.reshape(-1, 1).view(np.uint8)
    rows[:, 8:12] = lengths.astype(np.uint32).reshape(-1, 1).view(np.uint8)
    rows[:, 12:16] = h.reshape(-1, 1).view(np.uint8)
    rows[:, HEAD:] = body_bytes
    return rows, lengths


def joined(rows, lengths):
    """The messages one after the other (what a receiver's bytes should be)."""
    mask = np.arange(rows.shape[1]) < lengths.reshape(-1, 1)
    return rows[mask].tobytes()
