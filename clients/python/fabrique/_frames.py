"""Checks and conversions of DataFrame columns sent to the services: each refuses what cannot
be sent with InvalidInput naming the column, before anything is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Tuple

from fabrique.errors import InvalidInput

if TYPE_CHECKING:
    import pandas


def require_column(frame: "pandas.DataFrame", column: str) -> None:
    """Refuses a frame without `column`."""
    if column not in frame.columns:
        raise InvalidInput(f"column {column!r} is missing; the frame has {list(frame.columns)}",
                           column)


def label_values(series: "pandas.Series", column: str) -> List[Tuple[str, Any]]:
    """Each label as (Value's field, value), by the column's dtype; refuses nulls and mixed
    objects."""
    import pandas.api.types as types
    if series.isna().any():
        row = int(series.isna().to_numpy().nonzero()[0][0])
        raise InvalidInput(f"column {column!r} has a missing label at row {row}", column)
    if types.is_bool_dtype(series):
        return [("bool_value", bool(v)) for v in series]
    if types.is_integer_dtype(series):
        return [("int64_value", int(v)) for v in series]
    if types.is_float_dtype(series):
        return [("double_value", float(v)) for v in series]
    if all(isinstance(v, str) for v in series):
        return [("string_value", v) for v in series]
    kinds = sorted({type(v).__name__ for v in series})
    raise InvalidInput(f"column {column!r} must hold bool, integer, float or text labels, not "
                       f"{kinds}", column)


def texts(series: "pandas.Series", column: str) -> List[str]:
    """The column as non-empty strings (ids, keys)."""
    if series.isna().any() or not all(isinstance(v, str) and v for v in series):
        raise InvalidInput(f"column {column!r} must hold non-empty text (ids or keys), not "
                           f"{series.dtype}", column)
    return list(series)


def micros(series: "pandas.Series", column: str) -> List[int]:
    """Microseconds since the epoch from datetimes (naive ones read as UTC) or integers."""
    import pandas
    import pandas.api.types as types
    if series.isna().any():
        raise InvalidInput(f"column {column!r} has missing times", column)
    if types.is_integer_dtype(series):
        return [int(v) for v in series]
    if types.is_datetime64_any_dtype(series):
        stamps = pandas.to_datetime(series, utc=True)
        return [int(v.value // 1000) for v in stamps]
    raise InvalidInput(f"column {column!r} must hold datetimes or microseconds since the "
                       f"epoch, not {series.dtype}", column)
