"""Adaptive mechanism design (seed 001 ``001_8be2956230231e45.txt``, chapter 4), vectorized over
seeds, with analytic gradients.

Model (§4.1-4.2). ``N`` learners, one logit each: ``p_i = P(C) = sigmoid(theta_i)``. Joint actions
``a in {0, 1}^N`` (1 = C) are enumerated (:func:`joint_actions`, ``K = 2^N`` rows). The planner is
one dense layer + sigmoid over the joint action: ``r^p_i(a) = 2c (sigmoid(W_i . a + b_i) - 1/2)``,
so ``|r^p_i| <= c`` (c = 3, "maximum reward"); ``W, b ~ N(0, 0.1)`` at the start. Learner ``i``
receives ``r^tot_i = r_i + r^p_i`` (revenue-neutral: ``r^p_i - mean_j r^p_j``, RESEARCH item 5).

With ``P(a) = prod_j p_j^{a_j} (1 - p_j)^{1 - a_j}`` and ``d log P(a) / d theta_i = a_i - p_i``:

* ``grad_i V_j = sum_a P(a) (a_i - p_i) r_j(a)`` (exact value gradients, :func:`value_gradients`).
* Learners (eq. 4.1): ascend ``grad_i V^tot_i``, either exactly (``learners="exact"``) or from one
  sampled joint action per episode with a perfect critic baseline (``learners="sampled"``,
  default): ``(a_i - p_i) (r^tot_i(a) - E[r^tot_i])``.
* Planner ``"exact"`` (eqs. 4.3 + 4.7, :func:`exact_planner_gradient`): ascend
  ``J(W, b) = sum_i eta_i grad_i V^p_i . grad_i V - alpha ||V^p||^2`` (``grad_i V`` held fixed),
  ``V = sum_i V_i`` the welfare of the original rewards, exact expectations over joint actions.
* Planner ``"code"`` (the authors' code, RESEARCH item 4, :func:`code_planner_gradient`): at the
  realised ``a``, ascend ``sum_i eta_i [p_i (1 - p_i) d r^p_i / d a_i] grad_i V - alpha ||r^p(a)||``
  (a linearisation in the continuous input ``a_i``; non-squared norm cost of the realised rewards,
  centred when revenue-neutral, while the look-ahead uses the uncentred ``r^p``).
* Planner ``"estimated"`` (eq. 4.5, RESEARCH item 6, :func:`estimated_planner_gradient`): both
  gradients from the realised ``a``, ``grad_i V^p_i ~ (a_i - p_i) r^p_i(a)`` and
  ``grad_i V ~ (a_i - p_i) (sum_j r_j(a) - 1.9)``, plus the norm cost.

Games: the solver's chapter-4 games (:func:`mechsolve.solver.games.normal_form.prisoners_dilemma`,
``chicken``, ``stag_hunt``: Table 4.1), extended to N players by footnote 4 (:func:`game_rewards`).
Optimisers: Adam (default, lr 0.01, the authors' code, RESEARCH item 1; the simulations' one
Adam, :class:`.optim.Adam`) or plain gradient ascent ("sgd", the equations taken literally). Per-seed randomness: ``SeedSequence([1, 4, seed])`` draws
the planner weights, then (``init="code"``) the logits, then every episode's uniforms, so a seed
replays identically whatever other seeds run beside it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.results import readonly
from mechsolve.solver.games.normal_form import NormalFormGame, chicken, prisoners_dilemma, stag_hunt

from .optim import Adam

Array = NDArray[np.float64]

GAMES = ("pd", "chicken", "staghunt")
MATRIX_GAMES: dict[str, Callable[[], NormalFormGame]] = {
    "pd": prisoners_dilemma,
    "chicken": chicken,
    "staghunt": stag_hunt,
}
"""The chapter-4 games of the solver (seed 001 Table 4.1; actions (C, D))."""
GAME_TITLES = {g: MATRIX_GAMES[g]().title for g in GAMES}


def _rpts(game: str) -> tuple[float, float, float, float]:
    """(R, P, T, S) of a chapter-4 game: u_1 at (C,C), (D,D), (D,C), (C,D)."""
    u = MATRIX_GAMES[game]().payoffs[0]
    return float(u[0, 0]), float(u[1, 1]), float(u[1, 0]), float(u[0, 1])


REWARD, PUNISHMENT = _rpts("pd")[:2]
"""R and P, fixed in §4.2 (the same in every game)."""
TEMPTATION_SUCKER = {g: _rpts(g)[2:] for g in GAMES}
"""Table 4.1: (T, S); greed = T - R, fear = P - S."""
PLANNERS = ("exact", "code", "estimated")
OPTIMIZERS = ("adam", "sgd")
LEARNERS = ("sampled", "exact")
INITS = ("paper", "code")
MAX_PLAYERS = 12
"""Joint actions are enumerated: 2^12 = 4096 outcomes per seed at most."""
MAX_CELLS = 50_000_000
"""Upper bound on seeds x episodes x (players + 3) recorded numbers and seeds x 2^N x N work."""
ESTIMATOR_BASELINE = 1.9
"""The authors' code: the hard-coded baseline of the estimated welfare gradient (item 6)."""
RECORDED_OUTCOMES = 16
"""Player 1's additional reward per outcome is recorded when 2^N is at most this."""


