"""Validation of the arguments shared by the auction solvers (priors, modes, flags)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from .priors import TypePrior

CONSTRAINT_MODES = ("generation", "full")
"""``constraints=``: seeded IC rows + exact separation, or every IC row up front."""
MAX_BIDDERS = 16
"""Most bidders an auction LP, audit or reference table accepts."""


def bidder_priors(
    function: str,
    priors: Any,
    n_bidders: Any,
    *,
    max_bidders: int = MAX_BIDDERS,
    argument: str = "priors",
) -> tuple[TypePrior, ...]:
    """One :class:`TypePrior` per bidder: ``priors`` is one prior shared by ``n_bidders``
    i.i.d. bidders (default 1), or a sequence of priors (``n_bidders`` ``None`` or equal)."""
    if isinstance(priors, TypePrior):
        n = 1 if n_bidders is None else v.positive_int(function, "n_bidders", n_bidders)
        if n > max_bidders:  # before building the tuple: n may be 2**32 - 1
            raise MechsolveInputError(
                function, "n_bidders", f"must be at most {max_bidders}; got {n}"
            )
        out: tuple[TypePrior, ...] = (priors,) * n
    elif isinstance(priors, Sequence) and not isinstance(priors, str) and len(priors) > 0:
        for i, p in enumerate(priors):
            if not isinstance(p, TypePrior):
                raise MechsolveInputError(
                    function, f"{argument}[{i}]", f"must be a TypePrior; got {type(p).__name__}"
                )
        out = tuple(priors)
        if n_bidders is not None and v.positive_int(function, "n_bidders", n_bidders) != len(out):
            raise MechsolveInputError(
                function, "n_bidders", f"must equal len(priors)={len(out)}; got {n_bidders}"
            )
    else:
        raise MechsolveInputError(
            function, argument, f"must be a TypePrior or a non-empty list of them; got {priors!r}"
        )
    if len(out) > max_bidders:
        raise MechsolveInputError(
            function, "n_bidders", f"must be at most {max_bidders}; got {len(out)}"
        )
    m = out[0].n_items
    for i, p in enumerate(out):
        if p.n_items != m:
            raise MechsolveInputError(
                function, f"priors[{i}]", f"must have {m} items like priors[0]; got {p.n_items}"
            )
    return out


def check_profiles(
    function: str, priors: Sequence[TypePrior], limits: Limits, *, interim: bool
) -> None:
    """Type profiles (ex-post) or types (interim) within ``limits.max_types``."""
    size = sum(p.n_types for p in priors) if interim else math.prod(p.n_types for p in priors)
    limits.check(function, "priors", size, "max_types")


def flag(function: str, argument: str, value: Any) -> bool:
    """A strict boolean (``True``/``False`` only)."""
    if not isinstance(value, bool):
        raise MechsolveInputError(function, argument, f"must be True or False; got {value!r}")
    return value


def constraint_mode(function: str, value: Any) -> str:
    return v.choice(function, "constraints", value, CONSTRAINT_MODES)


@dataclass(frozen=True)
class SolveArgs:
    """The validated arguments every auction LP takes."""

    function: str
    priors: tuple[TypePrior, ...]
    constraints: str
    symmetry: bool
    limits: Limits
    time_limit: float | None


def solve_args(
    function: str,
    priors: Any,
    n_bidders: Any,
    *,
    constraints: Any,
    symmetry: Any,
    limits: Limits | None,
    time_limit: Any,
    interim: bool = False,
    max_bidders: int = MAX_BIDDERS,
    argument: str = "priors",
) -> SolveArgs:
    """Validate the priors (and their size), the constraint mode, the symmetry flag and the
    time limit of ``function``."""
    lim = resolve(limits)
    ps = bidder_priors(function, priors, n_bidders, max_bidders=max_bidders, argument=argument)
    check_profiles(function, ps, lim, interim=interim)
    return SolveArgs(
        function,
        ps,
        constraint_mode(function, constraints),
        flag(function, "symmetry", symmetry),
        lim,
        v.time_limit(function, time_limit),
    )
