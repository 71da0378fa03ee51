"""Fixtures of the server tests: ``serve`` starts real ``mechsolve serve`` processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .processes import ServerProcess


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``serve(*args, wait=True)``: a started ``mechsolve serve`` process, killed (with its
    whole tree) after the test."""
    started: list[ServerProcess] = []

    def start(*args: str, wait: bool = True) -> ServerProcess:
        server = ServerProcess(args, tmp_path / f"serve-{len(started)}.log", wait=wait)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
