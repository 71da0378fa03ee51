"""mechsolve clients: remote (sync and asyncio gRPC) and in-process, with the same methods.

from mechsolve.client import MechsolveClient, LocalMechsolve
"""

if __name__ != "mechsolve.client":  # pragma: no cover - the guard itself
    raise ImportError(
        f"this folder is the package mechsolve.client; import it as that, not as {__name__!r} "
        "(a second copy of its modules would hold different enum and class objects)"
    )

from .errors import MechsolveRpcError, RemoteInputError, RemoteProblemTooLargeError
from .grpc_client import (
    DEFAULT_TIME_LIMIT,
    AsyncMechsolveClient,
    ChannelSettings,
    MechsolveClient,
)
from .local import LocalMechsolve
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "AsyncMechsolveClient",
    "ChannelSettings",
    "LocalMechsolve",
    "MechsolveClient",
    "MechsolveRpcError",
    "RemoteInputError",
    "RemoteProblemTooLargeError",
    "RetryPolicy",
]
