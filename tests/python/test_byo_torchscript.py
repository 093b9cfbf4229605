"""A squad's own PyTorch module, end to end: scripted (torch.jit.script) or traced
(torch.jit.trace) by Debian's Python from a source file, registered with a signature file by
`fabrique models register --torchscript FILE --signature SIG.json`, put in production by
`fabrique models alias`, and served unchanged over the Open Inference Protocol. Its answers are
the ones the same saved module gives in Python for the same rows."""

import json
import math
import struct
import subprocess
import time

import grpc
import pytest

from conftest import fabrique
from test_cli import token

torch = pytest.importorskip("torch")

DANA = dict(user="dana", groups=["risk:data-scientist"])

# TorchScript compiles from source: the modules are made by a file, not `python -c`. Two inputs
# (FP32 amounts [rows, 4] and INT64 segment ids [rows, 1]) and two outputs (an FP32 score and an
# INT64 bucket), called positionally: forward(amounts, segment) -> (score, bucket).
MODULE_SCRIPT = """
import sys
from typing import Tuple
import torch


class Scorer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = torch.tensor([[0.5], [-1.25], [2.0], [0.125]])

    def forward(self, amounts: torch.Tensor,
                segment: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        score = torch.sigmoid(amounts.matmul(self.weights) + segment.to(torch.float32) * 0.25)
        bucket = segment * 10 + torch.argmax(amounts, dim=1, keepdim=True)
        return score, bucket


scripted, traced = sys.argv[1], sys.argv[2]
torch.jit.script(Scorer()).save(scripted)
example = (torch.zeros(2, 4), torch.zeros(2, 1, dtype=torch.int64))
torch.jit.trace(Scorer(), example).save(traced)
"""

SIGNATURE = {
    "inputs": [{"name": "amounts", "datatype": "FP32", "shape": [-1, 4]},
               {"name": "segment", "datatype": "INT64", "shape": [-1, 1]}],
    "outputs": [{"name": "score", "datatype": "FP32", "shape": [-1, 1]},
                {"name": "bucket", "datatype": "INT64", "shape": [-1, 1]}],
}

# The rows scored: three customers, amounts with a fraction and a sign, segments 0 to 7.
AMOUNTS = [[0.5, -1.5, 3.25, 7.0], [12.0, 0.0, -4.5, 0.75], [-0.125, 2.5, 2.5, 1.0]]
SEGMENTS = [3, 0, 7]


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """The scripted and the traced module, saved by Debian's Python from a script file."""
    folder = tmp_path_factory.mktemp("byo")
    script = folder / "make_modules.py"
    script.write_text(MODULE_SCRIPT)
    scripted, traced = folder / "scripted.pt", folder / "traced.pt"
    subprocess.run(["/usr/bin/python3", str(script), str(scripted), str(traced)], check=True,
                   timeout=120)
    signature = folder / "signature.json"
    signature.write_text(json.dumps(SIGNATURE))
    return {"scripted": scripted, "traced": traced, "signature": signature}


@pytest.fixture(scope="module")
def oip(stubs, connect, running):
    """A KServe stub of the running inference server as dana (risk)."""
    from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc
    return pb_grpc.GRPCInferenceServiceStub(connect("inference", **DANA)), pb


def cli(running, *args):
    """Runs `fabrique ARGS` against `running` as dana (risk's data scientist)."""
    dana = token(running.data_dir, DANA["user"], *DANA["groups"])
    return ok(fabrique(*args, "--data_dir", str(running.data_dir), "--token", dana,
                       timeout=120))


def register_and_promote(running, model, module, signature):
    """Registers `module` as MODEL's first version with the CLI and puts it in production."""
    out = cli(running, "models", "register", model, "--torchscript", str(module), "--signature",
              str(signature), "--squad", "risk", "--use_case", "uc-byo")
    assert f"registered {model}:1" in out, out
    assert "production" in cli(running, "models", "alias", model, "production", "1")


