"""``mechsolve.v1.StructuredMediatorService``: the restaurant and matching mediators. Converts
requests, delegates to the solver (through the dispatch shared with the in-process client),
converts back."""

from __future__ import annotations

import grpc

from mechsolve import convert_structured as cs
from mechsolve.v1 import structured_pb2 as spb
from mechsolve.v1 import structured_pb2_grpc as sgrpc

from .config import ServerConfig
from .status import CallBudget, unary

# Solver argument -> request field (error field paths).
FIELDS = {
    "known": "known_utilities",
    "private": "private_utilities",
    "seat_assignment": "method",  # the seat-expanded matrix's size limit
    "time_limit": "deadline",
}


class StructuredMediatorServicer(sgrpc.StructuredMediatorServiceServicer):
    """Every method: request -> solver call (with the server's limits and the call's time
    limit) -> response."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    @unary(FIELDS)
    def MediateRestaurant(
        self, request: spb.MediateRestaurantRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> spb.MediateRestaurantResponse:
        kw = cs.restaurant_request_from_proto("MediateRestaurant", request, self.config.limits)
        res = cs.mediate_restaurant(**kw, limits=self.config.limits, time_limit=b.time_limit)
        return spb.MediateRestaurantResponse(result=cs.restaurant_result_to_proto(res))

    @unary(FIELDS)
    def MediateMatching(
        self, request: spb.MediateMatchingRequest, context: grpc.ServicerContext, b: CallBudget
    ) -> spb.MediateMatchingResponse:
        kw = cs.matching_request_from_proto("MediateMatching", request, self.config.limits)
        res = cs.mediate_matching(**kw, limits=self.config.limits, time_limit=b.time_limit)
        return spb.MediateMatchingResponse(result=cs.matching_result_to_proto(res))
