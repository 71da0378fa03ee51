"""Conversions between ``mechsolve.v1`` protobuf messages and the solver's types, in one place.

The server and the Python client both use these functions, so a result that crosses the wire
comes back as the same frozen dataclass the in-process call returns. Malformed messages raise
:class:`~mechsolve.solver.core.errors.MechsolveInputError` naming the field path (``game.payoffs``),
which the server answers with ``INVALID_ARGUMENT``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits, resolve
from mechsolve.solver.core.results import SolveInfo, Termination, readonly
from mechsolve.solver.games.normal_form import NormalFormGame
from mechsolve.solver.games.welfare import Welfare, WelfareKind
from mechsolve.solver.mediators.deterministic import BatchResult, MediatorKind, MediatorResult
from mechsolve.solver.mediators.lottery import LotteryResult
from mechsolve.solver.mediators.mediated_games import (
    EquilibriumWelfare,
    MediatedGame,
    MediationSummary,
    StrongNashResult,
)
from mechsolve.v1 import common_pb2 as cpb
from mechsolve.v1 import mediators_pb2 as mpb

# -- tensors --------------------------------------------------------------------------------

TensorMsg = cpb.Tensor | cpb.Int64Tensor | cpb.BoolTensor


def tensor_to_numpy(msg: TensorMsg, field: str, dtype: Any, function: str) -> NDArray[Any]:
    """A tensor message as an array; ``len(values)`` must equal ``prod(shape)``."""
    shape = tuple(int(s) for s in msg.shape)
    expected = math.prod(shape)
    if len(msg.values) != expected:
        raise MechsolveInputError(
            function,
            f"{field}.values",
            f"has {len(msg.values)} values for shape {shape}: expected {expected}",
        )
    return np.asarray(msg.values, dtype=dtype).reshape(shape)


def tensor(arr: Any) -> cpb.Tensor:
    a = np.asarray(arr, dtype=np.float64)
    return cpb.Tensor(shape=a.shape, values=a.ravel().tolist())


def int_tensor(arr: Any) -> cpb.Int64Tensor:
    a = np.asarray(arr, dtype=np.int64)
    return cpb.Int64Tensor(shape=a.shape, values=a.ravel().tolist())


def bool_tensor(arr: Any) -> cpb.BoolTensor:
    a = np.asarray(arr, dtype=bool)
    return cpb.BoolTensor(shape=a.shape, values=a.ravel().tolist())


# -- games ----------------------------------------------------------------------------------


def game_to_proto(game: NormalFormGame | Any) -> cpb.Game:
    g = (
        game
        if isinstance(game, NormalFormGame)
        else NormalFormGame(np.asarray(game, dtype=np.float64))
    )
    return cpb.Game(
        payoffs=tensor(g.payoffs),
        players=list(g.players),
        actions=[cpb.ActionLabels(labels=list(a)) for a in g.actions],
        title=g.title,
    )


def game_from_proto(
    msg: cpb.Game, function: str, field: str = "game", limits: Limits | None = None
) -> NormalFormGame:
    """Validated game; a missing ``payoffs`` or a bad tensor names ``game.payoffs``."""
    if not msg.HasField("payoffs") or not msg.payoffs.shape:
        raise MechsolveInputError(
            function, f"{field}.payoffs", "is required (shape (n, k_1, ..., k_n))"
        )
    shape = tuple(int(s) for s in msg.payoffs.shape)
    if len(shape) >= 2 and 0 not in shape:
        lim = resolve(limits)
        lim.check(function, f"{field}.payoffs players", shape[0], "max_players")
        lim.check(function, f"{field}.payoffs outcomes", math.prod(shape[1:]), "max_outcomes")
    payoffs = tensor_to_numpy(msg.payoffs, f"{field}.payoffs", np.float64, function)
    try:
        return NormalFormGame(
            payoffs,
            players=tuple(msg.players) or (),
            actions=tuple(tuple(a.labels) for a in msg.actions) or (),
            title=msg.title,
        )
    except MechsolveInputError as exc:
        arg = exc.argument.replace("payoffs", f"{field}.payoffs", 1)
        if not arg.startswith(field):
            arg = f"{field}.{arg}"
        raise MechsolveInputError(function, arg, exc.detail) from exc


# -- enums ----------------------------------------------------------------------------------

_MEDIATORS = {
    mpb.MEDIATOR_PARETO: MediatorKind.PARETO,
    mpb.MEDIATOR_PUNISHING: MediatorKind.PUNISHING,
    mpb.MEDIATOR_CENTRAL_PLANNER: MediatorKind.CENTRAL_PLANNER,
}
_MEDIATORS_BACK = {v: k for k, v in _MEDIATORS.items()}
_METHODS = {
    mpb.METHOD_UNSPECIFIED: "enumeration",
    mpb.METHOD_ENUMERATION: "enumeration",
    mpb.METHOD_MILP: "milp",
    mpb.METHOD_PYOMO: "pyomo",
}
_METHODS_BACK = {
    "enumeration": mpb.METHOD_ENUMERATION,
    "milp": mpb.METHOD_MILP,
    "pyomo": mpb.METHOD_PYOMO,
}
_WELFARE = {
    cpb.WELFARE_FUNCTION_UNSPECIFIED: WelfareKind.UTILITARIAN,
    cpb.WELFARE_FUNCTION_UTILITARIAN: WelfareKind.UTILITARIAN,
    cpb.WELFARE_FUNCTION_EGALITARIAN: WelfareKind.EGALITARIAN,
    cpb.WELFARE_FUNCTION_NASH: WelfareKind.NASH,
    cpb.WELFARE_FUNCTION_KALAI_SMORODINSKY: WelfareKind.KALAI_SMORODINSKY,
    cpb.WELFARE_FUNCTION_INEQUITY_AVERSE: WelfareKind.INEQUITY_AVERSE,
}
_WELFARE_BACK = {
    WelfareKind.UTILITARIAN: cpb.WELFARE_FUNCTION_UTILITARIAN,
    WelfareKind.EGALITARIAN: cpb.WELFARE_FUNCTION_EGALITARIAN,
    WelfareKind.NASH: cpb.WELFARE_FUNCTION_NASH,
    WelfareKind.KALAI_SMORODINSKY: cpb.WELFARE_FUNCTION_KALAI_SMORODINSKY,
    WelfareKind.INEQUITY_AVERSE: cpb.WELFARE_FUNCTION_INEQUITY_AVERSE,
}
_TERMINATION = {t: getattr(cpb, f"TERMINATION_{t.value}") for t in Termination}
_TERMINATION_BACK = {v: k for k, v in _TERMINATION.items()}


def enum_value(function: str, field: str, value: Any, table: dict[Any, Any], enum_name: str) -> Any:
    """The solver value of a proto enum, rejecting UNSPECIFIED (when not in ``table``) and
    numbers the schema does not define."""
    if value in table:
        return table[value]
    if value == 0:
        raise MechsolveInputError(function, field, f"is required; got {enum_name}_UNSPECIFIED")
    raise MechsolveInputError(function, field, f"is not a known {enum_name} value; got {value}")


def mediator_from_proto(function: str, value: Any, field: str = "mediator") -> MediatorKind:
    return enum_value(function, field, value, _MEDIATORS, "MEDIATOR")


def mediator_to_proto(kind: MediatorKind | str) -> Any:
    return _MEDIATORS_BACK[MediatorKind(kind.value if isinstance(kind, MediatorKind) else kind)]


def method_from_proto(function: str, value: Any) -> str:
    return enum_value(function, "method", value, _METHODS, "METHOD")


def method_to_proto(method: str) -> Any:
    if method not in _METHODS_BACK:
        raise MechsolveInputError(
            "client", "method", f"must be one of {sorted(_METHODS_BACK)}; got {method!r}"
        )
    return _METHODS_BACK[method]


def termination_to_proto(t: Termination | str) -> Any:
    return _TERMINATION[Termination(t)]


def termination_from_proto(value: Any) -> Termination:
    return _TERMINATION_BACK.get(value, Termination.NUMERICAL_ERROR)


# -- welfare --------------------------------------------------------------------------------


def welfare_to_proto(welfare: str | Welfare | WelfareKind) -> cpb.Welfare:
    if isinstance(welfare, Welfare):
        msg = cpb.Welfare(
            function=_WELFARE_BACK[welfare.kind],
            weights=list(welfare.weights or ()),
            disagreement=list(welfare.disagreement or ()),
        )
        msg.beta = welfare.beta
        return msg
    kind = welfare if isinstance(welfare, WelfareKind) else WelfareKind(welfare)
    return cpb.Welfare(function=_WELFARE_BACK[kind])


def welfare_from_proto(function: str, msg: cpb.Welfare) -> dict[str, Any]:
    """Keyword arguments for :func:`~mechsolve.solver.games.welfare.make_welfare`."""
    kind = enum_value(function, "welfare.function", msg.function, _WELFARE, "WELFARE_FUNCTION")
    return {
        "welfare": kind,
        "weights": list(msg.weights) or None,
        "disagreement": list(msg.disagreement) or None,
        "beta": msg.beta if msg.HasField("beta") else None,
    }


# -- results --------------------------------------------------------------------------------


def info_to_proto(info: SolveInfo) -> cpb.SolveInfo:
    return cpb.SolveInfo(
        termination=termination_to_proto(info.termination),
        objective=info.objective,
        method=info.method,
        backend=info.backend,
        wall_time_seconds=info.wall_time_s,
        message=info.message,
    )


def info_from_proto(msg: cpb.SolveInfo) -> SolveInfo:
    return SolveInfo(
        termination_from_proto(msg.termination),
        msg.objective,
        msg.method,
        msg.backend,
        msg.wall_time_seconds,
        msg.message,
    )


def mediator_result_to_proto(res: MediatorResult) -> mpb.MediatorResult:
    return mpb.MediatorResult(
        mediator=mediator_to_proto(res.mediator),
        actions_before=res.actions_before.tolist(),
        delegate=res.delegate.tolist(),
        actions_after=res.actions_after.tolist(),
        utilities_before=res.utilities_before.tolist(),
        utilities_after=res.utilities_after.tolist(),
        welfare=res.welfare,
        welfare_function=res.welfare_name,
        info=info_to_proto(res.info),
    )


def mediator_result_from_proto(msg: mpb.MediatorResult) -> MediatorResult:
    return MediatorResult(
        _MEDIATORS[msg.mediator],
        readonly(np.asarray(msg.actions_before, dtype=np.int64)),
        readonly(np.asarray(msg.delegate, dtype=bool)),
        readonly(np.asarray(msg.actions_after, dtype=np.int64)),
        readonly(np.asarray(msg.utilities_before, dtype=np.float64)),
        readonly(np.asarray(msg.utilities_after, dtype=np.float64)),
        msg.welfare,
        msg.welfare_function,
        info_from_proto(msg.info),
    )


def batch_result_to_proto(res: BatchResult) -> mpb.MediateBatchResponse:
    return mpb.MediateBatchResponse(
        mediator=mediator_to_proto(res.mediator),
        actions_after=int_tensor(res.actions_after),
        utilities_before=tensor(res.utilities_before),
        utilities_after=tensor(res.utilities_after),
        welfare=res.welfare.tolist(),
        objective_values=res.objective_values.tolist(),
        terminations=[termination_to_proto(str(t)) for t in res.terminations],
        welfare_function=res.welfare_name,
        info=info_to_proto(res.info),
    )


def batch_result_from_proto(
    msg: mpb.MediateBatchResponse, actions: NDArray[np.int64], delegate: NDArray[np.bool_]
) -> BatchResult:
    """The response, with the request's own ``actions`` and ``delegate`` (not echoed)."""
    return BatchResult(
        _MEDIATORS[msg.mediator],
        readonly(np.array(actions, dtype=np.int64)),
        readonly(np.array(delegate, dtype=bool)),
        readonly(tensor_to_numpy(msg.actions_after, "actions_after", np.int64, "client")),
        readonly(tensor_to_numpy(msg.utilities_before, "utilities_before", np.float64, "client")),
        readonly(tensor_to_numpy(msg.utilities_after, "utilities_after", np.float64, "client")),
        readonly(np.asarray(msg.welfare, dtype=np.float64)),
        readonly(np.asarray(msg.objective_values, dtype=np.float64)),
        readonly(
            np.asarray([termination_from_proto(t).value for t in msg.terminations], dtype=str)
        ),
        msg.welfare_function,
        info_from_proto(msg.info),
    )


