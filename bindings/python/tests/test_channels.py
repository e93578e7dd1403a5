"""Channels (ipcshm.Channel, libipcshm 1.2) in real processes: C to Python and
Python to C (tests/channel_peer.c), crashes, a second end of a role, sizes,
leaks, bad input, Ctrl-C, asyncio. Both backends (the suite runs twice)."""
import asyncio
import errno
import io
import os
import random
import signal
import socket
import subprocess
import threading
import time

import numpy as np
import pytest

import chmsg
import ipcshm
from conftest import child_env, shm_exists, start_python

PEER = os.environ.get("IPCSHM_CHANNEL_PEER")
needs_peer = pytest.mark.skipif(not PEER, reason="IPCSHM_CHANNEL_PEER (meson) not set")
MILLION = 10**6


_peers = []


def peer(*args, **kwargs):
    """tests/channel_peer.c with `args`; its stdout is a pipe (it prints 'ready').
    Killed (if still running) and its pipes closed after the test."""
    p = subprocess.Popen([PEER, *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.PIPE, text=True, **kwargs)
    _peers.append(p)
    return p


@pytest.fixture(autouse=True)
def _reap_peers():
    yield
    while _peers:
        p = _peers.pop()
        if p.poll() is None:
            p.kill()
        p.communicate()


def wait_ready(p):
    line = p.stdout.readline()
    assert line == "ready\n", (line, p.stderr.read() if p.poll() is not None else "")


@pytest.fixture
def pair(name):
    """A sender and a receiver of a new channel of 8 slots of 64 bytes."""
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=64, slot_count=8)
    rx = ipcshm.Channel(name, "receiver")
    yield tx, rx
    tx.close()
    rx.close()


# Order and content across languages ---------------------------------------------

@needs_peer
def test_c_to_python_a_million_messages_in_order_exactly_once(name):
    seed, max_len = random.randrange(1, 2**32), 64
    rx = ipcshm.Channel(name, "receiver", create=True, slot_size=max_len, slot_count=64)
    p = peer("send", "/" + name, MILLION, seed, max_len, "--zero-copy-every", 5)
    wait_ready(p)
    got = []
    append = got.append
    n = 0
    recv = rx.recv_bytes
    while True:
        if n % 7 == 0:              # every 7th in place
            try:
                with rx.peek() as m:
                    append(bytes(m))
            except BrokenPipeError:
                break
        else:
            try:
                append(recv())
            except BrokenPipeError:
                break
        n += 1
    assert p.wait(60) == 0, p.stderr.read()
    assert len(got) == MILLION
    rows, lengths = chmsg.stream(seed, MILLION, max_len)
    assert [len(m) for m in got[:1000]] == lengths[:1000].tolist()
    assert b"".join(got) == chmsg.joined(rows, lengths)       # content, order, once
    assert rx.info().received == MILLION
    rx.close()
    assert not shm_exists(name)


@needs_peer
def test_python_to_c_a_million_messages_in_order_exactly_once(name):
    seed, max_len = random.randrange(1, 2**32), 64
    rows, lengths = chmsg.stream(seed, MILLION, max_len)
    flat = rows.tobytes()
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=max_len, slot_count=64)
    p = peer("recv", "/" + name, MILLION, seed, max_len, "--peek-every", 3)
    wait_ready(p)
    send = tx.send_bytes
    offset = 0
    for i, n in enumerate(lengths.tolist()):
        if i % 11 == 0:             # every 11th written in place
            with tx.reserve(n) as buf:
                buf[:] = rows[i, :n]
        else:
            send(flat, offset, n)
        offset += max_len
    tx.close()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out == "received %d\n" % MILLION
    assert not shm_exists(name)


