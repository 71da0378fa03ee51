"""Revenue-maximizing auctions as linear programs, with exact incentive audits (SPEC section 6;
seed 004, first study).

Solvers (HiGHS, utility variables, constraint generation, verified results):
:func:`optimal_menu` (one bidder), :func:`optimal_dsic_auction`, :func:`optimal_bic_auction`,
:func:`regret_budget_auction` / :func:`regret_budget_curve`.
Priors: :func:`uniform_grid`, :func:`discrete_marginals`, :func:`empirical_prior`,
:func:`type_set`.
Evaluation: :func:`continuous_menu_revenue`, :func:`sampled_menu_revenue`,
:func:`rounded_evaluation`, :func:`richardson`, :func:`extrapolate_optimum`; the comparison
with the learned auctions (seed 004, Table 1): :func:`learned_auction_comparison`.
Audit: :func:`audit_mechanism`, :func:`audit_callable`, :func:`audit_result`; reference
auctions :func:`first_price_tables`, :func:`second_price_tables`.
"""

if __name__ != "mechsolve.solver.auctions":  # pragma: no cover - the guard itself
    raise ImportError(f"import mechsolve.solver.auctions, not {__name__!r} (one copy of its types)")


from .audit import REGRET_CONVENTION, audit_callable, audit_mechanism, audit_result
from .comparison import ComparisonRow, learned_auction_comparison
from .evaluation import (
    continuous_menu_revenue,
    extrapolate_optimum,
    richardson,
    rounded_evaluation,
    sampled_menu_revenue,
)
from .multi_bidder import optimal_bic_auction, optimal_dsic_auction
from .one_bidder import optimal_menu
from .priors import (
    PriorKind,
    TypePrior,
    discrete_marginals,
    empirical_prior,
    profile_probs,
    type_set,
    uniform_grid,
)
from .reference import first_price_tables, second_price_tables
from .regret_budget import DEFAULT_EPSILONS, regret_budget_auction, regret_budget_curve
from .results import (
    AuctionResult,
    AuditReport,
    ContinuousRevenue,
    Extrapolation,
    GenerationStats,
    Incentive,
    InterimAuctionResult,
    Menu,
    MenuResult,
    RoundedEvaluation,
    Verification,
)

__all__ = [
    "DEFAULT_EPSILONS",
    "REGRET_CONVENTION",
    "AuctionResult",
    "AuditReport",
    "ComparisonRow",
    "ContinuousRevenue",
    "Extrapolation",
    "GenerationStats",
    "Incentive",
    "InterimAuctionResult",
    "Menu",
    "MenuResult",
    "PriorKind",
    "RoundedEvaluation",
    "TypePrior",
    "Verification",
    "audit_callable",
    "audit_mechanism",
    "audit_result",
    "continuous_menu_revenue",
    "discrete_marginals",
    "empirical_prior",
    "extrapolate_optimum",
    "first_price_tables",
    "learned_auction_comparison",
    "optimal_bic_auction",
    "optimal_dsic_auction",
    "optimal_menu",
    "profile_probs",
    "regret_budget_auction",
    "regret_budget_curve",
    "richardson",
    "rounded_evaluation",
    "sampled_menu_revenue",
    "second_price_tables",
    "type_set",
    "uniform_grid",
]
