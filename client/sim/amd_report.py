"""Tables 4.2 and 4.3 and Figure 4.1 of seed 001 chapter 4 (``001_8be2956230231e45.txt``) from
:mod:`.amd` runs, written beside the paper's numbers (Markdown, JSON-ready dicts, PNG plots).

Summary definitions (RESEARCH.md section 3, item 8): P(C,C) (P(all C) for N players) and V at the
last planner-on episode (4000) or, for "turning off", at the end of the continuation (8000);
AAR = the mean over the planner's episodes of sum_i |r^p_i| (expected for the exact planner,
realised for code/estimated); mean and standard deviation (ddof = 0) over seeds.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError

from .amd import (
    GAME_TITLES,
    GAMES,
    PUNISHMENT,
    REWARD,
    TEMPTATION_SUCKER,
    AmdRun,
    AmdSettings,
    AmdSummary,
    outcome_labels,
    simulate_amd,
    summarize,
)

TABLES = ("4.2", "4.3", "none")


class Cell(NamedTuple):
    """A paper cell: mean and std (P(C,C) as a probability, not %) and the text as printed."""

    mean: float
    std: float
    text: str


def _p(text: str) -> Cell:
    """A printed P(C,C) cell, e.g. ``"98.7% ± 0.1%"``."""
    m, sd = (float(x.strip().rstrip("%")) / 100 for x in text.split("±"))
    return Cell(m, sd, text)


def _x(text: str) -> Cell:
    """A printed V or AAR cell, e.g. ``"5.975 ± 0.002"``."""
    m, sd = (float(x) for x in text.split("±"))
    return Cell(m, sd, text)


PAPER_TABLE_4_2: dict[str, dict[str, dict[str, Cell]]] = {
    # Seed 001, Table 4.2 (ten runs, mean ± std, 4000 episodes; "turning off" = 4000 more).
    "no mechanism": {
        "pd": {"p": _p("0.004% ± 0.001%"), "V": _x("2.024 ± 0.003")},
        "chicken": {"p": _p("3.7% ± 1.3%"), "V": _x("5.44 ± 0.01")},
        "staghunt": {"p": _p("0.004% ± 0.002%"), "V": _x("2.00 ± 0.00")},
    },
    "mechanism": {
        # AAR from Table 4.3, row "Exact V" (the same runs).
        "pd": {"p": _p("98.7% ± 0.1%"), "V": _x("5.975 ± 0.002"), "AAR": _x("0.77 ± 0.21")},
        "chicken": {"p": _p("99.0% ± 0.1%"), "V": _x("5.995 ± 0.001"), "AAR": _x("0.41 ± 0.02")},
        "staghunt": {"p": _p("99.1% ± 0.1%"), "V": _x("5.964 ± 0.005"), "AAR": _x("0.45 ± 0.02")},
    },
    "turning off": {
        "pd": {"p": _p("0.48% ± 0.4%"), "V": _x("2.60 ± 0.69")},
        "chicken": {"p": _p("53.8% ± 29.4%"), "V": _x("5.728 ± 0.174")},
        "staghunt": {"p": _p("99.6% ± 0.0%"), "V": _x("5.986 ± 0.002")},
    },
}

PAPER_TABLE_4_3: dict[str, dict[str, dict[str, Cell]]] = {
    # Seed 001, Table 4.3 (P(C,C) and AAR; no V reported).
    "exact V": PAPER_TABLE_4_2["mechanism"],
    "revenue-neutral": {
        "pd": {"p": _p("91.4% ± 1.0%"), "AAR": _x("0.61 ± 0.04")},
        "chicken": {"p": _p("98.9% ± 0.1%"), "AAR": _x("0.31 ± 0.02")},
        "staghunt": {"p": _p("69.2% ± 45.3%"), "AAR": _x("0.19 ± 0.11")},
    },
    "estimated V": {
        "pd": {"p": _p("61.3% ± 20.0%"), "AAR": _x("3.31 ± 0.63")},
        "chicken": {"p": _p("52.2% ± 18.6%"), "AAR": _x("2.65 ± 0.31")},
        "staghunt": {"p": _p("96.0% ± 1.2%"), "AAR": _x("4.89 ± 0.39")},
    },
}


@dataclass(frozen=True)
class ArmResult:
    """One row group of a table for one game: its arm name, the paper row it reproduces (or
    None), the settings, the summary and the run (a "turning off" arm shares the mechanism
    arm's run, summarized at its end)."""

    game: str
    arm: str
    paper_row: str | None
    summary: AmdSummary
    run: AmdRun


def arms_of(table: str, base: AmdSettings) -> list[tuple[str, str | None, AmdSettings]]:
    """The arms of ``table`` for ``base`` (its game): (arm, paper row, settings).

    "4.2": no mechanism; mechanism with ``base``'s planner run 2E episodes (turned off after E).
    "4.3": exact V (``base`` planner "exact"); revenue-neutral with the code planner (the paper's
    row, RESEARCH item 5) and with the exact planner (our idealised variant, no paper row);
    estimated V (eq. 4.5, the "estimated" planner). "none": ``base`` as given."""
    table = v.choice("arms_of", "table", table, TABLES)
    if table == "none":
        return [("configured", None, base)]
    if table == "4.2":
        return [
            ("no mechanism", "no mechanism", replace(base, mechanism=False, turn_off=False)),
            ("mechanism", "mechanism", replace(base, mechanism=True, turn_off=True)),
        ]
    on = replace(base, mechanism=True, turn_off=False, revenue_neutral=False)
    return [
        ("exact V", "exact V", replace(on, planner="exact")),
        (
            "revenue-neutral (code planner)",
            "revenue-neutral",
            replace(on, planner="code", revenue_neutral=True),
        ),
        (
            "revenue-neutral (exact planner)",
            None,
            replace(on, planner="exact", revenue_neutral=True),
        ),
        ("estimated V", "estimated V", replace(on, planner="estimated")),
    ]


def run_table(
    table: str,
    base: AmdSettings | None = None,
    games: Sequence[str] = GAMES,
    seeds: int | Sequence[int] = 10,
    *,
    on_episodes: Callable[[int], None] | None = None,
) -> list[ArmResult]:
    """Every arm of ``table`` (see :func:`arms_of`) for every game, all seeds at once."""
    fn = "run_table"
    base = base if base is not None else AmdSettings()
    if isinstance(games, str) or not games:
        raise MechsolveInputError(fn, "games", f"must be a non-empty list of games; got {games!r}")
    games = [v.choice(fn, "games", g, GAMES) for g in games]
    out: list[ArmResult] = []
    for game in games:
        for arm, paper, settings in arms_of(table, replace(base, game=game)):
            run = simulate_amd(settings, seeds, on_episodes=on_episodes)
            out.append(ArmResult(game, arm, paper, summarize(run, settings.episodes), run))
            if settings.mechanism and settings.turn_off:
                row = "turning off" if table == "4.2" else None
                out.append(ArmResult(game, "turning off", row, summarize(run), run))
    return out


def total_episodes(table: str, base: AmdSettings, games: int) -> int:
    """Episodes :func:`run_table` plays per seed (for a progress bar)."""
    per_game = sum(
        s.episodes * (2 if s.mechanism and s.turn_off else 1) for _, _, s in arms_of(table, base)
    )
    return per_game * games


def _pct(m: float, sd: float) -> str:
    digits = 3 if m < 0.01 else 1 if m >= 0.1 else 2
    return f"{100 * m:.{digits}f}% ± {100 * sd:.{digits}f}%"


def _num(m: float, sd: float, digits: int = 3) -> str:
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def _measured(a: ArmResult, metric: str) -> str:
    s = a.summary
    if metric == "p":
        return _pct(s.p_all_cooperate, s.p_all_cooperate_std)
    if metric == "V":
        return _num(s.welfare, s.welfare_std)
    return _num(s.aar, s.aar_std, 2)


def _paper(table: str, a: ArmResult, metric: str) -> str:
    paper = PAPER_TABLE_4_2 if table == "4.2" else PAPER_TABLE_4_3
    if a.paper_row is None or a.run.settings.players != 2:
        return "—"
    cell = paper.get(a.paper_row, {}).get(a.game, {}).get(metric)
    if cell is None:
        return "—"
    return cell.text


def table_markdown(table: str, arms: Sequence[ArmResult]) -> str:
    """Rows = arm x metric, columns = games; cell = "paper · **measured**" (paper "—" where the
    paper has no number)."""
    games = list(dict.fromkeys(a.game for a in arms))
    by = {(a.game, a.arm): a for a in arms}
    names = list(dict.fromkeys(a.arm for a in arms))
    players = arms[0].run.settings.players
    pcc = "P(C,C)" if players == 2 else f"P(all C), N={players}"
    head = [
        f"{GAME_TITLES[g]} (greed {_greed_fear(g)[0]:g}, fear {_greed_fear(g)[1]:g})" for g in games
    ]
    lines = ["| arm | metric | " + " | ".join(head) + " |", "|---|---|" + "---|" * len(games)]
    for name in names:
        for metric, label in (("p", pcc), ("V", "V"), ("AAR", "AAR")):
            first = by[(games[0], name)]
            if metric == "AAR" and (not first.run.planner_episodes or name == "turning off"):
                continue
            cells = [
                f"{_paper(table, by[(g, name)], metric)} · **{_measured(by[(g, name)], metric)}**"
                for g in games
            ]
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _greed_fear(game: str) -> tuple[float, float]:
    t, s = TEMPTATION_SUCKER[game]
    return t - REWARD, PUNISHMENT - s


def settings_text(s: AmdSettings) -> str:
    return (
        f"{s.players} players, {s.episodes} episodes, planner {s.planner}, optimizer {s.optimizer} "
        f"(lr {s.lr:g}, planner lr {s.planner_lr:g}), learners {s.learners}, cost {s.cost:g}, "
        f"max reward {s.max_reward:g}, init {s.init}"
        + (", revenue-neutral" if s.revenue_neutral else "")
    )


def to_json(table: str, arms: Sequence[ArmResult]) -> dict[str, Any]:
    """The numbers as plain data: per arm its settings and summary (with per-seed values) and
    the paper's cell where there is one."""
    paper = PAPER_TABLE_4_2 if table == "4.2" else PAPER_TABLE_4_3
    rows = []
    for a in arms:
        cells = (
            paper.get(a.paper_row or "", {}).get(a.game) if a.run.settings.players == 2 else None
        )
        ref = {k: c._asdict() for k, c in cells.items()} if cells else None
        rows.append(
            {
                "game": a.game,
                "arm": a.arm,
                "paper_row": a.paper_row,
                "settings": asdict(a.run.settings),
                "seeds": list(a.run.seeds),
                "summary": asdict(a.summary),
                "paper": ref,
            }
        )
    return {"table": table, "arms": rows}


def plot_figure_4_1(run: AmdRun, path: Path, title: str) -> Path:
    """Figure 4.1 for one run (mean over seeds): (a) P(C) per player and P(all C); (b) player 1's
    additional reward in each outcome; (c) greed and fear of the modified game; (d) cumulative
    additional rewards. With more than 2 players (Figure 4.2): the players' average P(C) and
    P(all C), and (d). A dotted line marks where the planner was turned off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    episodes = np.arange(1, run.p_all_cooperate.shape[1] + 1)
    two = run.settings.players == 2 and run.planner_reward is not None
    fig, axes = plt.subplots(2 if two else 1, 2, figsize=(10, 7 if two else 3.8), squeeze=False)
    ax = axes.flat
    pc = run.p_cooperate.mean(axis=0)
    if run.settings.players == 2:
        for i in range(2):
            ax[0].plot(episodes, pc[:, i], linewidth=1, label=f"P(C) player {i + 1}")
    else:
        ax[0].plot(episodes, pc.mean(axis=1), linewidth=1, label="average P(C)")
    ax[0].plot(episodes, run.p_all_cooperate.mean(axis=0), "k--", linewidth=1, label="P(all C)")
    ax[0].set_ylim(0, 1)
    ax[0].set_title("(a) probability of cooperation")
    ax[0].legend(fontsize="x-small")
    if two and run.planner_reward is not None:
        x = run.planner_reward.mean(axis=0)  # columns CC, CD, DC, DD (player 1 first)
        for j, label in enumerate(outcome_labels(2)):
            ax[1].plot(episodes, x[:, j], linewidth=1, label=label)
        ax[1].legend(fontsize="x-small", ncol=2)
        ax[1].set_title("(b) additional reward for player 1")
        t, s = TEMPTATION_SUCKER[run.settings.game]
        ax[2].plot(episodes, (t + x[:, 2]) - (REWARD + x[:, 0]), label="greed")
        ax[2].plot(episodes, (PUNISHMENT + x[:, 3]) - (s + x[:, 1]), label="fear")
        ax[2].axhline(0, color="black", linewidth=0.5)
        ax[2].legend(fontsize="x-small")
        ax[2].set_title("(c) greed and fear with additional rewards")
    ax[-1].plot(episodes, np.cumsum(run.additional_reward.mean(axis=0)))
    ax[-1].set_title(f"({'d' if two else 'b'}) cumulative additional rewards")
    for a in ax:
        a.set_xlabel("episode")
        if run.planner_episodes and run.planner_episodes < len(episodes):
            a.axvline(run.planner_episodes, color="grey", linestyle=":", linewidth=1)
    fig.suptitle(textwrap.fill(title, 110), fontsize="medium")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
