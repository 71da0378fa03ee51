"""PettingZoo environments of the repeated mediated games of seed 000 section 4.

Each environment is a :class:`pettingzoo.utils.env.ParallelEnv` around one
:class:`~mechsolve.client.sim.scenarios.Scenario`: ``n`` agents (``"player_0"`` ...
``"player_{n-1}"``) play the same one-shot game once per step, for ``max_rounds`` steps (then
every agent is truncated; nobody is ever terminated).

- :class:`MediatedEnv`: any scenario;
- :class:`NormalFormEnv` (section 4.1, Figure 3): a normal-form game with equal action counts;
- :class:`MatchingEnv` (section 4.2, Figure 4): the matching game;
- :class:`RestaurantEnv` (section 4.3, Figure 5): the restaurant reservation game.

Mediator (section 2.1). With a mediator arm (``"pareto"``, section 2.4 eq. 3, or
``"punishing"``, section 2.3 eqs. 1-2) an agent submits an action of the original game and a
bit saying whether it delegates; the mediator may replace the action of every delegating agent
(never a non-delegator's) and everyone is paid the payoff of the joint action after mediation.
The action space is ``Discrete(2 * n_actions)`` laid out as in Table 1 (section 1): ``arm =
action + n_actions * delegate``, so ``0 .. k-1`` play action ``0 .. k-1`` and ``k .. 2k-1``
delegate with that action submitted. Arm ``"original"`` is the game without a mediator: the
action space is ``Discrete(n_actions)``. The central planner (section 4.3) is not an
environment: nobody chooses anything in it.

Rewards. Each step makes one backend call for the joint profile (population size 1) through
:meth:`Scenario.rewards`; an agent's reward is its payoff at the mediated outcome (for the
restaurant game the true congested utility ``U_k + alpha U_u``, while the mediators optimize
the known ``U_k``, as in section 4.3). Arm ``"original"`` needs no backend call.

Observation (the same layout for every agent and arm; a repeated one-shot game has no state
but the history, and the previous round is the cheap summary of it), a :class:`gymnasium.spaces.Dict`:

- ``"actions"``: ``MultiDiscrete([k + 1] * n)``, the actions every agent submitted last round;
- ``"delegated"``: ``MultiBinary(n)``, who delegated last round (all 0 under ``"original"``);
- ``"played"``: ``MultiDiscrete([k + 1] * n)``, the joint action after mediation (equal to
  ``"actions"`` under ``"original"``); in the matching game an agent the mediator left
  pointing at nobody (the Punishing Mediator's unmatching) shows ``k``;
- ``"reward"``: ``Box(lo, hi, (1,), float32)``, the agent's own reward last round; the
  bounds are the smallest and largest payoff of any agent in the game (widened to include 0),
  so every agent has an equal observation space (parameter sharing, vectorizing wrappers).

Before the first step ("nothing played yet") ``"actions"`` and ``"played"`` are all ``k``,
``"delegated"`` all 0 and ``"reward"`` 0. The joint arrays are shared, read-only, by every
agent's observation. ``gymnasium.spaces.flatten`` turns an observation into one vector.

Infos: at reset ``{"round": 0}``; after a step, per agent, ``"round"`` (rounds played, 1 ..
``max_rounds``), ``"action"`` (submitted), ``"delegated"``, ``"mediated_action"`` (the action
played after mediation; ``-1`` when the agent ends up with none, i.e. a matching pointer to
nobody, or when the backend's result does not say) and ``"changed"`` (the mediator replaced the
action).

Backends: anything with the mediator methods (:class:`~mechsolve.client.LocalMechsolve`, a
:class:`~mechsolve.client.MechsolveClient`, or :func:`~mechsolve.client.sim.backends.open_backend`'s
objects); the default is a new :class:`~mechsolve.client.LocalMechsolve`, which :meth:`close`
closes. A backend passed in is not closed by the environment.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo.utils.env import ParallelEnv

from mechsolve.solver.core import validation as v
from mechsolve.solver.core.errors import MechsolveError, MechsolveInputError
from mechsolve.solver.games.normal_form import NormalFormGame
from mechsolve.solver.structured.restaurant import RestaurantInstance

from .scenarios import (
    CENTRAL_PLANNER,
    ORIGINAL,
    MatchingScenario,
    NormalFormScenario,
    RestaurantScenario,
    Scenario,
)

__all__ = ["MatchingEnv", "MediatedEnv", "NormalFormEnv", "RestaurantEnv"]

Observation = dict[str, NDArray[Any]]

_BACKEND_METHOD: dict[type, str] = {
    NormalFormScenario: "mediate_batch",
    MatchingScenario: "mediate_matching",
    RestaurantScenario: "mediate_restaurant",
}
"""The backend method each known scenario calls in a mediated arm."""


class _Recorder:
    """The backend, forwarding every attribute; remembers the result of the last mediator call
    (``mediate*``) so a step can report the mediated actions without a second call."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.last: Any = None

    def __getattr__(self, name: str) -> Any:
        if name in ("backend", "last"):  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        attr = getattr(self.backend, name)
        if not name.startswith("mediate") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.last = attr(*args, **kwargs)
            return self.last

        return call


