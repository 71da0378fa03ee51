"""What ``mechsolve simulate normative-disagreement`` writes: a Markdown summary (the amTFT(w)
cross-play matrices, the self-play / cross-play categories of seed 003's Fig. 3, the amTFT(𝒲)
table of Fig. 5), the numbers as JSON, and heat maps of the normalized scores."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .normative import GameResult, NormativeConfig, PairSummary

GAME_TITLES = {"bos": "Iterated asymmetric BoS", "pd": "Iterated Prisoner's Dilemma"}
SHORT = {"util": "Util", "ia": "IA", "egal": "Egal", "nash": "Nash", "ks": "KS"}


def set_label(text: str) -> str:
    """``"util+ia"`` -> ``"{Util, IA}"``."""
    return "{" + ", ".join(SHORT.get(m, m) for m in text.split("+")) + "}"


def _cell(mean: float, se: float) -> str:
    return f"{mean:.3f} ± {se:.3f}" if not math.isnan(se) else f"{mean:.3f}"


def categories(result: GameResult) -> dict[str, tuple[float, float, int]]:
    """Fig. 3's bars from the amTFT(w) matrix: the mean of the pair means and their standard
    error over pairs (the seed-level SE of one pair when there is one), and the pair count.

    ``self-play``: the diagonal (also same-welfare cross-play: the exact oracle builds the same
    policy for every seed); ``cross-play, different w``: the off-diagonal; ``..., different
    plans``: the off-diagonal pairs whose welfare optima differ."""
    plans = result.plans
    groups: dict[str, list[PairSummary]] = {
        "self-play (= cross-play, same w)": [],
        "cross-play, different w": [],
        "cross-play, different plans": [],
    }
    for r in result.crossplay:
        if r.row == r.column:
            groups["self-play (= cross-play, same w)"].append(r)
            continue
        groups["cross-play, different w"].append(r)
        if not _same_plan(plans[r.row], plans[r.column]):
            groups["cross-play, different plans"].append(r)
    out = {}
    for name, rows in groups.items():
        if not rows:
            continue
        s = np.array([r.score for r in rows])
        se = float(s.std(ddof=1) / math.sqrt(len(s))) if len(s) > 1 else rows[0].score_se
        out[name] = (float(s.mean()), se, len(rows))
    return out


def _same_plan(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["outcomes"] == b["outcomes"] and np.allclose(a["probabilities"], b["probabilities"])
    )


def _plans(result: GameResult) -> list[str]:
    lines = ["| w | cooperative plan (outcome: probability) | expected payoffs |", "|---|---|---|"]
    for name, p in result.plans.items():
        lottery = ", ".join(
            f"{tuple(o)}: {q:.3g}" for o, q in zip(p["outcomes"], p["probabilities"], strict=True)
        )
        u = p["utilities"]
        lines.append(f"| {SHORT.get(name, name)} | {lottery} | ({u[0]:.3g}, {u[1]:.3g}) |")
    return lines


def markdown(results: Sequence[GameResult], config: NormativeConfig, seeds: int) -> str:
    """The summary (module docstring)."""
    lines = [
        "# Normative disagreement: amTFT(w) and amTFT(𝒲) (seed 003)",
        "",
        f"{seeds} seeds x {config.episodes} episodes x {config.steps} steps; gamma "
        f"{config.gamma}, epsilon {config.epsilon}, debit threshold {config.debit_threshold}, "
        f"punishment multiplier {config.punishment_multiplier}, rollout length "
        f"{config.rollout_length} (discount {config.discount}), IA beta {config.ia_beta} "
        f"lambda {config.ia_lambda} (beta_eff {config.ia_beta_eff:.2f}). Scores: NormalizedScore "
        + (
            "of each (pair, seed)'s mean payoff profile"
            if config.score == "profile"
            else "of each episode's payoff profile, averaged per (pair, seed)"
        )
        + ", mean ± standard error over seeds. Rows: player 1 (row player; BB pays it 4), "
        "columns: player 2.",
    ]
    for res in results:
        names = res.welfare_functions
        basis = ", ".join(SHORT.get(n, n) for n in names)
        mean, se = res.matrix("crossplay")
        lines += [
            "",
            f"## {GAME_TITLES.get(res.game, res.game)}",
            "",
            f"Payoffs: {res.source}. Score set 𝒲 = {{{basis}}}.",
            "",
            *_plans(res),
            "",
            "### amTFT(w) cross-play (normalized score)",
            "",
            "| row \\ column | " + " | ".join(SHORT.get(n, n) for n in names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for i, n in enumerate(names):
            cells = " | ".join(_cell(mean[i, j], se[i, j]) for j in range(len(names)))
            lines.append(f"| **{SHORT.get(n, n)}** | {cells} |")
        pun = max(r.punishments for r in res.crossplay)
        lines += [
            "",
            f"Punishments per episode: at most {pun:.3f} over the matrix's pairs (trembles only).",
            "",
            "| category (Fig. 3) | pairs | score |",
            "|---|---|---|",
        ]
        for name, (m, s, k) in categories(res).items():
            lines.append(f"| {name} | {k} | {_cell(m, s)} |")
        if res.setplay:
            lines += [
                "",
                "### amTFT(𝒲) cross-play (Fig. 5)",
                "",
                "| 𝒲₁ (row) | 𝒲₂ (column) | 𝒲₁ ∩ 𝒲₂ | score | payoffs | same plan, per step "
                "| re-samples / episode | same plan at the end | punishments / episode |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for r in res.setplay:
                common = set(r.row.split("+")) & set(r.column.split("+"))
                ordered = [m for m in r.row.split("+") if m in common]
                inter = set_label("+".join(ordered)) if common else "∅"
                lines.append(
                    f"| {set_label(r.row)} | {set_label(r.column)} | {inter} | "
                    f"{_cell(r.score, r.score_se)} | ({r.payoffs[0]:.2f}, {r.payoffs[1]:.2f}) | "
                    f"{r.agreement:.2f} | {r.resamples:.2f} | {r.final_agreement:.2f} | "
                    f"{r.punishments:.2f} |"
                )
        if res.defection:
            lines += [
                "",
                "### Defection vs disagreement: amTFT(w) (row) vs a fixed column player",
                "",
                "| amTFT(w) | column player | payoffs | column's payoff under w's plan "
                "| punishments / episode |",
                "|---|---|---|---|---|",
            ]
            for r in res.defection:
                coop = res.plans[r.row]["utilities"][1]
                lines.append(
                    f"| {SHORT.get(r.row, r.row)} | {r.column} | ({r.payoffs[0]:.2f}, "
                    f"{r.payoffs[1]:.2f}) | {coop:.2f} | {r.punishments:.2f} |"
                )
    return "\n".join(lines) + "\n"


def to_json(results: Sequence[GameResult], config: NormativeConfig, seeds: int) -> dict[str, Any]:
    """Every number of the run (NaN as ``null``)."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and math.isnan(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return clean(
        {
            "config": asdict(config),
            "seeds": seeds,
            "games": [asdict(r) for r in results],
            "categories": {r.game: categories(r) for r in results},
        }
    )


