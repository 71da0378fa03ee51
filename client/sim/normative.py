"""amTFT(w) and amTFT(𝒲) on iterated matrix games: normative disagreement (seed 003, §§4-5,
App. B-C; RESEARCH.md section 5; docs/normative_disagreement.md).

**Games.** The iterated asymmetric Bach or Stravinsky (``"bos"``): BB = (4, 1), SS = (2, 2),
miscoordination (0, 0) (the seed gives the matrix only as an image; these payoffs are from the
authors' public code, ``longtermrisk/marltoolbox`` ``IteratedAsymBoS``, not the seed), with the
disagreement profile (0, 0) of App. B.2. The iterated Prisoner's Dilemma (``"pd"``): the
public code's matrix CC = (-1, -1), CD = (-3, 0), DC = (0, -3), DD = (-2, -2) (seed 000's
Table 1 PD shifted by -3). App. B.2 calls the disagreement "the joint defections (D,D)" but
prints the profile (-3, -3), which is not DD under that matrix: ``pd_disagreement="dd"``
(default) takes DD's payoffs (-2, -2), ``"seed-b2"`` the printed (-3, -3).

**Welfare functions** (Table 2 and App. C.1) from :mod:`mechsolve.solver.games.welfare`, each
with the game's disagreement point ``d``. The inequity-averse welfare of App. C.1 penalizes
``beta * |e_1^t - e_2^t|`` per step with ``e_i^t = gamma*lambda*e_i^{t-1} + r_i^t``; on a
stationary play ``e_i -> r_i / (1 - gamma*lambda)``, so per step it is the project's static
inequity-averse welfare ``u_1 + u_2 - beta_eff |u_1 - u_2|`` with
``beta_eff = beta / (1 - gamma*lambda)`` (beta = 1, lambda = 0.96: the public code's matrix-game
setting; beta_eff = 12.76).

**Agents** (per step ``t`` of an episode of ``steps`` steps; both agents reset at its start):

1. Both observe a public signal ``z_t ~ U[0, 1)`` (the correlation device of §3.3's "correlated
   fair coin"). Each amTFT agent's cooperative plan for its current welfare function ``w`` is
   the welfare-optimal lottery over joint outcomes from :func:`welfare_optimum` (``lottery=True``,
   the exact solver as oracle); ``z_t`` picks the outcome by the lottery's cumulative
   probabilities over outcomes in flat-index order, so agents with the same plan always agree.
2. Intended action: the agent's component of that outcome, or, while punishing, a draw from
   the punishment policy: the strategy minimizing the opponent's best reward (App. C.1 change 1),
   the minimax strategy of :func:`minimax`. With probability ``epsilon`` the played action is
   replaced by a uniformly random one (a trembling hand; the seed does not say how much its
   evaluation explores).
3. Both observe both actions and both rewards (§4.1: full knowledge of the other's rewards).
   An agent that was punishing this step does nothing else. Otherwise, if the opponent played
   the action of the agent's current plan, nothing happens. If not:

   * **normative disagreement** (amTFT(𝒲), §5.1, checked first): if the opponent's action is
     what the plan of another ``w' in 𝒲`` prescribes to it at ``z_t``, the agent re-samples its
     ``w`` uniformly from 𝒲 (Fig. 5's "uniform re-sampling"; the current ``w`` may be drawn again,
     which is what lets two agents that switch at the same time meet) and accrues no debit;
   * **defection check** (App. C.1, the variance-reduced debit): ``debit += r_opp(a_own, a_opp)
     - r_opp(a_own, a_opp^coop)``, the opponent's reward from the action it played minus from the
     one the plan simulates (negative when the deviation hurt the opponent too, as in BoS
     miscoordination). When the accumulated debit exceeds ``debit_threshold`` the agent
     punishes for ``k`` steps and resets the debit: ``k`` is the smallest ``k >= 1`` whose
     opponent loss over a rollout of ``min(rollout_length, steps left)`` steps is at least
     ``punishment_multiplier * debit``; the loss is the opponent's expected discounted return
     (discount ``rollout_discount``) when both follow the plan minus when the agent punishes for
     the first ``k`` steps and the opponent answers selfishly (best response: its minimax value),
     as in the public code's rollouts; if no ``k`` reaches it, the ``k`` of the largest loss.

amTFT(w) is amTFT({w}). The initial ``w`` of a set is drawn uniformly ("at random", §5.1).
Defaults: ``gamma = 0.96`` (App. C.1), rollout length 20 (App. C.1); from the public code
(not in the seed): ``steps = 20`` and ``punishment_multiplier = 3`` (its matrix-game script),
``debit_threshold = 2`` (its amTFT default; the matrix-game script's 10 lets an always-defector
take 11 of 20 steps before any punishment, so defecting pays in 20-step episodes);
``epsilon = 0.02`` ours. :class:`Scripted` players (always one action) check that defection,
not disagreement, is punished.

**Score** (§4.2): each (pair, seed) plays ``episodes`` episodes; its score is
:func:`normalized_score` against the disagreement profile over the set 𝒲 of welfare functions
of the experiment (lotteries allowed) of the mean per-step payoff profile (``score="profile"``:
``w(pi)`` of the expected values, the seed's definition) or the mean of the episodes' scores
(``"episode"``: an episode at BB and one at SS both score 1, where their average profile does
not). Tables give the mean and standard error over seeds.
"""

