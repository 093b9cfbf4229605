"""Fabrique's Python client: a channel to a Fabrique service over TLS, carrying a bearer token.

    import fabrique
    from fabrique.v1 import features_pb2, features_pb2_grpc  # stubs from protos/ (grpc_tools)

    channel = fabrique.connect("features", data_dir="fabrique-data")   # a local `fabrique up`
    channel = fabrique.connect("features", target="features.example.com:8443",
                               ca="ca.crt", token=os.environ["FABRIQUE_TOKEN"])
    store = features_pb2_grpc.FeatureStoreStub(channel)

The Python counterpart of libs/client's MakeChannel + CallCredentials: the server is verified
against a CA, and every call carries `authorization: Bearer <token>`. See `connect` for where the
target, the CA and the token come from.
"""

import pkgutil

# The generated stubs (fabrique.v1.*, made by grpc_tools.protoc) live in another directory under
# the same top-level name; let this package's path reach them wherever they are on sys.path.
__path__ = pkgutil.extend_path(__path__, __name__)

from fabrique.channel import connect, endpoint  # noqa: E402
from fabrique.tokens import mint_token, token_for  # noqa: E402

__all__ = ["connect", "endpoint", "mint_token", "token_for"]
