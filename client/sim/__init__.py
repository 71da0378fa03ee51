"""Learning agents and simulations that play against a mediator backend (the gRPC clients or
:class:`~mechsolve.client.LocalMechsolve`, through the same methods)."""