@needs_peer
def test_numpy_arrays_to_c_and_back_in_place(name):
    # a non-contiguous array is written straight into the slot; C checks nothing
    # of numpy, so the bytes are compared on the way back through a second channel
    a = np.arange(60, dtype=np.float32).reshape(6, 10)[:, ::2]
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=a.nbytes, slot_count=2)
    rx = ipcshm.Channel(name, "receiver")
    tx.send(a)
    b = rx.recv(np.float32, (6, 5))
    assert (b == a).all() and b.flags.owndata
    with pytest.raises(ipcshm.MessageTooLongError):
        tx.send(np.zeros(a.size + 1, np.float32))      # longer than the slot
    tx.send(np.arange(3, dtype=np.int16))
    with pytest.raises(ValueError):
        rx.recv(np.float64)             # 6 bytes are not float64s: it stays
    with pytest.raises(ValueError):
        rx.recv(np.int16, (2, 2))       # the wrong shape: it stays
    assert rx.recv(np.int16).tolist() == [0, 1, 2]
    tx.close()
    rx.close()


# Crashes and vacant roles ---------------------------------------------------------

@needs_peer
@pytest.mark.parametrize("zero_copy", [0, 3])
def test_sender_killed_receiver_gets_every_committed_message_then_broken_pipe(
        name, cleanup, zero_copy):
    seed, max_len = random.randrange(1, 2**32), 48
    counter = ipcshm.SharedMemory(create=True, size=16)
    cleanup.append(counter.id)
    rx = ipcshm.Channel(name, "receiver", create=True, slot_size=max_len, slot_count=16)
    args = ["send", "/" + name, 0, seed, max_len, "--counter", counter.id]
    if zero_copy:
        args += ["--zero-copy-every", zero_copy, "--pause-us", 50]
    p = peer(*args)
    wait_ready(p)
    got = []
    killed_at = None
    deadline = time.monotonic() + random.uniform(0.05, 0.3)
    while True:
        if killed_at is None and time.monotonic() > deadline:
            p.kill()
            killed_at = time.monotonic()
        try:
            got.append(rx.recv_bytes(timeout=5))
        except BrokenPipeError:
            seen = time.monotonic()
            break
    p.wait(10)
    committed = int.from_bytes(counter.buf[:8], "little")
    del counter  # (its buf is released by close below)
    assert committed <= len(got) <= committed + 1
    assert seen - killed_at < 1.0
    rows, lengths = chmsg.stream(seed, len(got), max_len)
    assert b"".join(got) == chmsg.joined(rows, lengths)
    assert rx.info().sender == "died"
    with pytest.raises(BrokenPipeError):
        rx.recv_bytes(timeout=0)
    rx.close()
    assert not shm_exists(name)


def test_receiver_closed_sender_gets_broken_pipe(pair):
    tx, rx = pair
    rx.close()
    with pytest.raises(BrokenPipeError):
        tx.send_bytes(b"x")
    with pytest.raises(BrokenPipeError):
        with tx.reserve(1) as buf:
            buf[0] = 1


def test_before_a_peer_ever_opened_there_is_no_broken_pipe(name):
    with ipcshm.Channel(name, "sender", create=True, slot_size=8, slot_count=2) as tx:
        tx.send_bytes(b"1")
        tx.send_bytes(b"2")
        with pytest.raises(TimeoutError):
            tx.send_bytes(b"3", timeout=0.05)
        with pytest.raises(BlockingIOError):
            tx.send_bytes(b"3", timeout=0)
        with ipcshm.Channel(name, "receiver") as rx:
            assert list(rx.recv_bytes() for _ in range(2)) == [b"1", b"2"]


@needs_peer
def test_a_second_end_of_a_role_is_ebusy_then_free_after_close(name):
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=8, slot_count=2)
    with pytest.raises(OSError) as e:
        ipcshm.Channel(name, "sender")
    assert e.value.errno == errno.EBUSY
    tx.close()
    # A C process holds the role: Python's is EBUSY; after the C end dies, free.
    hold = ipcshm.Channel(name, "receiver", create=True, slot_size=8, slot_count=2)
    p = peer("hold", "/" + name, "sender")
    wait_ready(p)
    with pytest.raises(OSError) as e:
        ipcshm.Channel(name, "sender")
    assert e.value.errno == errno.EBUSY and "EBUSY" not in type(e.value).__name__
    p.kill()
    p.wait()
    with ipcshm.Channel(name, "sender") as again:
        again.send_bytes(b"after")
    assert hold.recv_bytes() == b"after"
    hold.close()


