"""``mechsolve.v1.PolicyService``: a budget of policies for many users (seed 004's r-MDPs,
docs/policy_budget.md)."""

from __future__ import annotations

import numpy as np

from mechsolve.solver import structured as st
from mechsolve.v1 import policies_pb2 as pb

from .declare import Rpc

RPCS = (
    Rpc(
        st.select_policies,
        pb.SelectPoliciesRequest,
        example=lambda: {
            "values": np.random.default_rng(4).uniform(size=(30, 60)),
            "budget": 3,
        },
    ),
)