def sigmoid(x: Array) -> Array:
    out: Array = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def joint_actions(players: int) -> Array:
    """All joint actions, shape ``(2^N, N)``, 1 = C, rows ordered all-C first (CC, CD, DC, DD)."""
    return np.array(list(itertools.product((1.0, 0.0), repeat=players)))


def outcome_labels(players: int) -> list[str]:
    return ["".join("C" if x else "D" for x in row) for row in joint_actions(players)]


def game_rewards(game: str, players: int = 2) -> Array:
    """Original rewards ``r_i(a)``, shape ``(2^N, N)``, rows as :func:`joint_actions`.

    Two players: the matrix game with R = 3, P = 1 and Table 4.1's T, S. ``N`` players
    (footnote 4, stated for the PD): a cooperator gets ``S + (R - S) k / (N - 1)``, a defector
    ``P + (T - P) k / (N - 1)`` with ``k`` the other cooperators (3 all C, 1 all D, 4 lone defector,
    0 lone cooperator in the PD; the same interpolation for Chicken and Stag Hunt is our extension).
    """
    fn = "game_rewards"
    game = v.choice(fn, "game", game, GAMES)
    players = v.positive_int(fn, "players", players, minimum=2)
    if players > MAX_PLAYERS:
        raise ProblemTooLargeError(fn, "players", f"is {players}, over the limit {MAX_PLAYERS}")
    r, pun, t, s = _rpts(game)
    a = joint_actions(players)
    frac = (a.sum(axis=1, keepdims=True) - a) / (players - 1)
    out: Array = a * (s + (r - s) * frac) + (1 - a) * (pun + (t - pun) * frac)
    return out


def outcome_probabilities(p: Array, actions: Array) -> Array:
    """``P(a)`` for each seed: ``p`` shape (S, N), ``actions`` (K, N) -> (S, K)."""
    out: Array = np.where(actions[None] > 0.5, p[:, None, :], 1.0 - p[:, None, :]).prod(axis=2)
    return out


def value_gradients(prob: Array, score: Array, rewards: Array) -> Array:
    """``grad_i E[rewards_i]``: ``sum_a P(a) (a_i - p_i) rewards_i(a)``; shapes (S, K), (S, K, N),
    rewards (K, N) or (S, K, N) -> (S, N)."""
    out: Array = np.einsum("sk,ski,ski->si", prob, score, np.broadcast_to(rewards, score.shape))
    return out