def wait_until_ready(stub, pb, model, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if stub.ModelReady(pb.ModelReadyRequest(name=model), timeout=5).ready:
                return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:  # Not in the serving plan yet.
                raise
        time.sleep(0.1)
    raise AssertionError(f"{model} did not become ready in {timeout} s")


def expected_outputs(module):
    """What the saved module answers in this Python (Debian's, with torch) for the rows."""
    loaded = torch.jit.load(str(module))
    with torch.no_grad():
        score, bucket = loaded(torch.tensor(AMOUNTS, dtype=torch.float32),
                               torch.tensor(SEGMENTS, dtype=torch.int64).reshape(-1, 1))
    return score.flatten().tolist(), bucket.flatten().tolist()


def infer_request(pb, model, raw):
    """ModelInfer for the rows, with typed contents or raw little-endian bytes."""
    request = pb.ModelInferRequest(model_name=model, id=f"{model}-{raw}")
    amounts = [value for row in AMOUNTS for value in row]
    amounts_tensor = request.inputs.add(name="amounts", datatype="FP32",
                                        shape=[len(AMOUNTS), 4])
    segment_tensor = request.inputs.add(name="segment", datatype="INT64",
                                        shape=[len(SEGMENTS), 1])
    if raw:
        request.raw_input_contents.append(struct.pack(f"<{len(amounts)}f", *amounts))
        request.raw_input_contents.append(struct.pack(f"<{len(SEGMENTS)}q", *SEGMENTS))
    else:
        amounts_tensor.contents.fp32_contents.extend(amounts)
        segment_tensor.contents.int64_contents.extend(SEGMENTS)
    return request


def answered(response, raw):
    """The response's (score, bucket) values, checked for names and shapes."""
    rows = len(AMOUNTS)
    assert [(o.name, o.datatype, list(o.shape)) for o in response.outputs] == \
        [("score", "FP32", [rows, 1]), ("bucket", "INT64", [rows, 1])]
    if raw:
        assert len(response.raw_output_contents) == 2
        return (list(struct.unpack(f"<{rows}f", response.raw_output_contents[0])),
                list(struct.unpack(f"<{rows}q", response.raw_output_contents[1])))
    return (list(response.outputs[0].contents.fp32_contents),
            list(response.outputs[1].contents.int64_contents))


@pytest.mark.parametrize("kind", ["scripted", "traced"])
def test_own_module_registered_by_the_cli_is_served_unchanged(kind, modules, running, oip):
    stub, pb = oip
    model = f"byo-{kind}"
    register_and_promote(running, model, modules[kind], modules["signature"])
    wait_until_ready(stub, pb, model)

    metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=model), timeout=10)
    assert metadata.name == model and list(metadata.versions) == ["1"]
    assert metadata.platform == "pytorch_torchscript"
    for served, declared in ((metadata.inputs, SIGNATURE["inputs"]),
                             (metadata.outputs, SIGNATURE["outputs"])):
        assert [(t.name, t.datatype, list(t.shape)) for t in served] == \
            [(t["name"], t["datatype"], t["shape"]) for t in declared]

    want_score, want_bucket = expected_outputs(modules[kind])
    for raw in (False, True):
        response = stub.ModelInfer(infer_request(pb, model, raw), timeout=30)
        assert response.model_name == model and response.model_version == "1"
        score, bucket = answered(response, raw)
        assert bucket == want_bucket, (raw, bucket, want_bucket)
        assert all(math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6)
                   for got, want in zip(score, want_score)), (raw, score, want_score)

    # The INT64 segment sent as FP32: refused before the module runs, naming the input.
    wrong = infer_request(pb, model, raw=False)
    del wrong.inputs[1].contents.int64_contents[:]
    wrong.inputs[1].datatype = "FP32"
    wrong.inputs[1].contents.fp32_contents.extend(float(s) for s in SEGMENTS)
    with pytest.raises(grpc.RpcError) as error:
        stub.ModelInfer(wrong, timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "segment" in error.value.details() and "FP32" in error.value.details()
