"""SharedMemoryManager: CPython's multiprocessing.managers.SharedMemoryManager
for ipcshm's objects.

CPython's manager tracks the names of the objects made through it and unlinks
them at shutdown; its objects are persistent, so a crashed manager leaves them
behind. Here the manager's server process attaches each object it tracks: it is
one of its users, so a volatile object lives until the manager shuts down (and
then, as in CPython, its name is removed; who still maps it keeps its memory),
or until its last user is gone if the manager process dies first: nothing is
left behind by a crash.
"""

from __future__ import annotations

import collections.abc
import multiprocessing.managers
from multiprocessing import util
from typing import Any, Dict, List, Optional

from ._shareable_list import Item, ShareableList as _ShareableList
from ._shared_memory import SharedMemory as _SharedMemory

# multiprocessing.managers' classes and helpers, as CPython's own manager uses
# them (typeshed does not know all of them: Any here).
_managers: Any = multiprocessing.managers
Server: Any = _managers.Server
BaseManager: Any = _managers.BaseManager
State: Any = _managers.State
dispatch: Any = _managers.dispatch
ProcessError: Any = _managers.ProcessError


class _Tracker:
    """The objects of a SharedMemoryServer, attached in its process."""

    def __init__(self, name: str) -> None:
        self.shared_memory_context_name = name
        self.segments: Dict[str, _SharedMemory] = {}

    @property
    def segment_names(self) -> List[str]:
        return list(self.segments)

    def register_segment(self, segment_name: str) -> None:
        """Attaches the object `segment_name` (its creator holds it meanwhile)."""
        util.debug("Register segment %r" % segment_name)
        if segment_name not in self.segments:
            self.segments[segment_name] = _SharedMemory(segment_name)

    def destroy_segment(self, segment_name: str) -> None:
        """Removes the object's name and lets go of it."""
        util.debug("Destroy segment %r" % segment_name)
        shm = self.segments.pop(segment_name)
        try:
            shm.unlink()
        finally:
            shm.close()

    def unlink(self) -> None:
        for segment_name in list(self.segments):
            try:
                self.destroy_segment(segment_name)
            except OSError as e:           # removed by someone else meanwhile
                util.debug("destroying segment %r: %s" % (segment_name, e))


class SharedMemoryServer(Server):  # type: ignore[misc]
    """The manager's server: CPython's, over ipcshm's objects."""

    public = Server.public + ["track_segment", "release_segment", "list_segments"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Server.__init__(self, *args, **kwargs)
        address = self.address
        if isinstance(address, bytes):
            address = address.decode("utf-8", "surrogateescape")
        self.shared_memory_context = _Tracker("shm_%s" % (address,))

    def create(self, c: Any, typeid: str, /, *args: Any, **kwargs: Any) -> Any:
        """As CPython's: a registered type marked _shared_memory_proxy gets the
        server's tracker as shared_memory_context."""
        if hasattr(self.registry[typeid][-1], "_shared_memory_proxy"):
            kwargs["shared_memory_context"] = self.shared_memory_context
        return Server.create(self, c, typeid, *args, **kwargs)

    def shutdown(self, c: Any) -> Any:
        """Removes the names of the tracked objects and lets go of them, then
        stops the server."""
        self.shared_memory_context.unlink()
        return Server.shutdown(self, c)

    def track_segment(self, c: Any, segment_name: str) -> None:
        """Tracks (attaches) the object named `segment_name`."""
        self.shared_memory_context.register_segment(segment_name)

    def release_segment(self, c: Any, segment_name: str) -> None:
        """Removes the object's name and stops tracking it."""
        self.shared_memory_context.destroy_segment(segment_name)

    def list_segments(self, c: Any) -> List[str]:
        """The names of the objects tracked."""
        return self.shared_memory_context.segment_names


class SharedMemoryManager(BaseManager):  # type: ignore[misc]
    """CPython's SharedMemoryManager for ipcshm's SharedMemory and ShareableList:
    start() (or a with block) starts its server process; SharedMemory(size) and
    ShareableList(sequence) make objects that live until shutdown(), even when
    the processes that use them close theirs meanwhile; at shutdown their names
    are removed. Its other managed types (locks, ...) are BaseManager's."""

    _Server: Any = SharedMemoryServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (no resource tracker to start: ipcshm has none)
        BaseManager.__init__(self, *args, **kwargs)

    def get_server(self) -> SharedMemoryServer:
        """The server, to run in this process (serve_forever())."""
        if self._state.value != State.INITIAL:
            if self._state.value == State.STARTED:
                raise ProcessError("Already started SharedMemoryServer")
            if self._state.value == State.SHUTDOWN:
                raise ProcessError("SharedMemoryManager has shut down")
            raise ProcessError("Unknown state %r" % (self._state.value,))
        server: SharedMemoryServer = self._Server(self._registry, self._address,
                                                  self._authkey, self._serializer)
        return server

    def SharedMemory(self, size: int) -> _SharedMemory:
        """A new SharedMemory of `size` bytes (a unique name), tracked by the
        manager."""
        with self._Client(self._address, authkey=self._authkey) as conn:
            sms = _SharedMemory(None, create=True, size=size)
            try:
                dispatch(conn, None, "track_segment", (sms.name,))
            except BaseException:
                sms.unlink()
                sms.close()
                raise
        return sms

    def ShareableList(self, sequence: Optional[collections.abc.Iterable[Item]]
                      ) -> _ShareableList:
        """A new ShareableList of the values of `sequence`, tracked by the
        manager."""
        with self._Client(self._address, authkey=self._authkey) as conn:
            sl = _ShareableList(sequence)
            try:
                dispatch(conn, None, "track_segment", (sl.shm.name,))
            except BaseException:
                sl.shm.unlink()
                sl.shm.close()
                raise
        return sl
