"""Fair leaders via a mediator: JAM-QL (seed 002, ``002_b416006e9169b6ae.txt``).

Seed 002 is a blog-style summary without numbers: a mediator chooses the leaders of a
Stackelberg game to maximize fairness, in three stages ("promoting fair leaders", "rewarding
historical performance", an "additional end-game incentive": a zero-sum reward transfer at the
end of an episode), tested on iterated Prisoner's Dilemma and Chicken and on resource
collection games with 2 and 4 players, against fixed, alternating and vote-based leaders and
mediators lacking parts of the incentive structure. Everything the seed leaves open is a
parameter here and is listed in ``docs/fair_leaders.md``.

**The stage games** (:func:`stage_game`), actions ``0 = C`` (cooperate / common patch) and
``1 = D`` (defect / rich resource); with ``c`` the number of *other* players choosing ``C``
and ``x = c / (n - 1)``:

- ``pd``, ``chicken``: the project's 2x2 games (:func:`prisoners_dilemma`: R, S, T, P =
  3, 0, 4, 1; :func:`chicken`: 3, 2, 3.5, 1), extended to ``n`` players by linear
  interpolation in ``x``: ``u(C) = S + (R - S) x``, ``u(D) = P + (T - P) x``; at ``n = 2``
  this is the 2x2 game itself.
- ``resources``: a collaborative common patch and a single rich resource. A ``C`` player gets
  ``common * (c_C / n)`` where ``c_C`` counts all ``C`` players (the patch needs everyone);
  a ``D`` player gets ``rich`` if it is the only one to go for the rich resource and 0 if
  several collide. With ``rich = 4 > common = 3`` the agents prefer the unfair resource:
  everyone on the common patch is the welfare optimum (``n * common``), one player on the
  rich resource is unfair (``rich`` vs ``common (n - 1) / n`` each).

**The Stackelberg step.** A leader ``l`` is chosen; the players move in the order
``l, l + 1, ..., l + n - 1 (mod n)``, each observing the earlier moves (two players: leader,
then follower). Agents are tabular Q-learners (:class:`SequentialQLearning`, a
:class:`~mechsolve.client.sim.agents.QLearning` population acting one position at a time)
whose state is (position in the order, the earlier movers' actions, whether this is the
episode's last step).

**Leader selection (the arms, :data:`ARMS`).** ``fixed``: player 0 always leads;
``alternating``: leaders in turn; ``vote``: every agent votes for the leader whose order
gives it the highest predicted value, plurality, ties at random; the mediator (JAM-QL,
:class:`MediatorConfig`):

1. *fair leaders*: with ``G_i`` the agents' returns so far in the episode and ``V[o]`` the
   predicted step utilities of leader order ``o``, the mediator maximizes the egalitarian
   welfare ``min_i (G_i + V[o]_i)``, ties by the total then the lowest leader (the rules of
   :func:`~mechsolve.solver.equilibria.stackelberg.select_leader`, which this equals with
   ``disagreement = -G``; see :func:`fairest_leader`). ``V`` comes from the oracle:
   ``"stage"``: the subgame-perfect outcome of the stage game under ``o``
   (:func:`~mechsolve.solver.equilibria.stackelberg.sequential_stackelberg`, computed once);
   ``"greedy"``: the outcome of the agents' current greedy policies under ``o`` (the game
   their Q-values induce), evaluated on the stage payoffs.
2. *historical performance*: ``h_i``, an exponential average (rate ``history_rate``, over
   every step played so far, across episodes) of the agent's unfair gain
   ``r_i - mean_j r_j`` at that step; the score of a leader ``l`` is
   ``min_i (G_i + V[l]_i) - history_weight * mark_l`` with the mark (:func:`leader_marks`,
   ``penalty``) ``sum_i max(h_i, 0) * max(V[l]_i - mean_j V[l]_j, 0)`` (``"order-gain"``,
   default: the order led by ``l`` is marked down by as much as it is predicted to favour
   agents that gained unfairly in the past, whether they lead or follow),
   ``max(h_l, 0) * max(V[l]_l - mean_j V[l]_j, 0)`` (``"leader-gain"``: only the leader's own
   gain) or ``h_l`` (``"history"``, the first rules), and agents whose past rewards were fair
   are *more likely* to lead (the seed's
   words): ``selection="softmax"`` (default) draws the leader with probability
   ``exp(score_l / T_e) / sum_k exp(score_k / T_e)`` (:func:`leader_probabilities`), the
   temperature falling geometrically over the run's episodes ``e`` from ``temperature`` to
   ``temperature_end``, so nobody is locked out of leadership; ``selection="argmax"`` takes
   the best score (ties as in stage 1).
   Without stage 2 the mediator is stage 1's deterministic argmax.
3. *end-game transfer*: at the episode's end every agent receives
   ``-transfer_rate * (R_i - mean_j R_j)`` (zero-sum), added to its last reward.

**Metrics** per episode on the returns (after any transfer; :func:`min_max_ratio`,
:func:`gini`, welfare = the sum), and the same fairness on the environment rewards before the
transfer (the transfer alone compresses returns, so both are reported).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.equilibria.stackelberg import sequential_stackelberg
from mechsolve.solver.games.normal_form import NormalFormGame, chicken, prisoners_dilemma

from .agents import EpsilonSchedule, QLearning

GAMES = ("pd", "chicken", "resources")
ARMS = (
    "fixed",
    "alternating",
    "vote",
    "mediator-no-history",
    "mediator-no-transfer",
    "mediator",
)
ORACLES = ("greedy", "stage")
SELECTIONS = ("softmax", "argmax")
"""Stage 2's selection: a softmax draw over the scores (default) or their argmax."""
PENALTIES = ("order-gain", "leader-gain", "history")
"""Stage 2's mark of a leader (:func:`leader_marks`): the advantage its order is predicted to
give every agent with an unfair past (default), the leader's own such advantage, or the
leader's past unfair gain."""
MAX_PLAYERS = 6
"""Stage games have ``2**n`` outcomes; 6 players is plenty for this experiment."""


