"""The mechsolve.v1 API, one declaration per RPC (:mod:`.declare`), grouped by family: every
module of this package holds an ``RPCS`` tuple, and every RPC in one is served, has client
methods and is contract-tested. A new capability is a solver function, a request/response
pair in ``proto/`` and one entry in the tuple of its family (a new family: a new module)."""

from __future__ import annotations

import importlib
import pkgutil

from .declare import Alias, Rpc, Stream, Vectorized, api_signature

__all__ = ["RPCS", "SERVICES", "Alias", "Rpc", "Stream", "Vectorized", "api_signature"]


def _collect() -> tuple[Rpc | Stream, ...]:
    found: list[Rpc | Stream] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "declare":
            found += importlib.import_module(f"{__name__}.{info.name}").RPCS
    names = [r.function.__name__ for r in found] + [
        a.function.__name__ for r in found for a in r.aliases
    ]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two declarations give a client method the same name: {sorted(names)}")
    return tuple(found)


RPCS = _collect()
"""Every declared RPC, by family module."""

SERVICES: dict[str, tuple[Rpc | Stream, ...]] = {}
"""Service full name -> its RPCs."""
for _rpc in RPCS:
    SERVICES[_rpc.service] = (*SERVICES.get(_rpc.service, ()), _rpc)