from __future__ import annotations

import bisect
import itertools
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.equilibria.bargaining import normalized_score, welfare_optimum
from mechsolve.solver.equilibria.nash import minimax
from mechsolve.solver.games.normal_form import (
    NormalFormGame,
    as_game,
    asymmetric_bos,
    seed000_prisoners_dilemma,
)
from mechsolve.solver.games.welfare import Welfare, WelfareKind

GAMES = ("bos", "pd")
PD_DISAGREEMENTS = ("dd", "seed-b2")
SCORES = ("profile", "episode")
WELFARE_ALIASES: dict[str, WelfareKind] = {
    "util": WelfareKind.UTILITARIAN,
    "ia": WelfareKind.INEQUITY_AVERSE,
    "egal": WelfareKind.EGALITARIAN,
    "nash": WelfareKind.NASH,
    "ks": WelfareKind.KALAI_SMORODINSKY,
}
WELFARE_NAMES = tuple(WELFARE_ALIASES)
DEFAULT_WELFARE = ("util", "ia", "egal", "nash")
DEFAULT_SETS = ("util", "ia", "util+ia", "nash", "util+nash", "ia+egal")
"""Welfare-function sets of the amTFT(𝒲) table (``+`` joins members): Fig. 5's sets from
{Util, IA} first, then sets with the Nash and egalitarian welfare."""


# -- configuration and games --------------------------------------------------------------------


@dataclass(frozen=True)
class NormativeConfig:
    """The dynamics' settings (module docstring); ``rollout_discount=None`` means ``gamma``."""

    steps: int = 20
    episodes: int = 20
    gamma: float = 0.96
    epsilon: float = 0.02
    debit_threshold: float = 2.0
    punishment_multiplier: float = 3.0
    rollout_length: int = 20
    rollout_discount: float | None = None
    ia_beta: float = 1.0
    ia_lambda: float = 0.96
    pd_disagreement: str = "dd"
    score: str = "profile"

    def checked(self, fn: str) -> NormativeConfig:
        """The config with every field validated (errors name the field)."""
        v.positive_int(fn, "steps", self.steps)
        v.positive_int(fn, "episodes", self.episodes)
        v.positive_int(fn, "rollout_length", self.rollout_length)
        v.real(fn, "gamma", self.gamma, min_value=0.0, max_value=1.0)
        v.real(fn, "epsilon", self.epsilon, min_value=0.0, max_value=1.0)
        v.real(fn, "debit_threshold", self.debit_threshold, min_value=0.0)
        v.real(fn, "punishment_multiplier", self.punishment_multiplier, min_value=0.0)
        if self.rollout_discount is not None:
            v.real(fn, "rollout_discount", self.rollout_discount, min_value=0.0, max_value=1.0)
        v.real(fn, "ia_beta", self.ia_beta, min_value=0.0)
        v.real(fn, "ia_lambda", self.ia_lambda, min_value=0.0, max_value=1.0)
        if self.gamma * self.ia_lambda >= 1.0:
            raise MechsolveInputError(fn, "ia_lambda", "gamma * ia_lambda must be < 1")
        v.choice(fn, "pd_disagreement", self.pd_disagreement, PD_DISAGREEMENTS)
        v.choice(fn, "score", self.score, SCORES)
        return self

    @property
    def discount(self) -> float:
        return self.gamma if self.rollout_discount is None else self.rollout_discount

    @property
    def ia_beta_eff(self) -> float:
        """The per-step inequity weight of a stationary play: ``beta / (1 - gamma*lambda)``."""
        return self.ia_beta / (1.0 - self.gamma * self.ia_lambda)