# Sizes --------------------------------------------------------------------------------

def test_wrong_sizes(pair):
    tx, rx = pair
    with pytest.raises(ipcshm.MessageTooLongError) as e:
        tx.send_bytes(bytes(65))
    assert (e.value.length, e.value.limit, e.value.errno) == (65, 64, errno.EMSGSIZE)
    with pytest.raises(ipcshm.MessageTooLongError):
        tx.reserve(65)
    tx.send_bytes(bytes(range(40)))
    with pytest.raises(ipcshm.MessageTooLongError) as e:
        rx.recv_bytes(10)
    assert e.value.length == 40 and e.value.limit == 10
    buf = bytearray(39)
    with pytest.raises(ipcshm.MessageTooLongError) as e:
        rx.recv_bytes_into(buf)
    assert e.value.length == 40
    assert rx.recv_bytes_into(bytearray(40)) == 40      # it stayed
    tx.send_bytes(b"")
    assert rx.recv_bytes() == b""
    tx.send_bytes(b"abcdef", 2, 3)
    assert rx.recv_bytes() == b"cde"
    with pytest.raises(ValueError):
        tx.send_bytes(b"abc", 2, 5)
    with pytest.raises(ValueError):
        tx.send_bytes(b"abc", -1)
    with tx.reserve() as slot:          # the whole slot
        assert len(slot) == 64
        slot[:2] = b"hi"
    assert len(rx.recv_bytes()) == 64


def test_reserve_commit_and_peek_views_cannot_outlive_them(pair):
    tx, rx = pair
    r = tx.reserve(4)
    view = r.buf[1:3]
    with pytest.raises(BufferError):
        r.commit()
    with pytest.raises(BufferError):
        tx.close()
    del view
    r.buf[:] = b"abcd"
    r.commit()
    p = rx.peek()
    m = p.buf
    arr = np.frombuffer(m, np.uint8)
    with pytest.raises(BufferError):
        p.release()
    with pytest.raises(BufferError):
        rx.close()
    assert bytes(arr) == b"abcd"
    del arr
    p.release()
    with pytest.raises(ValueError):
        m[0]                            # released with the message
    with pytest.raises(BlockingIOError):
        rx.recv_bytes(timeout=0)
    # An exception in the block sends nothing; the slot is reserved again next.
    with pytest.raises(ZeroDivisionError):
        with tx.reserve(2) as buf:
            buf[:] = b"no"
            1 / 0
    with pytest.raises(BlockingIOError):
        rx.recv_bytes(timeout=0)
    with tx.reserve(3) as buf:
        buf[:] = b"yes"
    # ... and an exception while peeking keeps the message.
    with pytest.raises(ZeroDivisionError):
        with rx.peek() as msg:
            assert bytes(msg) == b"yes"
            1 / 0
    assert rx.recv_bytes() == b"yes"


# Lifetimes: nothing left behind -----------------------------------------------------

def test_volatile_channel_goes_with_its_ends(name):
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=8, slot_count=2)
    rx = ipcshm.Channel(name, "receiver")
    assert shm_exists(name)
    tx.close()
    assert shm_exists(name)
    rx.close()
    assert not shm_exists(name)
    # the creator alone closing before a peer ever opened: gone too
    ipcshm.Channel(name, "receiver", create=True, slot_size=8).close()
    assert not shm_exists(name)


def test_ends_left_open_are_closed_at_exit(name):
    with start_python(
            "import ipcshm, sys\n"
            "tx = ipcshm.Channel(sys.argv[1], 'sender', create=True, slot_size=8)\n"
            "rx = ipcshm.Channel(sys.argv[1], 'receiver')\n"
            "tx.send_bytes(b'x')\n"
            "print('open', flush=True)\n", name) as child:
        assert child.stdout.readline() == "open\n"
        assert child.wait(30) == 0
    assert not shm_exists(name)


