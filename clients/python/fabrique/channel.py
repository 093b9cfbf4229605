"""Raw channels to one Fabrique service (for calling generated stubs directly): TLS that verifies the server, and a bearer token on every call.

Where each piece comes from, first found wins:
  target  `target=`, else the service's row in `data_dir`/endpoints.tsv (written by `fabrique up`)
  CA      `ca=` (a PEM file), else $FABRIQUE_CA, else `data_dir`/auth/ca.crt
  token   `token=`, else as `tokens.token_for` says ($FABRIQUE_TOKEN, or minted from `data_dir`)
"""

import os
import pathlib

import grpc

from fabrique.tokens import token_for


def endpoint(service, data_dir):
    """The gRPC target ("127.0.0.1:PORT") a local `fabrique up` serves `service` on."""
    path = pathlib.Path(data_dir) / "endpoints.tsv"
    for line in path.read_text().splitlines():
        name, target, *_ = line.split("\t")
        if name == service:
            return target
    raise LookupError(f"{path} lists no service named {service!r}")


def _ca_bytes(ca, data_dir):
    path = ca or os.environ.get("FABRIQUE_CA")
    if path is None and data_dir is not None:
        path = pathlib.Path(data_dir) / "auth" / "ca.crt"
    if path is None:
        raise ValueError("no CA to verify the server with: pass ca=, set FABRIQUE_CA, or pass "
                         "data_dir= of a local `fabrique up`")
    return pathlib.Path(path).read_bytes()


def open_channel(service, *, data_dir=None, target=None, ca=None, token=None, user=None, groups=(),
            options=()):
    """Returns a grpc.Channel to `service` ("features", "registry", ...) over TLS, whose calls
    carry `authorization: Bearer <token>`.

    data_dir: a local `fabrique up --data_dir`, for the target, the CA and minted tokens.
    target:   host:port, when not read from data_dir.
    ca:       PEM file of the CA that signed the server's certificate.
    token:    the bearer token; or `user` and `groups` to mint one from data_dir's signing key.
    options:  extra gRPC channel arguments, e.g. [("grpc.max_receive_message_length", -1)].
    """
    if target is None:
        if data_dir is None:
            raise ValueError("pass target= or data_dir=")
        target = endpoint(service, data_dir)
    if token is None:
        token = token_for(data_dir, user=user, groups=groups)
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=_ca_bytes(ca, data_dir)),
        grpc.access_token_call_credentials(token))
    return grpc.secure_channel(target, credentials, options=list(options))
