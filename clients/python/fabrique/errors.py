"""The exceptions the client raises.

Two families, so that a caller can tell "the server said no" from "nothing was sent":

- `RpcError` and its subclasses: a call reached a service and failed. Each carries the gRPC
  status code (`code`, a `grpc.StatusCode`), the server's message (`message`) and the method
  called. The subclass says what to do: `Unavailable` (retry later), `Aborted` (read again and
  retry), `FailedPrecondition` (fix the state first), `InvalidArgument` (fix the request),
  `NotFound`, `AlreadyExists`, `PermissionDenied`, `Unauthenticated` (get a new token), ...
- `ClientError` and its subclasses: the client refused before sending anything, because the
  target, the token or the data cannot work (`UnknownTarget`, `TokenExpired`, `InvalidInput`
  naming the column at fault).
"""

from __future__ import annotations

from typing import Dict, Optional, Type

import grpc


class FabriqueError(Exception):
    """Everything the Fabrique client raises on purpose derives from this."""


class ClientError(FabriqueError, ValueError):
    """Refused on this side, before anything was sent."""


class ConfigurationError(ClientError):
    """`connect` cannot build a working client from what it was given (a missing CA file, an
    endpoints file without the service, ...)."""


class UnknownTarget(ConfigurationError):
    """A service's target names a host that does not resolve."""

    def __init__(self, message: str, target: str) -> None:
        super().__init__(message)
        self.target = target


class TokenExpired(ConfigurationError):
    """The bearer token's `exp` claim is in the past: every call would be refused."""

    def __init__(self, message: str, expired_at: int) -> None:
        super().__init__(message)
        self.expired_at = expired_at


class InvalidInput(ClientError):
    """The data passed in cannot be sent as it is: a missing column, a column of the wrong type,
    an empty frame, ... `column` names the column at fault when there is one."""

    def __init__(self, message: str, column: Optional[str] = None) -> None:
        super().__init__(message)
        self.column = column


class RpcError(FabriqueError):
    """A call to a Fabrique service failed with a gRPC status.

    Attributes:
      code:    the grpc.StatusCode.
      message: the server's own message (what to fix, as the service says it).
      method:  the full method name, e.g. "/fabrique.v1.FeatureStore/LookupOnline".
    """

    def __init__(self, code: grpc.StatusCode, message: str, method: str = "") -> None:
        self.code = code
        self.message = message
        self.method = method
        where = f"{method}: " if method else ""
        super().__init__(f"{where}{code.name}: {message}")

    @property
    def code_name(self) -> str:
        """The code's name as gRPC spells it, e.g. "NOT_FOUND"."""
        return self.code.name


class Cancelled(RpcError):
    """The call was cancelled (by this side, usually)."""


class InvalidArgument(RpcError):
    """The request is wrong: fix it before sending it again."""


class DeadlineExceeded(RpcError):
    """The call did not finish within its deadline (the `timeout` of the call or the client)."""


class NotFound(RpcError):
    """What the call names does not exist."""


class AlreadyExists(RpcError):
    """What the call would create exists already."""


class PermissionDenied(RpcError):
    """The caller is known but lacks the permission (the message names it and the squad)."""


class ResourceExhausted(RpcError):
    """A quota, a queue or a size limit is full: slow down or ask for less."""


class FailedPrecondition(RpcError):
    """The system is not in the state the call needs: fix that state first."""


class Aborted(RpcError):
    """A concurrent change won (a stale etag, a conflict): read again and retry."""


class OutOfRange(RpcError):
    """A position or a size is past what exists."""


class Unimplemented(RpcError):
    """The service does not offer this call (or not in this build)."""


class Internal(RpcError):
    """The service failed; its logs say why."""


class Unavailable(RpcError):
    """The service could not be reached or is shutting down: retry later."""


class DataLoss(RpcError):
    """Data was lost or corrupted on the server."""


class Unauthenticated(RpcError):
    """No valid credentials: the token is missing, expired or from an unknown issuer."""


_BY_CODE: Dict[grpc.StatusCode, Type[RpcError]] = {
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DATA_LOSS: DataLoss,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def from_grpc(error: grpc.RpcError, method: str = "") -> RpcError:
    """The RpcError subclass for a failed grpc call (`error` must be a grpc.Call too, as every
    error grpcio raises for a call is)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    return _BY_CODE.get(code, RpcError)(code, message or "", method)
