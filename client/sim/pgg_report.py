"""Table 3 of seed 004 (one-shot Public Goods Game) from trained :class:`.pgg.PGGRun` arms:
the measured rows beside the paper's, the learned mediator at its exact expected welfare,
a Markdown summary, JSON and PNG plots."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mechsolve.solver.core.results import readonly

from .pgg import ARMS, Array, PGGRun, expected_rewards

PAPER_TABLE3: dict[str, dict[str, dict[int, float]]] = {
    "none": {"reward": {3: 0.012, 10: 0.0, 25: 0.0}},
    "naive": {
        "reward": {3: 0.652, 10: 0.005, 25: 0.014},
        "commit": {3: 0.658, 10: 0.159, 25: 0.121},
        "mediator_contribution": {3: 0.985, 10: 0.001, 25: 0.02},
        "policy_c2": {3: 0.993},
        "policy_c3": {3: 0.999},
    },
    "constrained": {
        "reward": {3: 0.891, 10: 0.827, 25: 0.817},
        "commit": {3: 0.916, 10: 0.961, 25: 0.933},
        "mediator_contribution": {3: 0.959, 10: 0.858, 25: 0.817},
        "policy_c2": {3: 0.774},
        "policy_c3": {3: 0.996},
    },
}
"""Seed 004, Table 3 ("Results in one-step Public Good Game"): arm -> row -> N -> value."""

ROW_LABELS = {
    "reward": "reward",
    "commit": "π̃(m)",
    "mediator_contribution": "π̃^M(c)",
    "policy_c2": "π^M(c \\| C=2)",  # "\\|": a literal bar inside a Markdown table cell
    "policy_c3": "π^M(c \\| C=3)",
    "expected_reward": "E[reward] at the learned profile (ours)",
}
ARM_MARKS = {"none": "(*)", "naive": "(†)", "constrained": "(‡)"}
ARM_COLOURS = {"none": "tab:gray", "naive": "tab:red", "constrained": "tab:blue"}


@dataclass(frozen=True)
class LearnedMediator:
    """A trained arm's final profile, per seed: ``mediator_policy`` (seeds, N) =
    pi^M(contribute | |C| = k), k = 1..N (zeros for arm none); ``agent_policy`` (seeds, N, A);
    exact ``expected_rewards`` (seeds, N) at that profile (:func:`.pgg.expected_rewards`),
    ``expected_welfare`` (seeds,) = their sum and ``expected_mean_reward`` = their mean."""

    arm: str
    players: int
    multiplier: float
    mediator_policy: Array
    agent_policy: Array
    expected_rewards: Array
    expected_welfare: Array
    expected_mean_reward: Array


def learned_mediator(run: PGGRun) -> LearnedMediator:
    """The learned mediator's policy per coalition size and the expected welfare it induces
    with the learned agents (to compare with the exact mediated-equilibrium LP)."""
    cfg = run.config
    policy = np.nan_to_num(np.asarray(run.mediator_policy), nan=0.0)
    n = float(cfg.multiplier or 0.0)
    rewards = expected_rewards(run.agent_policy, policy, n)
    return LearnedMediator(
        arm=cfg.arm,
        players=cfg.players,
        multiplier=n,
        mediator_policy=readonly(policy),
        agent_policy=run.agent_policy,
        expected_rewards=readonly(rewards),
        expected_welfare=readonly(rewards.sum(-1)),
        expected_mean_reward=readonly(rewards.mean(-1)),
    )


@dataclass(frozen=True)
class Table3Row:
    """One cell of Table 3: mean and standard error over seeds (NaN-seeds dropped: a seed
    whose last batch had no coalition has no mediator contribution) and the paper's value."""

    arm: str
    players: int
    row: str
    mean: float
    se: float
    seeds: int
    paper: float | None


def _mean_se(x: Array) -> tuple[float, float, int]:
    a = np.asarray(x, dtype=np.float64)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return math.nan, math.nan, 0
    se = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else math.nan
    return float(a.mean()), se, int(a.size)


def per_seed(run: PGGRun) -> dict[str, Array]:
    """Table 3's quantities per seed, as the authors' code logs them (last batch), plus the
    exact expected reward at the final profile."""
    out = {"reward": np.asarray(run.final_reward)}
    if run.config.arm != "none":
        out["commit"] = np.asarray(run.final_commit)
        out["mediator_contribution"] = np.asarray(run.final_mediator_contribution)
        if run.config.players == 3:
            out["policy_c2"] = np.asarray(run.mediator_policy[:, 1])
            out["policy_c3"] = np.asarray(run.mediator_policy[:, 2])
    out["expected_reward"] = np.asarray(learned_mediator(run).expected_mean_reward)
    return out


def table3(runs: Sequence[PGGRun]) -> list[Table3Row]:
    """Every measured cell of Table 3 (plus our expected-reward row) beside the paper's."""
    rows = []
    for run in runs:
        arm, players = run.config.arm, run.config.players
        for name, values in per_seed(run).items():
            mean, se, seeds = _mean_se(values)
            paper = PAPER_TABLE3.get(arm, {}).get(name, {}).get(players)
            rows.append(Table3Row(arm, players, name, mean, se, seeds, paper))
    return rows


def _cell(r: Table3Row | None) -> str:
    if r is None or math.isnan(r.mean):
        return "–"
    se = "" if math.isnan(r.se) else f" ± {r.se:.3f}"
    return f"{r.mean:.3f}{se}"


