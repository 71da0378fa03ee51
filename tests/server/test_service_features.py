"""Deadlines become solver time limits, back-pressure, health, reflection, auth and (mutual) TLS,
all against real servers on loopback sockets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mechsolve import codec
from mechsolve.api import RPCS
from mechsolve.client import MechsolveClient, MechsolveRpcError, RetryPolicy
from mechsolve.server.app import RunningServer, build_server
from mechsolve.server.config import ServerConfig
from mechsolve.server.status import DeadlineExceeded, time_limit
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.results import Limit, TerminationReason
from mechsolve.solver.games.normal_form import random_game, seed000_prisoners_dilemma
from mechsolve.v1 import mediators_pb2 as mpb
from mechsolve.v1 import mediators_pb2_grpc as mgrpc

BIG = random_game([8, 8, 8], seed=1)


def _slow_batch(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 8, (n, 3)), np.ones((n, 3), dtype=bool)


@pytest.fixture
def make_server() -> Iterator:
    started: list[RunningServer] = []

    def make(**kw) -> RunningServer:
        s = build_server(ServerConfig(port=0, **kw))
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop(grace=0.5)


def test_tiny_deadline_returns_feasible_or_deadline_exceeded(client: MechsolveClient) -> None:
    acts, dele = _slow_batch()
    try:
        res = client.mediate_batch(BIG, acts, dele, method="milp", time_limit=0.3)
    except MechsolveRpcError as exc:
        assert exc.code == grpc.StatusCode.DEADLINE_EXCEEDED
    else:  # the solver stopped at 0.95 x the deadline with the profiles it had solved
        assert res.termination.reason is TerminationReason.FEASIBLE
        assert res.termination.limit is Limit.TIME
        assert "time limit" in res.termination.detail
        assert not res.optimal.all()
        assert (res.utilities_after >= res.utilities_before - 1e-12).all()
    # the server keeps answering
    assert client.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1]).welfare_after == 4.0


def test_the_solver_gets_what_remains_of_the_deadline_less_a_reserve() -> None:
    class Remaining:  # the one method of grpc.aio.ServicerContext the budget reads
        def __init__(self, seconds: float | None) -> None:
            self.seconds = seconds

        def time_remaining(self) -> float | None:
            return self.seconds

    assert time_limit(Remaining(10.0), 60.0) == pytest.approx(9.5)  # 5% reserve
    assert time_limit(Remaining(2.0), 60.0) == pytest.approx(1.8)  # at least 0.2 s reserve
    assert time_limit(Remaining(0.3), 60.0) == pytest.approx(0.15)  # or half
    assert time_limit(Remaining(None), 60.0) == 60.0  # no deadline: the server's cap
    assert time_limit(Remaining(100.0), 60.0) == 60.0
    assert time_limit(Remaining(10.0), 60.0, per_message=2.0) == pytest.approx(1.8)
    with pytest.raises(DeadlineExceeded):
        time_limit(Remaining(0.001), 60.0)


def test_a_deadline_stops_the_solve_with_a_time_limit(client: MechsolveClient) -> None:
    acts, dele = _slow_batch()
    res = client.mediate_batch(BIG, acts, dele, method="milp", time_limit=2.0)
    assert res.termination.reason is TerminationReason.FEASIBLE
    assert res.termination.limit is Limit.TIME


def test_health_and_reflection(server: RunningServer) -> None:
    with grpc.insecure_channel(server.address) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for service in ("", "mechsolve.v1.MediatorService"):
            resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        names = {
            s.name
            for r in refl.ServerReflectionInfo(iter([req]), timeout=5)
            for s in r.list_services_response.service
        }
        assert {"mechsolve.v1.MediatorService", "grpc.health.v1.Health"} <= names
        req = reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="mechsolve.v1.MediatorService"
        )
        files = next(
            iter(refl.ServerReflectionInfo(iter([req]), timeout=5))
        ).file_descriptor_response
        assert files.file_descriptor_proto  # a grpcurl-style client can discover the API


def test_max_concurrent_rpcs_answers_resource_exhausted(make_server) -> None:
    srv = make_server(max_concurrent_rpcs=1, solvers=2)
    pd = seed000_prisoners_dilemma()
    gate = threading.Event()
    batch = next(r for r in RPCS if r.name == "MediateBatch")
    first = mpb.StreamMediateBatchRequest(
        batch=codec.encode_request(batch, {"game": pd, "actions": [[1, 1]], "delegate": [[1, 1]]})
    )

    def requests():
        yield first
        gate.wait(20)

    with grpc.insecure_channel(srv.address) as ch:
        responses = mgrpc.MediatorServiceStub(ch).StreamMediateBatch(requests(), timeout=30)
        next(responses)  # the stream is being served: it holds the only slot
        with MechsolveClient(srv.address, retry=RetryPolicy(max_attempts=1)) as c:
            with pytest.raises(MechsolveRpcError) as info:
                c.pareto_mediator(pd, [1, 1], [1, 1])
            assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            gate.set()
            assert list(responses) == []
            assert c.pareto_mediator(pd, [1, 1], [1, 1]).welfare_after == 4.0  # capacity is back


def test_bearer_token_auth(make_server) -> None:
    srv = make_server(auth_tokens=("s3cret", "other"))
    pd = seed000_prisoners_dilemma()
    with MechsolveClient(srv.address, token="s3cret") as c:
        assert c.pareto_mediator(pd, [1, 1], [1, 1]).welfare_after == 4.0
    for token in (None, "wrong"):
        with MechsolveClient(srv.address, token=token) as c:
            with pytest.raises(MechsolveRpcError) as info:
                c.pareto_mediator(pd, [1, 1], [1, 1])
            assert info.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert c.health() == "SERVING"  # probes need no token


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    trustme = pytest.importorskip("trustme")
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1")
    client_cert = ca.issue_cert("client.mechsolve.test")
    paths = {
        "ca": d / "ca.pem",
        "server_cert": d / "server.pem",
        "server_key": d / "server.key",
        "client_cert": d / "client.pem",
        "client_key": d / "client.key",
    }
    ca.cert_pem.write_to_path(paths["ca"])
    server_cert.private_key_pem.write_to_path(paths["server_key"])
    paths["server_cert"].write_bytes(b"".join(b.bytes() for b in server_cert.cert_chain_pems))
    client_cert.private_key_pem.write_to_path(paths["client_key"])
    paths["client_cert"].write_bytes(b"".join(b.bytes() for b in client_cert.cert_chain_pems))
    return paths


def test_tls(make_server, pki: dict[str, Path]) -> None:
    srv = make_server(tls_cert=pki["server_cert"], tls_key=pki["server_key"])
    with MechsolveClient(srv.address, root_certificates=pki["ca"]) as c:
        assert c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1]).welfare_after == 4.0
    with MechsolveClient(
        srv.address, retry=RetryPolicy(max_attempts=1), default_time_limit=2
    ) as c:  # plaintext
        with pytest.raises(MechsolveRpcError):
            c.health()


def test_mutual_tls(make_server, pki: dict[str, Path]) -> None:
    srv = make_server(
        tls_cert=pki["server_cert"], tls_key=pki["server_key"], tls_client_ca=pki["ca"]
    )
    with MechsolveClient(
        srv.address,
        root_certificates=pki["ca"],
        private_key=pki["client_key"],
        certificate_chain=pki["client_cert"],
    ) as c:
        assert c.health() == "SERVING"
        assert c.pareto_mediator(seed000_prisoners_dilemma(), [1, 1], [1, 1]).welfare_after == 4.0
    with MechsolveClient(
        srv.address,
        root_certificates=pki["ca"],
        retry=RetryPolicy(max_attempts=1),
        default_time_limit=2,
    ) as c:
        with pytest.raises(MechsolveRpcError):  # no client certificate
            c.health()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"port": 70000}, r"`port` must be in \[0, 65535\]; got 70000"),
        ({"tls_cert": Path("x.pem")}, "`tls_cert` and tls_key must be given together"),
        (
            {"tls_cert": Path("nope.pem"), "tls_key": Path("nope.key")},
            "`tls_cert` must be a readable file",
        ),
        ({"workers": 0}, "`workers` must be >= 1; got 0"),
        ({"log_format": "xml"}, "`log_format` must be 'json' or 'text'"),
    ],
)
def test_bad_server_config(kw: dict, message: str) -> None:
    with pytest.raises(MechsolveInputError, match=message):
        ServerConfig(**kw)


def test_solves_share_the_cpus() -> None:
    """Each solve may run ``cpus // (workers x solvers)`` threads (at least 1, at most
    ``limits.max_threads``): the server's solves together do not oversubscribe its CPUs."""
    import os

    from mechsolve.solver.core.limits import Limits

    cpus = len(os.sched_getaffinity(0))
    for workers, solvers in ((1, 1), (1, 2), (2, 2), (1, 64)):
        lim = ServerConfig(port=0, workers=workers, solvers=solvers).solver_limits
        assert lim.max_threads == max(1, min(8, cpus // (workers * solvers)))
    one = ServerConfig(port=0, solvers=1, limits=Limits(max_threads=1)).solver_limits
    assert one.max_threads == 1
