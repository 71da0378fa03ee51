"""Shared test configuration: deterministic hypothesis runs (the same examples every run) and
a real mechsolve gRPC server on a loopback socket for the server and client tests."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, settings

from mechsolve.client import MechsolveClient
from mechsolve.server.app import RunningServer, build_server
from mechsolve.server.config import ServerConfig
from mechsolve.server.logs import configure
from mechsolve.solver.core.limits import Limits
from mechsolve.v1 import mediators_pb2_grpc as mgrpc

settings.register_profile(
    "mechsolve",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("mechsolve")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the numba kernels once, in the first process (xdist's controller), so that the
    servers and workers the tests start load them from numba's cache instead of each
    compiling them at once on a fresh checkout."""
    if not hasattr(config, "workerinput"):
        from mechsolve.solver.structured.policy_enumeration import warm_up

        warm_up()


TEST_LIMITS = Limits(max_outcomes=200_000, max_candidates=200_000, max_batch_profiles=50_000)


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    configure("json", "WARNING")
    running = build_server(ServerConfig(port=0, limits=TEST_LIMITS, solvers=2))
    yield running
    running.stop(grace=1.0)


@pytest.fixture
def client(server: RunningServer) -> Iterator[MechsolveClient]:
    with MechsolveClient(server.address, default_time_limit=30.0) as c:
        yield c


@pytest.fixture
def stub(server: RunningServer) -> Iterator[mgrpc.MediatorServiceStub]:
    """The raw generated stub, for malformed requests the typed client would not send."""
    with grpc.insecure_channel(server.address) as channel:
        yield mgrpc.MediatorServiceStub(channel)
