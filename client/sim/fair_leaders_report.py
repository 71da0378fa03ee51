"""What ``mechsolve simulate fair-leaders`` writes (seed 002, JAM-QL): a summary per (game,
players, arm) over the final episodes (mean and standard error over seeds), a Markdown table,
JSON, and PNG plots (fairness over episodes per arm; fairness against welfare)."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .fair_leaders import ARMS, ArmRun, FairLeadersConfig

FINAL_SHARE = 0.2
"""Summaries average the final fifth of the episodes (learning has settled)."""

METRICS = ("fairness", "gini", "welfare", "fairness_before_transfer", "gini_before_transfer")


@dataclass(frozen=True)
class FairRow:
    """One (game, players, arm): each metric per episode, averaged over the final
    :data:`FINAL_SHARE` of the episodes per seed, then mean and standard error over seeds."""

    game: str
    players: int
    arm: str
    seeds: int
    fairness: float
    fairness_se: float
    gini: float
    gini_se: float
    welfare: float
    welfare_se: float
    fairness_before_transfer: float
    fairness_before_transfer_se: float
    gini_before_transfer: float
    gini_before_transfer_se: float


def _mean_se(per_seed: NDArray[np.float64]) -> tuple[float, float]:
    se = float(per_seed.std(ddof=1) / math.sqrt(len(per_seed))) if len(per_seed) > 1 else math.nan
    return float(per_seed.mean()), se


def tail_means(run: ArmRun, metric: str, share: float = FINAL_SHARE) -> NDArray[np.float64]:
    """``(S,)`` the metric averaged over the final ``share`` of the episodes, per seed."""
    values: NDArray[np.float64] = getattr(run, metric)
    tail = max(1, int(values.shape[1] * share))
    return np.asarray(values[:, -tail:].mean(axis=1))


def summarize(runs: Sequence[ArmRun], share: float = FINAL_SHARE) -> list[FairRow]:
    rows = []
    for r in runs:
        stats = [_mean_se(tail_means(r, m, share)) for m in METRICS]
        rows.append(FairRow(r.game, r.players, r.arm, r.returns.shape[0],
                            *(x for pair in stats for x in pair)))  # fmt: skip
    return rows


def _cell(m: float, se: float, digits: int = 3) -> str:
    return f"{m:.{digits}f} ± {se:.{digits}f}" if not math.isnan(se) else f"{m:.{digits}f}"


def markdown(rows: Sequence[FairRow], title: str, share: float = FINAL_SHARE) -> str:
    """The summary table; the fairest arm of each (game, players) by min/max ratio is bold."""
    best: dict[tuple[str, int], float] = {}
    for r in rows:
        key = (r.game, r.players)
        best[key] = max(best.get(key, -math.inf), r.fairness)
    lines = [
        f"## {title}",
        "",
        f"Final {share:.0%} of the episodes; mean ± standard error over seeds. Fairness of the "
        "episode returns (after the mediator's transfer, if any): min/max ratio (1 = equal) and "
        "Gini (0 = equal); welfare = sum of the returns; the last two columns are the fairness "
        "of the environment rewards before the transfer.",
        "",
        "| game | players | arm | seeds | min/max | Gini | welfare | min/max before transfer "
        "| Gini before transfer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fair = _cell(r.fairness, r.fairness_se)
        if r.fairness == best[(r.game, r.players)]:
            fair = f"**{fair}**"
        lines.append(
            f"| {r.game} | {r.players} | {r.arm} | {r.seeds} | {fair} | "
            f"{_cell(r.gini, r.gini_se)} | {_cell(r.welfare, r.welfare_se, 1)} | "
            f"{_cell(r.fairness_before_transfer, r.fairness_before_transfer_se)} | "
            f"{_cell(r.gini_before_transfer, r.gini_before_transfer_se)} |"
        )
    return "\n".join(lines) + "\n"


def curves(run: ArmRun, metric: str = "fairness") -> NDArray[np.float64]:
    """``(E,)`` the metric per episode, averaged over seeds."""
    return np.asarray(getattr(run, metric).mean(axis=0))


def to_json(runs: Sequence[ArmRun], rows: Sequence[FairRow], config: FairLeadersConfig,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The run's settings, the summary rows and the per-episode curves (seed means)."""
    return {
        "config": asdict(config),
        **(extra or {}),
        "final_share": FINAL_SHARE,
        "summary": [asdict(r) for r in rows],
        "curves": [
            {
                "game": r.game,
                "players": r.players,
                "arm": r.arm,
                **{m: curves(r, m).tolist() for m in METRICS},
            }
            for r in runs
        ],
    }


def write_json(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


ARM_COLOURS = dict(zip(ARMS, ("tab:gray", "tab:orange", "tab:purple", "tab:cyan",
                              "tab:olive", "tab:red"), strict=True))  # fmt: skip


def _settings(runs: Sequence[ArmRun]) -> list[tuple[str, int]]:
    return list(dict.fromkeys((r.game, r.players) for r in runs))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(plt: Any, count: int) -> tuple[Any, Any]:
    cols = min(count, 3)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes.flat


def _save(fig: Any, plt: Any, path: Path, title: str) -> Path:
    fig.suptitle(textwrap.fill(title, 110), fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fairness(runs: Sequence[ArmRun], path: Path, title: str, window: int = 10) -> Path:
    """One panel per (game, players): the min/max ratio per episode (seed mean, moving average
    over ``window`` episodes), one line per arm."""
    plt = _pyplot()
    settings = _settings(runs)
    fig, axes = _grid(plt, len(settings))
    for ax, (game, n) in zip(axes, settings, strict=False):
        for r in runs:
            if (r.game, r.players) != (game, n):
                continue
            c = curves(r)
            w = max(1, min(window, len(c)))
            smooth = np.convolve(c, np.ones(w) / w, mode="valid")
            ax.plot(np.arange(w, len(c) + 1), smooth, label=r.arm, color=ARM_COLOURS[r.arm])
        ax.set_title(f"{game}, {n} players", fontsize="small")
        ax.set_xlabel("episode")
        ax.set_ylabel("min/max ratio of returns")
        ax.set_ylim(0, 1.02)
    axes[0].legend(fontsize="x-small")
    return _save(fig, plt, path, title)


def plot_tradeoff(rows: Sequence[FairRow], path: Path, title: str) -> Path:
    """One panel per (game, players): each arm's final fairness against its welfare, with
    standard-error bars."""
    plt = _pyplot()
    settings = list(dict.fromkeys((r.game, r.players) for r in rows))
    fig, axes = _grid(plt, len(settings))
    for ax, (game, n) in zip(axes, settings, strict=False):
        for r in rows:
            if (r.game, r.players) != (game, n):
                continue
            ax.errorbar(r.welfare, r.fairness, xerr=np.nan_to_num(r.welfare_se),
                        yerr=np.nan_to_num(r.fairness_se), fmt="o", label=r.arm,
                        color=ARM_COLOURS[r.arm], capsize=2)  # fmt: skip
        ax.set_title(f"{game}, {n} players", fontsize="small")
        ax.set_xlabel("welfare (sum of returns)")
        ax.set_ylabel("min/max ratio")
    axes[0].legend(fontsize="x-small")
    return _save(fig, plt, path, title)