def write_json(
    results: Sequence[GameResult], config: NormativeConfig, seeds: int, path: Path
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(results, config, seeds), indent=2))
    return path


def plot(results: Sequence[GameResult], path: Path) -> Path:
    """Heat maps of the normalized scores: amTFT(w) cross-play (top, Fig. 3) and amTFT(𝒲)
    cross-play (bottom, Fig. 5), one column per game."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 2 if any(r.setplay for r in results) else 1
    fig, axes = plt.subplots(
        rows, len(results), figsize=(6.0 * len(results), 5.2 * rows), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    image = None
    for j, res in enumerate(results):
        panels = [("crossplay", [SHORT.get(n, n) for n in res.welfare_functions], "amTFT(w)")]
        if rows == 2:
            panels.append(("setplay", [set_label(s) for s in res.sets], "amTFT(W)"))
        for i, (which, labels, algo) in enumerate(panels):
            ax = axes[i, j]
            mean, se = res.matrix(which)
            image = ax.imshow(mean, vmin=0.0, vmax=1.0, cmap="viridis")
            for a in range(mean.shape[0]):
                for b in range(mean.shape[1]):
                    colour = "black" if mean[a, b] > 0.6 else "white"
                    text = f"{mean[a, b]:.2f}" + (
                        "" if math.isnan(se[a, b]) else f"\n±{se[a, b]:.2f}"
                    )
                    ax.text(b, a, text, ha="center", va="center", fontsize=7, color=colour)
            ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
            ax.set_yticks(range(len(labels)), labels, fontsize=8)
            ax.set_xlabel("player 2")
            ax.set_ylabel("player 1")
            ax.set_title(f"{GAME_TITLES.get(res.game, res.game)}: {algo}", fontsize=9)
        if rows == 2 and not res.setplay:
            axes[1, j].axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="normalized score")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
