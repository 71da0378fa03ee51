"""Mediated MARL in the one-shot Public Goods Game (seed 004, Table 3; issue 13): the reward
against hand-computed values, the exact expected reward against enumeration, every analytic
gradient against finite differences of a loss written per sample, short training runs
reproducing Table 3's ordering at N = 3, input errors and the CLI. No timings."""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsolve.client.sim import pgg
from mechsolve.client.sim.pgg import (
    PGGConfig,
    agent_gradients,
    critic_value_grad,
    default_multiplier,
    expected_rewards,
    init_mlp,
    mediator_actor_logit_grad,
    mlp_backward,
    mlp_forward,
    pgg_rewards,
    train,
)
from mechsolve.client.sim.pgg_report import PAPER_TABLE3, learned_mediator, markdown, table3
from mechsolve.solver.core.errors import MechsolveInputError

# --- the game ---------------------------------------------------------------------------------


def test_reward_hand_values() -> None:
    assert np.allclose(pgg_rewards([1, 1, 1], 2.0), [1, 1, 1])
    assert np.allclose(pgg_rewards([0, 0, 0], 2.0), [0, 0, 0])
    r = pgg_rewards([1, 1, 0], 2.0)  # (2/3 * 2 - a_i) / 1
    assert np.allclose(r, [1 / 3, 1 / 3, 4 / 3])
    assert r.mean() == pytest.approx(0.667, abs=5e-4)
    assert r[2] > r[0] == r[1]  # the free rider gets more
    assert np.allclose(pgg_rewards([1] * 25, 5.0), 1.0)
    assert np.allclose(pgg_rewards([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2.0)[0], 0.2 - 1)
    assert default_multiplier(3) == default_multiplier(10) == 2.0
    assert default_multiplier(25) == 5.0


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.floats(1.1, 11.0), st.data())
def test_reward_properties(players: int, n: float, data: st.DataObject) -> None:
    a = np.array(data.draw(st.lists(st.integers(0, 1), min_size=players, max_size=players)))
    r = pgg_rewards(a, n)
    assert r.sum() == pytest.approx(a.sum())  # welfare = number of contributors
    for i in range(players):  # keeping is better for i than contributing, by 1 - n/N over n-1
        b = a.copy()
        b[i] = 0
        c = a.copy()
        c[i] = 1
        gain = pgg_rewards(b, n)[i] - pgg_rewards(c, n)[i]
        assert gain == pytest.approx((1 - n / players) / (n - 1))


def _enumerated_rewards(policy: np.ndarray, q: np.ndarray, n: float) -> np.ndarray:
    """E[r] by enumerating every action profile and every mediator outcome."""
    players, actions = policy.shape
    total = np.zeros(players)
    for acts in itertools.product(range(actions), repeat=players):
        prob = np.prod([policy[i, a] for i, a in enumerate(acts)])
        members = [i for i, a in enumerate(acts) if a == 2]
        for told in itertools.product((0, 1), repeat=len(members)):
            qk = q[len(members) - 1] if members else 1.0
            pm = np.prod([qk if t else 1 - qk for t in told])
            a = np.array([1.0 if x == 1 else 0.0 for x in acts])
            for i, t in zip(members, told, strict=True):
                a[i] = t
            total += prob * pm * ((n / players) * a.sum() - a) / (n - 1)
    return total


@pytest.mark.parametrize("players,actions", [(3, 3), (4, 3), (3, 2)])
def test_expected_rewards_match_enumeration(players: int, actions: int) -> None:
    rng = np.random.default_rng(np.random.SeedSequence([13, players, actions]))
    for _ in range(3):
        policy = rng.dirichlet(np.ones(actions), players)
        q = rng.random(players)
        got = expected_rewards(policy, q, 2.0)
        assert np.allclose(got, _enumerated_rewards(policy, q, 2.0))


# --- gradients against finite differences --------------------------------------------------


