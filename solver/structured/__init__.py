"""Mediators on the restaurant reservation and matching games (seed 000 sections 4.2-4.3),
the Yelp loader and the recommender that predicts the known utilities, and a budget of
policies for many users (seed 004's r-MDPs)."""

if __name__ != "mechsolve.solver.structured":  # pragma: no cover - the guard itself
    raise ImportError(
        f"import mechsolve.solver.structured, not {__name__!r} (one copy of its types)"
    )


from .matching import (
    MatchingResult,
    matching_central_planner,
    matching_pareto,
    matching_pareto_exact,
    matching_punishing,
    max_weight_matching,
    mediate_matching,
    random_matching_instance,
    random_matching_profile,
)
from .policies import POLICY_METHODS, PolicySelection, select_policies
from .restaurant import (
    STRUCTURED_MEDIATORS,
    RestaurantInstance,
    RestaurantResult,
    mediate_restaurant,
    random_restaurant_instance,
    random_restaurant_profile,
    restaurant_central_planner,
    restaurant_pareto,
    restaurant_pareto_exact,
    restaurant_punishing,
)

__all__ = [
    "POLICY_METHODS",
    "STRUCTURED_MEDIATORS",
    "MatchingResult",
    "PolicySelection",
    "RestaurantInstance",
    "RestaurantResult",
    "matching_central_planner",
    "matching_pareto",
    "matching_pareto_exact",
    "matching_punishing",
    "max_weight_matching",
    "mediate_matching",
    "mediate_restaurant",
    "random_matching_instance",
    "random_matching_profile",
    "random_restaurant_instance",
    "random_restaurant_profile",
    "restaurant_central_planner",
    "restaurant_pareto",
    "restaurant_pareto_exact",
    "restaurant_punishing",
    "select_policies",
]
