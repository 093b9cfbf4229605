"""`fab.predict` and `fab.infer` against a running `fabrique up`, on one model trained by the
trainer and put in production: entities scored by key into a DataFrame (the server reads their
features; a supplied value overrides the store's), the same model over numpy arrays through the
Open Inference Protocol, and the refusals before sending (no entities, key lists of different
lengths, an unknown input, a wrong datatype or shape, naming the input) and after (an unknown
model)."""

import numpy as np
import pytest

import py_factory
from fabrique import serving
from fabrique.errors import InvalidInput, NotFound

PREFIX = "pyserve"
MODEL = "pyserve-churn"
# The client on the module's `fabrique up` (a fixture).
fab = py_factory.fab


@pytest.fixture(scope="module")
def served(fab, running, tmp_path_factory):
    """(version, keys, xs) of MODEL in production, once the inference server answers for it."""
    return py_factory.serve(fab, running, tmp_path_factory.mktemp(PREFIX), PREFIX, MODEL)


def test_predict_returns_a_row_per_entity(fab, served):
    version, keys, xs = served
    positive = max(range(len(xs)), key=lambda i: xs[i])
    negative = min(range(len(xs)), key=lambda i: xs[i])
    frame = fab.predict(MODEL, entities=[keys[positive], keys[negative], "nobody"])
    assert list(frame.entity) == [keys[positive], keys[negative], "nobody"]
    assert set(frame.version) == {version} and set(frame.alias) == {"production"}
    assert frame.prediction_id.is_unique and all(frame.prediction_id)
    # A short training: the labels may agree, the probabilities are ordered as x is.
    assert frame.probability[0] > frame.probability[1]
    assert set(frame.label) <= {"0", "1"}
    assert frame.issues[0] == [] and frame.issues[2] == [f"{PREFIX}_signals:x MISSING"]
    assert list(frame.columns) == ["entity", "version", "alias", "canary", "label",
                                   "probability", "issues", "prediction_id"]
    # Pinned to a version: no alias in the answer.
    pinned = fab.predict(f"{MODEL}:{version}", [keys[0]], log=False)
    assert pinned.version[0] == version and pinned.alias[0] == ""


def test_a_supplied_feature_overrides_the_store(fab, served):
    version, keys, xs = served
    positive = max(range(len(xs)), key=lambda i: xs[i])
    stored = fab.predict(MODEL, [keys[positive]], log=False)
    flipped = fab.predict(MODEL, [keys[positive]], features={f"{PREFIX}_signals:x": -5.0},
                          log=False)
    assert flipped.probability[0] < stored.probability[0]
    as_dict = fab.predict(MODEL, {f"{PREFIX}_customer": [keys[0], keys[1]]}, log=False)
    assert list(as_dict[f"{PREFIX}_customer"]) == [keys[0], keys[1]]


def test_infer_over_numpy_arrays(fab, served):
    version, _, _ = served
    metadata = serving.metadata(fab, MODEL)
    inputs = {tensor.name: tensor for tensor in metadata.inputs}
    numeric = [name for name, tensor in inputs.items() if tensor.datatype == "FP32"]
    assert numeric, metadata
    # float64 arrays are sent as the model's FP32.
    arrays = {name: np.array([[4.0], [-4.0]]) for name in inputs}
    outputs = fab.infer(MODEL, arrays, version=version)
    assert outputs, outputs
    for array in outputs.values():
        assert isinstance(array, np.ndarray) and array.shape[0] == 2
    first = next(iter(outputs.values()))
    assert not np.allclose(first[0], first[1])


def test_bad_input_is_refused_naming_it_before_sending(fab, served):
    metadata = serving.metadata(fab, MODEL)
    name = metadata.inputs[0].name
    with pytest.raises(InvalidInput) as error:
        fab.infer(MODEL, {name: np.ones((2, 1)), "nonsense": np.ones((2, 1))})
    assert error.value.column == "nonsense"
    with pytest.raises(InvalidInput) as error:
        fab.infer(MODEL, {name: np.array([["a"], ["b"]])})
    assert error.value.column == name and "FP32" in str(error.value)
    with pytest.raises(InvalidInput) as error:
        fab.infer(MODEL, {name: np.ones((2, 1, 1), np.float32)})
    assert error.value.column == name
    with pytest.raises(InvalidInput) as error:
        fab.predict(MODEL, entities=[])
    assert error.value.column == "entities"
    with pytest.raises(InvalidInput):
        fab.predict(MODEL, entities={"a": ["1", "2"], "b": ["1"]})
    with pytest.raises(InvalidInput) as error:
        fab.predict(MODEL, ["k1", "k2"], features={"g:x": [1.0]})
    assert error.value.column == "g:x"
    with pytest.raises(InvalidInput):
        fab.predict(MODEL, ["k1"], version=1, alias="production")


def test_an_unknown_model_is_not_found(fab, served):
    with pytest.raises(NotFound) as error:
        fab.predict("pyserve-nothing", ["k1"])
    assert error.value.code_name == "NOT_FOUND"
    with pytest.raises(NotFound):
        fab.infer("pyserve-nothing", np.ones((1, 1), np.float32))
