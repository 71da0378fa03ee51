"""Learning agents (seed 000 section 4 and the experiments built on it), vectorized over ``P``
independent populations of ``n`` agents choosing among ``A`` arms each round.

In a mediated game an agent's arm is its mediated strategy ``action + k * delegate`` (the
seed's Table 1 layout: the undelegated actions first), so ``A = 2k``; in the original game
``A = k``. Every learner has the same small interface (:class:`Learner`): ``act`` (optionally
restricted to the arms available this round), ``update`` with the rewards of the arms just
played, and ``state``/``load_state`` for checkpoints. All randomness comes from the learner's
own seeded generator, so a seed replays exactly.

The controls the seed leaves open (RESEARCH.md, section 1) are parameters:

- :class:`EpsilonSchedule`: ``epsilon_t`` for round ``t >= 1`` at ``s = t0 + t - 1``:
  ``"1/t"``: ``1/s``; ``"c/t"``: ``min(1, c/s)``; ``"1/sqrt(t)"``: ``1/sqrt(s)``;
  ``"constant"``: ``c``. The seed's learners are ``"1/t"`` with ``t0 = 1`` (round 1 is
  uniformly random).
- initial values of unplayed arms, the tie-break among the best arms (``"random"`` or
  ``"first"``: the lowest index, i.e. undelegated actions first), and sample averages
  (``step_size=None``) or a constant step size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveInputError

SCHEDULES = ("1/t", "c/t", "1/sqrt(t)", "constant")
TIE_BREAKS = ("random", "first")


class Learner(Protocol):
    """What the runner and the PettingZoo wrappers need from a population of learners."""

    populations: int
    n_agents: int
    n_arms: int

    def act(self, available: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        """Arms for this round, shape ``(P, n)``, among the ``available`` arms (all if
        ``None``); advances the round counter."""
        ...

    def update(self, arms: NDArray[np.int64], rewards: NDArray[np.float64]) -> None:
        """Learn from the ``rewards`` (shape ``(P, n)``) of the ``arms`` just played."""
        ...

    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly (arrays, the round, the generator)."""
        ...

    def load_state(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class EpsilonSchedule:
    """``epsilon_t`` (module docstring): ``kind`` in :data:`SCHEDULES`, ``c`` its constant,
    ``t0`` the schedule's time in round 1."""

    kind: str = "1/t"
    c: float = 1.0
    t0: int = 1

    def __post_init__(self) -> None:
        fn = "EpsilonSchedule"
        v.choice(fn, "kind", self.kind, SCHEDULES)
        v.real(fn, "c", self.c, min_value=0.0)
        v.positive_int(fn, "t0", self.t0)
        if self.kind == "constant" and self.c > 1.0:
            raise MechsolveInputError(
                fn, "c", f"must be a probability for 'constant'; got {self.c}"
            )

    def __call__(self, t: int) -> float:
        s = self.t0 + t - 1
        if self.kind == "1/t":
            return 1.0 / s
        if self.kind == "c/t":
            return min(1.0, self.c / s)
        if self.kind == "1/sqrt(t)":
            return 1.0 / math.sqrt(s)
        return self.c


def _mask(fn: str, available: Any, n_arms: int) -> NDArray[np.bool_]:
    if available is None:
        return np.ones(n_arms, dtype=bool)
    mask = v.bool_array(fn, "available", available, shape=(n_arms,))
    if not mask.any():
        raise MechsolveInputError(fn, "available", "must allow at least one arm")
    return mask


def _rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return dict(rng.bit_generator.state)


class _Population:
    """Shared bookkeeping: sizes, generator, round counter, exploration."""

    def __init__(self, fn: str, populations: int, n_agents: int, n_arms: int, seed: Any) -> None:
        self.populations = v.positive_int(fn, "populations", populations)
        self.n_agents = v.positive_int(fn, "n_agents", n_agents)
        self.n_arms = v.positive_int(fn, "n_arms", n_arms)
        self.rng = v.rng(fn, seed)
        self.t = 0
        self._fn = fn

    @property
    def shape(self) -> tuple[int, int]:
        return (self.populations, self.n_agents)

    def _random_arms(self, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        """A uniformly random available arm per agent."""
        allowed = np.flatnonzero(mask)
        return allowed[self.rng.integers(0, len(allowed), self.shape)].astype(np.int64)

    def _best(self, values: NDArray[np.float64], mask: NDArray[np.bool_], tie_break: str) -> Any:
        """The highest-valued available arm per agent (ties: random or the lowest index)."""
        vals = np.where(mask, values, -np.inf)
        if tie_break == "first":
            return np.argmax(vals, axis=-1)
        best = vals == vals.max(axis=-1, keepdims=True)
        noise = self.rng.random(vals.shape)
        return np.argmax(np.where(best, noise, -1.0), axis=-1)

    def _check_update(self, arms: Any, rewards: Any) -> tuple[NDArray[np.int64], Any]:
        a = v.int_array(self._fn, "arms", arms, shape=self.shape, low=0, high=self.n_arms)
        r = v.float_array(self._fn, "rewards", rewards, shape=self.shape)
        return a, r

    def _common_state(self) -> dict[str, Any]:
        return {"t": self.t, "rng": _rng_state(self.rng)}

    def _load_common(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self.rng.bit_generator.state = state["rng"]


class EpsilonGreedy(_Population):
    """``P x n`` epsilon-greedy agents over ``A`` arms.

    Round ``t``: with probability ``epsilon_t`` an agent plays a uniformly random available
    arm, otherwise an available arm of highest value (``tie_break``). Values start at
    ``initial_value`` (0, as in Sutton and Barto's simple bandit algorithm) and move to the
    sample average of the arm's rewards (``step_size=None``) or by a constant step
    ``Q <- Q + step_size (r - Q)``.
    """

    def __init__(
        self,
        populations: int,
        n_agents: int,
        n_arms: int,
        seed: int | np.random.Generator | None = None,
        *,
        epsilon: EpsilonSchedule | None = None,
        initial_value: float = 0.0,
        tie_break: str = "random",
        step_size: float | None = None,
    ) -> None:
        fn = "EpsilonGreedy"
        super().__init__(fn, populations, n_agents, n_arms, seed)
        self.epsilon = epsilon if epsilon is not None else EpsilonSchedule()
        self.initial_value = v.real(fn, "initial_value", initial_value)
        self.tie_break = v.choice(fn, "tie_break", tie_break, TIE_BREAKS)
        self.step_size = (
            None
            if step_size is None
            else v.real(fn, "step_size", step_size, min_value=0.0, max_value=1.0)
        )
        self.values = np.full((*self.shape, self.n_arms), self.initial_value)
        self.counts = np.zeros((*self.shape, self.n_arms), dtype=np.int64)

    def act(self, available: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        mask = _mask(self._fn, available, self.n_arms)
        self.t += 1
        greedy = self._best(self.values, mask, self.tie_break)
        explore = self.rng.random(self.shape) < self.epsilon(self.t)
        return np.where(explore, self._random_arms(mask), greedy).astype(np.int64)

    def update(self, arms: NDArray[np.int64], rewards: NDArray[np.float64]) -> None:
        a, r = self._check_update(arms, rewards)
        p, i = np.indices(a.shape)
        self.counts[p, i, a] += 1
        step = 1.0 / self.counts[p, i, a] if self.step_size is None else self.step_size
        self.values[p, i, a] += step * (r - self.values[p, i, a])

    def state(self) -> dict[str, Any]:
        return {**self._common_state(), "values": self.values.copy(), "counts": self.counts.copy()}

    def load_state(self, state: dict[str, Any]) -> None:
        self._load_common(state)
        self.values = np.array(state["values"], dtype=np.float64)
        self.counts = np.array(state["counts"], dtype=np.int64)


class QLearning(_Population):
    """Tabular Q-learning with epsilon-greedy exploration over ``n_states`` states.

    ``Q(s, a) <- Q(s, a) + step_size (r + gamma max_a' Q(s', a') - Q(s, a))``, where ``s`` is
    the state the agent acted in and ``s'`` the next one (``set_state``). In a repeated
    one-shot game there is one state (the default) and ``gamma = 0`` makes it an
    exponentially-weighted bandit; PettingZoo observations or an agent's last outcome can be
    the state.
    """

    def __init__(
        self,
        populations: int,
        n_agents: int,
        n_arms: int,
        seed: int | np.random.Generator | None = None,
        *,
        n_states: int = 1,
        step_size: float = 0.1,
        gamma: float = 0.0,
        epsilon: EpsilonSchedule | None = None,
        initial_value: float = 0.0,
        tie_break: str = "random",
    ) -> None:
        fn = "QLearning"
        super().__init__(fn, populations, n_agents, n_arms, seed)
        self.n_states = v.positive_int(fn, "n_states", n_states)
        self.step_size = v.real(fn, "step_size", step_size, min_value=0.0, max_value=1.0)
        self.gamma = v.real(fn, "gamma", gamma, min_value=0.0, max_value=1.0)
        self.epsilon = epsilon if epsilon is not None else EpsilonSchedule()
        self.tie_break = v.choice(fn, "tie_break", tie_break, TIE_BREAKS)
        init = v.real(fn, "initial_value", initial_value)
        self.q = np.full((*self.shape, self.n_states, self.n_arms), init)
        self.states = np.zeros(self.shape, dtype=np.int64)

    def set_state(self, states: Any) -> None:
        """The states the agents are in now, shape ``(P, n)``."""
        self.states = v.int_array(
            self._fn, "states", states, shape=self.shape, low=0, high=self.n_states
        )

    def act(self, available: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        mask = _mask(self._fn, available, self.n_arms)
        self.t += 1
        p, i = np.indices(self.shape)
        greedy = self._best(self.q[p, i, self.states], mask, self.tie_break)
        explore = self.rng.random(self.shape) < self.epsilon(self.t)
        self._acted_in = self.states.copy()
        return np.where(explore, self._random_arms(mask), greedy).astype(np.int64)

    def update(self, arms: NDArray[np.int64], rewards: NDArray[np.float64]) -> None:
        a, r = self._check_update(arms, rewards)
        p, i = np.indices(a.shape)
        s = getattr(self, "_acted_in", self.states)
        target = r + self.gamma * self.q[p, i, self.states].max(axis=-1)
        self.q[p, i, s, a] += self.step_size * (target - self.q[p, i, s, a])

    def state(self) -> dict[str, Any]:
        return {**self._common_state(), "q": self.q.copy(), "states": self.states.copy()}

    def load_state(self, state: dict[str, Any]) -> None:
        self._load_common(state)
        self.q = np.array(state["q"], dtype=np.float64)
        self.states = np.array(state["states"], dtype=np.int64)


class SoftmaxPolicyGradient(_Population):
    """A softmax policy over arms trained by REINFORCE with a running-average baseline.

    ``pi = softmax(theta)`` over the available arms; after playing ``a`` with reward ``r``:
    ``theta <- theta + learning_rate (r - b) (onehot(a) - pi)`` and
    ``b <- b + baseline_rate (r - b)`` (one baseline per agent).
    """

    def __init__(
        self,
        populations: int,
        n_agents: int,
        n_arms: int,
        seed: int | np.random.Generator | None = None,
        *,
        learning_rate: float = 0.1,
        baseline_rate: float = 0.1,
    ) -> None:
        fn = "SoftmaxPolicyGradient"
        super().__init__(fn, populations, n_agents, n_arms, seed)
        self.learning_rate = v.real(fn, "learning_rate", learning_rate, min_value=0.0)
        self.baseline_rate = v.real(
            fn, "baseline_rate", baseline_rate, min_value=0.0, max_value=1.0
        )
        self.theta = np.zeros((*self.shape, self.n_arms))
        self.baseline = np.zeros(self.shape)
        self._mask_now = np.ones(self.n_arms, dtype=bool)

    def policy(self, available: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
        """Action probabilities, shape ``(P, n, A)`` (0 on unavailable arms)."""
        mask = _mask(self._fn, available, self.n_arms)
        logits = np.where(mask, self.theta, -np.inf)
        logits = logits - logits.max(axis=-1, keepdims=True)
        w = np.exp(logits)
        return np.asarray(w / w.sum(axis=-1, keepdims=True))

    def act(self, available: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        self._mask_now = _mask(self._fn, available, self.n_arms)
        self.t += 1
        pi = self.policy(self._mask_now)
        u = self.rng.random((*self.shape, 1))
        arms = (pi.cumsum(axis=-1) < u).sum(axis=-1)
        return np.minimum(arms, self.n_arms - 1).astype(np.int64)

    def update(self, arms: NDArray[np.int64], rewards: NDArray[np.float64]) -> None:
        a, r = self._check_update(arms, rewards)
        pi = self.policy(self._mask_now)
        onehot = np.zeros_like(pi)
        p, i = np.indices(a.shape)
        onehot[p, i, a] = 1.0
        self.theta += self.learning_rate * (r - self.baseline)[..., None] * (onehot - pi)
        self.baseline += self.baseline_rate * (r - self.baseline)

    def state(self) -> dict[str, Any]:
        return {
            **self._common_state(),
            "theta": self.theta.copy(),
            "baseline": self.baseline.copy(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._load_common(state)
        self.theta = np.array(state["theta"], dtype=np.float64)
        self.baseline = np.array(state["baseline"], dtype=np.float64)


LEARNERS = ("epsilon-greedy", "q-learning", "policy-gradient")


@dataclass(frozen=True)
class LearnerSpec:
    """How to make a population of learners: the kind and its settings (one record, so a run
    can be described, saved and replayed). ``epsilon``/``initial_value``/``tie_break`` apply
    to the epsilon-greedy kinds; ``step_size`` is the constant step (``None``: sample
    averages; Q-learning's default 0.1); ``learning_rate`` the policy gradient's."""

    kind: str = "epsilon-greedy"
    epsilon: EpsilonSchedule = EpsilonSchedule()
    initial_value: float = 0.0
    tie_break: str = "random"
    step_size: float | None = None
    gamma: float = 0.0
    learning_rate: float = 0.1

    def __post_init__(self) -> None:
        v.choice("LearnerSpec", "kind", self.kind, LEARNERS)

    def make(self, populations: int, n_agents: int, n_arms: int, seed: Any) -> Learner:
        if self.kind == "epsilon-greedy":
            return EpsilonGreedy(
                populations, n_agents, n_arms, seed, epsilon=self.epsilon,
                initial_value=self.initial_value, tie_break=self.tie_break,
                step_size=self.step_size,
            )  # fmt: skip
        if self.kind == "q-learning":
            return QLearning(
                populations, n_agents, n_arms, seed, epsilon=self.epsilon,
                initial_value=self.initial_value, tie_break=self.tie_break,
                step_size=0.1 if self.step_size is None else self.step_size, gamma=self.gamma,
            )  # fmt: skip
        return SoftmaxPolicyGradient(
            populations, n_agents, n_arms, seed, learning_rate=self.learning_rate
        )

    def describe(self) -> str:
        if self.kind == "policy-gradient":
            return f"softmax policy gradient (learning rate {self.learning_rate})"
        e = self.epsilon
        eps = e.kind.replace("c", f"{e.c:g}") if e.kind == "c/t" else e.kind
        eps = f"{e.c:g}" if e.kind == "constant" else eps
        values = "sample averages" if self.step_size is None else f"step {self.step_size:g}"
        kind = "Q-learning" if self.kind == "q-learning" else "epsilon-greedy"
        return (
            f"{kind}, epsilon {eps} from t0={e.t0}, initial value {self.initial_value:g}, "
            f"{self.tie_break} ties, {values}"
        )


REGIMES: dict[str, LearnerSpec] = {
    "paper": LearnerSpec(),
    "undelegated-start": LearnerSpec(epsilon=EpsilonSchedule("1/t", t0=100), tie_break="first"),
}
"""Named settings. ``paper``: the seed's literal description (epsilon 1/t from round 1, values
0, random ties): round 1 is uniformly random, so half the agents start delegating.
``undelegated-start``: agents open on arm 0 (undelegated, first-index ties) and explore
little early (epsilon_1 = 0.01): the regime in which the seed's Figure 3 orderings appear
(RESEARCH.md, section 1)."""