def planner_rewards(weights: Array, bias: Array, actions: Array, max_reward: float) -> Array:
    """``r^p(a)`` for every seed and outcome: weights (S, N, N), bias (S, N), actions (K, N) or
    (S, K, N) -> (S, K, N)."""
    z = np.einsum("...kj,sij->ski", actions, weights) + bias[:, None, :]
    out: Array = 2.0 * max_reward * (sigmoid(z) - 0.5)
    return out


def _centred(x: Array, revenue_neutral: bool) -> Array:
    return x - x.mean(axis=-1, keepdims=True) if revenue_neutral else x


def exact_planner_gradient(
    theta: Array,
    weights: Array,
    bias: Array,
    rewards: Array,
    *,
    lr: float,
    cost: float,
    max_reward: float,
    revenue_neutral: bool = False,
) -> tuple[Array, Array]:
    """Gradient (ascent direction) of eqs. 4.3 + 4.7 with exact expectations:
    ``J = sum_i lr * grad_i V^p_i . grad_i V - cost * ||V^p||^2`` with respect to (W, b), where
    ``V^p_i = E[r^p_i]`` (centred when revenue-neutral) and ``grad_i V`` is held fixed.
    Shapes: theta (S, N), weights (S, N, N), bias (S, N), rewards (K, N)."""
    actions = joint_actions(theta.shape[1])
    p = sigmoid(theta)
    prob = outcome_probabilities(p, actions)
    score = actions[None] - p[:, None, :]
    g_v = value_gradients(
        prob, score, np.broadcast_to(rewards.sum(axis=1, keepdims=True), score.shape)
    )
    z = np.einsum("kj,sij->ski", actions, weights) + bias[:, None, :]
    sig = sigmoid(z)
    paid = _centred(2.0 * max_reward * (sig - 0.5), revenue_neutral)
    vp = np.einsum("sk,ski->si", prob, paid)
    # dJ / d paid_i(a), then through the centring (its Jacobian is symmetric: I - 1/N).
    kappa = prob[:, :, None] * (lr * g_v[:, None, :] * score - 2.0 * cost * vp[:, None, :])
    dz = _centred(kappa, revenue_neutral) * 2.0 * max_reward * sig * (1.0 - sig)
    return np.einsum("ski,kj->sij", dz, actions), dz.sum(axis=1)


def _norm_cost(sig: Array, max_reward: float, revenue_neutral: bool) -> Array:
    """``d ||u|| / d z`` with ``u = 2c (sigmoid(z) - 1/2)`` (centred when revenue-neutral; the
    centring drops out since ``u`` sums to 0); 0 where ``u = 0``."""
    u = _centred(2.0 * max_reward * (sig - 0.5), revenue_neutral)
    norm = np.sqrt((u * u).sum(axis=1, keepdims=True))
    unit = np.divide(u, norm, out=np.zeros_like(u), where=norm > 0)
    out: Array = unit * 2.0 * max_reward * sig * (1.0 - sig)
    return out


def code_planner_gradient(
    theta: Array,
    weights: Array,
    bias: Array,
    actions: Array,
    welfare_gradient: Array,
    *,
    lr: float,
    cost: float,
    max_reward: float,
    revenue_neutral: bool = False,
) -> tuple[Array, Array]:
    """Gradient (ascent direction) of the authors' "exact value function" planner objective at
    the realised joint action ``a`` (RESEARCH item 4):
    ``O = sum_i lr * p_i (1 - p_i) (d r^p_i / d a_i)(a) * g_i - cost * ||u(a)||``: the look-ahead
    linearised in the continuous input ``a_i`` (``d r^p_i / d a_i = 2c sigmoid'(z_i) W_ii``),
    ``g = welfare_gradient`` the exact ``grad_i V`` (held fixed), ``u = r^p`` (centred when
    revenue-neutral, item 5; the look-ahead keeps the uncentred ``r^p``).
    Shapes: theta (S, N), weights (S, N, N), bias (S, N), actions (S, N), welfare_gradient (S, N)."""
    p = sigmoid(theta)
    n = theta.shape[1]
    sig = sigmoid(np.einsum("sj,sij->si", actions, weights) + bias)
    d1 = sig * (1.0 - sig)
    d2 = d1 * (1.0 - 2.0 * sig)  # sigmoid''
    diag = np.einsum("sii->si", weights)
    q = lr * p * (1.0 - p) * welfare_gradient * 2.0 * max_reward
    dz = q * d2 * diag - cost * _norm_cost(sig, max_reward, revenue_neutral)
    grad_w = dz[:, :, None] * actions[:, None, :] + np.eye(n)[None] * (q * d1)[:, :, None]
    return grad_w, dz


