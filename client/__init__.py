"""mechsolve clients: remote (sync and asyncio gRPC) and in-process, with the same methods.

from mechsolve.client import MechsolveClient, LocalMechsolve
"""

from .errors import MechsolveRpcError, RemoteInputError, RemoteProblemTooLargeError
from .grpc_client import AsyncMechsolveClient, ChannelSettings, MechsolveClient
from .local import LocalMechsolve
from .retry import RetryPolicy

__all__ = [
    "AsyncMechsolveClient",
    "ChannelSettings",
    "LocalMechsolve",
    "MechsolveClient",
    "MechsolveRpcError",
    "RemoteInputError",
    "RemoteProblemTooLargeError",
    "RetryPolicy",
]
