"""`fabrique.connect(...)`: one client for the whole factory.

    import fabrique
    fab = fabrique.connect(target="fabrique.example.com", token=os.environ["FABRIQUE_TOKEN"])
    fab = fabrique.connect(data_dir="fabrique-data")        # a local `fabrique up`
    frame = fab.features.lookup("customer", ["c1", "c2"], features=["payments:amount_30d"])

Where each piece comes from, first found wins:
  targets  `targets={"features": "host:port", ...}`; else `target`; else $FABRIQUE_TARGET; else
           `data_dir`/endpoints.tsv (written by `fabrique up`). `target` is a host (each service
           on its default port, 7101..7106) or a pattern with "{service}" (and optionally
           "{port}"), e.g. "fabrique-{service}.fabrique.svc.cluster.local" in a cluster.
  CA       `ca=` (a PEM file), else $FABRIQUE_CA, else `data_dir`/auth/ca.crt, else the system's
           trusted roots. `insecure=True` speaks plaintext (a server started --insecure).
  token    `token=`, else $FABRIQUE_TOKEN, else minted from `data_dir`'s signing key.

The client checks what it can before the first call: a host that does not resolve raises
`UnknownTarget`, a token past its `exp` raises `TokenExpired`. Channels open on first use.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import pathlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Mapping, Optional, Sequence

import grpc

from fabrique import _call
from fabrique.errors import ConfigurationError, TokenExpired, UnknownTarget
from fabrique.tokens import token_for

if TYPE_CHECKING:  # The area clients, imported when first used.
    from fabrique.features import Features
    from fabrique.models import Models
    from fabrique.monitor import Monitor
    from fabrique.tower import Tower
    from fabrique.train import Train

# The services and their default gRPC ports (libs/client/service_catalog.cc).
DEFAULT_PORTS: Dict[str, int] = {
    "features": 7101, "registry": 7102, "trainer": 7103,
    "inference": 7104, "monitor": 7105, "tower": 7106,
}

# Per-call balancing over every address a name resolves to: a headless Service in a cluster
# returns one address per pod, and gRPC would otherwise send every call down the first one.
_ROUND_ROBIN = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


def _read_endpoints(data_dir: os.PathLike) -> Dict[str, str]:
    path = pathlib.Path(data_dir) / "endpoints.tsv"
    if not path.exists():
        raise ConfigurationError(
            f"{path} does not exist: is `fabrique up --data_dir {data_dir}` running?")
    targets = {}
    for line in path.read_text().splitlines():
        name, target, *_ = line.split("\t")
        targets[name] = target
    return targets


def _targets_for(target: Optional[str], targets: Optional[Mapping[str, str]],
                 data_dir: Optional[os.PathLike]) -> Dict[str, str]:
    target = target or os.environ.get("FABRIQUE_TARGET")
    resolved: Dict[str, str] = {}
    if target:
        for service, port in DEFAULT_PORTS.items():
            if "{service}" in target or "{port}" in target:
                address = target.format(service=service, port=port)
                resolved[service] = address if "{port}" in target else f"{address}:{port}"
            elif _has_port(target):
                raise ConfigurationError(
                    f"target {target!r} names one port, but the services listen on six: pass "
                    "the host alone (default ports 7101..7106), a pattern such as "
                    "'fabrique-{service}.example.com:{port}', or targets={'features': ...}")
            else:
                resolved[service] = f"{target}:{port}"
    elif data_dir is not None and not targets:
        resolved = _read_endpoints(data_dir)
    resolved.update(targets or {})
    if not resolved:
        raise ConfigurationError("no target: pass target= (the host the services run on), "
                                 "targets={service: 'host:port'}, data_dir= of a local "
                                 "`fabrique up`, or set FABRIQUE_TARGET")
    unknown = set(resolved) - set(DEFAULT_PORTS)
    if unknown:
        raise ConfigurationError(f"unknown service(s) {sorted(unknown)}: the services are "
                                 f"{sorted(DEFAULT_PORTS)}")
    return resolved


def _has_port(address: str) -> bool:
    if address.startswith("["):
        return "]:" in address
    return address.count(":") == 1


def _host_of(target: str) -> str:
    for scheme in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if target.startswith(scheme):
            target = target[len(scheme):]
            break
    if target.startswith("["):
        return target[1:target.index("]")]
    return target.rsplit(":", 1)[0] if _has_port(target) else target


@functools.lru_cache(maxsize=256)
def _check_resolves(host: str) -> None:
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        raise UnknownTarget(f"unknown target host {host!r}: {error.strerror}; check the "
                            "name, or pass target=/targets= with one that resolves",
                            host) from None


def _token_claims(token: str) -> Optional[dict]:
    """The claims of a JWT, unverified (the server verifies); None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        return json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return None