@dataclass(frozen=True)
class StageGame:
    """A stage game with its disagreement profile (seed 003 App. B.2) and a label saying where
    the payoffs come from."""

    name: str
    game: NormalFormGame
    disagreement: tuple[float, float]
    source: str
    actions: tuple[str, ...]


def public_code_ipd() -> NormalFormGame:
    """The authors' public-code IPD (marltoolbox ``IteratedPrisonersDilemma``, not in the seed):
    CC = (-1, -1), CD = (-3, 0), DC = (0, -3), DD = (-2, -2); seed 000's Table 1 PD minus 3."""
    base = seed000_prisoners_dilemma()
    return NormalFormGame(
        base.payoffs - 3.0, actions=base.actions, title="Iterated PD (public code of seed 003)"
    )


def stage_game(name: str, config: NormativeConfig | None = None) -> StageGame:
    """``"bos"`` or ``"pd"`` with its disagreement profile (module docstring)."""
    fn = "stage_game"
    name = v.choice(fn, "name", name, GAMES)
    cfg = (config or NormativeConfig()).checked(fn)
    if name == "bos":
        src = "asymmetric BoS, BB=(4,1) SS=(2,2) else (0,0): authors' public code; d=(0,0) (B.2)"
        return StageGame(name, asymmetric_bos(), (0.0, 0.0), src, ("B", "S"))
    d = (-2.0, -2.0) if cfg.pd_disagreement == "dd" else (-3.0, -3.0)
    src = (
        f"IPD, CC=(-1,-1) CD=(-3,0) DD=(-2,-2): authors' public code; d={d} ({cfg.pd_disagreement})"
    )
    return StageGame(name, public_code_ipd(), d, src, ("C", "D"))


def welfare_function(name: str, stage: StageGame, config: NormativeConfig) -> Welfare:
    """One of :data:`WELFARE_NAMES` with the stage game's disagreement point (and, for ``ia``,
    ``beta_eff``)."""
    kind = WELFARE_ALIASES[v.choice("welfare_function", "name", name, WELFARE_NAMES)]
    beta = config.ia_beta_eff if kind is WelfareKind.INEQUITY_AVERSE else 1.0
    return Welfare(kind, disagreement=stage.disagreement, beta=beta)


def parse_set(fn: str, argument: str, text: Any) -> tuple[str, ...]:
    """``"util+ia"`` -> ``("util", "ia")`` (members of :data:`WELFARE_NAMES`, no repeats)."""
    if not isinstance(text, str) or not text:
        raise MechsolveInputError(fn, argument, f"must be names joined by '+'; got {text!r}")
    members = tuple(v.choice(fn, argument, m, WELFARE_NAMES) for m in text.split("+"))
    if len(set(members)) != len(members):
        raise MechsolveInputError(fn, argument, f"repeats a welfare function: {text!r}")
    return members


# -- cooperative plans, punishment, debit -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CooperativePlan:
    """The welfare-optimal lottery of one welfare function: joint outcomes ``(s, 2)`` in flat
    order, their cumulative probabilities, and the players' expected utilities."""

    welfare: str
    outcomes: tuple[tuple[int, int], ...]
    cumulative: tuple[float, ...]
    utilities: NDArray[np.float64]

    def outcome(self, z: float) -> tuple[int, int]:
        """The joint outcome the public signal ``z`` in [0, 1) selects."""
        i = bisect.bisect_right(self.cumulative, z)
        return self.outcomes[min(i, len(self.outcomes) - 1)]

    def record(self) -> dict[str, Any]:
        """JSON-ready: outcomes, their probabilities, the expected utilities."""
        probs = np.diff(np.asarray(self.cumulative), prepend=0.0)
        return {
            "outcomes": [list(o) for o in self.outcomes],
            "probabilities": probs.tolist(),
            "utilities": self.utilities.tolist(),
        }

    def same_as(self, other: CooperativePlan) -> bool:
        """Whether both plans play the same lottery (so their agents always agree)."""
        return self.outcomes == other.outcomes and np.allclose(self.cumulative, other.cumulative)