# -- stage games -----------------------------------------------------------------------------


def linear_dilemma(base: NormalFormGame, n_players: int, title: str) -> NormalFormGame:
    """The symmetric 2x2 ``base`` (actions C, D) extended to ``n_players`` by linear
    interpolation in the share ``x`` of the *other* players choosing C:
    ``u(C) = S + (R - S) x``, ``u(D) = P + (T - P) x`` (R, S, T, P read from ``base``)."""
    fn = "linear_dilemma"
    n = _players(fn, n_players)
    p = base.payoffs
    if base.n_players != 2 or base.num_actions != (2, 2):
        raise MechsolveInputError(fn, "base", f"must be a 2x2 game; got {base.num_actions}")
    r, s, t, pun = p[0, 0, 0], p[0, 0, 1], p[0, 1, 0], p[0, 1, 1]
    grids = np.indices((2,) * n)  # grids[i] = a_i (0 = C, 1 = D)
    cooperators = (grids == 0).sum(axis=0)
    x = (cooperators[None] - (grids == 0)) / (n - 1)  # others' share choosing C, per player
    payoffs = np.where(grids == 0, s + (r - s) * x, pun + (t - pun) * x)
    acts = tuple(("C", "D") for _ in range(n))
    return NormalFormGame(payoffs.astype(np.float64), actions=acts, title=title)


def resource_game(n_players: int, *, rich: float = 4.0, common: float = 3.0) -> NormalFormGame:
    """Resource collection (module docstring): a C player gets ``common * c_C / n`` (``c_C``:
    all C players), a D player ``rich`` when alone on the rich resource and 0 on a collision."""
    fn = "resource_game"
    n = _players(fn, n_players)
    b = v.real(fn, "rich", rich, min_value=0.0)
    c = v.real(fn, "common", common, min_value=0.0)
    grids = np.indices((2,) * n)
    on_common = (grids == 0).sum(axis=0)
    alone = (grids == 1).sum(axis=0) == 1
    payoffs = np.where(grids == 0, c * on_common / n, np.where(alone, b, 0.0))
    acts = tuple(("common", "rich") for _ in range(n))
    title = f"Resource collection (n={n}, rich={b:g}, common={c:g})"
    return NormalFormGame(payoffs.astype(np.float64), actions=acts, title=title)


