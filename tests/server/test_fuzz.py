"""Fuzzing a live ``mechsolve serve`` process with every request message (see
:mod:`.fuzzing`): every answer is OK or a documented error (INVALID_ARGUMENT and size-limit
RESOURCE_EXHAUSTED naming a request field), never UNKNOWN or INTERNAL; the process tree's
memory stays within the server's budget; the server answers afterwards.

A few hundred requests in the suite; a long campaign is one command, e.g. 500 per RPC::

    MECHSOLVE_FUZZ_EXAMPLES=500 python -m pytest tests/server/test_fuzz.py -p no:xdist -s

which prints the answers counted by status code and kind of request, and the peak memory.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from mechsolve.api import Stream

from .fuzzing import EVERY, requests
from .processes import ServerProcess
from .raw import Reply, call, stream
from .test_hostile import MB, PeakRss, still_answers

EXAMPLES = int(os.environ.get("MECHSOLVE_FUZZ_EXAMPLES", "16"))
SOLVERS, CALL_MEMORY_MB = 2, 1024
DOCUMENTED = {"OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
COUNTS: collections.Counter[tuple[str, str]] = collections.Counter()
BASE_RSS: list[int] = []  # the idle server's memory
PEAK_RSS: list[int] = [0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    args = ("--solvers", str(SOLVERS), "--call-memory-mb", str(CALL_MEMORY_MB))
    srv = ServerProcess((*args, "--max-solve-seconds", "2"), log)
    BASE_RSS.append(srv.rss_bytes())
    yield srv
    srv.kill()
    if EXAMPLES > 16:  # a campaign: say what it found
        summary = {f"{kind} {code}": n for (kind, code), n in sorted(COUNTS.items())}
        report = {
            "requests": sum(COUNTS.values()),
            "answers": summary,
            "idle_rss_mb": round(BASE_RSS[-1] / MB),
            "peak_rss_mb": round(PEAK_RSS[0] / MB),
            "budget_mb": round((BASE_RSS[-1] + SOLVERS * CALL_MEMORY_MB * MB) / MB),
        }
        print(json.dumps(report), file=sys.stderr)


def _check(reply: Reply, kind: str) -> None:
    code = reply.code.name
    COUNTS[(kind, code)] += 1
    assert code in DOCUMENTED, reply
    assert "Traceback" not in reply.message, reply
    if code == "INVALID_ARGUMENT" and "is not a valid" not in reply.message:
        assert reply.field, reply  # a request that parsed: the error names its field
    if code == "RESOURCE_EXHAUSTED" and "over the limit" in reply.message:
        assert reply.field, reply


@pytest.mark.parametrize("rpc", EVERY, ids=lambda r: r.name)
def test_every_answer_is_documented(server: ServerProcess, rpc) -> None:
    budget = BASE_RSS[-1] + SOLVERS * CALL_MEMORY_MB * MB

    @settings(
        max_examples=EXAMPLES,
        database=None,
        derandomize=EXAMPLES <= 16,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests(rpc))
    def answers(request: tuple[str, bytes]) -> None:
        kind, payload = request
        if isinstance(rpc, Stream):
            _, reply = stream(server.address, rpc.path, [payload], timeout=20)
        else:
            reply = call(server.address, rpc.path, payload, timeout=20)
        _check(reply, kind)

    with PeakRss(server) as rss:
        answers()
    PEAK_RSS[0] = max(PEAK_RSS[0], rss.peak)
    assert rss.peak < budget, (rss.peak / MB, budget / MB)
    still_answers(server)