def cooperative_plan(stage: StageGame, name: str, config: NormativeConfig) -> CooperativePlan:
    """:func:`welfare_optimum` over lotteries of ``name``'s welfare function, as a plan."""
    best = welfare_optimum(stage.game, welfare=welfare_function(name, stage, config), lottery=True)
    if not best.info.termination.has_solution:  # pragma: no cover - a 2x2 LP/conic solve
        raise RuntimeError(f"welfare_optimum({name}) ended {best.info.termination}")
    flat = np.ravel_multi_index(tuple(best.support.T), stage.game.num_actions)
    order = np.argsort(flat)
    cum = np.cumsum(best.probabilities[order])
    cum[-1] = 1.0
    outcomes = tuple((int(a), int(b)) for a, b in best.support[order])
    return CooperativePlan(name, outcomes, tuple(cum.tolist()), np.asarray(best.utilities))


@dataclass(frozen=True, eq=False)
class Punishment:
    """The punisher's strategy minimizing the opponent's best reward, and that reward (the
    opponent's minimax value)."""

    punisher: int
    strategy: NDArray[np.float64]
    opponent_value: float


def punishment_policy(game: NormalFormGame | Any, punisher: int) -> Punishment:
    """Player ``punisher``'s minimax strategy against the other player's payoffs
    (:func:`minimax` of the game with the punished player as the row player):
    ``argmin_y max_a sum_b U_opp(a, b) y_b``."""
    fn = "punishment_policy"
    punisher = v.choice(fn, "punisher", punisher, (0, 1))
    g = as_game(fn, game)
    p = np.asarray(g.payoffs, dtype=np.float64)
    if g.n_players != 2:
        raise MechsolveInputError(fn, "game", f"must have 2 players; got {g.n_players}")
    if punisher == 0:  # the punished player 1 becomes the row player
        p = np.stack([p[1].T, p[0].T])
    m = minimax(p)
    if not m.info.termination.has_solution:  # pragma: no cover - small LPs
        raise RuntimeError(f"minimax ended {m.info.termination}")
    return Punishment(punisher, np.asarray(m.column_strategy), float(m.value))


def debit(game: NormalFormGame, observer: int, actions: Sequence[int], coop_action: int) -> float:
    """App. C.1's direct debit: the opponent's reward at the played ``actions`` minus at the
    same actions with the opponent's replaced by the ``coop_action`` its plan simulates."""
    opp = 1 - observer
    a = [int(x) for x in actions]
    b = list(a)
    b[opp] = int(coop_action)
    return float(game.payoffs[opp, a[0], a[1]] - game.payoffs[opp, b[0], b[1]])


def punishment_length(
    coop_reward: float,
    punished_reward: float,
    debit_total: float,
    *,
    multiplier: float,
    horizon: int,
    discount: float,
) -> int:
    """Steps to punish (module docstring): over a rollout of ``horizon`` steps the opponent
    loses ``L(k) = sum_{t<k} discount^t (coop_reward - punished_reward)`` when punished for the
    first ``k`` steps; the smallest ``k`` with ``L(k) >= multiplier * debit_total``, else the
    ``k`` of the largest ``L`` (the smallest such), ``0`` when no ``k >= 1`` hurts it."""
    if horizon <= 0:
        return 0
    coop = np.full(horizon, coop_reward)
    losses = []
    for k in range(1, horizon + 1):  # the rollout: k punished steps, then the plan
        punished = coop.copy()
        punished[:k] = punished_reward
        weights = discount ** np.arange(horizon)
        losses.append(float(weights @ (coop - punished)))
    target = multiplier * debit_total
    for k, loss in enumerate(losses, start=1):
        if loss >= target:
            return k
    best = max(losses)
    return 0 if best <= 0.0 else losses.index(best) + 1


# -- the agent ----------------------------------------------------------------------------------