def test_persistent_channel_keeps_its_messages(name):
    with ipcshm.Channel(name, "sender", create=True, slot_size=8, volatile=False) as tx:
        tx.send_bytes(b"kept")
    assert shm_exists(name)
    assert ipcshm.channel_info(name).queued == 1
    with ipcshm.Channel(name, "receiver") as rx:
        assert rx.recv_bytes() == b"kept"
    ipcshm.remove(name)


# Descriptors: memfd channels between processes -------------------------------------

def test_memfd_channel_passed_over_a_socket(name):
    a, b = socket.socketpair()
    code = ("import ipcshm, socket, sys\n"
            "s = socket.socket(fileno=int(sys.argv[1]))\n"
            "with ipcshm.Channel.recv_handle(s, 'sender') as tx:\n"
            "    for i in range(1000):\n"
            "        tx.send_bytes(b'%d' % i)\n")
    with a, b:
        rx = ipcshm.Channel("memfd:pytest-ch", "receiver", create=True, slot_size=16,
                            slot_count=4)
        assert rx.id.startswith("memfd:") and rx.info().kind == "memfd"
        child = subprocess.Popen([os.sys.executable, "-c", code, str(b.fileno())],
                                 env=child_env(), pass_fds=[b.fileno()])
        rx.send_handle(a)
        assert list(rx) == [b"%d" % i for i in range(1000)]
        assert child.wait(30) == 0
        rx.close()


def test_from_fd_of_an_inherited_descriptor(name):
    tx = ipcshm.Channel(name, "sender", create=True, slot_size=8)
    fd = tx.object_fd()
    try:
        rx = ipcshm.Channel.from_fd(fd, "receiver")
    finally:
        os.close(fd)
    tx.send_bytes(b"fd")
    assert rx.recv_bytes() == b"fd"
    tx.close()
    assert list(rx) == []
    rx.close()


# Bad input ------------------------------------------------------------------------------

def test_bad_input(name, pair):
    tx, rx = pair
    with pytest.raises(OSError) as e:
        tx.recv_bytes(timeout=0)            # the wrong role
    assert e.value.errno == errno.EBADF
    with pytest.raises(OSError) as e:
        rx.send_bytes(b"x")
    assert e.value.errno == errno.EBADF
    with pytest.raises(ValueError):
        ipcshm.Channel(name, "both")
    with pytest.raises(ValueError):
        ipcshm.Channel(name + "x", "sender", create=True)     # no slot_size
    with pytest.raises(ValueError):
        ipcshm.Channel(name + "x", "sender", create=True, slot_size=0)
    with pytest.raises(ValueError):
        ipcshm.Channel(name, "sender", slot_size=8)             # not creating
    with pytest.raises(FileNotFoundError):
        ipcshm.Channel(name + "-none", "receiver")
    with pytest.raises(io.UnsupportedOperation):
        ipcshm.Channel("private", "sender", create=True, slot_size=8)
    with pytest.raises(ipcshm.InvalidArgumentError):
        ipcshm.Channel("memfd:x", "sender")                     # memfd has no name
    with pytest.raises(ValueError):
        rx.recv_bytes(timeout=-2)
    with pytest.raises(ValueError):
        rx.recv_bytes(timeout=float("nan"))
    with pytest.raises(TypeError):
        tx.send_bytes("text")
    with pytest.raises(TypeError):
        tx.send_bytes(b"x", bogus=1)
    with pytest.raises(TypeError):
        rx.recv_bytes_into(b"read-only")
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(tx)
    with ipcshm.SharedMemory(name + "-plain", create=True, size=4096) as shm:
        with pytest.raises(ipcshm.InvalidArgumentError):
            ipcshm.Channel(shm.id, "receiver")                  # not a channel
    tx.close()
    tx.close()
    for call in (lambda: tx.send_bytes(b"x"), lambda: tx.reserve(1), rx.close and
                 (lambda: tx.info()), lambda: tx.fileno()):
        with pytest.raises(ValueError):
            call()
    assert tx.closed and not rx.closed
    assert "closed" in repr(tx)