class MediatedEnv(ParallelEnv[str, Observation, int]):
    """A scenario of seed 000 section 4 as a repeated PettingZoo parallel game (module
    docstring: spaces, rewards, observation, infos).

    Args:
        scenario: a :class:`~mechsolve.client.sim.scenarios.Scenario`.
        arm: ``"original"`` (no mediator) or a mediator of ``scenario.arms`` (``"pareto"``,
            ``"punishing"``); not ``"central_planner"``.
        backend: the mediator backend; ``None``: a new ``LocalMechsolve()``.
        max_rounds: rounds per episode (truncation after them), >= 1.
        render_mode: ``None``, ``"ansi"`` (:meth:`render` returns the last round as text) or
            ``"human"`` (prints it).

    Raises:
        MechsolveInputError: naming the bad argument.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "mechsolve_mediated_v0",
        "render_modes": ["human", "ansi"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: Scenario,
        arm: str = "pareto",
        *,
        backend: Any = None,
        max_rounds: int = 100,
        render_mode: str | None = None,
    ) -> None:
        fn = type(self).__name__
        for attr in ("n_agents", "n_actions", "arms", "rewards"):
            if not hasattr(scenario, attr):
                raise MechsolveInputError(
                    fn, "scenario", f"must be a Scenario (it has no `{attr}`); got {scenario!r}"
                )
        self.scenario = scenario
        n = v.positive_int(fn, "scenario.n_agents", scenario.n_agents)
        k = v.positive_int(fn, "scenario.n_actions", scenario.n_actions)
        arms = tuple(a for a in scenario.arms if a != CENTRAL_PLANNER)
        self.arm: str = v.choice(fn, "arm", arm, arms)
        self.mediated = self.arm != ORIGINAL
        self.max_rounds = v.positive_int(fn, "max_rounds", max_rounds)
        if render_mode is not None:
            v.choice(fn, "render_mode", render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self._owns_backend = backend is None
        if backend is None:
            from ..local import LocalMechsolve

            backend = LocalMechsolve()
        method = _BACKEND_METHOD.get(type(scenario))
        if self.mediated and method is not None and not callable(getattr(backend, method, None)):
            raise MechsolveInputError(
                fn,
                "backend",
                f"must have the mediator method `{method}` (e.g. LocalMechsolve or "
                f"MechsolveClient); got {type(backend).__name__}",
            )
        self.backend = backend
        self._recorder = _Recorder(backend)
        self.n_agents, self.n_actions = n, k
        self.possible_agents: list[str] = [f"player_{i}" for i in range(n)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        lo, hi = self._reward_bounds()
        self._action_spaces = {
            a: spaces.Discrete(2 * k if self.mediated else k) for a in self.possible_agents
        }
        self._observation_spaces = {
            a: spaces.Dict(
                {
                    "actions": spaces.MultiDiscrete([k + 1] * n),
                    "delegated": spaces.MultiBinary(n),
                    "played": spaces.MultiDiscrete([k + 1] * n),
                    "reward": spaces.Box(lo, hi, (1,), dtype=np.float32),
                }
            )
            for a in self.possible_agents
        }
        self.round = 0
        self._joint = self._nothing_played()
        self._rewards = np.zeros(n)

    # -- the ParallelEnv API ------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict[str, Any]]]:
        """Start an episode: nothing played yet, round 0. ``seed`` seeds every agent's action
        and observation space (``seed + i`` for agent i), so sampled actions replay."""
        if seed is not None:
            seed = v.seed(f"{type(self).__name__}.reset", seed)
            for i, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(seed + i)
                self._observation_spaces[agent].seed(seed + i)
        self.agents = list(self.possible_agents)
        self.round = 0
        self._joint = self._nothing_played()
        self._rewards = np.zeros(self.n_agents)
        return self._observations(), {a: {"round": 0} for a in self.agents}

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, Observation],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one round: every live agent's arm (``action + n_actions * delegate``, or just
        the action under ``"original"``); one backend call for the joint profile."""
        fn = f"{type(self).__name__}.step"
        if not self.agents:
            raise MechsolveError(f"{fn}(): no episode is running; call reset() first")
        arms = self._arms(fn, actions)
        k = self.n_actions
        act, delegate = arms % k, arms >= k
        self._recorder.last = None
        rewards = np.asarray(
            self.scenario.rewards(self._recorder, self.arm, act[None], delegate[None]),
            dtype=np.float64,
        ).reshape(self.n_agents)
        played = self._played(act, self._recorder.last)
        self._recorder.last = None
        self.round += 1
        self._rewards = rewards
        self._joint = {
            "actions": _readonly(act),
            "delegated": _readonly(delegate.astype(np.int8)),
            "played": _readonly(np.where(played < 0, k, played)),
        }
        agents = self.agents
        infos = {
            a: {
                "round": self.round,
                "action": int(act[i]),
                "delegated": bool(delegate[i]),
                "mediated_action": int(played[i]),
                "changed": bool(played[i] != act[i]),
            }
            for a, i in ((a, self._index[a]) for a in agents)
        }
        observations = self._observations()
        reward_dict = {a: float(rewards[self._index[a]]) for a in agents}
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, self.round >= self.max_rounds)
        if self.round >= self.max_rounds:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, reward_dict, terminations, truncations, infos

    def render(self) -> str | None:
        """The last round as text (``"ansi"``: returned, ``"human"``: printed)."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode."
            )
            return None
        k = self.n_actions
        if self.round == 0:
            text = f"{self.metadata['name']} ({self.arm}): nothing played yet"
        else:
            cells = []
            for i in range(self.n_agents):
                a, p = int(self._joint["actions"][i]), int(self._joint["played"][i])
                plus = "+" if self._joint["delegated"][i] else ""
                moved = "" if a == p else f"->{p if p < k else '-'}"
                cells.append(f"{a}{plus}{moved}:{self._rewards[i]:.3g}")
            text = (
                f"{self.metadata['name']} ({self.arm}) round {self.round}/{self.max_rounds}: "
                + " ".join(cells)
                + f" | total {self._rewards.sum():.4g}"
            )
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Close the backend if the environment created it."""
        if self._owns_backend:
            close = getattr(self.backend, "close", None)
            if callable(close):
                close()

    # -- helpers ------------------------------------------------------------------------------
    def _nothing_played(self) -> dict[str, NDArray[Any]]:
        n, k = self.n_agents, self.n_actions
        none = _readonly(np.full(n, k, dtype=np.int64))
        return {"actions": none, "delegated": _readonly(np.zeros(n, np.int8)), "played": none}

    def _observations(self) -> dict[str, Observation]:
        return {
            a: {
                **self._joint,
                "reward": np.array([self._rewards[self._index[a]]], dtype=np.float32),
            }
            for a in self.agents
        }

    def _arms(self, fn: str, actions: Any) -> NDArray[np.int64]:
        if not isinstance(actions, dict):
            raise MechsolveInputError(
                fn, "actions", f"must be a dict agent -> action; got {type(actions).__name__}"
            )
        extra = sorted(set(actions) - set(self.agents), key=str)
        if extra:
            raise MechsolveInputError(
                fn, f"actions[{extra[0]!r}]", f"is not a live agent (live: {self.agents})"
            )
        size = 2 * self.n_actions if self.mediated else self.n_actions
        arms = np.empty(self.n_agents, dtype=np.int64)
        for agent in self.agents:
            if agent not in actions:
                raise MechsolveInputError(fn, f"actions[{agent!r}]", "is missing")
            a = actions[agent]
            if isinstance(a, np.ndarray) and a.shape == ():
                a = a.item()
            if isinstance(a, bool) or not isinstance(a, int | np.integer) or not 0 <= a < size:
                raise MechsolveInputError(
                    fn, f"actions[{agent!r}]", f"must be an integer in [0, {size}); got {a!r}"
                )
            arms[self._index[agent]] = int(a)
        return arms

    def _played(self, act: NDArray[np.int64], result: Any) -> NDArray[np.int64]:
        """The joint action after mediation in the agents' action indices (``-1``: none)."""
        n = self.n_agents
        if not self.mediated:
            return act.copy()
        after = getattr(result, "actions_after", None)
        if after is None or np.size(after) != n:
            return np.full(n, -1, dtype=np.int64)
        after = np.asarray(after, dtype=np.int64).reshape(n)
        if isinstance(self.scenario, MatchingScenario):  # a pointer at j is action j - (j > i)
            after = np.where(after < 0, -1, after - (after > np.arange(n)))
        return after

    def _reward_bounds(self) -> tuple[np.float32, np.float32]:
        """The smallest and largest payoff of any agent (with 0, the value before round 1);
        unbounded for a scenario this module does not know."""
        sc = self.scenario
        if isinstance(sc, NormalFormScenario):
            payoffs = np.asarray(sc.game.payoffs)
        elif isinstance(sc, MatchingScenario):  # a mutual pair pays R[i, j], anyone else 0
            payoffs = np.asarray(sc.rewards_matrix, dtype=np.float64)
        elif isinstance(sc, RestaurantScenario):  # u_i(r) * min(1, c_r / n_r), u >= 0
            payoffs = sc.instance.true_utilities
        else:
            return np.float32(-np.inf), np.float32(np.inf)
        # float32 rounding is monotone, so a float64 reward in [lo, hi] stays in the box
        return np.float32(min(payoffs.min(), 0.0)), np.float32(max(payoffs.max(), 0.0))


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


