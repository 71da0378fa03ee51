"""Giving freed request bytes back to the operating system.

gRPC assembles each large request from many buffers on its own threads. glibc keeps what those
threads free in per-thread heaps (and raises its mmap threshold after large frees), so after a
burst of large requests the server process can hold hundreds of MB it no longer uses.
``malloc_trim(0)`` returns the free pages of every heap. Elsewhere (musl, macOS) it is a no-op.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

TRIM_AFTER_BYTES = 8 << 20
"""A call that held at least this many request bytes schedules a trim once it ends."""

TRIM_DELAY_SECONDS = 0.5
"""gRPC frees a call's buffers after its handler returns: the trim waits this long."""


def _malloc_trim() -> Callable[[], None]:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def release() -> None:
        trim(0)

    return release


release_free_memory = _malloc_trim()
"""Return the free pages of every malloc heap to the system (glibc ``malloc_trim(0)``)."""


class Trimmer:
    """Coalesces trims: the large calls that end within ``TRIM_DELAY_SECONDS`` of each other share
    one trim (a steady stream of large calls trims every ``TRIM_DELAY_SECONDS`` at most)."""

    def __init__(self) -> None:
        self._handle: asyncio.TimerHandle | None = None

    def after_call(self, size: int) -> None:
        """A call that held ``size`` request bytes has ended (on the event loop's thread)."""
        if size < TRIM_AFTER_BYTES or self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        self._handle = loop.call_later(TRIM_DELAY_SECONDS, self._trim)

    def _trim(self) -> None:
        self._handle = None
        release_free_memory()