@dataclass
class AmTFT:
    """amTFT(𝒲) for ``player`` (amTFT(w) when ``plans`` has one member); per-step rules in the
    module docstring. ``plans`` and ``punishment`` are shared, read-only precomputations."""

    player: int
    plans: tuple[CooperativePlan, ...]
    punishment: Punishment
    game: NormalFormGame
    config: NormativeConfig
    rng: np.random.Generator
    current: int = 0
    debit: float = 0.0
    punish_left: int = 0
    punishing: bool = False
    punishments: int = 0
    resamples: int = 0

    @property
    def plan(self) -> CooperativePlan:
        return self.plans[self.current]

    def planned(self, z: float) -> tuple[int, int] | None:
        """The joint outcome of the current plan at ``z`` (``None`` while punishing)."""
        return None if self.punish_left else self.plan.outcome(z)

    def reset(self) -> None:
        """Episode start: a uniformly drawn ``w``, no debit, no punishment."""
        self.current = int(self.rng.integers(len(self.plans)))
        self.debit, self.punish_left, self.punishing = 0.0, 0, False

    def intended(self, z: float) -> int:
        """This step's action before any tremble."""
        self.punishing = self.punish_left > 0
        if self.punishing:
            self.punish_left -= 1
            s = self.punishment.strategy
            return int(self.rng.choice(len(s), p=s))
        return self.plans[self.current].outcome(z)[self.player]

    def observe(self, z: float, actions: tuple[int, int], steps_left: int) -> None:
        """Disagreement check, then the debit and punishment rule, after the step."""
        if self.punishing:
            return
        opp = 1 - self.player
        expected = self.plans[self.current].outcome(z)[opp]
        if actions[opp] == expected:
            return
        if len(self.plans) > 1 and any(
            p.outcome(z)[opp] == actions[opp] for j, p in enumerate(self.plans) if j != self.current
        ):
            self.current = int(self.rng.integers(len(self.plans)))
            self.resamples += 1
            return
        self.debit += debit(self.game, self.player, actions, expected)
        if self.debit > self.config.debit_threshold:
            cfg = self.config
            self.punish_left = punishment_length(
                float(self.plans[self.current].utilities[opp]),
                self.punishment.opponent_value,
                self.debit,
                multiplier=cfg.punishment_multiplier,
                horizon=min(cfg.rollout_length, steps_left),
                discount=cfg.discount,
            )
            self.debit = 0.0
            self.punishments += int(self.punish_left > 0)


# -- playing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairRun:
    """One (pair, seed): per-step means over all episodes."""

    payoffs: tuple[float, float]
    score: float
    agreement: float
    punishments: float
    resamples: float
    final_same_plan: bool


class Prepared:
    """A stage game with every welfare function's plan and both punishment policies."""

    def __init__(self, stage: StageGame, names: Iterable[str], config: NormativeConfig) -> None:
        self.stage, self.config = stage, config
        self.plans = {n: cooperative_plan(stage, n, config) for n in dict.fromkeys(names)}
        self.punish = (punishment_policy(stage.game, 0), punishment_policy(stage.game, 1))

        self._scores: dict[tuple[Any, ...], float] = {}

    def agent(self, player: int, members: Sequence[str], rng: np.random.Generator) -> AmTFT:
        plans = tuple(self.plans[m] for m in members)
        return AmTFT(player, plans, self.punish[player], self.stage.game, self.config, rng)

    def score(self, payoffs: NDArray[np.float64], basis: Sequence[Welfare]) -> float:
        """:func:`normalized_score` of a mean payoff profile (memoized: episode profiles are
        sums of the stage payoffs, so few are distinct)."""
        key = (*np.round(payoffs, 12).tolist(), *basis)
        if key not in self._scores:
            self._scores[key] = normalized_score(
                self.stage.game, payoffs, self.stage.disagreement, welfare_functions=list(basis)
            ).score
        return self._scores[key]


@dataclass
class Scripted:
    """A player that always plays ``action`` (e.g. always-defect), for the defection check."""

    player: int
    action: int
    punish_left: int = 0
    punishments: int = 0
    resamples: int = 0

    def reset(self) -> None:
        return None

    def planned(self, z: float) -> tuple[int, int] | None:
        return None

    def intended(self, z: float) -> int:
        return self.action

    def observe(self, z: float, actions: tuple[int, int], steps_left: int) -> None:
        return None