def _check_token(token: str, now: Optional[float] = None) -> None:
    claims = _token_claims(token) or {}
    expires = claims.get("exp")
    now = time.time() if now is None else now
    if isinstance(expires, (int, float)) and expires <= now:
        ago = int(now - expires)
        raise TokenExpired(
            f"the token expired {ago} s ago (exp {int(expires)}, subject "
            f"{claims.get('sub', '?')!r}): get a new one from your identity provider, or "
            "`fabrique auth token` on a local `fabrique up`", int(expires))


class Client:
    """A connection to a Fabrique factory. Build it with `fabrique.connect`.

    The areas are attributes: `features`, `train`, `models`, `monitor`, `tower`; predictions are
    `predict(...)` (entity keys) and `infer(...)` (Open Inference Protocol tensors). Each call
    has a deadline: the call's own `timeout`, else the client's (`timeout=` of connect).
    Thread-safe: share one client.
    """

    def __init__(self, targets: Dict[str, str], credentials: Optional[grpc.ChannelCredentials],
                 timeout: float, options: Sequence[tuple] = ()) -> None:
        self.targets = dict(targets)
        self.timeout = timeout
        self._credentials = credentials
        self._options = list(options)
        self._channels: Dict[str, grpc.Channel] = {}
        # Re-entrant: an area built under it may open its stubs (and so a channel) at once.
        self._lock = threading.RLock()
        self._areas: Dict[str, Any] = {}

    # --- channels and calls (used by the area clients) ------------------------------------

    def channel(self, service: str) -> grpc.Channel:
        """The channel to `service` ("features", "registry", ...), opened on first use."""
        with self._lock:
            channel = self._channels.get(service)
            if channel is None:
                if service not in self.targets:
                    raise ConfigurationError(
                        f"no target for the {service} service: pass targets={{'{service}': "
                        "'host:port'}} to fabrique.connect")
                target = self.targets[service]
                options = list(self._options)
                if target.startswith("dns:"):
                    options.append(("grpc.service_config", _ROUND_ROBIN))
                if self._credentials is None:
                    channel = grpc.insecure_channel(target, options=options)
                else:
                    channel = grpc.secure_channel(target, self._credentials, options=options)
                self._channels[service] = channel
            return channel

    def stub(self, service: str, stub_class: Callable[[grpc.Channel], Any]) -> Any:
        """A generated stub (e.g. features_pb2_grpc.FeatureStoreStub) on `service`'s channel."""
        return stub_class(self.channel(service))

    def call(self, method: Callable[..., Any], request: Any, *, timeout: Optional[float] = None,
             idempotent: bool = False) -> Any:
        """Makes a unary call with the client's deadline; see fabrique._call.unary."""
        return _call.unary(method, request, timeout=timeout or self.timeout,
                           idempotent=idempotent)

    def stream(self, method: Callable[..., Any], request: Any, *,
               timeout: Optional[float] = None) -> Iterator[Any]:
        """Yields a streaming call's responses; `timeout` None keeps the client's deadline.
        Pass timeout=float('inf') for a watch that lasts until the caller stops."""
        deadline = None if timeout == float("inf") else (timeout or self.timeout)
        return _call.stream_from(method, request, timeout=deadline)

    def send_stream(self, method: Callable[..., Any], requests: Iterator[Any], *,
                    timeout: Optional[float] = None) -> Any:
        """Sends a client stream; returns the one response."""
        return _call.stream_to(method, requests, timeout=timeout or self.timeout)

    # --- the areas -------------------------------------------------------------------------

    def _area(self, name: str, factory: Callable[["Client"], Any]) -> Any:
        with self._lock:
            if name not in self._areas:
                self._areas[name] = factory(self)
            return self._areas[name]

    @property
    def features(self) -> "Features":
        """Feature store: apply schemas, ingest DataFrames, look up, build training sets."""
        from fabrique.features import Features
        return self._area("features", Features)

    @property
    def train(self) -> "Train":
        """Trainer: submit runs, watch them."""
        from fabrique.train import Train
        return self._area("train", Train)

    @property
    def models(self) -> "Models":
        """Registry: models, versions, aliases, promotion, approvals."""
        from fabrique.models import Models
        return self._area("models", Models)

    @property
    def monitor(self) -> "Monitor":
        """Monitor: outcomes, drift, reports."""
        from fabrique.monitor import Monitor
        return self._area("monitor", Monitor)

    @property
    def tower(self) -> "Tower":
        """Control tower: jobs, portfolio."""
        from fabrique.tower import Tower
        return self._area("tower", Tower)

    def predict(self, model: str, entities: Sequence[Any], **kwargs: Any) -> Any:
        """Predicts for entity keys, the features fetched by the server; returns a DataFrame.
        See fabrique.serving.predict."""
        from fabrique import serving
        return serving.predict(self, model, entities, **kwargs)

    def infer(self, model: str, inputs: Any, **kwargs: Any) -> Any:
        """Runs the model over numpy arrays through the Open Inference Protocol; returns its
        outputs as numpy arrays. See fabrique.serving.infer."""
        from fabrique import serving
        return serving.infer(self, model, inputs, **kwargs)

    # --- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Closes every channel. Calls in flight are cancelled."""
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        secure = "plaintext" if self._credentials is None else "TLS"
        return f"<fabrique.Client {secure} {self.targets}>"


