"""What a simulation run writes: per-round Parquet, a summary (means and standard errors over
seeds), a Markdown table, and PNG plots in the style of seed 000's figures."""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .runner import Trace

COLUMNS = ("scenario", "setting", "instance", "arm", "seed")
METRICS = ("total_reward", "mean_reward", "min_reward", "share_delegating")
FINAL_SHARE = 0.2
"""Summaries average the final fifth of the rounds (learning has settled)."""


def to_table(traces: Sequence[Trace]) -> Any:
    """One row per (trace, round) as a ``pyarrow.Table``."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {c: [] for c in (*COLUMNS, "round", *METRICS)}
    for t in traces:
        rounds = len(t.total_reward)
        for c in COLUMNS:
            cols[c].extend([getattr(t, c)] * rounds)
        cols["round"].extend(range(1, rounds + 1))
        for m in METRICS:
            cols[m].extend(getattr(t, m).tolist())
    return pa.table(cols)


def write_parquet(traces: Sequence[Trace], path: Path) -> Path:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(traces), path)
    return path


def read_parquet(path: Path) -> list[Trace]:
    """The traces a run wrote (round order restored)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path).to_pydict()
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row, key in enumerate(zip(*(table[c] for c in COLUMNS), strict=True)):
        groups[key].append(row)
    out = []
    for key, rows in groups.items():
        rows.sort(key=lambda r: table["round"][r])
        metrics = [np.array([table[m][r] for r in rows]) for m in METRICS]
        out.append(Trace(*key, *metrics))
    return out


@dataclass(frozen=True)
class SummaryRow:
    """One (setting, arm): the metric over the final fifth of the rounds, averaged over the
    setting's instances, then mean and standard error over seeds."""

    setting: str
    arm: str
    seeds: int
    total_reward: float
    total_reward_se: float
    mean_reward: float
    mean_reward_se: float
    min_reward: float
    min_reward_se: float
    share_delegating: float
    share_delegating_se: float


def _mean_se(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values)
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan
    return float(a.mean()), se


def summarize(traces: Sequence[Trace]) -> list[SummaryRow]:
    per_seed: dict[tuple[str, str], dict[int, list[np.ndarray]]] = defaultdict(
        lambda: defaultdict(list)
    )
    order: list[tuple[str, str]] = []
    for t in traces:
        key = (t.setting, t.arm)
        if key not in per_seed:
            order.append(key)
        tail = max(1, int(len(t.total_reward) * FINAL_SHARE))
        per_seed[key][t.seed].append(np.array([getattr(t, m)[-tail:].mean() for m in METRICS]))
    rows = []
    for key in order:
        seeds = per_seed[key]
        means = np.array([np.mean(v, axis=0) for v in seeds.values()])  # (seeds, metrics)
        stats = [_mean_se(list(means[:, j])) for j in range(len(METRICS))]
        rows.append(SummaryRow(*key, len(seeds), *(x for pair in stats for x in pair)))
    return rows


def markdown(rows: Sequence[SummaryRow], title: str) -> str:
    """The summary as a Markdown table (mean ± standard error over seeds)."""

    def cell(m: float, se: float, digits: int = 3) -> str:
        return f"{m:.{digits}f} ± {se:.{digits}f}" if not math.isnan(se) else f"{m:.{digits}f}"

    lines = [
        f"## {title}",
        "",
        f"Final {FINAL_SHARE:.0%} of the rounds; mean ± standard error over seeds.",
        "",
        "| setting | arm | seeds | total reward | mean reward | min reward | delegating |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.setting} | {r.arm} | {r.seeds} | {cell(r.total_reward, r.total_reward_se, 2)} "
            f"| {cell(r.mean_reward, r.mean_reward_se)} | {cell(r.min_reward, r.min_reward_se)} "
            f"| {cell(r.share_delegating * 100, r.share_delegating_se * 100, 1)}% |"
        )
    return "\n".join(lines) + "\n"


def _curves(traces: Sequence[Trace], metric: str) -> dict[tuple[str, str], np.ndarray]:
    """Per (setting, arm): the metric per round, averaged over instances then seeds."""
    acc: dict[tuple[str, str], dict[int, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    for t in traces:
        acc[(t.setting, t.arm)][t.seed].append(getattr(t, metric))
    return {
        k: np.mean([np.mean(v, axis=0) for v in seeds.values()], axis=0) for k, seeds in acc.items()
    }


ARM_COLOURS = {
    "original": "tab:gray",
    "pareto": "tab:blue",
    "punishing": "tab:red",
    "central_planner": "tab:green",
}


def plot_rounds(
    traces: Sequence[Trace], path: Path, title: str, reward: str = "mean_reward"
) -> Path:
    """One column per setting: reward per round (top) and share delegating (bottom), one line
    per arm (Figures 3 and 5, left)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rewards, shares = _curves(traces, reward), _curves(traces, "share_delegating")
    settings = list(dict.fromkeys(k[0] for k in rewards))
    fig, axes = plt.subplots(2, len(settings), figsize=(4 * len(settings), 6), squeeze=False)
    for j, setting in enumerate(settings):
        for (s, arm), curve in rewards.items():
            if s != setting:
                continue
            colour = ARM_COLOURS.get(arm)
            axes[0, j].plot(np.arange(1, len(curve) + 1), curve, label=arm, color=colour)
            if arm != "original":
                share = shares[(s, arm)] * 100
                axes[1, j].plot(np.arange(1, len(share) + 1), share, label=arm, color=colour)
        axes[0, j].set_title(setting)
        axes[0, j].set_ylabel(reward.replace("_", " "))
        axes[1, j].set_ylabel("% delegating")
        axes[1, j].set_xlabel("round")
        axes[1, j].set_ylim(0, 100)
    axes[0, 0].legend(fontsize="small")
    fig.suptitle(textwrap.fill(title, 40 * len(settings)))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_relative(rows: Sequence[SummaryRow], path: Path, title: str) -> Path:
    """Figure 4: the Pareto arm's total reward relative to the original game and to the
    Punishing arm, against the number of agents (the settings ``n=N``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = {(r.setting, r.arm): r.total_reward for r in rows}
    settings = sorted({r.setting for r in rows}, key=lambda s: int(s.split("=")[1]))
    n = [int(s.split("=")[1]) for s in settings]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for other, colour in (("original", "tab:gray"), ("punishing", "tab:red")):
        ratio = [by[(s, "pareto")] / by[(s, other)] if by[(s, other)] else np.nan for s in settings]
        ax.plot(n, ratio, marker="o", color=colour, label=f"Pareto / {other}")
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xlabel("agents")
    ax.set_ylabel("relative social welfare")
    ax.set_xscale("log", base=2)
    ax.set_xticks(n, [str(v) for v in n])
    ax.legend(fontsize="small")
    ax.set_title(textwrap.fill(title, 60), fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