def _play(
    prepared: Prepared,
    agents: Sequence[AmTFT | Scripted],
    env: np.random.Generator,
    score_basis: Sequence[Welfare],
) -> PairRun:
    """``config.episodes`` episodes of ``agents[0]`` (row) vs ``agents[1]`` (column), the
    per-step loop of the module docstring; ``env`` draws the public signal and the trembles."""
    cfg, game = prepared.config, prepared.stage.game
    k = game.num_actions
    u0, u1 = game.payoffs[0].tolist(), game.payoffs[1].tolist()
    episodes = np.zeros((cfg.episodes, 2))
    agree = 0
    for e in range(cfg.episodes):
        total = episodes[e]
        for a in agents:
            a.reset()
        for t in range(cfg.steps):
            z = float(env.random())
            plans = [a.planned(z) for a in agents]
            coop = not (agents[0].punish_left or agents[1].punish_left)
            agree += int(coop and plans[0] is not None and plans[0] == plans[1])
            acts = [a.intended(z) for a in agents]
            for i in (0, 1):
                if cfg.epsilon and env.random() < cfg.epsilon:
                    acts[i] = int(env.integers(k[i]))
            joint = (acts[0], acts[1])
            total[0] += u0[joint[0]][joint[1]]
            total[1] += u1[joint[0]][joint[1]]
            for a in agents:
                a.observe(z, joint, cfg.steps - t - 1)
    n = cfg.episodes * cfg.steps
    mean = episodes.sum(axis=0) / n
    if cfg.score == "profile":
        score = prepared.score(mean, score_basis)
    else:
        score = float(np.mean([prepared.score(u / cfg.steps, score_basis) for u in episodes]))
    a0, a1 = agents
    same = isinstance(a0, AmTFT) and isinstance(a1, AmTFT) and a0.plan.same_as(a1.plan)
    return PairRun(
        (float(mean[0]), float(mean[1])), float(score), agree / n,
        sum(a.punishments for a in agents) / cfg.episodes,
        sum(a.resamples for a in agents) / cfg.episodes,
        same,
    )  # fmt: skip


def _streams(seed: int, label: str) -> tuple[np.random.Generator, ...]:
    """The environment's and both players' generators for (``seed``, pair ``label``)."""
    root = np.random.SeedSequence([int(seed), zlib.crc32(label.encode())])
    return tuple(np.random.default_rng(s) for s in root.spawn(3))


def play_pair(
    prepared: Prepared,
    sets: tuple[Sequence[str], Sequence[str]],
    seed: int,
    score_basis: Sequence[Welfare],
) -> PairRun:
    """amTFT(sets[0]) (row) vs amTFT(sets[1]) (column) for ``config.episodes`` episodes."""
    label = f"{prepared.stage.name}|{'+'.join(sets[0])}|{'+'.join(sets[1])}"
    env, r0, r1 = _streams(seed, label)
    agents = (prepared.agent(0, sets[0], r0), prepared.agent(1, sets[1], r1))
    return _play(prepared, agents, env, score_basis)


def play_scripted(
    prepared: Prepared,
    members: Sequence[str],
    action: int,
    seed: int,
    score_basis: Sequence[Welfare],
) -> PairRun:
    """amTFT(members) (row) vs a column player that always plays ``action``."""
    label = f"{prepared.stage.name}|{'+'.join(members)}|always-{action}"
    env, r0, _ = _streams(seed, label)
    agents = (prepared.agent(0, members, r0), Scripted(1, int(action)))
    return _play(prepared, agents, env, score_basis)


# -- experiments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairSummary:
    """A pair over seeds: means and standard errors (``nan`` for one seed)."""

    row: str
    column: str
    score: float
    score_se: float
    payoffs: tuple[float, float]
    agreement: float
    punishments: float
    resamples: float
    final_agreement: float
    """Share of seeds whose last episode ended with both agents on the same plan (lottery)."""


@dataclass(frozen=True)
class GameResult:
    """One game: the amTFT(w) cross-play matrix and the amTFT(𝒲) set matrix."""

    game: str
    source: str
    disagreement: tuple[float, float]
    welfare_functions: tuple[str, ...]
    plans: dict[str, dict[str, Any]]
    crossplay: list[PairSummary] = field(default_factory=list)
    sets: tuple[str, ...] = ()
    setplay: list[PairSummary] = field(default_factory=list)
    defection: list[PairSummary] = field(default_factory=list)
    """amTFT(w) (row) vs a column player always playing one action (``column = "always-C"``)."""

    def matrix(self, which: str = "crossplay") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and standard-error matrices, rows = row player's welfare (set)."""
        labels = self.welfare_functions if which == "crossplay" else self.sets
        rows = self.crossplay if which == "crossplay" else self.setplay
        idx = {x: i for i, x in enumerate(labels)}
        mean = np.full((len(labels),) * 2, np.nan)
        se = np.full_like(mean, np.nan)
        for r in rows:
            mean[idx[r.row], idx[r.column]], se[idx[r.row], idx[r.column]] = r.score, r.score_se
        return mean, se


