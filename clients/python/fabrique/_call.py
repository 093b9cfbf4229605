"""One way to make a call: a deadline on every call, grpc errors turned into `RpcError`s, and
retries of UNAVAILABLE for calls that are safe to repeat. The Python counterpart of libs/client's
Call / CallIdempotent."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator, Optional

import grpc

from fabrique.errors import from_grpc

# Retries of an idempotent call that failed UNAVAILABLE: attempts in all, and the first pause in
# seconds (doubled each time). A service restarting on a volume is back within a few seconds.
_ATTEMPTS = 4
_FIRST_BACKOFF_S = 0.2


def _method_name(method: Callable[..., Any]) -> str:
    # grpcio's multicallables keep their full name in _method (bytes); fall back to repr.
    name = getattr(method, "_method", None)
    if isinstance(name, bytes):
        return name.decode()
    return str(name or getattr(method, "__name__", ""))


def unary(method: Callable[..., Any], request: Any, *, timeout: float,
          idempotent: bool = False, metadata: Optional[list] = None) -> Any:
    """Calls a unary method with a deadline `timeout` seconds away; retries UNAVAILABLE when
    `idempotent`. Raises the `RpcError` subclass of the final status."""
    backoff = _FIRST_BACKOFF_S
    attempts = _ATTEMPTS if idempotent else 1
    for attempt in range(attempts):
        try:
            return method(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as error:
            if (attempt + 1 < attempts and hasattr(error, "code")
                    and error.code() == grpc.StatusCode.UNAVAILABLE):
                time.sleep(backoff)
                backoff *= 2
                continue
            raise from_grpc(error, _method_name(method)) from None
    raise AssertionError("unreachable")


def stream_from(method: Callable[..., Any], request: Any, *, timeout: Optional[float],
                metadata: Optional[list] = None) -> Iterator[Any]:
    """Yields the responses of a server-streaming (or bidirectional, when `request` is an
    iterator) method; a failure at any point raises its `RpcError`. `timeout` None means no
    deadline, for watches that follow something until the caller stops."""
    call = method(request, timeout=timeout, metadata=metadata)
    try:
        for response in call:
            yield response
    except grpc.RpcError as error:
        raise from_grpc(error, _method_name(method)) from None
    finally:
        call.cancel()  # A no-op when finished; stops the server's work when the caller broke off.


def stream_to(method: Callable[..., Any], requests: Iterator[Any], *, timeout: float,
              metadata: Optional[list] = None) -> Any:
    """Sends a client stream and returns the single response."""
    try:
        return method(requests, timeout=timeout, metadata=metadata)
    except grpc.RpcError as error:
        raise from_grpc(error, _method_name(method)) from None
