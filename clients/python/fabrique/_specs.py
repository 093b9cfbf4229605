"""Reading the specs the client accepts as a proto message, a dict in protobuf JSON (the CLI's
SPEC.json files) or the path of such a file, and small conversions shared by the areas."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import uuid
from typing import Any, Optional, Type, TypeVar, Union

from google.protobuf import json_format, message

from fabrique.errors import InvalidInput

M = TypeVar("M", bound=message.Message)

SpecLike = Union[message.Message, dict, str, os.PathLike]


def read_json_file(path: Any, what: str) -> Any:
    """The JSON document in the file at `path` (the `what` the caller expects there). Raises
    InvalidInput naming the file when it cannot be read or is not JSON."""
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise InvalidInput(f"cannot read the {what} file {path}: {error.strerror}") from None
    except ValueError as error:
        raise InvalidInput(f"the {what} file {path} is not JSON: {error}") from None


def parse_spec(spec: Any, message_class: Type[M], what: str) -> M:
    """`spec` as a `message_class`: the message itself, a dict in protobuf JSON (field names in
    snake_case or camelCase), or the path of a JSON file holding one. Raises InvalidInput naming
    the field at fault before anything is sent."""
    if isinstance(spec, message_class):
        return spec
    if isinstance(spec, message.Message):
        raise InvalidInput(f"{what} must be a {message_class.DESCRIPTOR.full_name}, not a "
                           f"{spec.DESCRIPTOR.full_name}")
    if isinstance(spec, (str, os.PathLike)):
        spec = read_json_file(spec, what)
    if not isinstance(spec, dict):
        raise InvalidInput(f"{what} must be a dict (protobuf JSON), a JSON file's path or a "
                           f"{message_class.DESCRIPTOR.full_name}, not {type(spec).__name__}")
    try:
        return json_format.ParseDict(spec, message_class())
    except json_format.ParseError as error:
        raise InvalidInput(f"{what}: {error}") from None


def new_request_id() -> str:
    """A fresh idempotency key."""
    return uuid.uuid4().hex


def enum_label(enum_type: Any, number: int, prefix: str) -> str:
    """An enum value's name without its prefix, lower case: RUN_STATE_SUCCEEDED -> "succeeded"."""
    name = enum_type.Name(number)
    return name[len(prefix):].lower() if name.startswith(prefix) else name.lower()


def timestamp(value: Any) -> Optional[datetime.datetime]:
    """A google.protobuf.Timestamp as an aware UTC datetime; None when unset."""
    if value is None or (value.seconds == 0 and value.nanos == 0):
        return None
    return value.ToDatetime(tzinfo=datetime.timezone.utc)


def check_name(value: Any, what: str) -> str:
    """A non-empty string, else InvalidInput (with `what` as the column named)."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string, not {value!r}", what)
    return value


def parse_model(model: str, version: Optional[int] = None,
                alias: Optional[str] = None) -> tuple:
    """(name, version, alias) from "name", "name:3" or "name@production" plus explicit
    arguments; InvalidInput when both a version and an alias are given."""
    check_name(model, "model")
    if "@" in model:
        model, alias_part = model.split("@", 1)
        alias = alias or alias_part
    elif ":" in model:
        model, number = model.split(":", 1)
        try:
            version = version or int(number)
        except ValueError:
            raise InvalidInput(f"version {number!r} is not a number", "version") from None
    if version is not None and alias:
        raise InvalidInput("pass a version or an alias, not both", "version")
    if version is not None and (not isinstance(version, int) or version < 1):
        raise InvalidInput(f"version must be a number from 1, not {version!r}", "version")
    return model, version, alias
