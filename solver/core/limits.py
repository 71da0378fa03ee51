"""Explicit, configurable problem-size limits.

Every public solver function takes ``limits: Limits | None`` (``None`` = :data:`DEFAULT_LIMITS`)
and raises :class:`~mechsolve.solver.core.errors.ProblemTooLargeError` naming the argument, the size
received and the limit when a problem is over it. The server passes its configured limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import MechsolveInputError, ProblemTooLargeError


@dataclass(frozen=True)
class Limits:
    """Size limits; every field is a maximum (inclusive).

    Attributes:
        max_players: players in a normal-form game.
        max_outcomes: joint pure outcomes of a normal-form game (product of action counts).
        max_candidates: outcomes a mediator may search in one solve (enumeration or MILP).
        max_batch_profiles: profiles in one batch call.
        max_agents: agents in a matching or restaurant instance.
        max_restaurants: restaurants in a restaurant instance.
        max_exact_agents: delegators the exact (MILP) restaurant/matching variants accept.
        max_types: type profiles (grid points or samples) in an auction LP.
        max_lp_rows: constraint rows an LP may grow to during constraint generation.
        max_border_sets: threshold-set combinations the exact Border separation of a BIC auction
            with non-identical bidders may enumerate (``prod_{i<n} (T_i + 1)``).
        max_threads: threads one solve may run at once (the policy set enumeration's search;
            HiGHS runs one). The server lowers it to its share of the CPUs (its CPUs over
            ``workers x solvers``), so that its solves together do not oversubscribe them.
        pyomo_solvers: the Pyomo solver names ``method="pyomo"`` may use (``None``: any name
            Pyomo resolves, the in-process default; the server allows ``appsi_highs`` only
            unless configured otherwise, since a name such as ``asl:x`` runs an executable).
    """

    max_players: int = 16
    max_outcomes: int = 1 << 24
    max_candidates: int = 1 << 22
    max_batch_profiles: int = 1_000_000
    max_agents: int = 200_000
    max_restaurants: int = 100_000
    max_exact_agents: int = 2_000
    max_types: int = 1_000_000
    max_lp_rows: int = 50_000_000
    max_border_sets: int = 10_000_000
    max_threads: int = 8
    pyomo_solvers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = self.pyomo_solvers
        if names is not None and (
            not isinstance(names, tuple) or not all(isinstance(s, str) and s for s in names)
        ):
            raise MechsolveInputError(
                "Limits", "pyomo_solvers", f"must be a tuple of solver names or None; got {names!r}"
            )
        for f in fields(self):
            if f.name == "pyomo_solvers":
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MechsolveInputError(
                    "Limits", f.name, f"must be a positive integer; got {value!r}"
                )

    def with_(self, **changes: Any) -> Limits:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def check(self, function: str, argument: str, size: int, field: str) -> None:
        """Raise ProblemTooLargeError when ``size`` exceeds the limit ``field``."""
        limit = getattr(self, field)
        if size > limit:
            shown = "at least 2^62" if size == SIZE_CAP else size  # (a capped power_size)
            raise ProblemTooLargeError(
                function, argument, f"has size {shown}, over the limit {field}={limit}"
            )


SIZE_CAP = 1 << 62
"""Sizes computed with :func:`power_size` stop here (far above any limit)."""


def power_size(base: int, exponent: int) -> int:
    """``base ** exponent`` for a size check, capped at :data:`SIZE_CAP` without building a
    huge integer first (Python would hold the GIL computing it, for seconds)."""
    if base <= 1 or exponent <= 0:
        return 1 if exponent <= 0 else max(base, 0)
    return base**exponent if exponent * math.log2(base) < 62 else SIZE_CAP


DEFAULT_LIMITS = Limits()


def resolve(limits: Limits | None) -> Limits:
    """``limits`` or the defaults (anything else is an error naming ``limits``)."""
    if limits is None:
        return DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        raise MechsolveInputError("resolve", "limits", f"must be a Limits or None; got {limits!r}")
    return limits
