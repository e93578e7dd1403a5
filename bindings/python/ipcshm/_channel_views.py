"""The views of a slot that Channel.reserve() and Channel.peek() give
(libipcshm 1.2): context managers that commit or release at the end of a with
block, and refuse to while a view made from theirs is alive."""

from __future__ import annotations

from typing import Any, Optional


class _SlotView:
    """What Reservation and PeekedMessage share: the view of the slot, given
    up at the end of the block, and refused while a view made from it lives."""

    __slots__ = ("_ch", "_buf", "_done")
    _GONE = ""            # buf after the end
    _BUFFER_ALIVE = ""    # a buffer made from the view is alive
    _VIEW_ALIVE = ""      # another view of the slot is alive
    _READONLY = False

    def __init__(self, ch: Any, buf: memoryview) -> None:
        self._ch = ch
        self._buf: Optional[memoryview] = buf
        self._done = False

    @property
    def buf(self) -> memoryview:
        if self._buf is None:
            raise ValueError(self._GONE)
        return self._buf

    def __enter__(self) -> memoryview:
        return self.buf

    def _nbytes_again(self) -> Optional[int]:
        return None

    def _drop_view(self) -> None:
        """Releases the view; BufferError (and the view kept) while a buffer or
        another view of the slot lives."""
        buf = self._buf
        if buf is not None:
            try:
                buf.release()
            except BufferError:
                raise BufferError(self._BUFFER_ALIVE) from None
            self._buf = None
            if self._ch._views_alive():
                # a slice or an array of it: buf again (as it was), and no more
                self._buf = self._ch._view_again(self._READONLY, self._nbytes_again())
                raise BufferError(self._VIEW_ALIVE)

    def _drop_view_quietly(self) -> None:
        """At the end of a block left by an exception: the view goes if it can."""
        buf = self._buf
        if buf is not None:
            try:
                buf.release()
                self._buf = None
            except BufferError:
                pass


class Reservation(_SlotView):
    """A reserved slot (Channel.reserve()): ``with ch.reserve(n) as buf:`` gives
    a writable memoryview of `n` bytes of the slot, in the channel's memory;
    leaving the block without an exception commits them as one message.

    Leaving it with an exception sends nothing (the slot stays reserved: the
    next reserve() gives it again). The view is released at the end of the
    block; any other view of the slot that is still alive then (a slice of
    buf, a numpy array over it) is a BufferError, and nothing is sent, since
    the slot belongs to the receiver once committed. commit(n) inside the block
    sends `n` bytes instead (and the block then commits nothing more)."""

    __slots__ = ("_nbytes",)
    _GONE = "the reservation is over"
    _BUFFER_ALIVE = ("cannot commit: a buffer made from the reserved slot's view is still "
                     "alive (delete it first)")
    _VIEW_ALIVE = ("cannot commit: a view of the reserved slot (a slice of buf, an array "
                   "over it) is still alive (delete it first)")

    def __init__(self, ch: Any, buf: memoryview, nbytes: int) -> None:
        super().__init__(ch, buf)
        self._nbytes = nbytes

    def _nbytes_again(self) -> Optional[int]:
        return self._nbytes

    def commit(self, nbytes: Optional[int] = None) -> None:
        """Sends the first `nbytes` (by default what reserve() was asked for)
        of the slot as one message."""
        if self._done:
            raise ValueError("the reservation was committed already")
        self._drop_view()
        self._ch._commit(self._nbytes if nbytes is None else nbytes)
        self._done = True

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None:
            self._drop_view_quietly()
            return
        if not self._done:
            self.commit()


class PeekedMessage(_SlotView):
    """A message read in place (Channel.peek()): ``with ch.peek() as msg:`` gives
    a read-only memoryview of the message in the channel's memory; leaving the
    block releases it to the sender.

    Leaving it with an exception keeps the message (the next peek() or
    recv_bytes() gets it again; a receiver that dies leaves it to the next
    one). The view is released at the end of the block; any view made from it
    that is still alive then (a slice, np.frombuffer(msg)...) is a BufferError
    and the message is kept, since the sender may overwrite the slot once it
    is released: delete such views (or copy them) inside the block."""

    __slots__ = ()
    _GONE = "the message was released"
    _BUFFER_ALIVE = ("cannot release the message: a buffer made from its view is still "
                     "alive (delete it first)")
    _VIEW_ALIVE = ("cannot release the message: a view of it (a slice of buf, an array "
                   "over it) is still alive (delete it first)")
    _READONLY = True

    def release(self) -> None:
        """Releases the message's slot to the sender (BufferError while a view
        made from ``buf`` is alive)."""
        if self._done:
            return
        self._drop_view()
        self._ch._release()
        self._done = True

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None:
            self._drop_view_quietly()
            return
        self.release()