def stage_game(name: str, n_players: int, *, rich: float = 4.0) -> NormalFormGame:
    """The stage game ``name`` (one of :data:`GAMES`) with ``n_players`` players."""
    fn = "stage_game"
    which = v.choice(fn, "name", name, GAMES)
    n = _players(fn, n_players)
    if which == "pd":
        return linear_dilemma(prisoners_dilemma(), n, f"Prisoner's Dilemma (n={n}, linear)")
    if which == "chicken":
        return linear_dilemma(chicken(), n, f"Chicken (n={n}, linear)")
    return resource_game(n, rich=rich)


def _players(fn: str, n_players: Any, argument: str = "n_players") -> int:
    n = v.positive_int(fn, argument, n_players, minimum=2)
    if n > MAX_PLAYERS:
        raise MechsolveInputError(fn, argument, f"must be <= {MAX_PLAYERS}; got {n}")
    return n


# -- fairness metrics ------------------------------------------------------------------------


def _returns(fn: str, returns: Any) -> NDArray[np.float64]:
    r = v.float_array(fn, "returns", returns, min_value=0.0)
    if r.ndim == 0 or r.shape[-1] < 2:
        raise MechsolveInputError(
            fn, "returns", f"needs a last axis over >= 2 players; got shape {r.shape}"
        )
    return r


def min_max_ratio(returns: Any) -> NDArray[np.float64]:
    """``min_i R_i / max_i R_i`` over the last axis (non-negative returns; 1 when all are 0):
    1 is perfectly fair, 0 when someone gets nothing."""
    r = _returns("min_max_ratio", returns)
    top, low = r.max(axis=-1), r.min(axis=-1)
    return np.asarray(np.where(top > 0, low / np.where(top > 0, top, 1.0), 1.0))


def gini(returns: Any) -> NDArray[np.float64]:
    """The Gini coefficient ``sum_{i,j} |R_i - R_j| / (2 n^2 mean(R))`` over the last axis
    (non-negative returns; 0 when all are 0): 0 is perfectly fair."""
    r = _returns("gini", returns)
    n = r.shape[-1]
    gaps = np.abs(r[..., :, None] - r[..., None, :]).sum(axis=(-2, -1))
    mean = r.mean(axis=-1)
    return np.asarray(np.where(mean > 0, gaps / (2 * n * n * np.where(mean > 0, mean, 1.0)), 0.0))


# -- the mediator's choice -------------------------------------------------------------------


def leader_orders(n_players: int) -> NDArray[np.int64]:
    """``(n, n)``: row ``l`` is the order ``l, l + 1, ..., l + n - 1 (mod n)``."""
    n = _players("leader_orders", n_players)
    return (np.arange(n)[:, None] + np.arange(n)[None, :]) % n


def stage_values(game: NormalFormGame, orders: NDArray[np.int64]) -> NDArray[np.float64]:
    """``(m, n)``: the stage game's subgame-perfect utilities under each order
    (:func:`sequential_stackelberg`)."""
    return np.stack([np.asarray(sequential_stackelberg(game, o).utilities) for o in orders])


