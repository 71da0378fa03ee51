"""``mechsolve.v1.AuctionService``: revenue-maximizing auction LPs, audits and evaluations
(seed 004 first study, SPEC 6)."""

from __future__ import annotations

from typing import Any

from mechsolve.solver import auctions as au
from mechsolve.v1 import auctions_pb2 as pb

from .declare import Rpc

_GRID = au.uniform_grid(2, 3)


def _second_price() -> dict[str, Any]:
    prior = au.uniform_grid(1, 4)
    allocation, payment = au.second_price_tables([prior, prior])
    return {"allocation": allocation, "payment": payment, "priors": prior}


def _menu() -> au.Menu:
    return au.optimal_menu(au.uniform_grid(2, 4)).menu()


RPCS = (
    Rpc(
        au.optimal_menu,
        pb.OptimalMenuRequest,
        example=lambda: {"prior": _GRID},
    ),
    Rpc(
        au.optimal_dsic_auction,
        pb.OptimalDsicAuctionRequest,
        example=lambda: {"priors": _GRID, "n_bidders": 2},
    ),
    Rpc(
        au.optimal_bic_auction,
        pb.OptimalBicAuctionRequest,
        example=lambda: {"priors": [_GRID, au.uniform_grid(2, 3, hi=2.0)]},
    ),
    Rpc(
        au.regret_budget_auction,
        pb.RegretBudgetAuctionRequest,
        example=lambda: {"priors": _GRID, "n_bidders": 2, "epsilon": 1e-3},
    ),
    Rpc(
        au.regret_budget_curve,
        pb.RegretBudgetCurveRequest,
        example=lambda: {"priors": _GRID, "n_bidders": 2, "epsilons": [0.0, 0.01]},
    ),
    Rpc(
        au.audit_mechanism,
        pb.AuditMechanismRequest,
        example=_second_price,
    ),
    Rpc(
        au.continuous_menu_revenue,
        pb.ContinuousMenuRevenueRequest,
        example=lambda: {"menu": _menu(), "tol": 1e-3},
    ),
    Rpc(
        au.sampled_menu_revenue,
        pb.SampledMenuRevenueRequest,
        example=lambda: {"menu": _menu(), "samples": [[0.2, 0.9], [0.7, 0.7], [0.95, 0.1]]},
    ),
    Rpc(
        au.rounded_evaluation,
        pb.EvaluateRoundedBidsRequest,
        example=lambda: {**_second_price(), "n_samples": 2000, "seed": 5},
    ),
    Rpc(
        au.extrapolate_optimum,
        pb.ExtrapolateOptimumRequest,
        example=lambda: {"n_items": 1, "grids": (4, 8)},
    ),
)