def estimated_planner_gradient(
    theta: Array,
    weights: Array,
    bias: Array,
    actions: Array,
    welfare: Array,
    *,
    lr: float,
    cost: float,
    max_reward: float,
    revenue_neutral: bool = False,
    baseline: float = ESTIMATOR_BASELINE,
) -> tuple[Array, Array]:
    """Gradient (ascent direction) of eq. 4.5 (+ the norm cost) from one realised joint action
    ``a``: both gradients are single-sample policy-gradient estimates,
    ``grad_i V^p_i ~ (a_i - p_i) r^p_i(a)`` and ``grad_i V ~ (a_i - p_i) (sum_j r_j(a) - 1.9)``
    (the authors' code, RESEARCH item 6), so
    ``O = sum_i lr (a_i - p_i)^2 r^p_i(a) (welfare - baseline) - cost * ||u(a)||``.
    Shapes: theta (S, N), weights (S, N, N), bias (S, N), actions (S, N), welfare (S,) = the
    realised sum of original rewards."""
    p = sigmoid(theta)
    sig = sigmoid(np.einsum("sj,sij->si", actions, weights) + bias)
    score = actions - p
    look = lr * score * score * (welfare - baseline)[:, None] * 2.0 * max_reward * sig * (1.0 - sig)
    dz = look - cost * _norm_cost(sig, max_reward, revenue_neutral)
    return dz[:, :, None] * actions[:, None, :], dz


def _ascent(kind: str, lr: float, params: dict[str, Array]) -> Callable[[dict[str, Array]], None]:
    """An ascent step on ``params`` (updated in place; Adam rebinds its entries to views of its
    buffer): :class:`.optim.Adam` (TensorFlow's defaults: beta 0.9, 0.999, eps 1e-8, no decay)
    or plain gradient ascent ``x += lr * g`` ("sgd")."""
    if kind == "adam":
        return Adam(params, dict.fromkeys(params, lr), maximize=True).step

    def sgd(grads: dict[str, Array]) -> None:
        for k, x in params.items():
            x += lr * grads[k]

    return sgd


@dataclass(frozen=True)
class AmdSettings:
    """One arm: the game, the planner and the learners (defaults = the paper's §4.2 settings as
    reproduced by RESEARCH.md section 3)."""

    game: str = "pd"
    players: int = 2
    episodes: int = 4000
    mechanism: bool = True
    planner: str = "exact"
    revenue_neutral: bool = False
    turn_off: bool = False
    optimizer: str = "adam"
    learners: str = "sampled"
    lr: float = 0.01
    planner_lr: float = 0.01
    cost: float = 0.0002
    max_reward: float = 3.0
    init: str = "paper"
    estimator_baseline: float = ESTIMATOR_BASELINE


