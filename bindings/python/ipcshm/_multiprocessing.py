"""SharedMemory across multiprocessing: an object passed as an argument or a
result, through a Queue, a Pipe, a Pool or a ProcessPoolExecutor, with any
start method (spawn, fork, forkserver), arrives attached, volatile and memfd
objects included.

multiprocessing pickles with its ForkingPickler, whose reducers this module
registers for SharedMemory (and its subclasses); plain pickle keeps using
SharedMemory.__reduce__ (the receiver attaches by id).

- A persistent POSIX or System V object travels by id, as CPython's objects
  travel by name: it stays until it is unlinked.
- A volatile object goes with its last user, which may be the sender's handle,
  dropped as soon as it is sent (a ProcessPoolExecutor worker that returns a
  SharedMemory drops it right away). So it is handed over: the sending process
  keeps a handle of it, and for a POSIX or memfd object a descriptor, for a
  background thread that serves them as multiprocessing's resource sharer
  serves descriptors of sockets (multiprocessing.connection's Listener and
  Client, authenticated with the process's authkey; reduction.send_handle and
  recv_handle, SCM_RIGHTS). The receiver connects to it while unpickling,
  receives the descriptor, attaches (a user of its own from then on) and says
  so, and only then does the sender let go. A memfd object has no name: the
  descriptor is the only way to it. (multiprocessing's own resource sharer
  cannot serve a process that is exiting: its socket's file is removed first.
  This one listens on an abstract socket, which has no file.)

The sender must still run when the receiver unpickles: a process that exits
with objects not yet received waits for them (at most EXIT_WAIT seconds, then
says so on stderr: the objects go with it). A closed SharedMemory travels by id
if its object still exists, else pickling fails (a closed memfd object cannot
travel at all), with an error that says what to do.

Children started by fork or forkserver leave with os._exit(), which skips
atexit: this module also has multiprocessing's own exit (util._exit_function)
detach what they hold, so their volatile objects go as they should.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import multiprocessing.reduction as _reduction

from . import _accel, _handles
from ._args import _attach_flags
from ._errors import _check
from ._info import _new_info, info
from ._native import IPCSHM_PERSISTENT
from ._native import lib as _lib
from ._shared_memory import SharedMemory

# How long a process that exits waits for the receivers of what it sent.
EXIT_WAIT = 10.0
# How long the sender waits for a receiver that received the descriptor to say
# that it attached; and for any other read from a peer.
ACK_WAIT = 30.0
PEER_WAIT = 10

_F_GET_SEALS = getattr(fcntl, "F_GET_SEALS", 1034)
_F_SEAL_SHRINK = getattr(fcntl, "F_SEAL_SHRINK", 0x0002)

def _volatile_of(handle: Any) -> bool:
    c = _new_info()
    _check(_lib.ipcshm_handle_info(handle.out, ctypes.byref(c)))
    return not c.flags & IPCSHM_PERSISTENT


def _reduce(shm: SharedMemory) -> Tuple[Callable[..., SharedMemory], Tuple[Any, ...]]:
    """ForkingPickler's reducer of SharedMemory (and its subclasses)."""
    cls = type(shm)
    ident = shm._id
    handle = shm._handle
    if handle is None:
        if ident.startswith("memfd:"):
            raise TypeError("cannot send %r through multiprocessing: it is closed, and a "
                            "memfd object has no name to attach it by; send it before "
                            "closing it (the receiver then holds it)" % shm)
        try:
            still = info(ident)
        except FileNotFoundError:
            raise FileNotFoundError(
                "cannot send %r through multiprocessing: it is closed and its object is "
                "gone (a volatile object goes with its last user); send it before closing "
                "it (the receiver then holds it), or create it with volatile=False"
                % shm) from None
        del still
        return (_attach_by_id, (cls, ident, shm._readonly))
    if not ident.startswith("memfd:") and not _volatile_of(handle):
        return (_attach_by_id, (cls, ident, shm._readonly))
    return (_receive, _hand_over(shm, handle))


def _attach_by_id(cls: Type[SharedMemory], ident: str, readonly: bool) -> SharedMemory:
    return cls._new(_accel.attach(ident.encode("utf-8", "surrogateescape"),
                                  _attach_flags(readonly, False, False)), readonly)