def connect(target: Optional[str] = None, *, token: Optional[str] = None,
            ca: Optional[os.PathLike] = None, data_dir: Optional[os.PathLike] = None,
            targets: Optional[Mapping[str, str]] = None, insecure: bool = False,
            timeout: float = 30.0, user: Optional[str] = None, groups: Sequence[str] = (),
            options: Sequence[tuple] = ()) -> Client:
    """Returns a `Client` for the factory. See the module's doc for where each piece comes from.

    Args:
      target:   the host the services run on, or a pattern with "{service}" and "{port}".
      token:    the bearer token (else $FABRIQUE_TOKEN, else minted from data_dir).
      ca:       PEM file of the CA that signed the services' certificates.
      data_dir: a local `fabrique up --data_dir`, for targets, CA and a minted token.
      targets:  per-service "host:port" (or "dns:///name:port"), overriding the rest.
      insecure: plaintext and no token, for services started --insecure.
      timeout:  the deadline of each call in seconds, unless the call passes its own.
      user, groups: mint a token for this user in these groups from data_dir's signing key
                (local testing; the default policy reads a group "SQUAD:ROLE").
      options:  extra gRPC channel arguments.
    Raises:
      UnknownTarget, TokenExpired, ConfigurationError: before any call is made.
    """
    resolved = _targets_for(target, targets, data_dir)
    for address in resolved.values():
        _check_resolves(_host_of(address))
    if insecure:
        return Client(resolved, None, timeout, options)
    if token is None:
        try:
            token = token_for(data_dir, user=user, groups=groups)
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
    _check_token(token)
    ca_path = ca or os.environ.get("FABRIQUE_CA")
    if ca_path is None and data_dir is not None:
        ca_path = pathlib.Path(data_dir) / "auth" / "ca.crt"
    root = None
    if ca_path is not None:
        try:
            root = pathlib.Path(ca_path).read_bytes()
        except OSError as error:
            raise ConfigurationError(f"cannot read the CA file {ca_path}: {error.strerror}") \
                from None
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=root),
        grpc.access_token_call_credentials(token))
    return Client(resolved, credentials, timeout, options)