@dataclass(frozen=True)
class AmdRun:
    """Per-episode traces (after each episode's update), arrays of shape (seeds, episodes, ...):

    * ``p_cooperate`` (S, T, N): P(C) per player; ``p_all_cooperate`` (S, T): P(all C).
    * ``welfare`` (S, T): V = sum_i E[r_i] (original rewards) under the current policies.
    * ``additional_reward`` (S, T): sum_i |r^p_i| paid in the episode (RESEARCH item 8): its
      expectation for the exact planner, the realised value for "code"/"estimated"; 0 when off.
    * ``planner_reward`` (S, T, 2^N) or None: player 1's additional reward (as paid) in each
      outcome (rows of :func:`joint_actions`), recorded when 2^N <= 16; 0 when off.

    ``planner_episodes`` episodes had the planner on (0 without mechanism); with ``turn_off`` the
    run is ``2 * episodes`` long."""

    settings: AmdSettings
    seeds: tuple[int, ...]
    p_cooperate: Array
    p_all_cooperate: Array
    welfare: Array
    additional_reward: Array
    planner_reward: Array | None
    planner_episodes: int


def _settings(fn: str, s: AmdSettings) -> AmdSettings:
    v.choice(fn, "game", s.game, GAMES)
    players = v.positive_int(fn, "players", s.players, minimum=2)
    if players > MAX_PLAYERS:
        raise ProblemTooLargeError(fn, "players", f"is {players}, over the limit {MAX_PLAYERS}")
    v.positive_int(fn, "episodes", s.episodes)
    for name in ("mechanism", "revenue_neutral", "turn_off"):
        v.flag(fn, name, getattr(s, name))
    v.choice(fn, "planner", s.planner, PLANNERS)
    v.choice(fn, "optimizer", s.optimizer, OPTIMIZERS)
    v.choice(fn, "learners", s.learners, LEARNERS)
    v.choice(fn, "init", s.init, INITS)
    for name in ("lr", "planner_lr", "max_reward"):
        v.real(fn, name, getattr(s, name), min_value=0.0, min_exclusive=True)
    v.real(fn, "cost", s.cost, min_value=0.0)
    v.real(fn, "estimator_baseline", s.estimator_baseline)
    return s


def _seed_list(fn: str, seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        return tuple(range(v.positive_int(fn, "seeds", seeds)))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence):
        raise MechsolveInputError(fn, "seeds", f"must be a count or a list of seeds; got {seeds!r}")
    out = tuple(v.seed(fn, s) for s in seeds)
    if not out:
        raise MechsolveInputError(fn, "seeds", "must not be empty")
    return out


def _planner_step(
    s: AmdSettings,
    theta: Array,
    weights: Array,
    bias: Array,
    rewards: Array,
    played: NDArray[np.bool_],
    prob: Array,
    paid: Array,
) -> tuple[tuple[Array, Array], Array]:
    """The planner's ascent direction this episode and the additional reward it pays
    (sum_i |r^p_i| of ``paid``, shape (S, K, N): expected for "exact", realised at ``played`` for
    "code"/"estimated")."""
    kw = {"lr": s.lr, "cost": s.cost, "max_reward": s.max_reward}
    rn = s.revenue_neutral
    if s.planner == "exact":
        grads = exact_planner_gradient(theta, weights, bias, rewards, revenue_neutral=rn, **kw)
        return grads, np.einsum("sk,sk->s", prob, np.abs(paid).sum(axis=2))
    a = played.astype(np.float64)
    welfare = rewards.sum(axis=1)
    if s.planner == "code":
        score = joint_actions(theta.shape[1])[None] - sigmoid(theta)[:, None, :]
        g_v = value_gradients(prob, score, np.broadcast_to(welfare[None, :, None], score.shape))
        grads = code_planner_gradient(theta, weights, bias, a, g_v, revenue_neutral=rn, **kw)
    else:
        grads = estimated_planner_gradient(
            theta,
            weights,
            bias,
            a,
            welfare[_rows_of(played)],
            baseline=s.estimator_baseline,
            revenue_neutral=rn,
            **kw,
        )
    realised = paid[np.arange(len(a)), _rows_of(played)]
    return grads, np.abs(realised).sum(axis=1)


