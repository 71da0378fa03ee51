"""Printing a solver result on the command line: one line per field, or the whole as JSON."""

from __future__ import annotations

import json
from typing import Any


def print_result(result: Any, as_json: bool) -> None:
    """Every field of ``result`` (as plain JSON values), long ones cut to a line, then its
    termination, method, backend and time; or the whole result as JSON."""
    from mechsolve.codec.plain import plain

    data = plain(result)
    if as_json:
        print(json.dumps(data, indent=2))
        return
    info = data.pop("info", None)
    for key, value in data.items():
        print(f"{key}: {_short(value)}")
    if info is not None:
        term = info["termination"]
        limit = f" ({term['limit']})" if term["limit"] else ""
        detail = f": {term['detail']}" if term["detail"] else ""
        print(f"termination: {term['reason']}{limit}{detail} [{info['method']}, "
              f"{info['backend']}, {info['wall_time_s'] * 1000:.1f} ms]")  # fmt: skip


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."


REMOTE_TIMEOUT = 3600.0
"""Deadline of a remote call without ``--time-limit`` (the server caps every solve with its
``max_solve_seconds``)."""


def solver_api(address: str | None, time_limit: float | None = None) -> Any:
    """The client of a running server at ``address`` (calls' deadline: ``time_limit``, else
    :data:`REMOTE_TIMEOUT`), or the in-process API (the same methods)."""
    if address:
        from mechsolve.client import MechsolveClient

        timeout = REMOTE_TIMEOUT if time_limit is None else time_limit
        return MechsolveClient(address, default_time_limit=timeout)
    from mechsolve.client import LocalMechsolve

    return LocalMechsolve()
