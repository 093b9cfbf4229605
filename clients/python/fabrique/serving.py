"""Predictions: by entity key (the server reads the features) and over tensors (the Open
Inference Protocol).

    fab.predict("churn", entities=["c1", "c2"])            # DataFrame, one row per entity
    fab.infer("affine", np.ones((2, 3), np.float32))       # {"y": array(...)}

`predict` calls EntityInference.Predict, as `fabrique predict` does; `infer` calls the OIP's
ModelInfer, checking the inputs' names, datatypes and shapes against the model's metadata
before anything is sent.
"""

from __future__ import annotations

import re
import struct
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from fabrique._specs import new_request_id, parse_model
from fabrique.errors import InvalidArgument, InvalidInput

if TYPE_CHECKING:
    import numpy
    import pandas

    from fabrique.client import Client

# OIP datatypes <-> numpy dtypes (little-endian on the wire, as the protocol says).
_NUMPY_OF = {"BOOL": "bool", "INT32": "<i4", "INT64": "<i8", "FP32": "<f4", "FP64": "<f8",
             "BYTES": "object"}
# The typed `contents` field of each datatype.
_CONTENTS_OF = {"BOOL": "bool_contents", "INT32": "int_contents", "INT64": "int64_contents",
                "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents"}

# Rows per Predict request: fabrique-inference's default batch size, the most it accepts.
_ROWS_PER_REQUEST = 32

# Model metadata by client, then by (model, version): one ModelMetadata call per model served.
_METADATA: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _oip_modules() -> Tuple[Any, Any]:
    """The Open Inference Protocol's generated modules, wherever the package placed them."""
    try:
        from fabrique.oip import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc
    except ImportError:
        from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc
    return pb, pb_grpc


# ---- predict: entity keys -----------------------------------------------------------------

def predict(client: "Client", model: str, entities: Any, *, version: Optional[int] = None,
            alias: Optional[str] = None, entity: str = "",
            features: Optional[Mapping[str, Any]] = None,
            outputs: Sequence[str] = (), log: bool = True,
            request_id: Optional[str] = None,
            batch_size: int = _ROWS_PER_REQUEST) -> "pandas.DataFrame":
    """Scores entities by key; the inference server reads their features from the store.

    Args:
      model:    the model's name ("churn"), or with a selector: "churn:3", "churn@production".
      entities: the keys, one row each: a list of keys (the model's one entity), a dict
                {entity: keys} or a DataFrame with one column per entity (all the same length).
      version, alias: exactly this version or alias (no canary, no shadow); neither = the
                model's traffic policy decides.
      entity:   the entity's name when `entities` is a plain list ("" = the model's only one).
      features: request-time values, {"group:feature" or "input": value or one value per row};
                they take precedence over the store's.
      outputs:  the outputs wanted; empty = all.
      log:      log the predictions to the monitor (False for replays and tests).
      batch_size: rows per request (the server's cap is its batch size; fewer are sent when
                it names a lower one).
    Returns:
      a DataFrame, one row per entity in order: the key column(s) ("entity" for a list of keys,
      else one per entity name), version, alias, canary, label, one column per output (a float, or a
      list for a wider output), issues (features MISSING/EXPIRED) and prediction_id (the join
      key for outcomes).
    Raises:
      InvalidInput: no entities, key lists of different lengths, or a feature value list of
        the wrong length; before anything is sent.
      NotFound: no such model or version. FailedPrecondition: the version is not loaded yet.
    """
    import pandas
    from fabrique.v1 import common_pb2, inference_pb2, inference_pb2_grpc
    name, number, alias = parse_model(model, version, alias)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a number from 1, not {batch_size!r}",
                           "batch_size")
    columns = _entity_columns(entities, entity)
    rows = len(next(iter(columns.values())))
    supplied = [_supplied(common_pb2, feature, value, rows)
                for feature, value in (features or {}).items()]
    stub = client.stub("inference", inference_pb2_grpc.EntityInferenceStub)

    def scored(start: int, stop: int) -> List[Any]:
        request = inference_pb2.PredictRequest(outputs=list(outputs), skip_logging=not log)
        if request_id:
            request.request_id = f"{request_id}-{start}" if rows > stop - start else request_id
        request.model.model = name
        if number is not None:
            request.model.version = number
        elif alias:
            request.model.alias = alias
        for entity_name, keys in columns.items():
            request.entity_keys.add(entity=entity_name, keys=keys[start:stop])
        for column in supplied:
            part = request.supplied_features.add(feature=column.feature)
            kind = column.values.WhichOneof("values")
            getattr(part.values, kind).values.extend(
                getattr(column.values, kind).values[start:stop])
        # Idempotent: predicting twice scores the same rows (a retry may log them twice).
        response = client.call(stub.Predict, request, idempotent=True)
        return [(start + p.row, p) for p in response.predictions]

    # The server caps the rows of one request at its batch size, which it does not advertise:
    # send `batch_size` rows a request, and fewer when it names a lower cap.
    size = batch_size
    answered: List[Any] = []
    start = 0
    while start < rows:
        stop = min(start + size, rows)
        try:
            answered.extend(scored(start, stop))
        except InvalidArgument as error:
            cap = re.search(r"more than the most one request may carry[^(]*\((\d+)\)",
                            error.message)
            if not cap or int(cap.group(1)) >= stop - start:
                raise
            size = int(cap.group(1))
            continue
        start = stop
    # The key columns: "entity" for a plain list of keys, else the entities' names.
    named = isinstance(entities, (Mapping, pandas.DataFrame))
    key_names = list(columns) if named else ["entity"]
    records = []
    for row, prediction in answered:
        record = {key: columns[entity_name][row]
                  for key, entity_name in zip(key_names, columns)}
        record.update({"version": prediction.served_by.version,
                       "alias": prediction.served_alias, "canary": prediction.canary,
                       "label": prediction.predicted_label})
        for output in prediction.outputs:
            values = list(output.values)
            record[output.name] = values[0] if len(values) == 1 else values
        record["issues"] = [
            f"{issue.feature.group}:{issue.feature.feature} "
            f"{common_pb2.ValueStatus.Name(issue.status)[len('VALUE_STATUS_'):]}"
            for issue in prediction.feature_issues]
        record["prediction_id"] = prediction.prediction_id
        records.append(record)
    return pandas.DataFrame(records)