def fairest_leader(
    expected: NDArray[np.float64],
    bonus: NDArray[np.float64] | None = None,
    rng: np.random.Generator | None = None,
) -> NDArray[np.int64]:
    """The mediator's leader per population: ``argmax_l min_i expected[p, l, i] + bonus[p, l]``
    (``expected``: ``(P, m, n)`` the returns so far plus each order's predicted step
    utilities), ties (relative ``1e-9``) by the total ``sum_i expected[p, l, i]``, then the
    lowest ``l`` (``rng=None``) or uniformly at random. Without ``bonus`` and ``rng`` this is
    ``select_leader(game, welfare=Welfare(EGALITARIAN, disagreement=-G), lottery=False)``
    restricted to the candidate orders."""
    score = expected.min(axis=-1)
    if bonus is not None:
        score = score + bonus
    top = score.max(axis=-1, keepdims=True)
    tied = score >= top - 1e-9 * np.maximum(1.0, np.abs(top))
    totals = np.where(tied, expected.sum(axis=-1), -np.inf)
    best = totals.max(axis=-1, keepdims=True)
    tied &= totals >= best - 1e-9 * np.maximum(1.0, np.abs(best))
    if rng is not None:
        return np.argmax(np.where(tied, rng.random(tied.shape), -1.0), axis=-1).astype(np.int64)
    return np.argmax(tied, axis=-1).astype(np.int64)


def leader_marks(
    history: NDArray[np.float64], predicted: NDArray[np.float64], penalty: str
) -> NDArray[np.float64]:
    """Stage 2's mark of each leader ``(P, m)`` (the score is lowered by ``weight`` times it),
    from the agents' past unfair gains ``h`` (``history``: ``(P, n)``) and the predicted step
    utilities ``V[l]`` when ``l`` leads (``predicted``: ``(P, m, n)``):
    ``"order-gain"``: ``sum_i max(h_i, 0) * max(V[l]_i - mean_j V[l]_j, 0)``, how much the
    order favours the agents that gained unfairly, leader or followers;
    ``"leader-gain"``: ``max(h_l, 0) * max(V[l]_l - mean_j V[l]_j, 0)``, the leader's only;
    ``"history"``: ``h_l``, the leader's past unfair gain."""
    if penalty == "history":
        return history
    gained = np.maximum(history, 0.0)
    advantage = np.maximum(predicted - predicted.mean(axis=-1, keepdims=True), 0.0)
    if penalty == "leader-gain":
        lead = np.arange(predicted.shape[1])
        return gained * advantage[:, lead, lead]
    return np.einsum("pn,pmn->pm", gained, advantage)


def leader_probabilities(
    expected: NDArray[np.float64],
    history: NDArray[np.float64],
    weight: float,
    temperature: float,
) -> NDArray[np.float64]:
    """Stage 2's selection probabilities ``(P, m)``: with the score
    ``s[p, l] = min_i expected[p, l, i] - weight * history[p, l]`` (``expected``: ``(P, m, n)``
    the returns so far plus each order's predicted step utilities; ``history``: ``(P, m)`` the
    leaders' marks, :func:`leader_marks`), ``Pr(l) = exp(s_l / temperature) / sum_k exp(s_k /
    temperature)``. Lower ``temperature`` approaches the argmax of :func:`fairest_leader`."""
    fn = "leader_probabilities"
    tau = v.real(fn, "temperature", temperature, min_value=0.0, min_exclusive=True)
    w = v.real(fn, "weight", weight, min_value=0.0)
    score = (expected.min(axis=-1) - w * history) / tau
    z = np.exp(score - score.max(axis=-1, keepdims=True))
    return np.asarray(z / z.sum(axis=-1, keepdims=True))


