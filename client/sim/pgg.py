"""Mediated multi-agent RL in the one-shot Public Goods Game (seed 004, "Mediated Multi-Agent
Reinforcement Learning", Table 3).

N agents each choose *keep* (0), *contribute* (1) or *commit* (2). A Markov mediator acts for
the committed coalition C: each member independently contributes with probability
``pi^M(c | |C|)`` (the policy sees the coalition size only). With ``a_j in {0, 1}`` the final
contributions, agent i receives

    r_i = ((n / N) * sum_j a_j - a_i) / (n - 1)

(amplification factor ``n``, 1 < n < N; all contribute -> 1 each, nobody -> 0). The seed gives
the game in words only; the reward, ``n = 5`` for N > 10 (else 2), the networks and every
training setting below come from the authors' public code (``dimonenka/mediatedMARL``,
``pgg/PGG_official.ipynb``), see /work/shared/RESEARCH.md section 4.

Agents: bias-only softmax over their actions (the code's ``Linear(1, 3)`` on a zero state),
scalar critic baseline, actor-critic with advantage ``r - V``, entropy bonus; Adam (actor
1e-3, critic 1e-2, L2 weight decay 1e-3 added to the gradient as in ``torch.optim.Adam``).
Mediator: actor MLP 1->16->2, critic MLP 1->32->1 (ReLU) on ``|C|/N*2-1``, objective the
coalition's total reward ``R_C = sum_{i in C} r_i``; gradients clipped elementwise to 0.1.

Arms: ``none`` (our choice: agents have no commit action, the plain 2-action PGG), ``naive``
(maximise R_C) and ``constrained`` (the code's E constraint, ``P_CONSTRAINT``: for
``1 < |C| < N`` the advantage of every member becomes

    A = R_C - V_M(|C|) - lambda * (mean_{j not in C} r_j - V_M(|C|+1) / (|C|+1)),

``log lambda += 0.01 * mean(violation)`` with negative violations times 0.99, clipped to
[-4, 4], starting at 0). The optional IC constraint (off by default, our one-shot form of the
code's ``pgg-iter`` IC term): for ``|C| >= 2``, ``V_out(|C|-1) <= R_C/|C|`` where ``V_out(k)``
is a third critic (1->32->1) of a non-member's reward when the coalition has size k, with its
own multiplier updated the same way.

Everything is vectorised over seeds: arrays of shape (seeds, batch, players); gradients are
analytic (checked against finite differences in tests/client/test_pgg.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError
from mechsolve.solver.core.limits import Limits, resolve
from mechsolve.solver.core.results import readonly
from mechsolve.solver.incentives.symmetric import seed004_multiplier

from .optim import Adam

KEEP, CONTRIBUTE, COMMIT = 0, 1, 2
ARMS = ("none", "naive", "constrained")
"""(*) no mediator, (dagger) naive mediator, (double dagger) constrained mediator (Table 3)."""

Array = NDArray[np.float64]
Params = dict[str, Array]


default_multiplier = seed004_multiplier
"""The authors' code: ``PG_MULTIPLIER = 5 if num_of_agents > 10 else 2`` (the solver's rule, so
the learned and the exact side play the same game)."""


def pgg_rewards(contributions: Any, multiplier: float) -> Array:
    """``r_i = ((n/N) sum_j a_j - a_i) / (n - 1)`` over the last axis (the N players).

    ``contributions``: final actions ``a_j in {0, 1}`` (after the mediator), shape (..., N).
    """
    fn = "pgg_rewards"
    a = v.float_array(fn, "contributions", contributions, min_value=0.0, max_value=1.0)
    if a.ndim < 1 or a.shape[-1] < 2:
        raise MechsolveInputError(fn, "contributions", f"needs >= 2 players; got shape {a.shape}")
    n = v.real(fn, "multiplier", multiplier, min_value=1.0, min_exclusive=True)
    return _rewards(a, n)


def _rewards(a: Array, n: float) -> Array:
    players = a.shape[-1]
    return ((n / players) * a.sum(-1, keepdims=True) - a) / (n - 1.0)


def expected_rewards(agent_policy: Any, mediator_contribute: Any, multiplier: float) -> Array:
    """Exact expected reward of every agent at a mixed profile.

    ``agent_policy``: (..., N, A) probabilities of keep/contribute(/commit), A in {2, 3};
    ``mediator_contribute``: (..., N), entry k-1 = ``pi^M(contribute | |C| = k)``. Since the
    reward is linear in the contributions and the mediator samples every member
    independently, ``E[a_i] = P_i(c) + P_i(m) * sum_m P(m others commit) pi^M(c | m+1)``
    (Poisson-binomial over the others) and ``E[r_i] = ((n/N) sum_j E[a_j] - E[a_i])/(n-1)``.
    """
    fn = "expected_rewards"
    p = v.float_array(fn, "agent_policy", agent_policy, min_value=0.0, max_value=1.0)
    if p.ndim < 2 or p.shape[-1] not in (2, 3) or p.shape[-2] < 2:
        raise MechsolveInputError(fn, "agent_policy", f"must be (..., N>=2, 2 or 3); got {p.shape}")
    if not np.allclose(p.sum(-1), 1.0, atol=1e-6):
        raise MechsolveInputError(fn, "agent_policy", "rows must sum to 1")
    players = p.shape[-2]
    q = v.float_array(fn, "mediator_contribute", mediator_contribute, min_value=0.0, max_value=1.0)
    if q.shape[-1:] != (players,):
        raise MechsolveInputError(
            fn, "mediator_contribute", f"must end with N={players} entries; got shape {q.shape}"
        )
    n = v.real(fn, "multiplier", multiplier, min_value=1.0, min_exclusive=True)
    commit = p[..., COMMIT] if p.shape[-1] == 3 else np.zeros(p.shape[:-1])
    ea = np.empty(np.broadcast_shapes(p.shape[:-1], q.shape))
    for i in range(players):
        dist = np.zeros((*commit.shape[:-1], players))  # P(m other committers), m = 0..N-1
        dist[..., 0] = 1.0
        for j in range(players):
            if j != i:
                pj = commit[..., j, None]
                dist = (
                    dist * (1 - pj)
                    + np.concatenate([np.zeros_like(dist[..., :1]), dist[..., :-1]], -1) * pj
                )
        ea[..., i] = p[..., i, CONTRIBUTE] + commit[..., i] * (dist * q).sum(-1)
    return _rewards(ea, n)


# --- the learning problem --------------------------------------------------------------------


@dataclass(frozen=True)
class PGGConfig:
    """One arm of Table 3 at one N. Defaults: the authors' code (see the module docstring);
    ``multiplier=None`` -> :func:`default_multiplier`; ``log_every=None`` -> about 200 logged
    points. ``seed`` and the seed index s draw seed s's streams from
    ``SeedSequence([seed, players, arm, s])``."""

    players: int = 3
    arm: str = "constrained"
    multiplier: float | None = None
    ic: bool = False
    updates: int = 20_000
    batch: int = 128
    seeds: int = 10
    seed: int = 0
    lr_actor: float = 1e-3
    lr_critic: float = 1e-2
    lr_lambda: float = 1e-2
    weight_decay: float = 1e-3
    entropy_start: float = 0.1
    entropy_end: float = 0.001
    hidden: int = 16
    grad_clip: float = 0.1
    lambda_bound: float = 4.0
    negative_coef: float = 0.99
    log_every: int | None = None

    def validated(self, limits: Limits | None = None) -> PGGConfig:
        """This config with every field checked (errors name the field) and defaults filled."""
        fn = "PGGConfig"
        players = v.positive_int(fn, "players", self.players, minimum=2)
        v.choice(fn, "arm", self.arm, ARMS)
        n = default_multiplier(players) if self.multiplier is None else self.multiplier
        n = v.real(fn, "multiplier", n, min_value=1.0, min_exclusive=True)
        v.flag(fn, "ic", self.ic)
        if self.ic and self.arm == "none":
            raise MechsolveInputError(fn, "ic", "needs a mediator (arm naive or constrained)")
        updates = v.positive_int(fn, "updates", self.updates)
        batch = v.positive_int(fn, "batch", self.batch)
        seeds = v.positive_int(fn, "seeds", self.seeds)
        v.seed(fn, self.seed)
        resolve(limits).check(fn, "batch", seeds * batch * players, "max_batch_profiles")
        for name in ("lr_actor", "lr_critic", "lr_lambda", "entropy_start", "entropy_end"):
            v.real(fn, name, getattr(self, name), min_value=0.0, min_exclusive=True)
        if self.entropy_end > self.entropy_start:
            raise MechsolveInputError(fn, "entropy_end", "must be <= entropy_start")
        for name in ("weight_decay", "grad_clip", "lambda_bound"):
            v.real(fn, name, getattr(self, name), min_value=0.0)
        v.real(fn, "negative_coef", self.negative_coef, min_value=0.0, max_value=1.0)
        v.positive_int(fn, "hidden", self.hidden)
        every = max(1, updates // 200) if self.log_every is None else self.log_every
        every = v.positive_int(fn, "log_every", every)
        return replace(self, players=players, multiplier=n, log_every=every)

    @property
    def actions(self) -> int:
        return 2 if self.arm == "none" else 3


@dataclass(frozen=True)
class PGGRun:
    """A trained arm. Curves (seeds, logged points) are means over each logging interval;
    ``final_*`` (seeds,) as the authors' code logs them: the last batch's mean reward, the
    mean over agents of P(commit) after the last update, the last batch's mean sampled
    mediator action (NaN: no member)."""

    config: PGGConfig
    logged_updates: NDArray[np.int64]
    reward: Array
    commit: Array
    mediator_contribution: Array
    final_reward: Array
    final_commit: Array
    final_mediator_contribution: Array
    mediator_policy: Array
    """(seeds, N): pi^M(contribute | |C| = k), k = 1..N (NaN for arm none)."""
    agent_policy: Array
    """(seeds, N, actions)."""
    log_lambda: Array
    log_lambda_ic: Array
    wall_seconds: float = field(default=0.0)


def init_mlp(gens: list[np.random.Generator], hidden: int, outputs: int) -> Params:
    """``Linear(1, hidden) -> ReLU -> Linear(hidden, outputs)`` per seed with PyTorch's default
    initialisation (weights and biases U(+-1/sqrt(fan_in)))."""
    b2 = 1 / np.sqrt(hidden)
    parts = [
        (
            g.uniform(-1, 1, hidden),
            g.uniform(-1, 1, hidden),
            g.uniform(-b2, b2, (outputs, hidden)),
            g.uniform(-b2, b2, outputs),
        )
        for g in gens
    ]
    return {k: np.stack([p[i] for p in parts]) for i, k in enumerate(("w1", "b1", "w2", "b2"))}


def mlp_forward(p: Params, x: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """Outputs (seeds, K, outputs) at the K inputs ``x`` and the cache for :func:`mlp_backward`."""
    pre = p["w1"][:, None, :] * x[None, :, None] + p["b1"][:, None, :]
    h = np.maximum(pre, 0.0)
    return h @ p["w2"].transpose(0, 2, 1) + p["b2"][:, None, :], (x, pre, h)


def mlp_backward(p: Params, cache: tuple[Array, Array, Array], gout: Array) -> Params:
    """Gradients of ``sum(gout * outputs)`` with respect to the parameters."""
    x, pre, h = cache
    gh = (gout @ p["w2"]) * (pre > 0)
    return {
        "w1": (gh * x[None, :, None]).sum(1),
        "b1": gh.sum(1),
        "w2": gout.transpose(0, 2, 1) @ h,
        "b2": gout.sum(1),
    }


def mediator_inputs(players: int) -> Array:
    """The mediator networks' inputs at |C| = 0..N: the code's ``NormalizingLayer``,
    ``|C| / N * 2 - 1``."""
    out: Array = np.arange(players + 1) / players * 2 - 1
    return out


def softmax(z: Array) -> Array:
    e = np.exp(z - z.max(-1, keepdims=True))
    out: Array = e / e.sum(-1, keepdims=True)
    return out


def entropy_logit_grad(p: Array, coef: float) -> Array:
    """Gradient of ``-coef * H(softmax(z))`` with respect to z: ``coef * p (log p + H)``."""
    logp = np.log(np.maximum(p, 1e-300))
    h = -(p * logp).sum(-1, keepdims=True)
    out: Array = coef * p * (logp + h)
    return out


def agent_gradients(
    logits: Array, baseline: Array, actions: NDArray[np.int64], rewards: Array, entropy: float
) -> tuple[Array, Array]:
    """Gradients of the agents' losses (the code's per-agent actor and critic losses):

    actor ``-mean_b[(r - V) log pi(a)] - entropy * H(pi)`` w.r.t. logits (seeds, N, A), with
    ``r - V`` held fixed; critic ``mean_b (r - V)^2`` w.r.t. V (seeds, N).
    ``actions``/``rewards``: (seeds, batch, N).
    """
    p = softmax(logits)
    adv = rewards - baseline[:, None, :]
    onehot = actions[..., None] == np.arange(logits.shape[-1])
    g = -((adv[..., None] * onehot).mean(1) - adv.mean(1)[..., None] * p)
    return g + entropy_logit_grad(p, entropy), -2.0 * adv.mean(1)


def bucket_sums(sizes: NDArray[np.int64], values: Array, buckets: int) -> Array:
    """``out[s, k, m] = sum_b [sizes[s, b] == k] * values[s, b, m]`` (seeds, buckets, m)."""
    one = (sizes[..., None] == np.arange(buckets)).astype(np.float64)
    out: Array = one.transpose(0, 2, 1) @ values
    return out


def mediator_actor_logit_grad(
    logits: Array,
    sizes: NDArray[np.int64],
    contributed: NDArray[np.int64],
    advantage: Array,
    entropy: float,
) -> Array:
    """Gradient w.r.t. the mediator's logits at |C| = 0..N (seeds, N+1, 2) of the code's loss
    ``(1/M) sum_{member rows} [-A_g log pi^M(a_row | |C_g|) - entropy * H(pi^M(. | |C_g|))]``,
    M = member rows, computed per game: game g has ``sizes`` members of which ``contributed``
    were told to contribute, all with advantage ``advantage[g]``."""
    p = softmax(logits)
    k = sizes.astype(np.float64)
    c = contributed.astype(np.float64)
    cols = np.stack([advantage * (k - c), advantage * c, advantage * k, k], -1)
    s = bucket_sums(sizes, cols, logits.shape[1])
    rows = np.maximum(k.sum(1), 1.0)[:, None, None]
    g = -(s[..., :2] - s[..., 2:3] * p) / rows
    out: Array = g + s[..., 3:4] / rows * entropy_logit_grad(p, entropy)
    return out


def critic_value_grad(values: Array, sizes: NDArray[np.int64], targets: Array, used: Any) -> Array:
    """Gradient w.r.t. V(k) (seeds, K) of ``mean_{games used} (V(size_g) - target_g)^2``."""
    u = np.asarray(used, dtype=np.float64)
    vg = np.take_along_axis(values, sizes, axis=1)
    s = bucket_sums(sizes, (u * (vg - targets))[..., None], values.shape[1])[..., 0]
    out: Array = 2.0 * s / np.maximum(u.sum(1), 1.0)[:, None]
    return out


def _put(grads: Params, group: str, g: Params) -> None:
    grads.update({f"{group}.{k}": x for k, x in g.items()})


def _dual_step(log_lam: Array, violation: Array, rows: Array, cfg: PGGConfig) -> Array:
    """``log lambda += lr * mean(violation)`` over member rows (negatives x negative_coef) when
    more than one row is constrained (the code's ``pun_adv.shape[0] > 1``), then clipped."""
    adj = np.where(violation < 0, violation * cfg.negative_coef, violation)
    count = rows.sum(1)
    mean = (rows * adj).sum(1) / np.maximum(count, 1.0)
    out = np.where(count > 1, log_lam + cfg.lr_lambda * mean, log_lam)
    return np.clip(out, -cfg.lambda_bound, cfg.lambda_bound)


def _mediator_update(
    cfg: PGGConfig,
    med: dict[str, Params],
    grads: Params,
    lams: tuple[Array, Array],
    batch: tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_], Array],
    actor: tuple[Array, tuple[Array, Array, Array]],
    ent: float,
) -> Array:
    """One mediator step from the batch ``(coalition sizes (S, B), membership, told to
    contribute, rewards (S, B, N))``: multipliers updated in place, the gradients of the
    actor, critic (and IC outsider critic) put in ``grads`` as ``"actor.w1"`` etc.; returns
    the batch's mean mediator action per seed (NaN: no member)."""
    N = cfg.players
    xs = mediator_inputs(N)
    k, member, told, r = batch
    log_lam, log_lam_ic = lams
    kf = k.astype(np.float64)
    values, cache_c = mlp_forward(med["critic"], xs)
    value = values[..., 0]  # V_M(|C|), |C| = 0..N
    total = (r * member).sum(-1)  # R_C per game
    adv = total - np.take_along_axis(value, k, axis=1)
    outside_mean = (r * ~member).sum(-1) / np.maximum(N - kf, 1.0)
    if cfg.arm == "constrained":  # E: mean_{j not in C} r_j <= V_M(|C|+1)/(|C|+1)
        mask = (k > 1) & (k < N)
        join = np.take_along_axis(value, np.minimum(k + 1, N), axis=1) / (kf + 1)
        viol = outside_mean - join
        adv = adv - np.where(mask, np.exp(log_lam)[:, None] * viol, 0.0)
        log_lam[:] = _dual_step(log_lam, viol, np.where(mask, kf, 0.0), cfg)
    if cfg.ic:  # IC: V_out(|C|-1) <= R_C/|C| for |C| >= 2
        outs, cache_o = mlp_forward(med["outside"], xs)
        v_out = outs[..., 0]
        mask = k >= 2
        viol = np.take_along_axis(v_out, np.maximum(k - 1, 0), axis=1) - total / np.maximum(kf, 1)
        adv = adv - np.where(mask, np.exp(log_lam_ic)[:, None] * viol, 0.0)
        log_lam_ic[:] = _dual_step(log_lam_ic, viol, np.where(mask, kf, 0.0), cfg)
        g_out = critic_value_grad(v_out, k, outside_mean, k < N)[..., None]
        _put(grads, "outside", mlp_backward(med["outside"], cache_o, g_out))
    contributed = told.sum(-1)
    g_logits = mediator_actor_logit_grad(actor[0], k, contributed, adv, ent)
    g_value = critic_value_grad(value, k, total, k >= 1)[..., None]
    _put(grads, "actor", mlp_backward(med["actor"], actor[1], g_logits))
    _put(grads, "critic", mlp_backward(med["critic"], cache_c, g_value))
    rows = kf.sum(1)
    out: Array = np.where(rows > 0, contributed.sum(1) / np.maximum(rows, 1.0), np.nan)
    return out


