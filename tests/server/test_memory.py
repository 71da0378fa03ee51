"""The trim that gives freed request bytes back to the system (server/memory.py)."""

from __future__ import annotations

import asyncio

import pytest

from mechsolve.server import memory


def test_the_glibc_calls_run_here() -> None:
    """On this (glibc) machine both functions are found and called; elsewhere they are no-ops."""
    assert memory._glibc_function("malloc_trim") is not None
    memory.return_large_buffers()
    memory.release_free_memory()
    assert memory._glibc_function("no_such_function_in_libc") is None


def test_trims_are_coalesced_and_small_calls_do_not_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[float] = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append(1.0))
    monkeypatch.setattr(memory, "TRIM_DELAY_SECONDS", 0.05)

    async def scenario() -> None:
        trimmer = memory.Trimmer()
        trimmer.after_call(memory.TRIM_AFTER_BYTES - 1)
        await asyncio.sleep(0.1)
        assert trims == []  # small calls never trim
        for _ in range(5):
            trimmer.after_call(memory.TRIM_AFTER_BYTES)
        await asyncio.sleep(0.1)
        assert len(trims) == 1  # five large calls ending together: one trim
        trimmer.after_call(memory.TRIM_AFTER_BYTES)
        await asyncio.sleep(0.1)
        assert len(trims) == 2  # a later one trims again

    asyncio.run(scenario())
