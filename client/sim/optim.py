"""The one optimiser of the learning simulations: Adam over per-seed parameter arrays (seed
001's planning agent, :mod:`.amd`, and seed 004's mediated agents, :mod:`.pgg`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Params = dict[str, NDArray[np.float64]]


class Adam:
    """``torch.optim.Adam`` (betas 0.9/0.999, eps 1e-8, L2 weight decay added to the gradient)
    over all parameters at once, each group with its own learning rate and optional
    elementwise gradient clipping (``clip_grad_value_``, before the decay is added).
    ``maximize=True`` ascends (torch's ``maximize``: the gradient is negated before the decay).
    In :mod:`.amd` it stands for TensorFlow's ``AdamOptimizer`` (the same defaults).

    ``params`` maps names to (seeds, ...) arrays; the constructor replaces every entry by a
    view into one flat (seeds, P) buffer, which :meth:`step` updates in place, so each seed's
    parameters move with its own moments only.
    """

    def __init__(
        self,
        params: Params,
        lr: dict[str, float],
        weight_decay: float = 0.0,
        clip: dict[str, float] | None = None,
        *,
        maximize: bool = False,
    ) -> None:
        seeds = next(iter(params.values())).shape[0]
        sizes = [x[0].size for x in params.values()]
        self.flat = np.concatenate([x.reshape(seeds, -1) for x in params.values()], 1)
        self.lr = np.concatenate([np.full(n, lr[k]) for k, n in zip(params, sizes, strict=True)])
        bounds = clip or {}
        self.clip = np.concatenate(
            [np.full(n, bounds.get(k, np.inf)) for k, n in zip(params, sizes, strict=True)]
        )
        self.names, self.wd, self.t = list(params), weight_decay, 0
        self.sign = -1.0 if maximize else 1.0
        offset = 0
        for k, n in zip(self.names, sizes, strict=True):
            params[k] = self.flat[:, offset : offset + n].reshape(params[k].shape)
            offset += n
        self.m = np.zeros_like(self.flat)
        self.v = np.zeros_like(self.flat)

    def step(self, grads: Params) -> None:
        seeds = self.flat.shape[0]
        g = np.concatenate([grads[k].reshape(seeds, -1) for k in self.names], 1)
        g = self.sign * np.clip(g, -self.clip, self.clip) + self.wd * self.flat
        self.t += 1
        self.m *= 0.9
        self.m += 0.1 * g
        self.v *= 0.999
        self.v += 0.001 * g * g
        c1, c2 = 1 - 0.9**self.t, 1 - 0.999**self.t
        self.flat -= self.lr / c1 * self.m / (np.sqrt(self.v / c2) + 1e-8)