class NormalFormEnv(MediatedEnv):
    """A normal-form game with the same number of actions ``k`` for every player, repeated
    (seed 000 section 4.1, Figure 3; Table 1 for the mediated prisoner's dilemma): rewards are
    the payoffs at the mediated joint action (Pareto Mediator eq. 3, Punishing Mediator eqs.
    1-2, solved exactly by the backend's ``mediate_batch``).

    Args:
        game: a :class:`~mechsolve.solver.games.normal_form.NormalFormGame` with equal action
            counts, e.g. ``random_game([3, 3, 3], seed=0)``.
        arm, backend, max_rounds, render_mode: as in :class:`MediatedEnv`.
    """

    metadata: ClassVar[dict[str, Any]] = {
        **MediatedEnv.metadata,
        "name": "mechsolve_normal_form_v0",
    }

    def __init__(
        self,
        game: NormalFormGame,
        arm: str = "pareto",
        *,
        backend: Any = None,
        max_rounds: int = 100,
        render_mode: str | None = None,
    ) -> None:
        fn = type(self).__name__
        if not isinstance(game, NormalFormGame):
            raise MechsolveInputError(
                fn, "game", f"must be a NormalFormGame; got {type(game).__name__}"
            )
        if len(set(game.num_actions)) != 1:
            raise MechsolveInputError(
                fn, "game", f"needs equal action counts; got {game.num_actions}"
            )
        super().__init__(
            NormalFormScenario(game),
            arm,
            backend=backend,
            max_rounds=max_rounds,
            render_mode=render_mode,
        )


