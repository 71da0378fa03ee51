"""The project's exception family.

Bad input raises :class:`MechsolveInputError` (a ``ValueError``) whose message names the
function, the argument and what was received, e.g.::

    pareto_mediator(): `actions[2]` must be in [0, 3); got 5

Problems over a configured size limit raise :class:`ProblemTooLargeError`, a subclass, so
that the server can answer ``RESOURCE_EXHAUSTED`` instead of ``INVALID_ARGUMENT``.
Infeasible or time-limited solves never raise: they return a result whose ``termination``
says so (see :mod:`mechsolve.solver.core.results`).
"""

from __future__ import annotations


class MechsolveError(Exception):
    """Base class of every exception mechsolve raises on purpose."""


class MechsolveInputError(MechsolveError, ValueError):
    """An argument is malformed, out of range or inconsistent with another argument.

    Attributes:
        function: the public function that rejected the input, e.g. ``"pareto_mediator"``.
        argument: the argument (or field path, e.g. ``"actions[2]"``) that is wrong.
        detail: what is wrong with it, including the value received.
    """

    def __init__(self, function: str, argument: str, detail: str) -> None:
        self.function = function
        self.argument = argument
        self.detail = detail
        super().__init__(f"{function}(): `{argument}` {detail}")


class ProblemTooLargeError(MechsolveInputError):
    """The problem exceeds a configured size limit (see :class:`mechsolve.solver.core.limits.Limits`)."""


class SolverBackendError(MechsolveError, RuntimeError):
    """A solver backend is missing or failed in a way that is not a property of the input."""
