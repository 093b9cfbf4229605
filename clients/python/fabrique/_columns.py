"""pandas columns to and from the feature store's typed columns (fabrique.v1.ValueColumn).

Nulls: a missing value in pandas (NaN, None, pd.NA, NaT) is a null on the wire and back; the
feature store has no separate NaN value for float features. The pandas types read back:

  FLOAT float32 and DOUBLE float64 (NaN for null), INT64 "Int64" and BOOL "boolean" (pandas'
  nullable types, pd.NA for null), STRING object (None for null), FLOAT_VECTOR object holding
  float32 numpy arrays (None for null).

Every check here runs over a whole column before anything is sent, and raises `InvalidInput`
naming the column and a row at fault.
"""

from __future__ import annotations

import numbers
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from fabrique.errors import InvalidInput
from fabrique.v1 import common_pb2 as c

TYPE_NAMES = {c.FEATURE_TYPE_FLOAT: "FLOAT", c.FEATURE_TYPE_DOUBLE: "DOUBLE",
              c.FEATURE_TYPE_INT64: "INT64", c.FEATURE_TYPE_BOOL: "BOOL",
              c.FEATURE_TYPE_STRING: "STRING", c.FEATURE_TYPE_FLOAT_VECTOR: "FLOAT_VECTOR"}

# The ValueColumn list field of each feature type, and the list message it holds.
_LISTS = {c.FEATURE_TYPE_FLOAT: ("float_values", c.FloatList),
          c.FEATURE_TYPE_DOUBLE: ("double_values", c.DoubleList),
          c.FEATURE_TYPE_INT64: ("int64_values", c.Int64List),
          c.FEATURE_TYPE_BOOL: ("bool_values", c.BoolList),
          c.FEATURE_TYPE_STRING: ("string_values", c.StringList),
          c.FEATURE_TYPE_FLOAT_VECTOR: ("float_vector_values", c.FloatVectorList)}
_TYPE_OF_LIST = {field: feature_type for feature_type, (field, _) in _LISTS.items()}


def _refuse(column: str, series: pd.Series, row_mask: np.ndarray, what: str) -> None:
    """Raises InvalidInput naming `column` and the first row where `row_mask` is true."""
    position = int(np.argmax(row_mask))
    label = series.index[position]
    value = series.iloc[position]
    raise InvalidInput(f"column {column!r} {what}: row {label!r} holds {value!r} "
                       f"({type(value).__name__})", column)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _object_check(column: str, series: pd.Series, accept, what: str) -> None:
    present = series.notna().to_numpy()
    bad = np.fromiter((p and not accept(v) for p, v in zip(present, series.to_numpy())),
                      dtype=bool, count=len(series))
    if bad.any():
        _refuse(column, series, bad, what)


def _is_vector(value: Any) -> bool:
    if not isinstance(value, (list, tuple, np.ndarray)):
        return False
    array = np.asarray(value)
    return array.ndim == 1 and (array.size == 0 or array.dtype.kind in "fiu")