def markdown(rows: Sequence[Table3Row], title: str) -> str:
    """Table 3 layout: one line per (row, arm), per N the measured mean ± SE and the paper."""
    players = sorted({r.players for r in rows})
    by = {(r.arm, r.row, r.players): r for r in rows}
    head = " | ".join(f"N = {n} (ours) | N = {n} (paper)" for n in players)
    lines = [
        f"## {title}",
        "",
        "Last batch of training (as the authors' code logs it); mean ± standard error over "
        "seeds. Paper: seed 004, Table 3.",
        "",
        f"| row | {head} |",
        "|---|" + "---|---|" * len(players),
    ]
    for arm in ARMS:
        for name, label in ROW_LABELS.items():
            cells = [by.get((arm, name, n)) for n in players]
            if all(c is None for c in cells):
                continue
            parts = []
            for c in cells:
                paper = "–" if c is None or c.paper is None else f"{c.paper:g}"
                parts.append(f"{_cell(c)} | {paper}")
            lines.append(f"| {label} {ARM_MARKS[arm]} | " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def policy_table(runs: Sequence[PGGRun]) -> str:
    """pi^M(contribute | |C| = k) per mediated arm and N, mean over seeds."""
    lines = ["| arm | N | π^M(c \\| k), k = 1..N (mean over seeds) |", "|---|---|---|"]
    for run in runs:
        if run.config.arm == "none":
            continue
        q = np.nanmean(np.asarray(run.mediator_policy), 0)
        lines.append(
            f"| {run.config.arm} | {run.config.players} | " + " ".join(f"{x:.2f}" for x in q) + " |"
        )
    return "\n".join(lines) + "\n"


def to_json(runs: Sequence[PGGRun], rows: Sequence[Table3Row]) -> dict[str, Any]:
    """Everything measured: per-run settings, per-seed final numbers, the mediator's policy,
    mean curves over seeds; and the Table 3 cells."""

    def clean(x: Any) -> Any:
        a = np.round(np.asarray(x, dtype=np.float64), 6)
        return np.vectorize(lambda y: None if np.isnan(y) else float(y), otypes=[object])(
            a
        ).tolist()

    out_runs = []
    for run in runs:
        lm = learned_mediator(run)
        out_runs.append(
            {
                "config": asdict(run.config),
                "wall_seconds": round(run.wall_seconds, 2),
                "per_seed": {k: clean(v) for k, v in per_seed(run).items()},
                "mediator_policy": clean(run.mediator_policy),
                "agent_policy": clean(run.agent_policy),
                "log_lambda": clean(run.log_lambda),
                "log_lambda_ic": clean(run.log_lambda_ic),
                "expected_welfare": clean(lm.expected_welfare),
                "curves": {
                    "updates": run.logged_updates.tolist(),
                    "reward": clean(np.nanmean(run.reward, 0)),
                    "commit": clean(np.nanmean(run.commit, 0)),
                },
            }
        )
    return {"table3": [asdict(r) for r in rows], "runs": out_runs}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(runs: Sequence[PGGRun], path: Path, title: str) -> Path:
    """One column per N: mean reward (top) and share committing (bottom) over updates, one
    line per arm (mean over seeds, band = ± standard error)."""
    plt = _plt()
    players = sorted({r.config.players for r in runs})
    fig, axes = plt.subplots(2, len(players), figsize=(4.2 * len(players), 6), squeeze=False)
    for run in runs:
        j = players.index(run.config.players)
        x = run.logged_updates
        for i, data in enumerate((run.reward, run.commit)):
            if i == 1 and run.config.arm == "none":
                continue
            m = data.mean(0)
            se = data.std(0, ddof=1) / math.sqrt(data.shape[0]) if data.shape[0] > 1 else 0 * m
            colour = ARM_COLOURS[run.config.arm]
            axes[i, j].plot(x, m, color=colour, label=run.config.arm)
            axes[i, j].fill_between(x, m - se, m + se, color=colour, alpha=0.2)
    for j, n in enumerate(players):
        axes[0, j].set_title(f"N = {n}")
        axes[0, j].set_ylabel("mean reward")
        axes[1, j].set_ylabel("P(commit)")
        axes[1, j].set_xlabel("update")
        axes[1, j].set_ylim(0, 1)
    axes[0, 0].legend(fontsize="small")
    return _save(fig, plt, path, title, len(players))


def plot_policy(runs: Sequence[PGGRun], path: Path, title: str) -> Path:
    """One panel per N: the final pi^M(contribute | |C| = k) against k per mediated arm."""
    plt = _plt()
    players = sorted({r.config.players for r in runs})
    fig, axes = plt.subplots(1, len(players), figsize=(4.2 * len(players), 3.4), squeeze=False)
    for run in runs:
        if run.config.arm == "none":
            continue
        ax = axes[0, players.index(run.config.players)]
        q = np.asarray(run.mediator_policy)
        se = q.std(0, ddof=1) / math.sqrt(q.shape[0]) if q.shape[0] > 1 else np.zeros(q.shape[1])
        k = np.arange(1, q.shape[1] + 1)
        colour = ARM_COLOURS[run.config.arm]
        ax.errorbar(k, q.mean(0), yerr=se, marker="o", color=colour, label=run.config.arm)
    for j, n in enumerate(players):
        axes[0, j].set_title(f"N = {n}")
        axes[0, j].set_xlabel("coalition size |C|")
        axes[0, j].xaxis.get_major_locator().set_params(integer=True)
        axes[0, j].set_ylim(-0.05, 1.05)
    axes[0, 0].set_ylabel("π^M(contribute | |C|)")
    axes[0, 0].legend(fontsize="small")
    return _save(fig, plt, path, title, len(players))


def _save(fig: Any, plt: Any, path: Path, title: str, width: int) -> Path:
    fig.suptitle(textwrap.fill(title, 45 * width), fontsize="medium")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