def _summary(row: str, column: str, runs: Sequence[PairRun]) -> PairSummary:
    scores = np.array([r.score for r in runs])
    se = float(scores.std(ddof=1) / math.sqrt(len(scores))) if len(scores) > 1 else math.nan
    pay = np.mean([r.payoffs for r in runs], axis=0)
    return PairSummary(
        row, column, float(scores.mean()), se, (float(pay[0]), float(pay[1])),
        float(np.mean([r.agreement for r in runs])),
        float(np.mean([r.punishments for r in runs])),
        float(np.mean([r.resamples for r in runs])),
        float(np.mean([r.final_same_plan for r in runs])),
    )  # fmt: skip


def _all_pairs(
    prep: Prepared,
    groups: Sequence[tuple[str, ...]],
    seeds: Sequence[int],
    basis: Sequence[Welfare],
    progress: Callable[[int], None] | None,
) -> list[PairSummary]:
    """Every ordered pair of amTFT(groups[i]) (row) vs amTFT(groups[j]) over ``seeds``."""
    out = []
    for a, b in itertools.product(groups, repeat=2):
        runs = [play_pair(prep, (a, b), s, basis) for s in seeds]
        out.append(_summary("+".join(a), "+".join(b), runs))
        if progress is not None:
            progress(len(seeds))
    return out


def run_normative(
    *,
    games: Sequence[str] = GAMES,
    welfare_functions: Sequence[str] = DEFAULT_WELFARE,
    sets: Sequence[str] = DEFAULT_SETS,
    seeds: Iterable[int] = range(10),
    config: NormativeConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[GameResult]:
    """Every ordered pair of amTFT(w) over ``welfare_functions`` and of amTFT(𝒲) over ``sets``
    in each game, ``seeds`` independent runs each, scored over 𝒲 = ``welfare_functions``.
    ``progress(n)`` is called after each pair's seeds with the number of pair runs done."""
    fn = "run_normative"
    cfg = (config or NormativeConfig()).checked(fn)
    if not isinstance(games, list | tuple) or not games:
        raise MechsolveInputError(fn, "games", f"must be a non-empty list; got {games!r}")
    gs = [v.choice(fn, f"games[{i}]", g, GAMES) for i, g in enumerate(games)]
    if not isinstance(welfare_functions, list | tuple) or not welfare_functions:
        raise MechsolveInputError(fn, "welfare_functions", "must be a non-empty list")
    names = tuple(
        v.choice(fn, f"welfare_functions[{i}]", w, WELFARE_NAMES)
        for i, w in enumerate(welfare_functions)
    )
    if not isinstance(sets, list | tuple):
        raise MechsolveInputError(fn, "sets", f"must be a list; got {sets!r}")
    parsed = [parse_set(fn, f"sets[{i}]", s) for i, s in enumerate(sets)]
    seed_list = [v.positive_int(fn, "seeds", s, minimum=0) for s in seeds]
    if not seed_list:
        raise MechsolveInputError(fn, "seeds", "must hold at least one seed")
    out = []
    for g in gs:
        stage = stage_game(g, cfg)
        members = [*names, *(m for p in parsed for m in p)]
        prep = Prepared(stage, members, cfg)
        basis = [welfare_function(n, stage, cfg) for n in names]
        plans = {n: p.record() for n, p in prep.plans.items()}
        sets_ = tuple("+".join(p) for p in parsed)
        res = GameResult(g, stage.source, stage.disagreement, names, plans, sets=sets_)
        res.crossplay.extend(_all_pairs(prep, [(n,) for n in names], seed_list, basis, progress))
        res.setplay.extend(_all_pairs(prep, parsed, seed_list, basis, progress))
        for n in names:
            for index, act in enumerate(stage.actions):
                runs = [play_scripted(prep, (n,), index, s, basis) for s in seed_list]
                res.defection.append(_summary(n, f"always-{act}", runs))
                if progress is not None:
                    progress(len(seed_list))
        out.append(res)
    return out


def pair_count(games: int, welfare_functions: int, sets: int, seeds: int) -> int:
    """Pair runs :func:`run_normative` plays (for a progress bar's total)."""
    return games * (welfare_functions**2 + sets**2 + 2 * welfare_functions) * seeds