def check_values(column: str, series: pd.Series, feature_type: int) -> None:
    """Raises InvalidInput unless every non-null value of `series` can be sent as `feature_type`
    without changing it."""
    name = TYPE_NAMES.get(feature_type, str(feature_type))
    wrong = f"does not hold {name} values (its dtype is {series.dtype})"
    dtype = series.dtype
    if feature_type in (c.FEATURE_TYPE_FLOAT, c.FEATURE_TYPE_DOUBLE):
        if ptypes.is_bool_dtype(dtype) or not (ptypes.is_numeric_dtype(dtype)
                                               or ptypes.is_object_dtype(dtype)):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is {name}", column)
        if ptypes.is_object_dtype(dtype):
            _object_check(column, series, _is_number, f"must hold numbers for {name}")
    elif feature_type == c.FEATURE_TYPE_INT64:
        if ptypes.is_bool_dtype(dtype):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is INT64", column)
        if ptypes.is_float_dtype(dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isnan(values) & ((values != np.floor(values)) | (np.abs(values) > 2**63))
            if bad.any():
                _refuse(column, series, bad, "must hold whole numbers for INT64")
        elif ptypes.is_object_dtype(dtype):
            _object_check(column, series,
                          lambda v: isinstance(v, numbers.Integral) and not isinstance(
                              v, (bool, np.bool_)), "must hold integers for INT64")
        elif not ptypes.is_integer_dtype(dtype):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is INT64", column)
    elif feature_type == c.FEATURE_TYPE_BOOL:
        if ptypes.is_object_dtype(dtype):
            _object_check(column, series, lambda v: isinstance(v, (bool, np.bool_)),
                          "must hold True/False for BOOL")
        elif not ptypes.is_bool_dtype(dtype):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is BOOL", column)
    elif feature_type == c.FEATURE_TYPE_STRING:
        if isinstance(dtype, pd.CategoricalDtype):
            series = series.astype(object)
            dtype = series.dtype
        if ptypes.is_object_dtype(dtype):
            _object_check(column, series, lambda v: isinstance(v, str),
                          "must hold text for STRING (convert with .astype(str))")
        elif not isinstance(dtype, pd.StringDtype):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is STRING (convert "
                               "with .astype(str))", column)
    elif feature_type == c.FEATURE_TYPE_FLOAT_VECTOR:
        if not ptypes.is_object_dtype(dtype):
            raise InvalidInput(f"column {column!r} {wrong}: the feature is FLOAT_VECTOR (a "
                               "list or 1-D array of numbers per row)", column)
        _object_check(column, series, _is_vector,
                      "must hold a list or 1-D array of numbers per row for FLOAT_VECTOR")
    else:
        raise InvalidInput(f"column {column!r}: the feature's type {name} is not supported",
                           column)


def to_value_column(series: pd.Series, feature_type: int) -> c.ValueColumn:
    """The ValueColumn of `series` (already accepted by check_values); nulls flagged only when
    there are some, so the server's fast path reads none."""
    field, list_type = _LISTS[feature_type]
    nulls = series.isna().to_numpy()
    has_nulls = bool(nulls.any())
    if feature_type == c.FEATURE_TYPE_FLOAT_VECTOR:
        values = [c.FloatVector() if null else c.FloatVector(values=np.asarray(v, np.float32))
                  for null, v in zip(nulls, series.to_numpy())]
    elif feature_type == c.FEATURE_TYPE_STRING:
        values = ["" if null else str(v) for null, v in zip(nulls, series.to_numpy())]
    else:
        numpy_type = {c.FEATURE_TYPE_FLOAT: np.float32, c.FEATURE_TYPE_DOUBLE: np.float64,
                      c.FEATURE_TYPE_INT64: np.int64, c.FEATURE_TYPE_BOOL: np.bool_}[feature_type]
        zero = numpy_type(0)
        if has_nulls:
            series = series.astype(object).where(~nulls, zero)
        values = series.to_numpy(dtype=numpy_type).tolist()
    column = c.ValueColumn(**{field: list_type(values=values)})
    if has_nulls:
        column.is_null.extend(nulls.tolist())
    return column


def value_column_type(column: c.ValueColumn) -> Optional[int]:
    """The feature type a ValueColumn holds, or None when no list is set."""
    field = column.WhichOneof("values")
    return _TYPE_OF_LIST.get(field) if field else None


def from_value_column(column: c.ValueColumn, feature_type: int, rows: int,
                      nulls: Optional[np.ndarray] = None) -> Any:
    """The values of `column` as a pandas array of `rows` entries (see the module's doc for the
    types); `nulls` adds null flags to the column's own."""
    field, _ = _LISTS[feature_type]
    present = column.WhichOneof("values") == field
    values = list(getattr(column, field).values) if present else []
    null = np.zeros(rows, dtype=bool)
    if len(column.is_null):
        null |= np.asarray(column.is_null, dtype=bool)
    if nulls is not None:
        null |= nulls
    if len(values) < rows:  # A column with only nulls may come without values.
        null[len(values):] = True
    if feature_type in (c.FEATURE_TYPE_FLOAT, c.FEATURE_TYPE_DOUBLE):
        array = np.zeros(rows, np.float32 if feature_type == c.FEATURE_TYPE_FLOAT else np.float64)
        array[:len(values)] = values
        array[null] = np.nan
        return array
    if feature_type in (c.FEATURE_TYPE_INT64, c.FEATURE_TYPE_BOOL):
        numpy_type = np.int64 if feature_type == c.FEATURE_TYPE_INT64 else np.bool_
        array = np.zeros(rows, numpy_type)
        array[:len(values)] = values
        return pd.arrays.IntegerArray(array, null) if numpy_type is np.int64 else \
            pd.arrays.BooleanArray(array, null)
    array = np.empty(rows, dtype=object)
    for i in range(rows):
        if null[i]:
            array[i] = None
        elif feature_type == c.FEATURE_TYPE_FLOAT_VECTOR:
            array[i] = np.asarray(values[i].values, dtype=np.float32)
        else:
            array[i] = values[i]
    return array


def empty_values(feature_type: int) -> Any:
    """A zero-length array of the pandas type `feature_type` reads back as."""
    return from_value_column(c.ValueColumn(), feature_type, 0)


def keys_as_text(column: str, series: pd.Series) -> List[str]:
    """Entity keys as the feature store takes them (text); integers are written in decimal.
    Raises InvalidInput for a missing key or one of another type."""
    nulls = series.isna().to_numpy()
    if nulls.any():
        _refuse(column, series, nulls, "is an entity key column with a missing key")
    if ptypes.is_integer_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype):
        return [str(int(v)) for v in series.to_numpy()]
    if ptypes.is_object_dtype(series.dtype) or isinstance(series.dtype, pd.StringDtype):
        _object_check(column, series.astype(object),
                      lambda v: isinstance(v, (str, numbers.Integral))
                      and not isinstance(v, (bool, np.bool_)),
                      "is an entity key column: keys are text or integers")
        return [str(v) for v in series.to_numpy()]
    raise InvalidInput(f"column {column!r} is an entity key column: keys are text or integers, "
                       f"not {series.dtype}", column)