class MatchingEnv(MediatedEnv):
    """The matching game, repeated (seed 000 section 4.2, Figures 2 left and 4): ``n`` agents
    each point at another agent (``n - 1`` actions: action ``a`` of agent ``i`` points at ``a``
    if ``a < i`` else ``a + 1``); a mutual pair ``(i, j)`` pays i ``R[i, j]``, anyone else 0.
    The Pareto Mediator matches unmatched delegators among themselves; the Punishing Mediator
    unmatches delegators matched with a non-delegator (the central planner's matching when
    everyone delegates).

    Args:
        rewards_matrix: ``R``, ``(n, n)``, ``n >= 2``, finite and ``>= 0`` (the diagonal is
            never paid), e.g. ``random_matching_instance(6, seed=0)``.
        arm, backend, max_rounds, render_mode: as in :class:`MediatedEnv`.
    """

    metadata: ClassVar[dict[str, Any]] = {**MediatedEnv.metadata, "name": "mechsolve_matching_v0"}

    def __init__(
        self,
        rewards_matrix: Any,
        arm: str = "pareto",
        *,
        backend: Any = None,
        max_rounds: int = 100,
        render_mode: str | None = None,
    ) -> None:
        fn = type(self).__name__
        r = v.float_array(fn, "rewards_matrix", rewards_matrix, ndim=2, min_value=0.0)
        if r.shape[0] != r.shape[1] or r.shape[0] < 2:
            raise MechsolveInputError(
                fn, "rewards_matrix", f"must be square (n, n) with n >= 2; got shape {r.shape}"
            )
        super().__init__(
            MatchingScenario(r),
            arm,
            backend=backend,
            max_rounds=max_rounds,
            render_mode=render_mode,
        )