def _rows_of(played: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Row of :func:`joint_actions` of each seed's joint action (True = C)."""
    n = played.shape[1]
    out: NDArray[np.int64] = (~played).astype(np.int64) @ (2 ** np.arange(n - 1, -1, -1))
    return out


def learner_gradient(
    learners: str, prob: Array, score: Array, rewards: Array, played: NDArray[np.int64]
) -> Array:
    """Eq. 4.1's ascent direction ``grad_i V^tot_i`` per seed and learner (S, N): exact
    (``learners="exact"``, :func:`value_gradients`) or from the joint action played (row
    ``played`` of :func:`joint_actions` per seed) with a perfect critic baseline,
    ``(a_i - p_i)(r^tot_i(a) - E[r^tot_i])``. ``prob`` (S, K), ``score`` (S, K, N),
    ``rewards`` the total rewards (S, K, N)."""
    if learners == "exact":
        return value_gradients(prob, score, rewards)
    rows = np.arange(len(played))
    baseline = np.einsum("sk,ski->si", prob, rewards)
    out: Array = score[rows, played] * (rewards[rows, played] - baseline)
    return out


def _initial_state(
    seeds: Sequence[int], players: int, episodes: int, init: str
) -> tuple[dict[str, Array], dict[str, Array], Array]:
    """Per seed from ``SeedSequence([1, 4, seed])``: planner W, b ~ N(0, 0.1), then the logits
    (P(C) = 0.25, or ``init="code"``: theta ~ N(-2, 0.5)), then every episode's uniforms.
    Returns ({"theta"}, {"weights", "bias"}, uniforms (S, episodes, N))."""
    n, k = players, len(seeds)
    theta, weights, bias = np.empty((k, n)), np.empty((k, n, n)), np.empty((k, n))
    uniforms: Array = np.empty((k, episodes, n))
    for j, seed in enumerate(seeds):
        gen = np.random.default_rng(np.random.SeedSequence([1, 4, seed]))
        weights[j] = gen.normal(0.0, 0.1, (n, n))
        bias[j] = gen.normal(0.0, 0.1, n)
        theta[j] = gen.normal(-2.0, 0.5, n) if init == "code" else np.log(0.25 / 0.75)
        uniforms[j] = gen.random((episodes, n))
    return {"theta": theta}, {"weights": weights, "bias": bias}, uniforms


def simulate_amd(
    settings: AmdSettings | None = None,
    seeds: int | Sequence[int] = 10,
    *,
    on_episodes: Callable[[int], None] | None = None,
    **changes: Any,
) -> AmdRun:
    """Run one arm for every seed at once (``settings`` with ``changes`` applied, e.g.
    ``simulate_amd(game="chicken", planner="code")``); ``on_episodes(n)`` reports progress.

    Per episode (Algorithm 1, updates simultaneous from the episode's start): sample ``a`` from
    the learners; the planner pays ``r^p(a)``; learners ascend eq. 4.1 (sampled or exact); the
    planner ascends its objective (module docstring). Raises MechsolveInputError naming the bad
    argument."""
    fn = "simulate_amd"
    base = settings if settings is not None else AmdSettings()
    unknown = set(changes) - set(AmdSettings.__dataclass_fields__)
    if unknown:
        name = sorted(unknown)[0]
        raise MechsolveInputError(fn, name, "is not a setting of AmdSettings")
    s = _settings(fn, replace(base, **changes))
    seed_ids = _seed_list(fn, seeds)
    n, n_seeds = s.players, len(seed_ids)
    total = s.episodes * (2 if s.turn_off and s.mechanism else 1)
    work = max(n_seeds * total * (n + 3), n_seeds * (2**n) * n)
    if work > MAX_CELLS:
        raise ProblemTooLargeError(
            fn, "seeds", f"x episodes x players gives {work} cells, over {MAX_CELLS}"
        )
    actions = joint_actions(n)
    rewards = game_rewards(s.game, n)
    welfare_by_outcome = rewards.sum(axis=1)
    k_outcomes = len(actions)

    learner_params, planner_params, uniforms = _initial_state(seed_ids, n, total, s.init)
    learn = _ascent(s.optimizer, s.lr, learner_params)
    plan = _ascent(s.optimizer, s.planner_lr, planner_params)
    theta, weights, bias = (
        learner_params["theta"],
        planner_params["weights"],
        planner_params["bias"],
    )
    p_c = np.empty((n_seeds, total, n))
    p_all = np.empty((n_seeds, total))
    welfare = np.empty((n_seeds, total))
    extra = np.zeros((n_seeds, total))
    record = k_outcomes <= RECORDED_OUTCOMES
    rp_trace = np.zeros((n_seeds, total, k_outcomes)) if record else None
    on_until = s.episodes if s.mechanism else 0
    for t in range(total):
        p = sigmoid(theta)
        prob = outcome_probabilities(p, actions)
        score = actions[None] - p[:, None, :]
        played = uniforms[:, t, :] < p  # (S, N), True = C
        k = _rows_of(played)
        planner_on = t < on_until
        if planner_on:
            paid = _centred(
                planner_rewards(weights, bias, actions, s.max_reward), s.revenue_neutral
            )
            total_rewards = rewards[None] + paid
        else:
            total_rewards = np.broadcast_to(rewards[None], score.shape)
        g_theta = learner_gradient(s.learners, prob, score, total_rewards, k)
        if planner_on:
            grads, extra[:, t] = _planner_step(s, theta, weights, bias, rewards, played, prob, paid)
            if rp_trace is not None:
                rp_trace[:, t] = paid[:, :, 0]
            plan({"weights": grads[0], "bias": grads[1]})
        learn({"theta": g_theta})
        p_new = sigmoid(theta)
        p_c[:, t] = p_new
        p_all[:, t] = p_new.prod(axis=1)
        welfare[:, t] = outcome_probabilities(p_new, actions) @ welfare_by_outcome
        if on_episodes is not None and (t + 1) % 100 == 0:
            on_episodes(100)
    if on_episodes is not None and total % 100:
        on_episodes(total % 100)
    return AmdRun(
        s,
        seed_ids,
        readonly(p_c),
        readonly(p_all),
        readonly(welfare),
        readonly(extra),
        readonly(rp_trace) if rp_trace is not None else None,
        on_until,
    )


@dataclass(frozen=True)
class AmdSummary:
    """Mean and standard deviation (ddof = 0, over seeds) of: P(all C) and V at ``episode``
    (1-based, after its update), and AAR = the mean of ``additional_reward`` over the planner's
    episodes (0 without mechanism). Per-seed values kept."""

    episode: int
    p_all_cooperate: float
    p_all_cooperate_std: float
    welfare: float
    welfare_std: float
    aar: float
    aar_std: float
    per_seed_p_all_cooperate: tuple[float, ...]
    per_seed_welfare: tuple[float, ...]
    per_seed_aar: tuple[float, ...]


def summarize(run: AmdRun, episode: int | None = None) -> AmdSummary:
    """Final values of ``run`` at ``episode`` (default: its last episode); see :class:`AmdSummary`."""
    fn = "summarize"
    last = run.p_all_cooperate.shape[1]
    ep = last if episode is None else v.positive_int(fn, "episode", episode)
    if ep > last:
        raise MechsolveInputError(fn, "episode", f"must be <= {last}; got {ep}")
    pc = run.p_all_cooperate[:, ep - 1]
    wf = run.welfare[:, ep - 1]
    on = run.planner_episodes
    aar = run.additional_reward[:, :on].mean(axis=1) if on else np.zeros(len(run.seeds))
    return AmdSummary(
        ep,
        float(pc.mean()),
        float(pc.std()),
        float(wf.mean()),
        float(wf.std()),
        float(aar.mean()),
        float(aar.std()),
        tuple(float(x) for x in pc),
        tuple(float(x) for x in wf),
        tuple(float(x) for x in aar),
    )