class _Sharer:
    """The thread that hands objects over, and what it holds. One per process
    (a forked child starts afresh: what its parent holds is not its own).

    It listens on an abstract UNIX socket (no file, which an exiting process's
    multiprocessing would remove before the wait for receivers). Any local
    user may connect to that: a peer of another user (root aside) is turned
    away at once by its credentials (SO_PEERCRED), each connection is served by
    a thread of its own with a bounded wait for the peer, so no peer can stall
    the others, and a receiver must prove the multiprocessing authkey (the
    HMAC challenge of multiprocessing.connection) before anything is sent."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.pid = os.getpid()
        self.sock: Optional[socket.socket] = None
        self.address = ""
        self.next_key = 0
        self.serving = 0                        # handovers under way
        # key -> (send, release, description)
        self.entries: Dict[int, Tuple[Callable[[Any], None], Callable[[], None], str]] = {}

    def register(self, send: Callable[[Any], None], release: Callable[[], None],
                 what: str) -> Tuple[str, int]:
        with self.lock:
            if self.sock is None:
                address = "\0ipcshm-%d-%s" % (os.getpid(), os.urandom(8).hex())
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.bind(address)
                    sock.listen(64)
                except OSError:
                    sock.close()
                    raise
                self.sock, self.address = sock, address
                threading.Thread(target=self._serve, args=(sock,),
                                 name="ipcshm-handover", daemon=True).start()
            self.next_key += 1
            self.entries[self.next_key] = (send, release, what)
            return self.address, self.next_key

    def _serve(self, sock: socket.socket) -> None:
        import signal
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        uids = {os.geteuid(), 0}
        while True:
            try:
                peer, _ = sock.accept()
            except OSError:
                time.sleep(0.05)                # (out of descriptors, say)
                continue
            try:
                creds = peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
                if struct.unpack("3i", creds)[1] not in uids:
                    peer.close()
                    continue
                # Every read from the peer is bounded (the descriptor stays
                # blocking, as multiprocessing's Connection reads it).
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                struct.pack("ll", int(PEER_WAIT), 0))
                threading.Thread(target=self._hand, args=(peer,), daemon=True).start()
            except Exception:
                peer.close()

    def _hand(self, peer: socket.socket) -> None:
        from multiprocessing import connection, process
        authkey = process.current_process().authkey
        try:
            conn = connection.Connection(peer.detach())
        except Exception:
            peer.close()
            return
        with conn:
            try:
                connection.deliver_challenge(conn, authkey)
                connection.answer_challenge(conn, authkey)
                key = conn.recv()
                with self.lock:
                    entry = self.entries.pop(key, None) if isinstance(key, int) else None
                    if entry is not None:
                        self.serving += 1
                if entry is None:
                    conn.send(False)            # (received once already)
                    return
            except Exception:                   # not a receiver of ours
                return
            send, release, _ = entry
            try:
                conn.send(True)
                send(conn)
            except Exception:                   # the receiver went away: its loss
                pass
            finally:
                release()
                with self.lock:
                    self.serving -= 1
                    self.lock.notify_all()

    def wait(self, seconds: float) -> List[str]:
        """Waits until every object was received (at most `seconds`); what is
        left."""
        deadline = time.monotonic() + seconds
        with self.lock:
            while self.entries or self.busy():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(min(left, 0.05))
            return [what for _, _, what in self.entries.values()]

    def busy(self) -> bool:
        """A handover in progress (taken from entries, not yet released)."""
        return self.serving > 0


_sharer = _Sharer()


def _sharer_in_child() -> None:
    # A forked child: its parent's entries and listener are not its own. The
    # copies of what they hold stay referenced until the child exits (then
    # detached as inherited handles are): detaching them here, right after
    # fork, could wait forever on a lock of the library that another thread of
    # the parent held at that moment. The listening socket's copy is closed.
    global _sharer
    old = _sharer
    _sharer = _Sharer()
    _inherited.append(old.entries)
    if old.sock is not None:
        old.sock.close()


_inherited: List[Any] = []


os.register_at_fork(after_in_child=_sharer_in_child)


def _hand_over(shm: SharedMemory, handle: Any) -> Tuple[Any, ...]:
    """Registers the object with the sharer, which holds `handle` (and a
    descriptor) until a receiver attached; the arguments of _receive()."""
    ident = shm._id
    fd = -1
    unsealed = False
    if not ident.startswith("shmid:"):
        fd = _check(_lib.ipcshm_fd(handle.out))
        if ident.startswith("memfd:"):
            try:
                unsealed = not fcntl.fcntl(fd, _F_GET_SEALS) & _F_SEAL_SHRINK
            except OSError:
                unsealed = True
    held: List[Any] = [handle]

    def send(conn: Any) -> None:
        if fd >= 0:
            _reduction.send_handle(conn, fd, 0)
        # The receiver attaches, then says so (or closes the connection).
        if conn.poll(ACK_WAIT):
            conn.recv()

    def release() -> None:
        held.clear()
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    try:
        address, key = _sharer.register(send, release, repr(shm))
    except BaseException:
        release()
        raise
    _hook_multiprocessing_exit()
    return (type(shm), address, key, os.getpid(), ident, shm._readonly, fd >= 0, unsealed)


def _receive(cls: Type[SharedMemory], address: str, key: int, sender: int, ident: str,
             readonly: bool, has_fd: bool, unsealed: bool) -> SharedMemory:
    """Unpickling a handed-over object: fetch it from the sender, attach, ack."""
    from multiprocessing import AuthenticationError, connection, process
    try:
        conn = connection.Client(address, "AF_UNIX",
                                 authkey=process.current_process().authkey)
    except AuthenticationError as e:
        raise PermissionError(
            "cannot receive SharedMemory %r from process %d: %s (the two processes "
            "have different multiprocessing authkeys)" % (ident, sender, e)) from None
    except OSError as e:
        raise FileNotFoundError(
            "cannot receive SharedMemory %r from process %d: that process is gone (%s), "
            "and with it the volatile object it sent, unless other processes still use "
            "it. Keep the sender running until the receiver has the object, or create "
            "it with volatile=False" % (ident, sender, e)) from None
    with conn:
        try:
            conn.send(key)
            if not conn.recv():
                raise FileNotFoundError(
                    "cannot receive SharedMemory %r from process %d: it was received "
                    "once already (a multiprocessing pickle of a volatile object is "
                    "loaded once)" % (ident, sender))
            fd = _reduction.recv_handle(conn) if has_fd else -1
        except (EOFError, OSError) as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise FileNotFoundError(
                "cannot receive SharedMemory %r from process %d: the connection broke "
                "(%s)" % (ident, sender, e)) from None
        if has_fd:
            try:
                flags = _attach_flags(readonly, False, False, unsealed)
                shm = cls._new(_accel.attach_fd(fd, flags), readonly)
            finally:
                os.close(fd)
        else:
            shm = _attach_by_id(cls, ident, readonly)
        try:
            conn.send(True)
        except OSError:
            pass
    return shm


def register(cls: Type[SharedMemory]) -> None:
    """Makes multiprocessing pickle `cls` (SharedMemory or a subclass) so."""
    _reduction.ForkingPickler.register(cls, _reduce)


register(SharedMemory)


# Exit -------------------------------------------------------------------------

def _wait_for_receivers() -> None:
    """Waits (EXIT_WAIT seconds at most) for the receivers of what this
    process handed over; says on stderr what is left."""
    if _sharer.pid != os.getpid():
        return
    left_over = _sharer.wait(EXIT_WAIT)
    if left_over:
        sys.stderr.write(
            "ipcshm: process %d exits with %d SharedMemory sent through multiprocessing "
            "and not received within %g s (%s): their volatile objects go with this "
            "process unless others use them\n"
            % (os.getpid(), len(left_over), EXIT_WAIT, ", ".join(left_over[:3])))


_handles.before_exit.insert(0, _wait_for_receivers)


class _ExitToken:
    """What multiprocessing's after-fork registry holds (weakly) for us."""