def _uniform_chunks(
    gens: list[np.random.Generator], updates: int, shape: tuple[int, int], chunk: int = 64
) -> Iterator[tuple[Array, Array]]:
    """Per update, two (seeds, batch, N) uniform arrays; seed s's from its own generator."""
    for start in range(0, updates, chunk):
        t = min(chunk, updates - start)
        a = np.stack([g.random((2, t, *shape)) for g in gens], 2)  # (2, t, seeds, B, N)
        for i in range(t):
            yield a[0, i], a[1, i]


def train(
    config: PGGConfig | None = None,
    *,
    limits: Limits | None = None,
    progress: Callable[[int], None] | None = None,
) -> PGGRun:
    """Train one arm for ``config.seeds`` seeds at once (see the module docstring).

    ``progress``: called with the number of updates done since the last call.
    """
    cfg = (config or PGGConfig()).validated(limits)
    start = time.perf_counter()
    N, S, B, A = cfg.players, cfg.seeds, cfg.batch, cfg.actions
    n = float(cfg.multiplier or default_multiplier(N))
    arm_id = ARMS.index(cfg.arm)
    gens = [
        np.random.default_rng(np.random.SeedSequence([cfg.seed, N, arm_id, s])) for s in range(S)
    ]
    params: Params = {
        "logits": np.stack([g.uniform(-1, 1, (N, A)) for g in gens]),
        "baseline": np.stack([g.uniform(-1, 1, N) for g in gens]),
    }
    lr = {"logits": cfg.lr_actor, "baseline": cfg.lr_critic}
    clip: dict[str, float] = {}
    groups = ["actor", "critic", "outside"][: (0 if cfg.arm == "none" else 3 if cfg.ic else 2)]
    for group in groups:
        net = init_mlp(
            gens, cfg.hidden * (1 if group == "actor" else 2), 2 if group == "actor" else 1
        )
        for key, x in net.items():
            params[f"{group}.{key}"] = x
            lr[f"{group}.{key}"] = cfg.lr_actor if group == "actor" else cfg.lr_critic
            clip[f"{group}.{key}"] = cfg.grad_clip
    opt = Adam(params, lr, cfg.weight_decay, clip)  # params now views into opt.flat
    med = {g: {k: params[f"{g}.{k}"] for k in ("w1", "b1", "w2", "b2")} for g in groups}
    log_lam, log_lam_ic = np.zeros(S), np.zeros(S)
    mediated = cfg.arm != "none"
    xs = mediator_inputs(N)
    decay = (cfg.entropy_end / cfg.entropy_start) ** (1 / cfg.updates)
    ent = cfg.entropy_start
    every = int(cfg.log_every or 1)
    logged: list[int] = []
    curves: list[list[Array]] = [[], [], []]
    acc = [np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S)]  # reward, commit, contrib, games
    last: tuple[Array, Array, Array] = (np.zeros(S), np.zeros(S), np.full(S, np.nan))
    for t, (ua, um) in enumerate(_uniform_chunks(gens, cfg.updates, (B, N))):
        p = softmax(params["logits"])
        cum = np.cumsum(p, -1)[:, None, :, :-1]
        act = (ua[..., None] >= cum).sum(-1)
        if mediated:
            member = act == COMMIT
            k = member.sum(-1)
            logits_m, cache_a = mlp_forward(med["actor"], xs)
            q = softmax(logits_m)[..., CONTRIBUTE]
            told = member & (um < np.take_along_axis(q, k, axis=1)[..., None])
            a = (act == CONTRIBUTE) | told
        else:
            a = act == CONTRIBUTE
        r = _rewards(a.astype(np.float64), n)
        g_logits, g_base = agent_gradients(params["logits"], params["baseline"], act, r, ent)
        grads = {"logits": g_logits, "baseline": g_base}
        contrib = np.full(S, np.nan)
        if mediated:
            contrib = _mediator_update(
                cfg,
                med,
                grads,
                (log_lam, log_lam_ic),
                (k, member, told, r),
                (logits_m, cache_a),
                ent,
            )
        opt.step(grads)
        ent = max(ent * decay, cfg.entropy_end)
        commit = p[..., COMMIT].mean(1) if A == 3 else np.zeros(S)
        last = (r.mean((1, 2)), commit, contrib)
        acc[0] += last[0]
        acc[1] += commit
        acc[2] += np.nan_to_num(contrib)
        acc[3] += ~np.isnan(contrib)
        if (t + 1) % every == 0 or t + 1 == cfg.updates:
            steps = (t % every) + 1 if (t + 1) % every else every
            logged.append(t + 1)
            curves[0].append(acc[0] / steps)
            curves[1].append(acc[1] / steps)
            curves[2].append(np.where(acc[3] > 0, acc[2] / np.maximum(acc[3], 1), np.nan))
            acc = [np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S)]
            if progress is not None:
                progress(steps)
    policy = np.full((S, N), np.nan)
    if mediated:
        policy = softmax(mlp_forward(med["actor"], xs[1:])[0])[..., CONTRIBUTE]
    stack = [np.array(c).T for c in curves]
    return PGGRun(
        config=cfg,
        logged_updates=readonly(np.array(logged, dtype=np.int64)),
        reward=readonly(stack[0]),
        commit=readonly(stack[1]),
        mediator_contribution=readonly(stack[2]),
        final_reward=readonly(last[0]),
        final_commit=readonly(
            softmax(params["logits"])[..., COMMIT].mean(1) if A == 3 else last[1]
        ),
        final_mediator_contribution=readonly(last[2]),
        mediator_policy=readonly(policy),
        agent_policy=readonly(softmax(params["logits"])),
        log_lambda=readonly(log_lam.copy() if cfg.arm == "constrained" else np.full(S, np.nan)),
        log_lambda_ic=readonly(log_lam_ic.copy() if cfg.ic else np.full(S, np.nan)),
        wall_seconds=time.perf_counter() - start,
    )
