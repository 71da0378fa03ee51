"""Giving freed request bytes back to the operating system (glibc; elsewhere no-ops).

gRPC assembles each large request from many buffers on its own threads. By default glibc raises
its mmap threshold after a large buffer is freed, and keeps what threads free in per-thread
heaps: after a burst of large requests, refused or answered, the server process would stay
hundreds of MB larger than it needs (measured: eight refused 45 MB requests left 250 MB behind
on a loaded machine with the threshold fixed alone, 35-42 MB with the trim as well).
:func:`return_large_buffers` fixes the threshold when the server starts; :class:`Trimmer` runs
``malloc_trim(0)`` (the free pages of every heap back to the system) after large calls.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
from typing import Any

MMAP_THRESHOLD = 1 << 20
"""Allocations from this size up get their own mappings (returned to the system when freed)."""

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number

TRIM_AFTER_BYTES = 8 << 20
"""A call that held at least this many request bytes schedules a trim once it ends."""

TRIM_DELAY_SECONDS = 0.5
"""gRPC frees a call's buffers after its handler returns: the trim waits this long."""


@functools.cache
def _libc() -> Any:
    """The C library (looked up once), or None."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def _glibc_function(name: str) -> Any:
    """``name`` from the C library, or None where there is no such function (not glibc)."""
    return getattr(_libc(), name, None)


def return_large_buffers() -> None:
    """Make glibc serve every allocation of :data:`MMAP_THRESHOLD` or more with its own
    mapping, returned to the system when freed (instead of raising the threshold after a large
    buffer is freed, which keeps later large requests in the heap for good)."""
    mallopt = _glibc_function("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release_free_memory() -> None:
    """Return the free pages of every malloc heap to the system (glibc ``malloc_trim(0)``)."""
    trim = _glibc_function("malloc_trim")
    if trim is not None:
        trim(ctypes.c_size_t(0))


class Trimmer:
    """Trims after large calls: those that end within ``TRIM_DELAY_SECONDS`` of each other
    share one trim (a steady stream of large calls trims every ``TRIM_DELAY_SECONDS`` at most)."""

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
