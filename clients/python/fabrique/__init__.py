"""Fabrique's Python client, for squads' notebooks and services.

    import fabrique
    fab = fabrique.connect(target="fabrique.example.com")    # token from $FABRIQUE_TOKEN
    fab.features.ingest(frame, group="payments")
    training = fab.features.training_set(spec, labels)       # a pandas DataFrame
    run = fab.train.submit(train_spec)                        # a progress bar in a terminal
    fab.predict("churn", entities=["c1", "c2"])               # a DataFrame of predictions

`connect` builds a `Client` (fabrique.client) with one area per service: `features`, `train`,
`models`, `monitor`, `tower`, and `predict`/`infer` for serving. Failed calls raise `RpcError`
subclasses carrying the gRPC code and the server's message; bad input is refused before anything
is sent with a `ClientError` (fabrique.errors).

For the generated stubs themselves: `from fabrique.v1 import features_pb2, features_pb2_grpc`,
with a channel from `fabrique.open_channel("features", ...)`.
"""

import pkgutil

# The generated stubs (fabrique.v1.*) may live in another directory under the same top-level
# name (generated at test time, or installed separately); let this package's path reach them.
__path__ = pkgutil.extend_path(__path__, __name__)

from fabrique.channel import endpoint, open_channel  # noqa: E402
from fabrique.client import Client, connect  # noqa: E402
from fabrique.errors import (  # noqa: E402
    ClientError, ConfigurationError, FabriqueError, InvalidInput, RpcError, TokenExpired,
    UnknownTarget)
from fabrique.tokens import mint_token, token_for  # noqa: E402

__all__ = ["Client", "ClientError", "ConfigurationError", "FabriqueError", "InvalidInput",
           "RpcError", "TokenExpired", "UnknownTarget", "connect", "endpoint", "mint_token",
           "open_channel", "token_for"]
