"""``mechsolve.v1.StructuredMediatorService``: the restaurant reservation and matching games
(seed 000 sections 4.2-4.3, SPEC 3)."""

from __future__ import annotations

from mechsolve.solver import structured as st
from mechsolve.v1 import structured_pb2 as pb

from .declare import Alias, Rpc


def _mediators(prefix: str) -> tuple[Alias, ...]:
    """``<prefix>_<mediator>`` for the four mediators, e.g. ``restaurant_pareto``."""
    return tuple(
        Alias(getattr(st, f"{prefix}_{name}"), {"mediator": name})
        for name in st.STRUCTURED_MEDIATORS
    )


def _restaurants() -> dict[str, object]:
    inst = st.random_restaurant_instance(40, 6, alpha=2.0, seed=3)
    choices, delegate = st.random_restaurant_profile(40, 6, popularity=1.5, seed=4)
    return {
        "known": inst.known,
        "capacities": inst.capacities,
        "choices": choices,
        "delegate": delegate,
        "private": inst.private,
        "alpha": inst.alpha,
    }


def _matching() -> dict[str, object]:
    partners, delegate = st.random_matching_profile(30, seed=2)
    return {
        "rewards": st.random_matching_instance(30, seed=1),
        "partners": partners,
        "delegate": delegate,
        "mediator": "pareto_exact",
    }


RPCS = (
    Rpc(
        st.mediate_restaurant,
        pb.MediateRestaurantRequest,
        fields={"known": "known_utilities", "private": "private_utilities"},
        aliases=_mediators("restaurant"),
        example=_restaurants,
    ),
    Rpc(
        st.mediate_matching,
        pb.MediateMatchingRequest,
        aliases=_mediators("matching"),
        example=_matching,
    ),
)
