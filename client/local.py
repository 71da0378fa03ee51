"""The mechsolve API in this process: the same methods as :class:`~.grpc_client.MechsolveClient`
(:mod:`.methods`), calling the solver directly, so a simulation runs with or without a server."""

from __future__ import annotations

from mechsolve.solver.core.limits import Limits

from .methods import LocalMethods


class LocalMechsolve(LocalMethods):
    """Every API method in-process, with ``limits`` (``None``: the solver's defaults) as the
    server would apply them; ``time_limit`` is the solver's own."""

    def __init__(self, *, limits: Limits | None = None) -> None:
        self.limits = limits

    def health(self, service: str = "", *, time_limit: float = 5.0) -> str:
        """Always ``"SERVING"`` (for symmetry with the remote clients)."""
        return "SERVING"

    def close(self) -> None:
        """Nothing to release (for symmetry with the remote clients)."""

    def __enter__(self) -> LocalMechsolve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