def lottery_to_proto(res: LotteryResult) -> mpb.MediateLotteryResponse:
    return mpb.MediateLotteryResponse(
        actions_before=res.actions_before.tolist(),
        delegate=res.delegate.tolist(),
        utilities_before=res.utilities_before.tolist(),
        support=int_tensor(res.support),
        probabilities=res.probabilities.tolist(),
        expected_utilities=res.expected_utilities.tolist(),
        welfare=res.welfare,
        sampled_actions=res.sampled_actions.tolist(),
        welfare_function=res.welfare_name,
        info=info_to_proto(res.info),
    )


def lottery_from_proto(msg: mpb.MediateLotteryResponse) -> LotteryResult:
    return LotteryResult(
        readonly(np.asarray(msg.actions_before, dtype=np.int64)),
        readonly(np.asarray(msg.delegate, dtype=bool)),
        readonly(np.asarray(msg.utilities_before, dtype=np.float64)),
        readonly(tensor_to_numpy(msg.support, "support", np.int64, "client")),
        readonly(np.asarray(msg.probabilities, dtype=np.float64)),
        readonly(np.asarray(msg.expected_utilities, dtype=np.float64)),
        msg.welfare,
        readonly(np.asarray(msg.sampled_actions, dtype=np.int64)),
        msg.welfare_function,
        info_from_proto(msg.info),
    )