def _fd(loss, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = loss()
        x[idx] = old - eps
        down = loss()
        x[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_agent_gradients_finite_differences() -> None:
    rng = np.random.default_rng(np.random.SeedSequence([13, 1]))
    S, B, N, A = 2, 7, 3, 3
    logits = rng.normal(size=(S, N, A))
    base = rng.normal(size=(S, N))
    acts = rng.integers(0, A, (S, B, N))
    r = rng.normal(size=(S, B, N))
    adv = r - base[:, None, :]  # held fixed in the actor loss
    coef = 0.3

    def actor_loss() -> float:
        total = 0.0
        for s, i in itertools.product(range(S), range(N)):
            lp = _log_softmax(logits[s, i])
            p = np.exp(lp)
            pg = -np.mean([adv[s, b, i] * lp[acts[s, b, i]] for b in range(B)])
            total += pg - coef * -(p * lp).sum()
        return total

    def critic_loss() -> float:
        return float(((r - base[:, None, :]) ** 2).mean(1).sum())

    g_logits, g_base = agent_gradients(logits, base, acts, r, coef)
    assert np.allclose(g_logits, _fd(actor_loss, logits), atol=1e-6)
    assert np.allclose(g_base, _fd(critic_loss, base), atol=1e-6)


def _mediator_batch(rng: np.random.Generator, S: int, B: int, N: int):
    sizes = rng.integers(0, N + 1, (S, B))
    told = (rng.random((S, B, N)) < 0.5) & (np.arange(N) < sizes[..., None])
    return sizes, told, rng.normal(size=(S, B))


def test_mediator_actor_gradient_finite_differences() -> None:
    rng = np.random.default_rng(np.random.SeedSequence([13, 2]))
    S, B, N, coef = 2, 9, 4, 0.2
    gens = [np.random.default_rng(s) for s in range(S)]
    params = init_mlp(gens, 5, 2)
    xs = np.arange(N + 1) / N * 2 - 1
    sizes, told, adv = _mediator_batch(rng, S, B, N)

    def loss() -> float:  # per member row, as in the code: mean over rows of the batch
        total = 0.0
        logits, _ = mlp_forward(params, xs)
        for s in range(S):
            rows = [(b, m) for b in range(B) for m in range(sizes[s, b])]
            if not rows:
                continue
            terms = []
            for b, m in rows:
                lp = _log_softmax(logits[s, sizes[s, b]])
                a = int(told[s, b, m])
                terms.append(-adv[s, b] * lp[a] - coef * -(np.exp(lp) * lp).sum())
            total += float(np.mean(terms))
        return total

    logits, cache = mlp_forward(params, xs)
    g_logit = mediator_actor_logit_grad(logits, sizes, told.sum(-1), adv, coef)
    grads = mlp_backward(params, cache, g_logit)
    for key, value in params.items():
        assert np.allclose(grads[key], _fd(loss, value), atol=1e-6), key


def test_mediator_critic_gradient_finite_differences() -> None:
    rng = np.random.default_rng(np.random.SeedSequence([13, 3]))
    S, B, N = 3, 11, 5
    params = init_mlp([np.random.default_rng(10 + s) for s in range(S)], 6, 1)
    xs = np.arange(N + 1) / N * 2 - 1
    sizes, _, target = _mediator_batch(rng, S, B, N)
    used = sizes >= 1

    def loss() -> float:
        values, _ = mlp_forward(params, xs)
        total = 0.0
        for s in range(S):
            errs = [(values[s, sizes[s, b], 0] - target[s, b]) ** 2 for b in range(B) if used[s, b]]
            total += float(np.mean(errs)) if errs else 0.0
        return total

    values, cache = mlp_forward(params, xs)
    g_value = critic_value_grad(values[..., 0], sizes, target, used)
    grads = mlp_backward(params, cache, g_value[..., None])
    for key, value in params.items():
        assert np.allclose(grads[key], _fd(loss, value), atol=1e-6), key


def _mlp(params: dict, s: int, x: float) -> np.ndarray:
    """The 1-hidden-layer ReLU MLP of seed ``s`` at the scalar input ``x``, written out."""
    h = np.maximum(params["w1"][s] * x + params["b1"][s], 0.0)
    return params["w2"][s] @ h + params["b2"][s]


@pytest.mark.parametrize("arm", ["naive", "constrained"])
def test_mediator_step_follows_the_notebook(arm: str) -> None:
    """One mediator step of the training loop (advantage, E constraint, dual ascent on log
    lambda, actor loss) against a per-row re-implementation of PGG_official.ipynb: for every
    member row A = R_C - V_M(|C|), and when 1 < |C| < N also minus lambda * pun with
    pun = mean_{j not in C} r_j - V_M(|C|+1)/(|C|+1); then, if more than one row has a pun,
    log lambda += 0.01 * mean(pun, negatives x 0.99), clipped to [-4, 4]; the actor gradient
    is the finite difference of mean_rows[-A log pi^M(a_row | |C|)] - beta * mean_rows H."""
    S, B, N, beta = 2, 24, 4, 0.05
    cfg = PGGConfig(players=N, arm=arm, seeds=S, batch=B).validated()
    gens = [np.random.default_rng(np.random.SeedSequence([13, 7, s])) for s in range(S)]
    med = {"actor": init_mlp(gens, 16, 2), "critic": init_mlp(gens, 32, 1)}
    med["critic"]["b2"][0] += 3.5  # seed 0: V_M(|C|+1)/(|C|+1) near 1, violations of both signs
    rng = np.random.default_rng(np.random.SeedSequence([13, 8]))
    member = rng.random((S, B, N)) < 0.6
    told = member & (rng.random((S, B, N)) < 0.7)
    a = told | (~member & (rng.random((S, B, N)) < 0.2))
    r = pgg_rewards(a.astype(float), 2.0)
    k = member.sum(-1)
    log_lam = np.array([0.4, 3.995])  # seed 1 exercises the clip at 4
    start = log_lam.copy()
    xs = np.arange(N + 1) / N * 2 - 1
    grads: dict[str, np.ndarray] = {}
    pgg._mediator_update(
        cfg, med, grads, (log_lam, np.zeros(S)), (k, member, told, r),
        mlp_forward(med["actor"], xs), beta,
    )  # fmt: skip
    x = lambda size: size / N * 2 - 1  # noqa: E731  (the notebook's NormalizingLayer)
    for s in range(S):
        rows, puns = [], []
        for g in range(B):
            size = int(k[s, g])
            members = np.flatnonzero(member[s, g])
            outside = np.flatnonzero(~member[s, g])
            adv = r[s, g, members].sum() - _mlp(med["critic"], s, x(size))[0]
            if arm == "constrained" and 1 < size < N:
                pun = r[s, g, outside].mean() - _mlp(med["critic"], s, x(size + 1))[0] / (size + 1)
                adv -= np.exp(start[s]) * pun
                puns += [pun] * size
            rows += [(size, int(told[s, g, i]), adv) for i in members]
        want = start[s]
        if len(puns) > 1:
            want += 0.01 * np.mean([p * 0.99 if p < 0 else p for p in puns])
            if s == 0:
                assert min(puns) < 0 < max(puns)
        assert log_lam[s] == pytest.approx(float(np.clip(want, -4, 4)), abs=1e-12)

        def loss(s: int = s, rows: list = rows) -> float:
            terms = []
            for size, act, adv in rows:
                lp = _log_softmax(_mlp(med["actor"], s, x(size)))
                terms.append(-adv * lp[act] - beta * -(np.exp(lp) * lp).sum())
            return float(np.mean(terms))

        for key, value in med["actor"].items():
            assert np.allclose(grads[f"actor.{key}"][s], _fd(loss, value)[s], atol=1e-6), key
    if arm == "constrained":
        assert log_lam[0] != start[0] and log_lam[1] <= 4.0
    else:
        assert np.array_equal(log_lam, start)


# --- training: Table 3's ordering at N = 3 ----------------------------------------------------

SEEDS = 4
SHORT = {"players": 3, "updates": 1500, "seeds": SEEDS, "batch": 64, "lr_actor": 1e-2}
"""A compressed schedule (entropy decays over the run; actor lr 1e-2 instead of 1e-3)."""


@pytest.fixture(scope="module")
def short_runs() -> dict[str, object]:
    return {arm: train(PGGConfig(arm=arm, **SHORT)) for arm in ("none", "naive", "constrained")}


def test_table3_ordering_n3(short_runs: dict) -> None:
    reward = {arm: learned_mediator(run).expected_mean_reward for arm, run in short_runs.items()}
    assert reward["constrained"].mean() > reward["naive"].mean() > reward["none"].mean()
    assert reward["none"].max() < 0.05  # agents defect without a mediator
    assert np.all(reward["naive"] < 0.7)  # two contributors + a free rider: 0.667 at most
    assert reward["constrained"].mean() > 0.75
    for arm in ("none", "naive", "constrained"):  # the logged last batch agrees on the ordering
        assert short_runs[arm].final_reward.shape == (SEEDS,)
    final = {arm: run.final_reward.mean() for arm, run in short_runs.items()}
    assert final["constrained"] > final["naive"] > final["none"]


def test_naive_mediator_free_rider(short_runs: dict) -> None:
    run = short_runs["naive"]
    lm = learned_mediator(run)
    assert np.all(run.mediator_policy[:, 1:] > 0.9)  # a coalition of 2 or 3 contributes
    for s in range(SEEDS):
        commit = run.agent_policy[s, :, 2]
        rider = int(np.argmin(commit))
        others = [i for i in range(3) if i != rider]
        assert commit[rider] < 0.2 < 0.8 < commit[others].min()
        assert lm.expected_rewards[s, rider] > lm.expected_rewards[s, others].max()


def test_constrained_multiplier_and_policy(short_runs: dict) -> None:
    run = short_runs["constrained"]
    assert np.all(run.log_lambda < 0)  # E is slack at the end: the multiplier fell from 1
    assert np.all(run.mediator_policy[:, 2] > 0.9)  # the full coalition contributes
    # the E constraint's lever (Table 3: pi^M(c | C=2) 0.774 vs the naive 0.993): a coalition
    # of two contributes less, so staying out is not better than joining
    naive_c2 = short_runs["naive"].mediator_policy[:, 1]
    assert run.mediator_policy[:, 1].mean() < naive_c2.mean() - 0.05
    assert run.final_commit.mean() > short_runs["naive"].final_commit.mean()
    assert np.isnan(short_runs["naive"].log_lambda).all()


def test_report_rows_name_the_paper(short_runs: dict) -> None:
    rows = table3(list(short_runs.values()))
    by = {(r.arm, r.row): r for r in rows}
    assert by[("naive", "reward")].paper == PAPER_TABLE3["naive"]["reward"][3] == 0.652
    assert by[("constrained", "policy_c2")].paper == 0.774
    assert ("none", "commit") not in by
    text = markdown(rows, "t")
    assert "0.891" in text and "π^M(c \\| C=2) (‡)" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    cells = {len(re.split(r"(?<!\\)\|", line)) for line in table}  # bars not escaped
    assert len(cells) == 1, "every row of the Markdown table has the header's columns"


def test_seeds_are_independent_streams() -> None:
    small = {"players": 3, "arm": "constrained", "updates": 30, "batch": 8}
    two = train(PGGConfig(seeds=2, **small))
    three = train(PGGConfig(seeds=3, **small))
    assert np.array_equal(two.mediator_policy, three.mediator_policy[:2])
    assert np.array_equal(two.final_reward, three.final_reward[:2])


def test_ic_constraint_runs() -> None:
    run = train(PGGConfig(players=4, arm="constrained", ic=True, updates=40, seeds=2, batch=16))
    assert np.isfinite(run.log_lambda_ic).all() and np.isfinite(run.mediator_policy).all()


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes,argument",
    [
        ({"players": 1}, "players"),
        ({"arm": "pareto"}, "arm"),
        ({"multiplier": 1.0}, "multiplier"),
        ({"updates": 0}, "updates"),
        ({"batch": -1}, "batch"),
        ({"seeds": 0}, "seeds"),
        ({"ic": 1}, "ic"),
        ({"arm": "none", "ic": True}, "ic"),
        ({"lr_actor": 0.0}, "lr_actor"),
        ({"entropy_end": 0.5}, "entropy_end"),
        ({"batch": 10**9}, "batch"),
    ],
)
def test_bad_config_names_the_argument(changes: dict, argument: str) -> None:
    with pytest.raises(MechsolveInputError) as e:
        train(PGGConfig(**changes))
    assert e.value.argument == argument


def test_bad_game_input_names_the_argument() -> None:
    with pytest.raises(MechsolveInputError, match="multiplier"):
        pgg_rewards([1, 0], 0.5)
    with pytest.raises(MechsolveInputError, match="contributions"):
        pgg_rewards([1, 2, 0], 2.0)
    with pytest.raises(MechsolveInputError, match="mediator_contribute"):
        expected_rewards(np.full((3, 3), 1 / 3), [0.5, 0.5], 2.0)
    with pytest.raises(MechsolveInputError, match="agent_policy"):
        expected_rewards(np.full((3, 3), 0.5), [0.5] * 3, 2.0)


# --- the CLI ------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from mechsolve.cli import simulate_pgg

    p = argparse.ArgumentParser()
    simulate_pgg.add_parser(p.add_subparsers())
    args = p.parse_args(["pgg", *argv])
    return int(args.func(args))


def test_cli_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "pgg"
    argv = ["--players", "3", "4", "--updates", "20", "--seeds", "2", "--batch", "8"]
    assert _cli([*argv, "--out", str(out), "--no-progress"]) == 0
    for name in ("summary.md", "pgg.json", "curves.png", "policy.png"):
        assert (out / name).stat().st_size > 0, name
    summary = (out / "summary.md").read_text()
    assert "0.652" in summary and "N = 4 (ours)" in summary
    record = json.loads((out / "pgg.json").read_text())
    assert len(record["runs"]) == 6
    assert {r["config"]["arm"] for r in record["runs"]} == {"none", "naive", "constrained"}


def test_cli_bad_input_names_the_argument(tmp_path: Path) -> None:
    with pytest.raises(MechsolveInputError, match="--updates"):
        _cli(["--updates", "0", "--out", str(tmp_path), "--no-progress", "--no-plot"])
    with pytest.raises(MechsolveInputError, match="--players"):
        _cli(["--players", "1", "--out", str(tmp_path), "--no-progress", "--no-plot"])


def test_the_exact_mediated_equilibrium_is_at_least_as_good_as_every_learned_mediator(
    short_runs: dict,
) -> None:
    """Issue 13's cross-check: the welfare-optimal mediated equilibrium of the same game (the
    exact LP of mechsolve.solver.incentives, with IC and E) is >= what each learned arm
    reaches, seed by seed, and the LP's own payoffs are re-checked as an equilibrium."""
    from mechsolve.solver.incentives import (
        anonymous_mediated_equilibrium,
        symmetric_public_goods_game,
    )

    for arm, run in short_runs.items():
        lm = learned_mediator(run)
        game = symmetric_public_goods_game(3, lm.multiplier)
        exact = anonymous_mediated_equilibrium(game, ic=True, e=True)
        assert exact.info.termination.reason.name == "OPTIMAL"
        assert exact.violation <= 1e-7
        # closed form: welfare = number of contributors <= N, and full commitment with the
        # mediator contributing for all (deviations deterred) is a mediated equilibrium
        assert exact.welfare == pytest.approx(3.0, abs=1e-9)
        assert np.all(lm.expected_welfare <= exact.welfare + 1e-9), arm
