"""Pareto Mediator, Punishing Mediator and central planner on normal-form games.

Seed ``000_179ffb6e0f279038.txt`` sections 2.3-3, SPEC section 2. A profile is the submitted
joint action ``a`` and delegate bits ``d``; ``D = {i : d_i = 1}``; ``W`` is a welfare function
(:mod:`~mechsolve.solver.games.welfare`).

- Pareto Mediator (eq. 3): if ``|D| >= 2``::

      max_{a'} W_D(u(a'))   s.t.  u_i(a') >= u_i(a)  for i in D,   a'_j = a_j  for j not in D

  otherwise ``a`` is returned unchanged. ``a`` itself is feasible, so there is always an answer.
- Punishing Mediator: ``D = P``: ``max_{a'} W_P(u(a'))`` (eq. 2); ``0 < |D| < n``:
  ``min_{a'} sum_{j not in D} u_j(a')`` with non-delegators fixed (eq. 1), ties broken toward
  higher ``W_D``; ``D`` empty: unchanged.
- Central planner: ``max_{a'} W_P(u(a'))`` over all outcomes, whatever ``d`` is (the benchmark).

Ties break by utilitarian welfare of the same players, then toward the submitted profile, then
the smallest flat index (C order over the free players' actions), so every method returns the
same outcome up to welfare values within the tie tolerance.

Methods: ``"enumeration"`` (vectorized over profiles and candidates, reads each candidate once;
the default), ``"milp"`` (HiGHS, one binary per candidate, :mod:`~mechsolve.solver.mediators.onehot_milp`)
and ``"pyomo"`` (the same MILP as a Pyomo model, solver chosen by ``solver``, default
``appsi_highs``; :mod:`~mechsolve.solver.mediators.pyomo_model`).
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import validation as v
from ..core.errors import MechsolveInputError
from ..core.limits import Limits, resolve
from ..core.results import HasSolveInfo, Limit, SolveInfo, Stopwatch, Termination, readonly
from ..games.normal_form import NormalFormGame, as_game
from ..games.welfare import Welfare, WelfareKind, make_welfare
from .candidates import (
    chunks,
    flat_index,
    lex_argmax,
    per_row,
    shared_candidate_utilities,
    unflatten,
)
from .onehot_milp import HighsOneHot, OneHotProblem, solve_lex


class MediatorKind(enum.Enum):
    PARETO = "pareto"
    PUNISHING = "punishing"
    CENTRAL_PLANNER = "central_planner"


MEDIATOR_NAMES = tuple(k.value for k in MediatorKind)
METHODS = ("enumeration", "milp", "pyomo")
DEFAULT_PYOMO_SOLVER = "appsi_highs"


@dataclass(frozen=True, eq=False)
class MediatorResult(HasSolveInfo):
    """One profile's mediator outcome.

    Attributes:
        mediator: which mediator.
        actions_before: the submitted joint action ``a`` (n,).
        delegate: the delegate bits ``d`` (n,).
        actions_after: the joint action played after mediation ``a'`` (n,).
        utilities_before: ``u(a)`` for every player (n,).
        utilities_after: ``u(a')`` for every player (n,).
        beneficiaries: whose welfare the mediator maximizes (n,): ``D`` for the Pareto and
            (partial) Punishing Mediators, every player for the planner and the Punishing
            Mediator when everyone delegates, nobody when the profile is left unchanged
            because ``D`` is empty.
        welfare_function: the welfare function's name.
        welfare_before: ``W`` of the beneficiaries at ``a`` (``nan`` when there are none).
        welfare_after: ``W`` of the beneficiaries at ``a'`` (``nan`` when there are none).
        info: termination, objective (the optimized value: ``welfare_after``, or for the
            partial Punishing Mediator the non-delegators' total utility it minimized),
            method, backend, wall time.
    """

    mediator: MediatorKind
    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    actions_after: NDArray[np.int64]
    utilities_before: NDArray[np.float64]
    utilities_after: NDArray[np.float64]
    beneficiaries: NDArray[np.bool_]
    welfare_function: str
    welfare_before: float
    welfare_after: float
    info: SolveInfo

    @property
    def changed(self) -> bool:
        return bool(np.any(self.actions_after != self.actions_before))


@dataclass(frozen=True, eq=False)
class BatchResult(HasSolveInfo):
    """Many profiles of one game (row p is profile p); fields as in :class:`MediatorResult`.

    ``objectives`` holds each profile's optimized value and ``optimal`` whether it was proven
    optimal (``False``: a limit stopped its solve, or the call before it was reached; its
    outcome is feasible, at worst the submitted profile); ``info`` sums up the call
    (``objective`` is the mean of ``objectives``, the termination names the limits met).
    Kalai-Smorodinsky welfare is ``nan`` for profiles a limit stopped the call before (their
    ideal point was not computed).
    """

    mediator: MediatorKind
    actions_before: NDArray[np.int64]
    delegate: NDArray[np.bool_]
    actions_after: NDArray[np.int64]
    utilities_before: NDArray[np.float64]
    utilities_after: NDArray[np.float64]
    beneficiaries: NDArray[np.bool_]
    welfare_function: str
    welfare_before: NDArray[np.float64]
    welfare_after: NDArray[np.float64]
    objectives: NDArray[np.float64]
    optimal: NDArray[np.bool_]
    info: SolveInfo

    def __len__(self) -> int:
        return int(self.actions_before.shape[0])

    def profile(self, p: int, wall_time_s: float | None = None) -> MediatorResult:
        """Row ``p`` as a :class:`MediatorResult` (its wall time is ``wall_time_s``, by default
        the batch's share; a row not solved to optimality carries the call's termination, which
        names the limit)."""
        term = Termination.optimal() if self.optimal[p] else self.info.termination
        share = self.info.wall_time_s / max(1, len(self))
        info = SolveInfo(
            term,
            float(self.objectives[p]),
            self.info.method,
            self.info.backend,
            share if wall_time_s is None else wall_time_s,
        )
        return MediatorResult(
            self.mediator,
            self.actions_before[p],
            self.delegate[p],
            self.actions_after[p],
            self.utilities_before[p],
            self.utilities_after[p],
            self.beneficiaries[p],
            self.welfare_function,
            float(self.welfare_before[p]),
            float(self.welfare_after[p]),
            info,
        )


# -- formulation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MediatorSpec:
    """Which players the mediator sets, constrains, punishes and benefits for one mask."""

    free: NDArray[np.int64]
    pareto: NDArray[np.int64]
    punish: NDArray[np.int64]
    beneficiaries: NDArray[np.int64]

    @property
    def unchanged(self) -> bool:
        return len(self.free) == 0


_EMPTY = np.zeros(0, dtype=np.int64)


def mediator_spec(kind: MediatorKind, mask: NDArray[np.bool_]) -> MediatorSpec:
    """Which players the mediator frees, constrains, punishes and benefits under ``mask``."""
    return _spec_cached(kind, tuple(bool(x) for x in mask))


@functools.lru_cache(maxsize=4096)
def _spec_cached(kind: MediatorKind, bits: tuple[bool, ...]) -> MediatorSpec:
    mask = np.asarray(bits, dtype=bool)
    n = len(mask)
    dele = np.flatnonzero(mask).astype(np.int64)
    everyone = np.arange(n, dtype=np.int64)
    if kind is MediatorKind.CENTRAL_PLANNER:
        return MediatorSpec(everyone, _EMPTY, _EMPTY, everyone)
    if kind is MediatorKind.PARETO:
        if len(dele) >= 2:
            return MediatorSpec(dele, dele, _EMPTY, dele)
        return MediatorSpec(_EMPTY, _EMPTY, _EMPTY, dele)
    if len(dele) == n:
        return MediatorSpec(everyone, _EMPTY, _EMPTY, everyone)
    if len(dele) == 0:
        return MediatorSpec(_EMPTY, _EMPTY, _EMPTY, dele)
    return MediatorSpec(dele, _EMPTY, np.flatnonzero(~mask).astype(np.int64), dele)


@dataclass(frozen=True, eq=False)
class CandidateBlock:
    """Candidates of ``m`` profiles sharing a spec: utilities ``(n, G, C)`` (``G`` groups of
    profiles that share their candidates; ``group[p]`` is profile p's, ``group is None`` when
    ``G`` is ``m`` or 1), feasibility ``(m, C)``, lexicographic scores, and the submitted
    candidate per profile."""

    utilities: NDArray[np.float64]
    feasible: NDArray[np.bool_]
    scores: tuple[NDArray[np.float64], ...]
    welfare_score: NDArray[np.float64]
    objective_score: NDArray[np.float64]
    submitted: NDArray[np.int64]
    ideal: NDArray[np.float64] | None
    group: NDArray[np.int64] | None = None

    def utilities_of(self, p: int) -> NDArray[np.float64]:
        """Profile ``p``'s candidate utilities ``(n, C)``."""
        if self.group is not None:
            return self.utilities[:, self.group[p], :]
        return self.utilities[:, p if self.utilities.shape[1] > 1 else 0, :]


def _full(a: NDArray[np.float64], m: int, c: int) -> NDArray[np.float64]:
    """``a`` as ``(m, c)`` (a broadcast view when it is shared by every profile)."""
    return a if a.shape == (m, c) else np.broadcast_to(a, (m, c))


def _utilities_at(payoffs: NDArray[np.float64], actions: NDArray[np.int64]) -> NDArray[np.float64]:
    """``(m, n)`` utilities at ``m`` joint actions."""
    return np.ascontiguousarray(payoffs[(slice(None), *actions.T)].T)


def candidate_block(
    payoffs: NDArray[np.float64],
    spec: MediatorSpec,
    welfare: Welfare,
    actions: NDArray[np.int64],
    before: NDArray[np.float64],
    ks: tuple[int, ...],
) -> CandidateBlock:
    """Candidates, feasibility and lexicographic scores of ``m`` profiles sharing ``spec``.

    Profiles that also share the non-free players' actions share their candidates: their
    utilities, and every score that does not depend on the profile's own "before" payoffs,
    are computed once per such group; feasibility (and a Kalai-Smorodinsky ideal point, which
    depends on it) per profile.
    """
    u, group = shared_candidate_utilities(payoffs, actions, spec.free)
    m, c = actions.shape[0], u.shape[2]
    feasible = np.ones((m, c), dtype=bool)
    for i in spec.pareto:
        feasible &= per_row(u[i], group) >= before[:, i, None]
    ben = u[spec.beneficiaries]
    ideal = None
    if welfare.needs_ideal:
        ben = per_row(ben, group)
        ideal = np.where(feasible[None], ben, -np.inf).max(axis=2, keepdims=True)
        group_w = welfare.evaluate(ben, spec.beneficiaries, axis=0, ideal=ideal)
    else:
        group_w = per_row(welfare.evaluate(ben, spec.beneficiaries, axis=0), group)
    w = _full(group_w, m, c)
    scores: list[NDArray[np.float64]] = []
    objective = w
    if len(spec.punish):
        objective = _full(per_row(u[spec.punish].sum(axis=0), group), m, c)
        scores.append(-objective)
    scores.append(w)
    if not (welfare.kind is WelfareKind.UTILITARIAN and welfare.weights is None):
        sums = ben.sum(axis=0) if welfare.needs_ideal else per_row(ben.sum(axis=0), group)
        scores.append(_full(sums, m, c))
    submitted = flat_index(actions, spec.free, ks)
    return CandidateBlock(u, feasible, tuple(scores), w, objective, submitted, ideal, group)


# -- public API -----------------------------------------------------------------------------


def pareto_mediator(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> MediatorResult:
    """Pareto Mediator (seed 000 eq. 3): best ``W_D`` with no delegator worse off.

    See the module docstring for the program; ``solver`` names the Pyomo solver
    (``method="pyomo"`` only).
    """
    return mediate(
        game,
        actions,
        delegate,
        mediator="pareto",
        welfare=welfare,
        method=method,
        solver=solver,
        time_limit=time_limit,
        limits=limits,
        _function="pareto_mediator",
    )


def punishing_mediator(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> MediatorResult:
    """Punishing Mediator (seed 000 eqs. 1-2)."""
    return mediate(
        game,
        actions,
        delegate,
        mediator="punishing",
        welfare=welfare,
        method=method,
        solver=solver,
        time_limit=time_limit,
        limits=limits,
        _function="punishing_mediator",
    )


def central_planner(
    game: NormalFormGame | Any,
    actions: Any = None,
    delegate: Any = None,
    *,
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> MediatorResult:
    """Central planner: ``max_{a'} W_P(u(a'))`` over all outcomes; ``actions`` (default: all
    zeros) only serves as the reported "before" profile and the tie-break preference."""
    g = as_game("central_planner", game, limits)
    if actions is None:
        actions = np.zeros(g.n_players, dtype=np.int64)
    if delegate is None:
        delegate = np.ones(g.n_players, dtype=bool)
    return mediate(
        g,
        actions,
        delegate,
        mediator="central_planner",
        welfare=welfare,
        method=method,
        solver=solver,
        time_limit=time_limit,
        limits=limits,
        _function="central_planner",
    )


def mediate(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    mediator: str | MediatorKind = "pareto",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
    _function: str = "mediate",
) -> MediatorResult:
    """Apply ``mediator`` to one profile (see :func:`mediate_batch` for many)."""
    watch = Stopwatch()
    call = _Call.validate(_function, game, mediator, welfare, method, solver, time_limit, limits)
    g = call.game
    a = g.check_actions(call.function, actions)
    d = v.bool_array(call.function, "delegate", delegate, shape=(g.n_players,))
    return call.solve(a[None], d[None], watch).profile(0, wall_time_s=watch.elapsed)


def mediate_batch(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    mediator: str | MediatorKind = "pareto",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
    _function: str = "mediate_batch",
) -> BatchResult:
    """Apply ``mediator`` to ``m`` profiles of one game: ``actions`` and ``delegate`` have
    shape ``(m, n)``. Profiles are grouped by delegate mask and solved together, vectorized
    (``method="enumeration"``), or one MILP per profile (``"milp"``, ``"pyomo"``).

    A ``time_limit`` that runs out leaves the remaining profiles at their submitted action
    (feasible for every mediator) with termination ``FEASIBLE``.
    """
    watch = Stopwatch()
    call = _Call.validate(_function, game, mediator, welfare, method, solver, time_limit, limits)
    g, fn = call.game, call.function
    n = g.n_players
    acts = v.int_array(
        fn,
        "actions",
        actions,
        shape=(None, n),
        low=0,
        high=np.asarray(g.num_actions, dtype=np.int64),
        allow_empty=True,
    )
    dele = v.bool_array(fn, "delegate", delegate, shape=(acts.shape[0], n))
    call.limits.check(fn, "actions", acts.shape[0], "max_batch_profiles")
    return call.solve(acts, dele, watch)


def stream_mediate_batch(
    game: NormalFormGame | Any,
    batches: Iterable[tuple[Any, Any]],
    *,
    mediator: str | MediatorKind = "pareto",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    method: str = "enumeration",
    solver: str | None = None,
    time_limit: float | None = None,
    limits: Limits | None = None,
) -> Iterator[BatchResult]:
    """:func:`mediate_batch` on each ``(actions, delegate)`` pair of ``batches``, in order and
    lazily: batch t+1 is read only after the result of batch t has been taken, so a simulation
    can build each round from the previous round's answer. ``time_limit`` applies to each
    batch (it is the per-message deadline on the service)."""
    g = as_game("stream_mediate_batch", game, limits)
    for actions, delegate in batches:
        yield mediate_batch(
            g,
            actions,
            delegate,
            mediator=mediator,
            welfare=welfare,
            method=method,
            solver=solver,
            time_limit=time_limit,
            limits=limits,
            _function="stream_mediate_batch",
        )


@dataclass(frozen=True)
class _Call:
    """The validated, profile-independent arguments of a mediator call."""

    function: str
    game: NormalFormGame
    kind: MediatorKind
    method: str
    welfare: Welfare
    time_limit: float | None
    solver: str | None
    limits: Limits

    @classmethod
    def validate(
        cls,
        fn: str,
        game: Any,
        mediator: Any,
        welfare: Any,
        method: Any,
        solver: Any,
        time_limit: Any,
        limits: Limits | None,
    ) -> _Call:
        lim = resolve(limits)
        g = as_game(fn, game, lim)
        kind = MediatorKind(v.choice(fn, "mediator", _kind_value(mediator), MEDIATOR_NAMES))
        meth = v.choice(fn, "method", method, METHODS)
        w = make_welfare(fn, welfare, g.n_players)
        tl = v.time_limit(fn, time_limit)
        if solver is not None and meth != "pyomo":
            raise MechsolveInputError(
                fn, "solver", f"applies to method='pyomo' only; got method={meth!r}"
            )
        if meth == "pyomo":
            from .pyomo_model import check_solver

            solver = check_solver(fn, solver or DEFAULT_PYOMO_SOLVER, lim, tl)
        return cls(fn, g, kind, meth, w, tl, solver, lim)

    def solve(
        self, acts: NDArray[np.int64], dele: NDArray[np.bool_], watch: Stopwatch
    ) -> BatchResult:
        """Solve validated profiles, grouped by delegate mask, in chunks."""
        g, w, tl = self.game, self.welfare, self.time_limit
        groups = [(mediator_spec(self.kind, mask), rows) for mask, rows in _groups_by_mask(dele)]
        for spec, _ in groups:  # every candidate set within the limit before solving any
            n_cand = math.prod(g.num_actions[i] for i in spec.free)
            self.limits.check(self.function, "game candidates", n_cand, "max_candidates")
        n, m = g.n_players, acts.shape[0]
        before = _utilities_at(g.payoffs, acts)
        idx_after = acts.copy()
        beneficiaries = np.zeros((m, n), dtype=bool)
        w_before, w_after, objectives = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
        optimal = np.ones(m, dtype=bool)
        stops: list[Termination] = []  # why profiles were not solved to optimality
        solve_block = _BLOCK_SOLVERS[self.method]
        for spec, rows in groups:
            beneficiaries[np.ix_(rows, spec.beneficiaries)] = True
            if spec.unchanged:
                w_before[rows] = w_after[rows] = _unchanged_welfare(
                    g, w, spec, acts[rows], before[rows]
                )
                objectives[rows] = w_after[rows]
                continue
            per_row = n * math.prod(g.num_actions[i] for i in spec.free)
            for sl in chunks(len(rows), per_row):
                r = rows[sl]
                if watch.expired(tl):
                    optimal[r] = False
                    if not w.needs_ideal:  # KS needs the candidates' ideal point: not computed
                        w_before[r] = w_after[r] = _point_welfare(w, spec, before[r])
                    objectives[r] = (  # the objective at the submitted profile, as solved
                        before[r][:, spec.punish].sum(axis=1) if len(spec.punish) else w_after[r]
                    )
                    stops.append(
                        Termination.feasible(Limit.TIME, "time limit: profiles returned unchanged")
                    )
                    continue
                blk = candidate_block(g.payoffs, spec, w, acts[r], before[r], g.num_actions)
                chosen, solved, block_stops = solve_block(blk, spec, watch, tl, self.solver)
                stops += block_stops
                idx_after[r] = unflatten(chosen, spec.free, g.num_actions, acts[r])
                take = np.arange(len(r))
                w_before[r] = blk.welfare_score[take, blk.submitted]
                w_after[r] = blk.welfare_score[take, chosen]
                objectives[r] = blk.objective_score[take, chosen]
                optimal[r] = solved
        finite = np.isfinite(objectives)
        info = SolveInfo(
            _call_termination(stops),
            float(objectives[finite].mean()) if finite.any() else float("nan"),
            self.method,
            _backend_name(self.method, self.solver),
            watch.elapsed,
        )
        return BatchResult(
            self.kind,
            readonly(acts),
            readonly(dele),
            readonly(idx_after),
            readonly(before),
            readonly(_utilities_at(g.payoffs, idx_after)),
            readonly(beneficiaries),
            w.name,
            readonly(w_before),
            readonly(w_after),
            readonly(objectives),
            readonly(optimal),
            info,
        )


def _call_termination(stops: list[Termination]) -> Termination:
    """OPTIMAL when no profile was stopped, else FEASIBLE with the first limit met and every
    distinct detail (the submitted profile is feasible for every mediator)."""
    if not stops:
        return Termination.optimal()
    details = "; ".join(dict.fromkeys(s.detail for s in stops if s.detail))
    return Termination.feasible(stops[0].limit or Limit.OTHER, details)


# -- helpers --------------------------------------------------------------------------------


def _groups_by_mask(dele: NDArray[np.bool_]) -> list[tuple[NDArray[np.bool_], NDArray[np.int64]]]:
    """Profiles grouped by delegate mask: ``(mask, row indices)`` per distinct mask."""
    m, n = dele.shape
    if m == 0:
        return []
    if m == 1:
        return [(dele[0], np.zeros(1, dtype=np.int64))]
    codes = dele.astype(np.int64) @ (np.int64(1) << np.arange(n, dtype=np.int64))
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    return [(dele[rows[0]], rows) for rows in np.split(order, cuts)]


def _kind_value(mediator: Any) -> Any:
    return mediator.value if isinstance(mediator, MediatorKind) else mediator


def _backend_name(method: str, solver: str | None) -> str:
    if method == "enumeration":
        return "numpy"
    if method == "milp":
        return "highs"
    return f"pyomo:{solver or DEFAULT_PYOMO_SOLVER}"


def _check_candidates(
    fn: str, g: NormalFormGame, kind: MediatorKind, dele: NDArray[np.bool_], lim: Limits
) -> None:
    """The largest candidate set this call will search must be within ``max_candidates``."""
    for mask, _ in _groups_by_mask(dele):
        spec = mediator_spec(kind, mask)
        lim.check(
            fn, "game candidates", math.prod(g.num_actions[i] for i in spec.free), "max_candidates"
        )


def _point_welfare(
    w: Welfare, spec: MediatorSpec, utilities: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``W`` of the beneficiaries at given utility vectors (``nan`` without beneficiaries);
    not for Kalai-Smorodinsky, whose ideal point depends on the candidates."""
    if len(spec.beneficiaries) == 0:
        return np.full(utilities.shape[0], np.nan)
    return w.evaluate(utilities[:, spec.beneficiaries], spec.beneficiaries, axis=1)


def _unchanged_welfare(
    g: NormalFormGame,
    w: Welfare,
    spec: MediatorSpec,
    acts: NDArray[np.int64],
    before: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``W`` of the beneficiaries at a profile the mediator leaves unchanged.

    Kalai-Smorodinsky measures each beneficiary against its ideal over the outcomes the
    beneficiaries could reach together without anyone losing (the Pareto Mediator's feasible
    set if it acted), not against the profile itself (which would always score the maximum 1).
    """
    if not w.needs_ideal or len(spec.beneficiaries) == 0:
        return _point_welfare(w, spec, before)
    ben = spec.beneficiaries
    reach = MediatorSpec(ben, ben, _EMPTY, ben)
    blk = candidate_block(g.payoffs, reach, w, acts, before, g.num_actions)
    return blk.welfare_score[np.arange(len(acts)), blk.submitted]


_BlockSolver = Callable[
    [CandidateBlock, MediatorSpec, Stopwatch, float | None, str | None],
    tuple[NDArray[np.int64], NDArray[np.bool_], list[Termination]],
]
"""``(block, spec, watch, time_limit, pyomo solver) -> (chosen candidate per row, solved to
optimality per row, terminations of the rows that were not)``."""


def _solve_enumeration(
    blk: CandidateBlock, spec: MediatorSpec, watch: Stopwatch, tl: float | None, solver: str | None
) -> tuple[NDArray[np.int64], NDArray[np.bool_], list[Termination]]:
    chosen = lex_argmax(blk.scores, blk.feasible, blk.submitted)
    return chosen, np.ones(len(chosen), dtype=bool), []


def _solve_milp_rows(
    blk: CandidateBlock, spec: MediatorSpec, watch: Stopwatch, tl: float | None, solver: str | None
) -> tuple[NDArray[np.int64], NDArray[np.bool_], list[Termination]]:
    return _solve_rows_with(blk, spec, watch, tl, HighsOneHot)


def _solve_pyomo_rows(
    blk: CandidateBlock, spec: MediatorSpec, watch: Stopwatch, tl: float | None, solver: str | None
) -> tuple[NDArray[np.int64], NDArray[np.bool_], list[Termination]]:
    from .pyomo_model import PyomoOneHot

    return _solve_rows_with(
        blk, spec, watch, tl, PyomoOneHot.factory(solver or DEFAULT_PYOMO_SOLVER)
    )


def _solve_rows_with(
    blk: CandidateBlock, spec: MediatorSpec, watch: Stopwatch, tl: float | None, make: Any
) -> tuple[NDArray[np.int64], NDArray[np.bool_], list[Termination]]:
    m = blk.feasible.shape[0]
    chosen = blk.submitted.copy()
    solved = np.zeros(m, dtype=bool)
    stops: list[Termination] = []
    for p in range(m):
        if watch.expired(tl):
            stops.append(
                Termination.feasible(Limit.TIME, "time limit: profiles returned unchanged")
            )
            break
        sol = solve_lex(one_hot_problem(blk, spec, p), make, watch, tl)
        chosen[p], solved[p] = sol.index, sol.termination.is_optimal
        if not solved[p]:
            stops.append(sol.termination)
    return chosen, solved, stops


def one_hot_problem(blk: CandidateBlock, spec: MediatorSpec, p: int) -> OneHotProblem:
    """Row ``p`` of a block as a :class:`OneHotProblem` (the MILP's data)."""
    u = blk.utilities_of(p)
    before = u[spec.pareto, blk.submitted[p]]
    return OneHotProblem(
        tuple(np.array(s[p]) for s in blk.scores),
        np.ascontiguousarray(u[spec.pareto]),
        np.asarray(before, dtype=np.float64),
        int(blk.submitted[p]),
    )


_BLOCK_SOLVERS: dict[str, _BlockSolver] = {
    "enumeration": _solve_enumeration,
    "milp": _solve_milp_rows,
    "pyomo": _solve_pyomo_rows,
}


def mediator_problem(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    *,
    mediator: str | MediatorKind = "pareto",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    limits: Limits | None = None,
) -> OneHotProblem:
    """The one-hot MILP data of one profile (what ``method="milp"``/``"pyomo"`` solve).

    A profile the mediator leaves unchanged gives a one-candidate problem.
    """
    fn = "mediator_problem"
    lim = resolve(limits)
    g = as_game(fn, game, lim)
    a = g.check_actions(fn, actions)
    d = v.bool_array(fn, "delegate", delegate, shape=(g.n_players,))
    kind = MediatorKind(v.choice(fn, "mediator", _kind_value(mediator), MEDIATOR_NAMES))
    w = make_welfare(fn, welfare, g.n_players)
    _check_candidates(fn, g, kind, d[None], lim)
    spec = mediator_spec(kind, d)
    if spec.unchanged:
        spec = MediatorSpec(_EMPTY, _EMPTY, _EMPTY, spec.beneficiaries)
    before = _utilities_at(g.payoffs, a[None])
    if spec.unchanged:
        pf = g.payoffs[(slice(None), *a.tolist())].reshape(g.n_players, 1, 1)
        blk = CandidateBlock(
            pf,
            np.ones((1, 1), dtype=bool),
            (np.zeros((1, 1)),),
            np.zeros((1, 1)),
            np.zeros((1, 1)),
            np.zeros(1, dtype=np.int64),
            None,
        )
        return one_hot_problem(blk, spec, 0)
    blk = candidate_block(g.payoffs, spec, w, a[None], before, g.num_actions)
    return one_hot_problem(blk, spec, 0)


def write_mediator_model(
    game: NormalFormGame | Any,
    actions: Any,
    delegate: Any,
    path: str | Path,
    *,
    mediator: str | MediatorKind = "pareto",
    welfare: str | Welfare | WelfareKind = "utilitarian",
    limits: Limits | None = None,
) -> Path:
    """Write one profile's mediator MILP (Pyomo model, stage 1) to ``path`` (``.lp``/``.mps``)."""
    from .pyomo_model import write_model

    problem = mediator_problem(
        game, actions, delegate, mediator=mediator, welfare=welfare, limits=limits
    )
    return write_model(problem, path)