def mediated_game_to_proto(mg: MediatedGame) -> mpb.BuildMediatedGameResponse:
    return mpb.BuildMediatedGameResponse(
        mediated_game=game_to_proto(mg.game),
        outcomes=int_tensor(mg.outcomes),
        wall_time_seconds=mg.wall_time_s,
    )


def mediated_game_from_proto(
    msg: mpb.BuildMediatedGameResponse,
    base: NormalFormGame,
    mediator: MediatorKind,
    welfare_name: str,
) -> MediatedGame:
    return MediatedGame(
        game_from_proto(msg.mediated_game, "client", "mediated_game"),
        base,
        readonly(tensor_to_numpy(msg.outcomes, "outcomes", np.int64, "client")),
        mediator,
        welfare_name,
        msg.wall_time_seconds,
    )


def _eq_to_proto(e: EquilibriumWelfare) -> mpb.EquilibriumWelfare:
    return mpb.EquilibriumWelfare(equilibria_count=e.n_equilibria, best=e.best, worst=e.worst)


def _eq_from_proto(m: mpb.EquilibriumWelfare) -> EquilibriumWelfare:
    return EquilibriumWelfare(m.equilibria_count, m.best, m.worst)


def summary_to_proto(s: MediationSummary) -> mpb.AnalyzeMediationResponse:
    return mpb.AnalyzeMediationResponse(
        original=_eq_to_proto(s.original),
        mediated=_eq_to_proto(s.mediated),
        all_delegate=_eq_to_proto(s.all_delegate),
        delegation_weakly_dominant=list(s.delegation_weakly_dominant),
    )


def summary_from_proto(m: mpb.AnalyzeMediationResponse) -> MediationSummary:
    return MediationSummary(
        _eq_from_proto(m.original),
        _eq_from_proto(m.mediated),
        _eq_from_proto(m.all_delegate),
        tuple(m.delegation_weakly_dominant),
    )


def strong_nash_to_proto(r: StrongNashResult) -> mpb.CheckStrongNashResponse:
    return mpb.CheckStrongNashResponse(
        is_strong=r.is_strong,
        coalition=list(r.coalition),
        deviation=[] if r.deviation is None else r.deviation.tolist(),
    )


def strong_nash_from_proto(m: mpb.CheckStrongNashResponse, profile: Any) -> StrongNashResult:
    return StrongNashResult(
        readonly(np.asarray(profile, dtype=np.int64)),
        m.is_strong,
        tuple(int(c) for c in m.coalition),
        None if m.is_strong else readonly(np.asarray(m.deviation, dtype=np.int64)),
    )