class RestaurantEnv(MediatedEnv):
    """The restaurant reservation game, repeated (seed 000 section 4.3, Figures 1 and 5): each
    agent reserves one of the restaurants (``n_actions = n_restaurants``); at restaurant ``r``
    with ``n_r`` reservations and capacity ``c_r`` an agent gets ``u_i(r) * min(1, c_r / n_r)``.
    The mediators optimize the platform's known utilities ``U_k`` (Pareto: the assignment
    problem eq. 4 over the free tables; Punishing: eq. 4 with ``u`` if everyone delegates, else
    everyone to a non-delegator's restaurant); the reward is the true utility ``U_k + alpha
    U_u``.

    Args:
        instance: a :class:`~mechsolve.solver.structured.restaurant.RestaurantInstance`, e.g.
            ``random_restaurant_instance(8, 4, max_capacity=3, alpha=2.0, seed=0)``.
        arm, backend, max_rounds, render_mode: as in :class:`MediatedEnv`.
    """

    metadata: ClassVar[dict[str, Any]] = {
        **MediatedEnv.metadata,
        "name": "mechsolve_restaurant_v0",
    }

    def __init__(
        self,
        instance: RestaurantInstance,
        arm: str = "pareto",
        *,
        backend: Any = None,
        max_rounds: int = 100,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(instance, RestaurantInstance):
            raise MechsolveInputError(
                type(self).__name__,
                "instance",
                f"must be a RestaurantInstance; got {type(instance).__name__}",
            )
        super().__init__(
            RestaurantScenario(instance),
            arm,
            backend=backend,
            max_rounds=max_rounds,
            render_mode=render_mode,
        )