# Ctrl-C, threads, polling, asyncio --------------------------------------------------

@pytest.mark.parametrize("call", ["recv_bytes()", "peek()", "send_bytes(b'x')"])
def test_ctrl_c_interrupts_a_blocked_call(name, call):
    role = "sender" if call.startswith("send") else "receiver"
    code = ("import ipcshm, sys\n"
            "ch = ipcshm.Channel(sys.argv[1], %r, create=True, slot_size=8, slot_count=1)\n"
            "if ch.role == 'sender': ch.send_bytes(b'full')\n"
            "print('waiting', flush=True)\n"
            "try:\n"
            "    ch.%s\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True)\n" % (role, call))
    with start_python(code, name) as child:
        assert child.stdout.readline() == "waiting\n"
        time.sleep(0.3)
        t0 = time.monotonic()
        child.send_signal(signal.SIGINT)
        assert child.stdout.readline() == "interrupted\n"
        assert time.monotonic() - t0 < 2
        assert child.wait(30) == 0
    assert not shm_exists(name)


def test_threads_and_close_from_another_thread(pair):
    tx, rx = pair
    got, errors = [], []

    def waiter():
        try:
            got.append(rx.recv_bytes())
            got.append(rx.recv_bytes())
        except Exception as e:      # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    tx.send_bytes(b"late")          # wakes the thread blocked in recv_bytes
    time.sleep(0.3)
    rx.close()                      # ends its second, blocked call
    t.join(10)
    assert not t.is_alive() and got == [b"late"]
    assert len(errors) == 1 and isinstance(errors[0], (OSError, ValueError))


def test_recv_bytes_refuses_while_a_peeked_view_lives(pair):
    tx, rx = pair
    tx.send_bytes(b"one")
    p = rx.peek()
    m = p.buf
    with pytest.raises(BufferError):
        rx.recv_bytes()
    with pytest.raises(OSError) as e:
        rx.recv_bytes_into(bytearray(8))        # the library: EBUSY while peeked
    assert e.value.errno == errno.EBUSY
    del m
    p.release()
    assert rx.info().queued == 0


def test_poll_and_fileno(pair):
    tx, rx = pair
    assert not rx.poll()
    assert tx.poll()
    fd = rx.fileno()
    assert fd == rx.fileno() and fd >= 0
    threading.Timer(0.1, tx.send_bytes, (b"x",)).start()
    assert rx.poll(5)
    assert rx.recv_bytes() == b"x"
    assert not rx.poll(0.05)
    tx.close()
    assert rx.poll()                    # the sender is gone: recv says so at once


def test_asyncio_send_and_receive(pair):
    tx, rx = pair

    async def main():
        async def produce():
            for i in range(200):        # more than the 8 slots: it waits for room
                await tx.send_bytes_async(b"%d" % i)
            tx.close()

        task = asyncio.ensure_future(produce())
        got = [m async for m in rx]
        await task
        return got

    assert asyncio.run(main()) == [b"%d" % i for i in range(200)]


def test_asyncio_timeout(pair):
    tx, rx = pair

    async def main():
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            await rx.recv_bytes_async(timeout=0.1)
        assert time.monotonic() - t0 >= 0.09
        tx.send_bytes(b"now")
        return await rx.recv_bytes_async(timeout=5)

    assert asyncio.run(main()) == b"now"


def test_info_and_channel_info(pair, name):
    tx, rx = pair
    tx.send_bytes(b"1")
    i = rx.info()
    assert (i.kind, i.slot_size, i.slot_count, i.sender, i.receiver, i.queued, i.sent,
            i.received) == ("posix", 64, 8, "open", "open", 1, 1, 0)
    assert ipcshm.channel_info(name) == i
    assert tx.role == "sender" and rx.role == "receiver" and tx.slot_size == 64
    assert tx.id == "/" + name