def _entity_columns(entities: Any, entity: str) -> Dict[str, List[str]]:
    """{entity name: keys as text}, checked: not empty, all the same length."""
    try:
        import pandas
        if isinstance(entities, pandas.DataFrame):
            entities = {str(column): entities[column].tolist() for column in entities.columns}
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(entities, (str, bytes)):
        entities = [entities]
    if isinstance(entities, Mapping):
        columns = {str(name): list(keys) for name, keys in entities.items()}
    else:
        columns = {entity: list(entities)}
    if not columns:
        raise InvalidInput("no entities: pass the keys to score", "entities")
    lengths = {name: len(keys) for name, keys in columns.items()}
    if min(lengths.values()) == 0:
        raise InvalidInput("no entities: pass the keys to score", "entities")
    if len(set(lengths.values())) > 1:
        raise InvalidInput(f"the entities' key lists differ in length: {lengths}; each row "
                           "needs one key per entity", min(lengths, key=lengths.get))
    for name, keys in columns.items():
        for key in keys:
            if key is None or (isinstance(key, float) and key != key):
                raise InvalidInput(f"entity {name or 'key'}: a key is missing (None/NaN)",
                                   name or "entities")
        columns[name] = [str(key) for key in keys]
    return columns


def _supplied(common_pb2: Any, name: str, value: Any, rows: int) -> Any:
    """A request-time feature: one value for every row, or one per row; numbers as floats
    (as `fabrique predict --feature` sends them), anything else as text."""
    column = common_pb2.FeatureColumn()
    group, _, feature = name.rpartition(":")
    column.feature.group = group
    column.feature.feature = feature
    if hasattr(value, "tolist"):  # A numpy array or scalar, a pandas Series.
        value = value.tolist()
    values = list(value) if isinstance(value, (list, tuple)) else [value] * rows
    if len(values) != rows:
        raise InvalidInput(f"feature {name}: {len(values)} values for {rows} rows", name)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        column.values.float_values.values.extend(float(v) for v in values)
    elif all(isinstance(v, str) for v in values):
        column.values.string_values.values.extend(values)
    else:
        raise InvalidInput(f"feature {name}: values must be all numbers or all text, not "
                           f"{sorted({type(v).__name__ for v in values})}", name)
    return column


# ---- infer: tensors over the Open Inference Protocol --------------------------------------

def metadata(client: "Client", model: str, version: Optional[int] = None) -> Any:
    """The model's OIP metadata (inference.ModelMetadataResponse: inputs and outputs with
    datatypes and shapes), fetched once per client. Raises NotFound."""
    pb, pb_grpc = _oip_modules()
    cache = _METADATA.setdefault(client, {})
    key = (model, version)
    if key not in cache:
        stub = client.stub("inference", pb_grpc.GRPCInferenceServiceStub)
        request = pb.ModelMetadataRequest(name=model, version=str(version or ""))
        cache[key] = client.call(stub.ModelMetadata, request, idempotent=True)
    return cache[key]


