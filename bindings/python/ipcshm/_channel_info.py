"""ChannelInfo and channel_info() (ipcshm_channel_info, libipcshm 1.2): what a
channel's header and the kernel's locks tell of it."""

from __future__ import annotations

import ctypes
import dataclasses
from typing import Union

from ._errors import _check
from ._native import (IPCSHM_END_CLOSED, IPCSHM_END_DIED, IPCSHM_END_NEVER,
                      IPCSHM_END_OPEN, IPCSHM_KIND_MEMFD, IPCSHM_KIND_POSIX,
                      ipcshm_channel_info_t)
from ._native import lib as _lib

_STATES = {IPCSHM_END_NEVER: "never", IPCSHM_END_OPEN: "open",
           IPCSHM_END_CLOSED: "closed", IPCSHM_END_DIED: "died"}
_KINDS = {IPCSHM_KIND_POSIX: "posix", IPCSHM_KIND_MEMFD: "memfd"}


@dataclasses.dataclass(frozen=True)
class ChannelInfo:
    """What ipcshm_channel_info() tells of a channel: its kind ('posix' or
    'memfd'), slot size and count, the state of each role ('never', 'open',
    'closed' or 'died'), the messages queued (committed and not yet
    released: multiprocessing.Queue.qsize()), sent and received since it was
    made."""
    kind: str
    slot_size: int
    slot_count: int
    sender: str
    receiver: str
    queued: int
    sent: int
    received: int

    @classmethod
    def _from_c(cls, c: ipcshm_channel_info_t) -> "ChannelInfo":
        return cls(_KINDS.get(c.kind, str(c.kind)), c.slot_size, c.slot_count,
                   _STATES.get(c.sender, str(c.sender)),
                   _STATES.get(c.receiver, str(c.receiver)), c.queued, c.sent, c.received)


def _new_info() -> ipcshm_channel_info_t:
    c = ipcshm_channel_info_t()
    c.struct_size = ctypes.sizeof(c)
    return c


def channel_info(id: Union[str, bytes]) -> ChannelInfo:
    """ChannelInfo of the channel `id` ("/name"), without opening an end (read
    permission suffices; what `ipcshm ls` shows)."""
    from ._channels import _ident
    c = _new_info()
    _check(_lib.ipcshm_channel_info(_ident(id), ctypes.byref(c)))
    return ChannelInfo._from_c(c)