def event_times_micros(column: str, series: pd.Series) -> np.ndarray:
    """Event times as microseconds since the Unix epoch. Takes datetimes (naive ones are UTC),
    integers (already microseconds) or text pandas parses (RFC 3339). Raises InvalidInput for a
    missing or unreadable time."""
    nulls = series.isna().to_numpy()
    if nulls.any():
        _refuse(column, series, nulls, "is the event time column and misses a time")
    dtype = series.dtype
    if ptypes.is_integer_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
        return series.to_numpy(dtype=np.int64)
    if not ptypes.is_datetime64_any_dtype(dtype):
        if not (ptypes.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)):
            raise InvalidInput(f"column {column!r} is the event time column: it takes datetimes, "
                               f"text times or Unix microseconds, not {dtype}", column)
        try:
            series = pd.to_datetime(series, utc=True)
        except (ValueError, TypeError) as error:
            raise InvalidInput(f"column {column!r} is the event time column and holds a value "
                               f"that is not a time: {error}", column) from None
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[ns]").astype("datetime64[us]").astype(np.int64)


def times_from_micros(micros: Sequence[int]) -> pd.DatetimeIndex:
    """Event times read back: UTC datetimes."""
    return pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)


def feature_ref(name: Union[str, c.FeatureRef], group: Optional[str]) -> c.FeatureRef:
    if isinstance(name, c.FeatureRef):
        return name
    if not isinstance(name, str):
        raise InvalidInput(f"a feature is named by text \"group:feature\", not {name!r}")
    if ":" in name:
        group_name, feature = name.split(":", 1)
        return c.FeatureRef(group=group_name, feature=feature)
    if group is None:
        raise InvalidInput(f"feature {name!r} names no group: write it \"group:{name}\"")
    return c.FeatureRef(group=group, feature=name)


def column_names(refs: Sequence[c.FeatureRef], full_names: bool) -> List[str]:
    """A column name per feature: the feature's name, or "group:feature" when asked or when two
    groups' features share a name."""
    counts: Dict[str, int] = {}
    for ref in refs:
        counts[ref.feature] = counts.get(ref.feature, 0) + 1
    return [f"{r.group}:{r.feature}" if full_names or counts[r.feature] > 1 else r.feature
            for r in refs]


def require_columns(frame: pd.DataFrame, wanted: Mapping[str, str]) -> None:
    for column, what in wanted.items():
        if column not in frame.columns:
            raise InvalidInput(f"the frame has no column {column!r} ({what}); its columns: "
                               f"{[str(c_) for c_ in frame.columns]}", column)


def check_frame(frame: Any, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"{what} must be a pandas DataFrame, not {type(frame).__name__}")
    if frame.columns.duplicated().any():
        column = str(frame.columns[frame.columns.duplicated()][0])
        raise InvalidInput(f"{what} has two columns named {column!r}", column)
    if len(frame) == 0:
        raise InvalidInput(f"{what} has no rows")
    return frame


def time_micros(value: Any) -> int:
    """Microseconds since the Unix epoch of anything pandas reads as a time; naive is UTC."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1000)