def infer(client: "Client", model: str, inputs: Union["numpy.ndarray", Mapping[str, Any]], *,
          version: Optional[int] = None, outputs: Sequence[str] = (),
          request_id: Optional[str] = None) -> Dict[str, "numpy.ndarray"]:
    """Runs the model over tensors through the Open Inference Protocol's ModelInfer.

    Args:
      model:   the model's name ("affine", or "affine:2" for a version).
      inputs:  {input name: array} or, for a model with one input, the array alone. Arrays are
               converted to the input's datatype when numpy can do it within the same kind
               (float64 -> FP32); other mismatches are refused.
      version: the version; None = the model's primary.
      outputs: the outputs wanted; empty = all.
    Returns:
      {output name: numpy array shaped as the server answered}.
    Raises:
      InvalidInput: an unknown or missing input, a wrong datatype or shape (naming the input),
        before anything is sent.
      NotFound: no such model or version.
    """
    import numpy
    pb, pb_grpc = _oip_modules()
    name, number, alias = parse_model(model, version)
    if alias:
        raise InvalidInput("the Open Inference Protocol selects versions by number, not by "
                           "alias", "version")
    spec = metadata(client, name, number)
    specs = {tensor.name: tensor for tensor in spec.inputs}
    if not isinstance(inputs, Mapping):
        if len(specs) != 1:
            raise InvalidInput(f"model {name} has {len(specs)} inputs {sorted(specs)}: pass a "
                               "dict {input name: array}", "inputs")
        inputs = {next(iter(specs)): inputs}
    unknown = sorted(set(inputs) - set(specs))
    if unknown:
        raise InvalidInput(f"input {unknown[0]!r} is not an input of {name}: it takes "
                           f"{sorted(specs)}", unknown[0])
    missing = [tensor for tensor in specs if tensor not in inputs]
    if missing:
        raise InvalidInput(f"input {missing[0]!r} of {name} is missing", missing[0])
    arrays = {tensor: _as_input(numpy, tensor, inputs[tensor], specs[tensor]) for tensor in specs}
    request = pb.ModelInferRequest(model_name=name, model_version=str(number or ""),
                                   id=request_id or new_request_id())
    # Raw little-endian contents are faster to build and parse; BYTES go typed, and then every
    # input does (a request is either raw or typed throughout).
    raw = all(specs[tensor].datatype != "BYTES" for tensor in specs)
    for tensor, array in arrays.items():
        entry = request.inputs.add(name=tensor, datatype=specs[tensor].datatype,
                                   shape=list(array.shape))
        if raw:
            request.raw_input_contents.append(array.tobytes())
        elif specs[tensor].datatype == "BYTES":
            entry.contents.bytes_contents.extend(
                v if isinstance(v, bytes) else str(v).encode() for v in array.reshape(-1))
        else:
            getattr(entry.contents, _CONTENTS_OF[specs[tensor].datatype]).extend(
                array.reshape(-1).tolist())
    for output in outputs:
        request.outputs.add(name=output)
    stub = client.stub("inference", pb_grpc.GRPCInferenceServiceStub)
    response = client.call(stub.ModelInfer, request, idempotent=True)
    result = {}
    for index, output in enumerate(response.outputs):
        shape = tuple(output.shape)
        if index < len(response.raw_output_contents):
            result[output.name] = _from_raw(numpy, response.raw_output_contents[index],
                                            output.datatype, shape)
        else:
            values = list(getattr(output.contents, _CONTENTS_OF.get(output.datatype,
                                                                    "fp32_contents")))
            result[output.name] = numpy.array(values, dtype=_NUMPY_OF.get(output.datatype,
                                                                          "<f4")).reshape(shape)
    return result


def _as_input(numpy: Any, name: str, value: Any, spec: Any) -> "numpy.ndarray":
    """`value` as an array of the input's datatype and a shape its metadata accepts."""
    datatype = spec.datatype
    if datatype not in _NUMPY_OF:
        raise InvalidInput(f"input {name!r} has datatype {datatype}, which this client does not "
                           "send", name)
    array = numpy.asarray(value)
    if datatype == "BYTES":
        if array.dtype.kind not in "USO":
            raise InvalidInput(f"input {name!r} is BYTES (text): got an array of {array.dtype}",
                               name)
        array = array.astype(object)
    else:
        target = numpy.dtype(_NUMPY_OF[datatype])
        if array.dtype.kind in "USO" or not numpy.can_cast(array.dtype, target, "same_kind"):
            raise InvalidInput(f"input {name!r} is {datatype}: an array of {array.dtype} cannot "
                               f"be sent as {target.name}", name)
        array = numpy.ascontiguousarray(array, dtype=target)
    expected = list(spec.shape)
    if expected:
        if array.ndim != len(expected):
            raise InvalidInput(f"input {name!r} has {array.ndim} dimensions {list(array.shape)}; "
                               f"the model takes shape {expected} (-1: any size)", name)
        for got, want in zip(array.shape, expected):
            if want >= 0 and got != want:
                raise InvalidInput(f"input {name!r} has shape {list(array.shape)}; the model "
                                   f"takes {expected} (-1: any size)", name)
    return array


def _from_raw(numpy: Any, data: bytes, datatype: str, shape: Tuple[int, ...]) -> Any:
    if datatype == "BYTES":  # Each element: a 4-byte little-endian length, then the bytes.
        items, offset = [], 0
        while offset < len(data):
            (length,) = struct.unpack_from("<I", data, offset)
            items.append(data[offset + 4:offset + 4 + length])
            offset += 4 + length
        return numpy.array(items, dtype=object).reshape(shape)
    return numpy.frombuffer(data, dtype=_NUMPY_OF.get(datatype, "<f4")).reshape(shape).copy()
