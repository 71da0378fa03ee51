"""r-MDP demonstration without MuJoCo (seed 004, "Personalized RL with a Budget of Policies").

The seed's experiment: ``n = 100`` agents (users) with uniformly sampled target velocities in
MuJoCo locomotion tasks, each rewarded by how closely the robot's velocity matches its target
at every step; budgets ``k in {1, 2, 5, 10, 50}``; an EM-like algorithm with PPO in the M-step
(Fig. 5 is an image: no numbers to compare with). Here the robot is a 1-D point mass:

- dynamics: ``v_{t+1} = v_t + dt (a_t - drag v_t) + sigma xi_t``, ``v_0 = 0``, ``xi ~ N(0, 1)``,
  action ``a_t = clip(theta_0 + theta_1 v_t, -1, 1)`` (a linear controller; the terminal
  velocity at full thrust is ``1 / drag``);
- user ``u`` has a target velocity ``c_u ~ U[0, target_max)`` and reward
  ``r_u(t) = -|v_t - c_u|``; its value of a policy is the mean reward per step, estimated by
  ``rollouts`` rollouts of ``horizon`` steps. A policy's trajectories do not depend on the
  user (one single-agent MDP, rewards per user: "each representative effectively acts in its
  own copy of the MDP with identical dynamics but distinct reward functions"), so one set of
  rollouts per policy gives its value for every user;
- the simple learner (instead of PPO): antithetic random search (Mania et al. 2018, "basic
  random search" with reward-std scaling) on ``theta``, common random numbers within a step;
- candidates: ``candidates`` policies, each trained for ``learner_steps`` steps for a target
  drawn from ``U[0, target_max)`` from ``theta ~ N(0, I)``;
- selection from the pool: ``V[u, p]`` (fresh rollouts), then
  :func:`mechsolve.solver.structured.policies.select_policies` exactly (set enumeration or MILP) and with the
  alternating heuristic, for every budget;
- the seed's full EM-like loop: ``k`` policies, then ``em_rounds`` rounds of E-step (assign
  every user to its best policy by estimated value) and M-step (``em_steps`` random-search
  steps per policy on the total reward of its cluster); started from ``k`` random candidates
  of the pool (the K-means-style start; the seed does not say how it initializes) and,
  as a fourth arm, from the exact selection (select, then refine). With ``em_accept`` (the
  default) a policy keeps its M-step update only when its cluster's estimated total reward
  rises on common rollouts, so that, as the seed's convergence theorem assumes of an exact
  M-step, an M-step does not lower the estimated welfare (random search alone can).

Every reported welfare is measured on evaluation rollouts independent of the ones that chose
the policies (``welfare_eval``), beside the in-sample value the selection maximized.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError, ProblemTooLargeError
from mechsolve.solver.core.limits import Limits
from mechsolve.solver.structured.policies import check_sizes, select_policies

Array = NDArray[np.float64]

MAX_ROLLOUT_CELLS = 1 << 26
"""The most velocities one evaluation holds (candidates x rollouts x horizon: 512 MB)."""

PAPER_BUDGETS = (1, 2, 5, 10, 50)
"""Seed 004: "various policy budgets, k, including 1, 2, 5, 10, and 50"."""


@dataclass(frozen=True)
class RMDPConfig:
    """One r-MDP experiment (defaults: the seed's n = 100 users and budgets; the rest is ours)."""

    users: int = 100
    candidates: int = 1000
    budgets: tuple[int, ...] = PAPER_BUDGETS
    seeds: int = 3
    seed: int = 0
    horizon: int = 50
    rollouts: int = 8
    dt: float = 0.1
    drag: float = 0.5
    noise: float = 0.05
    target_max: float = 2.0
    learner_steps: int = 10
    directions: int = 8
    step_size: float = 0.5
    exploration: float = 0.3
    em_rounds: int = 10
    em_steps: int = 5
    em_accept: bool = True
    restarts: int = 10
    time_limit: float = 60.0

    def validated(self) -> RMDPConfig:
        fn = "RMDPConfig"
        for name in ("users", "candidates", "seeds", "horizon", "rollouts", "directions",
                     "restarts"):  # fmt: skip
            v.positive_int(fn, name, getattr(self, name))
        for name in ("learner_steps", "em_rounds", "em_steps"):
            v.positive_int(fn, name, getattr(self, name), minimum=0)
        v.positive_int(fn, "seed", self.seed, minimum=0)
        for name in ("dt", "drag", "target_max", "step_size", "exploration", "time_limit"):
            v.real(fn, name, getattr(self, name), min_value=0.0, min_exclusive=True)
        v.real(fn, "noise", self.noise, min_value=0.0)
        v.flag(fn, "em_accept", self.em_accept)
        if not self.budgets:
            raise MechsolveInputError(fn, "budgets", "must list at least one budget")
        for k in self.budgets:
            v.positive_int(fn, "budgets", k)
        # the sizes the exact selection accepts, and the rollouts' array, before anything is built
        check_sizes(fn, self.users, self.candidates, Limits(), exact=True)
        cells = self.candidates * self.rollouts * self.horizon
        if cells > MAX_ROLLOUT_CELLS:
            raise ProblemTooLargeError(
                fn, "candidates x rollouts x horizon",
                f"has size {cells}, over MAX_ROLLOUT_CELLS={MAX_ROLLOUT_CELLS}",
            )  # fmt: skip
        return self


# --------------------------------------------------------------------------------------------
# Environment, values, learner
# --------------------------------------------------------------------------------------------
def velocities(cfg: RMDPConfig, thetas: Array, xi: Array) -> Array:
    """Velocity trajectories ``(P, R, H)`` of the policies ``thetas`` ``(P, 2)`` under the
    noise ``xi`` ``(R, H)`` (shared by every policy: common random numbers)."""
    p, (r, h) = thetas.shape[0], xi.shape
    vel = np.zeros((p, r))
    out = np.empty((p, r, h))
    for t in range(h):
        a = np.clip(thetas[:, :1] + thetas[:, 1:] * vel, -1.0, 1.0)
        vel = vel + cfg.dt * (a - cfg.drag * vel) + cfg.noise * xi[None, :, t]
        out[:, :, t] = vel
    return out


def user_values(vel: Array, targets: Array, chunk: int = 64) -> Array:
    """``V[u, p]`` = mean over rollouts and steps of ``-|v_t - c_u|``, shape ``(U, P)``."""
    p = vel.shape[0]
    flat = vel.reshape(p, -1)
    out = np.empty((len(targets), p))
    for lo in range(0, p, chunk):
        block = flat[lo : lo + chunk]
        out[:, lo : lo + chunk] = -np.abs(block[None, :, :] - targets[:, None, None]).mean(axis=2)
    return out


def random_search(
    cfg: RMDPConfig,
    thetas: Array,
    objective: Callable[[Array, Array], Array],
    steps: int,
    rng: np.random.Generator,
) -> Array:
    """``steps`` steps of antithetic random search on every policy at once.

    ``objective(thetas (P, S, 2), xi) -> (P, S)``: the value of ``S`` perturbed copies of
    each of the ``P`` policies, all rolled out with the noise ``xi``.
    """
    th = thetas.copy()
    d = cfg.directions
    for _ in range(steps):
        eps = rng.standard_normal((th.shape[0], d, 2))
        xi = rng.standard_normal((cfg.rollouts, cfg.horizon))
        pert = np.concatenate(
            [th[:, None, :] + cfg.exploration * eps, th[:, None, :] - cfg.exploration * eps], 1
        )
        vals = objective(pert, xi)
        plus, minus = vals[:, :d], vals[:, d:]
        sd = vals.std(axis=1, keepdims=True)
        sd = np.where(sd > 0, sd, 1.0)
        th = th + cfg.step_size / d * np.einsum("pd,pdk->pk", (plus - minus) / sd, eps)
    return th


def _own_target_objective(cfg: RMDPConfig, targets: Array) -> Callable[[Array, Array], Array]:
    """Policy ``p``'s objective: its value for the single target ``targets[p]``."""

    def objective(pert: Array, xi: Array) -> Array:
        p, s, _ = pert.shape
        vel = velocities(cfg, pert.reshape(p * s, 2), xi).reshape(p, s, -1)
        return -np.abs(vel - targets[:, None, None]).mean(axis=2)

    return objective


def _cluster_objective(
    cfg: RMDPConfig, targets: Array, labels: NDArray[np.int64]
) -> Callable[[Array, Array], Array]:
    """Policy ``j``'s objective: the total value over the users assigned to it (0 if none)."""

    def objective(pert: Array, xi: Array) -> Array:
        p, s, _ = pert.shape
        vel = velocities(cfg, pert.reshape(p * s, 2), xi)
        vals = user_values(vel, targets).reshape(len(targets), p, s)
        weights = (labels[None, :] == np.arange(p)[:, None]).astype(float)  # (P, U)
        return np.einsum("pu,ups->ps", weights, vals)

    return objective


def candidate_pool(cfg: RMDPConfig, rng: np.random.Generator) -> tuple[Array, Array]:
    """``candidates`` policies, each trained for its own random target; (thetas, targets)."""
    own = rng.uniform(0.0, cfg.target_max, cfg.candidates)
    start = rng.standard_normal((cfg.candidates, 2))
    objective = _own_target_objective(cfg, own)
    return random_search(cfg, start, objective, cfg.learner_steps, rng), own


def evaluate(cfg: RMDPConfig, thetas: Array, targets: Array, rng: np.random.Generator) -> Array:
    """``V[u, p]`` from ``rollouts`` fresh rollouts (shared by every policy)."""
    xi = rng.standard_normal((cfg.rollouts, cfg.horizon))
    return user_values(velocities(cfg, thetas, xi), targets)


# --------------------------------------------------------------------------------------------
# One seed
# --------------------------------------------------------------------------------------------
@dataclass
class BudgetRun:
    """One (seed, budget): the three arms' welfare (total over users)."""

    seed: int
    budget: int
    exact_welfare: float
    exact_welfare_eval: float
    exact_bound: float
    exact_termination: str
    exact_seconds: float
    alternating_welfare: float
    alternating_welfare_eval: float
    alternating_seconds: float
    em_welfare: float
    em_welfare_eval: float
    em_curve: list[float] = field(default_factory=list)
    refined_welfare: float = math.nan
    refined_welfare_eval: float = math.nan
    refined_curve: list[float] = field(default_factory=list)


@dataclass
class SeedRun:
    seed: int
    pool_best_per_user: float
    budgets: list[BudgetRun]


def _welfare_of(values: Array, policies: NDArray[np.int64]) -> float:
    return float(values[:, policies].max(axis=1).sum())


def em_like(
    cfg: RMDPConfig,
    start: Array,
    targets: Array,
    rng: np.random.Generator,
) -> tuple[Array, list[float]]:
    """The seed's EM-like loop from the policies ``start`` ``(k, 2)``: E-step (greedy
    reassignment by estimated value), M-step (``em_steps`` random-search steps per policy on
    its cluster's total reward). Returns the final policies and the estimated welfare after
    every E-step (and at the end)."""
    th = start.copy()
    curve = []
    for _ in range(cfg.em_rounds):
        vals = evaluate(cfg, th, targets, rng)
        labels = np.argmax(vals, axis=1)
        curve.append(float(vals.max(axis=1).sum()))
        objective = _cluster_objective(cfg, targets, labels)
        new = random_search(cfg, th, objective, cfg.em_steps, rng)
        if cfg.em_accept:  # keep a policy's update only if its cluster gains (same rollouts)
            xi = rng.standard_normal((cfg.rollouts, cfg.horizon))
            both = objective(np.stack([th, new], axis=1), xi)  # (k, 2)
            new = np.where((both[:, 1] > both[:, 0])[:, None], new, th)
        th = new
    curve.append(float(evaluate(cfg, th, targets, rng).max(axis=1).sum()))
    return th, curve


def run_seed(cfg: RMDPConfig, seed: int, progress: Callable[[int], Any] | None = None) -> SeedRun:
    """Pool, values, selection (exact and alternating) and the EM-like loop for every budget."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, seed, 4]))
    targets = rng.uniform(0.0, cfg.target_max, cfg.users)
    pool, _ = candidate_pool(cfg, rng)
    values = evaluate(cfg, pool, targets, rng)  # what the selection sees
    held_out = evaluate(cfg, pool, targets, rng)  # what the chosen policies are judged on
    runs = []
    for k in cfg.budgets:
        ex = select_policies(values, k, time_limit=cfg.time_limit, seed=seed,
                             restarts=cfg.restarts)  # fmt: skip
        alt = select_policies(values, k, method="alternating", seed=seed, restarts=cfg.restarts)
        init = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
        em_th, curve = em_like(cfg, pool[init], targets, rng)  # K-means-style random start
        em_eval = float(evaluate(cfg, em_th, targets, rng).max(axis=1).sum())
        refined, refined_curve = em_like(cfg, pool[ex.chosen], targets, rng)
        refined_eval = float(evaluate(cfg, refined, targets, rng).max(axis=1).sum())
        runs.append(
            BudgetRun(
                seed=seed,
                budget=k,
                exact_welfare=ex.welfare,
                exact_welfare_eval=_welfare_of(held_out, ex.chosen),
                exact_bound=ex.bound,
                exact_termination=ex.termination.reason.value,
                exact_seconds=ex.wall_time_s,
                alternating_welfare=alt.welfare,
                alternating_welfare_eval=_welfare_of(held_out, alt.chosen),
                alternating_seconds=alt.wall_time_s,
                em_welfare=curve[-1],
                em_welfare_eval=em_eval,
                em_curve=curve,
                refined_welfare=refined_curve[-1],
                refined_welfare_eval=refined_eval,
                refined_curve=refined_curve,
            )
        )
        if progress is not None:
            progress(1)
    return SeedRun(seed, float(values.max(axis=1).sum()), runs)


def run(cfg: RMDPConfig, progress: Callable[[int], Any] | None = None) -> list[SeedRun]:
    cfg = cfg.validated()
    return [run_seed(cfg, s, progress) for s in range(cfg.seeds)]


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
ARMS = {
    "exact": "pool + exact selection",
    "alternating": "pool + alternating heuristic",
    "em": "EM-like loop, random start",
    "refined": "EM-like loop from the exact selection",
}


def _mean_se(xs: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(xs, dtype=float)
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan
    return float(a.mean()), se


def summary_rows(runs: Sequence[SeedRun]) -> list[dict[str, Any]]:
    """Per budget: mean and standard error over seeds of every arm's welfare (mean per user),
    the exact method's gap over the heuristic, proofs and times."""
    budgets = [b.budget for b in runs[0].budgets]
    rows = []
    for i, k in enumerate(budgets):
        br = [r.budgets[i] for r in runs]
        row: dict[str, Any] = {"budget": k, "seeds": len(br)}
        for arm in ARMS:
            for suffix in ("", "_eval"):
                row[f"{arm}{suffix}"], row[f"{arm}{suffix}_se"] = _mean_se(
                    [getattr(b, f"{arm}_welfare{suffix}") for b in br]
                )
        row["gap"], row["gap_se"] = _mean_se([b.exact_welfare - b.alternating_welfare for b in br])
        row["proved"] = sum(b.exact_termination == "optimal" for b in br)
        row["exact_seconds"] = max(b.exact_seconds for b in br)
        row["alternating_seconds"] = max(b.alternating_seconds for b in br)
        rows.append(row)
    return rows


def markdown(runs: Sequence[SeedRun], cfg: RMDPConfig, wall: float) -> str:
    rows = summary_rows(runs)
    users = cfg.users
    lines = [
        "# r-MDP: a budget of policies (seed 004), 1-D point mass",
        "",
        f"{users} users with target velocities U[0, {cfg.target_max}); "
        f"{cfg.candidates} candidate policies (random search, {cfg.learner_steps} steps each); "
        f"{cfg.seeds} seeds; value = mean reward per step -|v - c| (higher is better). "
        "Welfare shown as the mean per user (total / users), mean ± s.e. over seeds.",
        "",
        "In-sample (the values the selection maximized):",
        "",
        "| k | exact | alternating | exact − alternating (total) | proved optimal | "
        "exact s (max) | heuristic s (max) | EM-like, random start | EM-like from exact |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['budget']} | {r['exact'] / users:.4f} ± {_se(r['exact_se'], users)} "
            f"| {r['alternating'] / users:.4f} ± {_se(r['alternating_se'], users)} "
            f"| {r['gap']:.4f} ± {_se(r['gap_se'], 1)} | {r['proved']}/{r['seeds']} "
            f"| {r['exact_seconds']:.2f} | {r['alternating_seconds']:.3f} "
            f"| {r['em'] / users:.4f} ± {_se(r['em_se'], users)} "
            f"| {r['refined'] / users:.4f} ± {_se(r['refined_se'], users)} |"
        )
    lines += [
        "",
        "Held out (the chosen policies on fresh evaluation rollouts):",
        "",
        "| k | exact | alternating | EM-like, random start | EM-like from exact |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['budget']} | {r['exact_eval'] / users:.4f} ± "
            f"{_se(r['exact_eval_se'], users)} | {r['alternating_eval'] / users:.4f} ± "
            f"{_se(r['alternating_eval_se'], users)} | {r['em_eval'] / users:.4f} ± "
            f"{_se(r['em_eval_se'], users)} | {r['refined_eval'] / users:.4f} ± "
            f"{_se(r['refined_eval_se'], users)} |"
        )
    best = _mean_se([r.pool_best_per_user for r in runs])[0] / users
    lines += [
        "",
        f"Every user's best pool policy (no budget): {best:.4f} per user. "
        "The seed reports Fig. 5 as an image only (MuJoCo, PPO): there are no numbers to "
        "compare; this is a qualitative check (welfare rises with k; the exact selection is "
        "never below the heuristic in-sample).",
        f"Wall time {wall:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def _se(x: float, users: int) -> str:
    return "n/a" if math.isnan(x) else f"{x / users:.4f}"


def to_json(runs: Sequence[SeedRun], cfg: RMDPConfig) -> dict[str, Any]:
    return {
        "config": asdict(cfg),
        "summary": summary_rows(runs),
        "seeds": [asdict(r) for r in runs],
    }


def plot(runs: Sequence[SeedRun], cfg: RMDPConfig, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summary_rows(runs)
    ks = [r["budget"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    styles = {"exact": ("o", "-"), "alternating": ("s", "--"), "em": ("^", "-"),
              "refined": ("D", ":")}  # fmt: skip
    for arm, label in ARMS.items():
        mean = np.array([r[f"{arm}_eval"] for r in rows]) / cfg.users
        se = np.array([r[f"{arm}_eval_se"] for r in rows]) / cfg.users
        marker, line = styles[arm]
        ax.errorbar(ks, mean, yerr=np.nan_to_num(se), marker=marker, linestyle=line, capsize=3,
                    label=label, alpha=0.85)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("budget k (policies)")
    ax.set_ylabel("welfare per user (held-out rollouts)")
    ax.set_title(f"r-MDP point mass: {cfg.users} users, {cfg.candidates} candidates")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def timed_run(
    cfg: RMDPConfig, progress: Callable[[int], Any] | None = None
) -> tuple[list[SeedRun], float]:
    start = time.perf_counter()
    runs = run(cfg, progress)
    return runs, time.perf_counter() - start