_EXIT_TOKEN = _ExitToken()
_after_fork_registered = False      # (inherited by children, as the registry is)
_finalizer_pid = 0                  # the process whose exit finalizer is registered


def _hook_multiprocessing_exit() -> None:
    """multiprocessing's children started by fork or forkserver end with
    os._exit() after util._exit_function(), which runs multiprocessing's
    finalizers but not atexit: register one there that waits for receivers and
    detaches, as atexit does. Its priority puts it after a Queue's feeder has
    flushed what was put (-5), which may hand objects over, and before the
    removal of the temporary directory (-100) that holds the resource sharer's
    socket, which receivers connect to."""
    global _after_fork_registered, _finalizer_pid
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    if not _after_fork_registered:
        util.register_after_fork(_EXIT_TOKEN, _in_multiprocessing_child)
        _after_fork_registered = True
    if _finalizer_pid != os.getpid():
        util.Finalize(None, _handles.exit_detach, exitpriority=-50)
        _finalizer_pid = os.getpid()


def _in_multiprocessing_child(_token: Any) -> None:
    # A child's registry of finalizers is cleared as it starts, then this runs.
    global _finalizer_pid
    _finalizer_pid = 0
    _hook_multiprocessing_exit()


def _exit_later() -> bool:
    """True while multiprocessing's own exit, which runs exit_detach() after it
    flushed its queues, is still to come (see _handles.py)."""
    util = sys.modules.get("multiprocessing.util")
    return (util is not None and _finalizer_pid == os.getpid()
            and not getattr(util, "_exiting", True))


_handles.exit_later = _exit_later
_hook_multiprocessing_exit()
os.register_at_fork(after_in_child=_hook_multiprocessing_exit)