def draw_leader(probabilities: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
    """One leader per population drawn from ``probabilities`` ``(P, m)`` (inverse CDF, one
    uniform per population)."""
    u = rng.random((probabilities.shape[0], 1))
    picks = (np.cumsum(probabilities, axis=-1) < u).sum(axis=-1)
    return np.minimum(picks, probabilities.shape[-1] - 1).astype(np.int64)


# -- learners --------------------------------------------------------------------------------


class SequentialQLearning(QLearning):
    """:class:`QLearning` agents that move one position at a time: :meth:`act_movers` picks
    (epsilon-greedy) actions of one agent per population in given states, :meth:`learn` is the
    Q-learning update ``Q(s, a) += alpha (r + gamma max_a' Q(s', a') [not terminal] - Q(s, a))``
    for every agent at once. :meth:`greedy` is the exploitation-only choice, ties to the lowest
    action (the mediator's ``"greedy"`` oracle)."""

    def act_movers(self, movers: NDArray[np.int64], states: NDArray[np.int64]) -> Any:
        p = np.arange(self.populations)
        mask = np.ones(self.n_arms, dtype=bool)
        greedy = self._best(self.q[p, movers, states], mask, self.tie_break)
        explore = self.rng.random(self.populations) < self.epsilon(max(self.t, 1))
        random = self.rng.integers(0, self.n_arms, self.populations)
        return np.where(explore, random, greedy).astype(np.int64)

    def greedy(self, movers: NDArray[np.int64], states: NDArray[np.int64]) -> Any:
        p = np.arange(self.populations)
        return np.argmax(self.q[p, movers, states], axis=-1).astype(np.int64)

    def learn(
        self,
        states: NDArray[np.int64],
        arms: NDArray[np.int64],
        rewards: NDArray[np.float64],
        next_states: NDArray[np.int64] | None,
    ) -> None:
        p, i = np.indices(self.shape)
        target = rewards.copy()
        if next_states is not None:
            target += self.gamma * self.q[p, i, next_states].max(axis=-1)
        self.q[p, i, states, arms] += self.step_size * (target - self.q[p, i, states, arms])


def _state_offsets(n: int, k: int) -> tuple[NDArray[np.int64], int]:
    """Offsets of position ``j``'s histories (``sum_{l<j} k^l``) and the states per flag."""
    sizes = k ** np.arange(n)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return offsets, int(sizes.sum())


# -- configuration and results ---------------------------------------------------------------


@dataclass(frozen=True)
class MediatorConfig:
    """JAM-QL's knobs (module docstring). ``history``/``transfer`` switch stages 2 and 3;
    ``oracle`` in :data:`ORACLES`; ``penalty`` in :data:`PENALTIES`, ``selection`` in
    :data:`SELECTIONS`, ``temperature`` and ``temperature_end`` (``None``: constant): how
    stage 2 marks and picks leaders. The earlier rules: ``penalty="leader-gain"`` (the
    default on 2026-12-03 until the order-gain mark replaced it), ``penalty="history",
    history_weight=0.35, temperature=0.35, temperature_end=None`` and, before it,
    ``penalty="history", selection="argmax", history_weight=1``."""

    history: bool = True
    transfer: bool = True
    oracle: str = "greedy"
    history_weight: float = 3.0
    history_rate: float = 0.1
    transfer_rate: float = 0.5
    selection: str = "softmax"
    temperature: float = 0.6
    temperature_end: float | None = 0.24
    penalty: str = "order-gain"

    def __post_init__(self) -> None:
        fn = "MediatorConfig"
        v.flag(fn, "history", self.history)
        v.flag(fn, "transfer", self.transfer)
        v.choice(fn, "oracle", self.oracle, ORACLES)
        v.real(fn, "history_weight", self.history_weight, min_value=0.0)
        v.real(fn, "history_rate", self.history_rate, min_value=0.0, max_value=1.0)
        v.real(fn, "transfer_rate", self.transfer_rate, min_value=0.0, max_value=1.0)
        v.choice(fn, "selection", self.selection, SELECTIONS)
        v.real(fn, "temperature", self.temperature, min_value=0.0, min_exclusive=True)
        if self.temperature_end is not None:
            v.real(fn, "temperature_end", self.temperature_end, min_value=0.0, min_exclusive=True)
        v.choice(fn, "penalty", self.penalty, PENALTIES)

    def temperature_at(self, episode: int, episodes: int) -> float:
        """Stage 2's temperature in ``episode`` (0-based) of ``episodes``: from
        ``temperature`` geometrically towards ``temperature_end`` (reached after the last)."""
        if self.temperature_end is None:
            return self.temperature
        return self.temperature * (self.temperature_end / self.temperature) ** (episode / episodes)


@dataclass(frozen=True)
class FairLeadersConfig:
    """A run: ``episodes`` of ``steps`` Stackelberg steps; Q-learning with ``step_size``,
    ``gamma``, ``epsilon`` (per step, over the whole run); the mediator's settings (the arms
    ``mediator-no-history``/``-no-transfer`` switch stage 2 or 3 off); ``rich`` the resource
    game's rich-resource value; ``seed`` the base seed."""

    episodes: int = 300
    steps: int = 20
    step_size: float = 0.1
    gamma: float = 0.9
    epsilon: EpsilonSchedule = field(default_factory=lambda: EpsilonSchedule("1/sqrt(t)"))
    mediator: MediatorConfig = field(default_factory=MediatorConfig)
    rich: float = 4.0
    seed: int = 0

    def __post_init__(self) -> None:
        fn = "FairLeadersConfig"
        v.positive_int(fn, "episodes", self.episodes)
        v.positive_int(fn, "steps", self.steps)
        v.real(fn, "step_size", self.step_size, min_value=0.0, max_value=1.0)
        v.real(fn, "gamma", self.gamma, min_value=0.0, max_value=1.0)
        v.real(fn, "rich", self.rich, min_value=0.0)
        v.seed(fn, self.seed)
        if not isinstance(self.epsilon, EpsilonSchedule):
            raise MechsolveInputError(
                fn, "epsilon", f"must be an EpsilonSchedule; got {self.epsilon!r}"
            )
        if not isinstance(self.mediator, MediatorConfig):
            raise MechsolveInputError(
                fn, "mediator", f"must be a MediatorConfig; got {self.mediator!r}"
            )


@dataclass(frozen=True)
class ArmRun:
    """One (game, players, arm) over ``S`` seeds and ``E`` episodes.

    Attributes:
        returns: ``(S, E, n)`` episode returns after the transfer (the agents' returns).
        rewards: ``(S, E, n)`` episode returns before the transfer (environment rewards).
        leads: ``(S, E, n)`` how many steps each agent led.
    """

    game: str
    players: int
    arm: str
    returns: NDArray[np.float64]
    rewards: NDArray[np.float64]
    leads: NDArray[np.int64]

    @property
    def fairness(self) -> NDArray[np.float64]:
        """``(S, E)`` min/max ratio of the returns."""
        return min_max_ratio(self.returns)

    @property
    def gini(self) -> NDArray[np.float64]:
        return gini(self.returns)

    @property
    def welfare(self) -> NDArray[np.float64]:
        """``(S, E)`` the sum of the returns (the transfer is zero-sum)."""
        return np.asarray(self.returns.sum(axis=-1))

    @property
    def fairness_before_transfer(self) -> NDArray[np.float64]:
        return min_max_ratio(self.rewards)

    @property
    def gini_before_transfer(self) -> NDArray[np.float64]:
        return gini(self.rewards)


# -- the simulation --------------------------------------------------------------------------


def _mediated(arm: str, base: MediatorConfig) -> MediatorConfig | None:
    """The arm's mediator settings (``None``: not a mediator arm)."""
    if arm == "mediator":
        return base
    if arm == "mediator-no-history":
        return replace(base, history=False)
    if arm == "mediator-no-transfer":
        return replace(base, transfer=False)
    return None


class _Episode:
    """Plays one arm's episodes, vectorized over ``P`` populations (the seeds)."""

    def __init__(self, game: NormalFormGame, arm: str, populations: int, cfg: FairLeadersConfig,
                 rng: np.random.Generator) -> None:  # fmt: skip
        self.game, self.arm, self.cfg, self.rng = game, arm, cfg, rng
        self.n, self.k = game.n_players, game.num_actions[0]
        self.P = populations
        self.orders = leader_orders(self.n)
        self.offsets, self.per_flag = _state_offsets(self.n, self.k)
        self.agents = SequentialQLearning(
            populations, self.n, self.k, rng, n_states=2 * self.per_flag,
            step_size=cfg.step_size, gamma=cfg.gamma, epsilon=cfg.epsilon,
        )  # fmt: skip
        self.mediator = _mediated(arm, cfg.mediator)
        need_stage = arm == "vote" or (
            self.mediator is not None and self.mediator.oracle == "stage"
        )
        self.stage = stage_values(game, self.orders) if need_stage else None
        self.unfair_gain = np.zeros((populations, self.n))  # stage 2: h_i
        self.turn = 0
        self.episode = 0  # (stage 2's temperature falls over the episodes)

    def _states(self, position: int, history: NDArray[np.int64], last: bool) -> Any:
        code = np.zeros(self.P, dtype=np.int64)
        for j in range(position):
            code = code * self.k + history[:, j]
        return self.offsets[position] + code + (self.per_flag if last else 0)

    def _predicted(self, last: bool) -> NDArray[np.float64]:
        """``(P, m, n)`` each order's predicted step utilities (the oracle)."""
        if self.stage is not None and (self.mediator is None or self.mediator.oracle == "stage"):
            return np.broadcast_to(self.stage, (self.P, *self.stage.shape))
        out = np.empty((self.P, self.n, self.n))
        for lead in range(self.n):
            actions = np.zeros((self.P, self.n), dtype=np.int64)
            history = np.zeros((self.P, self.n), dtype=np.int64)
            for j in range(self.n):
                mover = np.full(self.P, (lead + j) % self.n)
                a = self.agents.greedy(mover, self._states(j, history, last))
                history[:, j] = a
                actions[np.arange(self.P), mover] = a
            out[:, lead] = self._payoffs(actions)
        return out

    def _payoffs(self, actions: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.asarray(self.game.payoffs[(slice(None), *actions.T)].T)

    def _leader(self, gained: NDArray[np.float64], last: bool) -> NDArray[np.int64]:
        if self.arm == "fixed":
            return np.zeros(self.P, dtype=np.int64)
        if self.arm == "alternating":
            return np.full(self.P, self.turn % self.n, dtype=np.int64)
        predicted = self._predicted(last)
        if self.arm == "vote":
            return self._vote(predicted)
        med = self.mediator
        assert med is not None
        expected = gained[:, None, :] + predicted
        if not med.history:
            return fairest_leader(expected, None, self.rng)
        marks = leader_marks(self.unfair_gain, predicted, med.penalty)
        if med.selection == "softmax":
            tau = med.temperature_at(self.episode, self.cfg.episodes)
            probabilities = leader_probabilities(expected, marks, med.history_weight, tau)
            return draw_leader(probabilities, self.rng)
        return fairest_leader(expected, -med.history_weight * marks, self.rng)

    def _vote(self, predicted: NDArray[np.float64]) -> NDArray[np.int64]:
        """Each agent votes for the order best for itself (ties at random); plurality, ties at
        random."""
        own = np.moveaxis(predicted, -1, 1)  # (P, n voters, m)
        noise = self.rng.random(own.shape)
        best = own >= own.max(axis=-1, keepdims=True) - 1e-9
        votes = np.argmax(np.where(best, noise, -1.0), axis=-1)  # (P, n)
        counts = (votes[:, :, None] == np.arange(self.n)).sum(axis=1)  # (P, m)
        top = counts == counts.max(axis=-1, keepdims=True)
        return np.argmax(np.where(top, self.rng.random(top.shape), -1.0), axis=-1).astype(np.int64)

    def play(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """One episode: returns after and before the transfer, and the leads, each ``(P, n)``."""
        T, P, n = self.cfg.steps, self.P, self.n
        gained = np.zeros((P, n))
        leads = np.zeros((P, n), dtype=np.int64)
        rows = np.arange(P)
        prev: tuple[Any, Any, Any] | None = None
        for t in range(T):
            last = t == T - 1
            leader = self._leader(gained, last)
            self.turn += 1
            self.agents.t += 1
            leads[rows, leader] += 1
            states = np.zeros((P, n), dtype=np.int64)
            actions = np.zeros((P, n), dtype=np.int64)
            history = np.zeros((P, n), dtype=np.int64)
            for j in range(n):
                mover = (leader + j) % n
                s = self._states(j, history, last)
                a = self.agents.act_movers(mover, s)
                states[rows, mover], actions[rows, mover], history[:, j] = s, a, a
            if prev is not None:
                self.agents.learn(*prev, states)
            r = self._payoffs(actions)
            gained += r
            if self.mediator is not None and self.mediator.history:
                eta = self.mediator.history_rate
                self.unfair_gain += eta * (r - r.mean(axis=-1, keepdims=True) - self.unfair_gain)
            prev = (states, actions, r)
        assert prev is not None
        transfer = np.zeros((P, n))
        deviation = gained - gained.mean(axis=-1, keepdims=True)
        if self.mediator is not None and self.mediator.transfer:
            transfer = -self.mediator.transfer_rate * deviation
        self.agents.learn(prev[0], prev[1], prev[2] + transfer, None)
        self.episode += 1
        return gained + transfer, gained, leads


def simulate_arm(
    game: str,
    players: int,
    arm: str,
    seeds: int,
    config: FairLeadersConfig | None = None,
    *,
    on_episode: Callable[[], None] | None = None,
) -> ArmRun:
    """``config.episodes`` episodes of ``arm`` on the stage game ``game`` with ``players``
    players, for ``seeds`` independent populations (vectorized; replicates of one generator
    seeded by ``SeedSequence([config.seed, game, players, arm])``)."""
    fn = "simulate_arm"
    name = v.choice(fn, "game", game, GAMES)
    arm = v.choice(fn, "arm", arm, ARMS)
    n = _players(fn, players, "players")
    s = v.positive_int(fn, "seeds", seeds)
    cfg = config if config is not None else FairLeadersConfig()
    if not isinstance(cfg, FairLeadersConfig):
        raise MechsolveInputError(fn, "config", f"must be a FairLeadersConfig; got {cfg!r}")
    seq = np.random.SeedSequence([cfg.seed, GAMES.index(name), n, ARMS.index(arm)])
    episode = _Episode(stage_game(name, n, rich=cfg.rich), arm, s, cfg, np.random.default_rng(seq))
    returns = np.empty((s, cfg.episodes, n))
    rewards = np.empty((s, cfg.episodes, n))
    leads = np.empty((s, cfg.episodes, n), dtype=np.int64)
    for e in range(cfg.episodes):
        returns[:, e], rewards[:, e], leads[:, e] = episode.play()
        if on_episode is not None:
            on_episode()
    return ArmRun(name, n, arm, returns, rewards, leads)


def run_experiment(
    games: Sequence[str] = GAMES,
    players: Sequence[int] = (2, 4),
    arms: Sequence[str] = ARMS,
    seeds: int = 10,
    config: FairLeadersConfig | None = None,
    *,
    progress: bool = True,
) -> list[ArmRun]:
    """Every (game, players, arm), with a tqdm progress bar over the episodes."""
    from tqdm import tqdm

    fn = "run_experiment"
    cfg = config if config is not None else FairLeadersConfig()
    gs = [v.choice(fn, "games", g, GAMES) for g in games]
    ns = [_players(fn, p, "players") for p in players]
    arm_list = [v.choice(fn, "arms", a, ARMS) for a in arms]
    for argument, values in (("games", gs), ("players", ns), ("arms", arm_list)):
        if not values:
            raise MechsolveInputError(fn, argument, "must not be empty")
    total = len(gs) * len(ns) * len(arm_list) * cfg.episodes
    runs = []
    with tqdm(total=total, desc="fair-leaders", unit="ep", disable=not progress) as bar:
        for g in gs:
            for n in ns:
                for a in arm_list:
                    runs.append(simulate_arm(g, n, a, seeds, cfg, on_episode=lambda: bar.update()))
    return runs
