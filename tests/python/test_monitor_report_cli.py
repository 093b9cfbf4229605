"""`fabrique monitor report` and the monitor's /reports page against a live `fabrique up`: a
model registered, predictions and outcomes logged, a reference profile stored; then the page,
written by the CLI and served over HTTP, names the model, each feature with its test and
threshold, stands alone (no script, no URL), and draws in headless Chromium.

The end-to-end tests need the monitor's reference profiles and reports (PutReferenceProfile,
GetDriftReport, GetPerformanceReport); while the monitor answers UNIMPLEMENTED for them they
fail, saying so, rather than skip. A monitor that keeps no alerts (ListAlerts UNIMPLEMENTED)
still gets its page, without alerts."""

import hashlib
import random
import re
import urllib.error
import urllib.request

import pytest

from conftest import fabrique
from test_cli import secure_channel
from test_monitor_report_render import HEIGHT, WIDTH, screenshot

MODEL = "mr_credit"
FEATURES = ["amount", "channel"]


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_help_and_bad_usage_exit_2_before_calling_anything(tmp_path):
    helped = ok(fabrique("monitor", "report", "--help"))
    assert helped.startswith("Usage: fabrique monitor report") and "--html" in helped
    page = str(tmp_path / "page.html")
    for args, reason in [((), "MODEL"), (("m",), "--html"),
                         (("m", "--html", page, "--from", "yesterday"), "--from=yesterday"),
                         (("m", "--html", page, "--to", "soon"), "--to=soon"),
                         (("m", "--html", page, "--from", "1h", "--to", "2h"), "before --to"),
                         (("m:x", "--html", page), "m:x"),
                         (("m", "--html", page, "--bucket", "-1h"), "--bucket"),
                         (("a", "b", "--html", page), "MODEL")]:
        bad = fabrique("monitor", "report", *args)
        assert bad.returncode == 2 and reason in bad.stderr, (args, bad.stderr)
    assert not (tmp_path / "page.html").exists()


def test_an_unreachable_monitor_fails_with_exit_1_and_writes_nothing(tmp_path):
    page = tmp_path / "page.html"
    failed = fabrique("monitor", "report", "m", "--html", str(page), "--insecure",
                      "--target", "127.0.0.1:1")
    assert failed.returncode == 1 and "cannot reach fabrique-monitor" in failed.stderr
    assert not page.exists()


def http_get(running, path, token=None):
    """(status, content type, body) of GET `path` on the monitor's metrics port."""
    port = running.endpoints["monitor"]["metrics_port"]
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_the_report_page_asks_for_a_token_and_a_known_model(stubs, running):
    status, kind, body = http_get(running, f"/reports/{MODEL}")
    assert status == 401 and kind.startswith("text/plain") and "bearer token" in body
    status, _, body = http_get(running, "/reports/mr_no_such_model", running.token())
    assert status == 404, body
    status, _, body = http_get(running, f"/reports/{MODEL}?from=yesterday", running.token())
    assert status == 400 and "from=yesterday" in body
    # The metrics are still served on the same port, to anyone.
    status, _, body = http_get(running, "/metrics")
    assert status == 200 and "fabrique_monitor_predictions_total" in body


# ---- End to end: needs the monitor's reports ------------------------------------------------

def register(running):
    """Registers MODEL version 1 (amount FP32, channel BYTES -> probability) owned by risk."""
    from fabrique.v1 import common_pb2 as c, registry_pb2 as r, registry_pb2_grpc
    channel = secure_channel(running, "registry")
    registry = registry_pb2_grpc.ModelRegistryStub(channel)
    registry.CreateModel(r.CreateModelRequest(model=r.Model(
        name=MODEL, owner_squad="risk", task=c.TASK_BINARY_CLASSIFICATION)), timeout=10)
    data = b"not a module: this version is never served"
    header = r.UploadArtifactRequest(header=r.ArtifactUploadHeader(
        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        media_type="application/octet-stream"))
    artifact = registry.UploadArtifact(iter([header, r.UploadArtifactRequest(chunk=data)]),
                                       timeout=30)
    signature = c.ModelSignature(class_labels=["repaid", "default"])
    signature.inputs.add(name="amount", datatype="FP32", shape=[-1, 1], nan_allowed=True)
    signature.inputs.add(name="channel", datatype="BYTES", shape=[-1, 1], nan_allowed=True)
    signature.outputs.add(name="probability", datatype="FP32", shape=[-1, 1])
    version = r.ModelVersion(model=MODEL, signature=signature)
    version.artifacts.add(name="model.pt", kind=r.ARTIFACT_KIND_TORCHSCRIPT_MODULE,
                          artifact=artifact)
    registered = registry.RegisterVersion(r.RegisterVersionRequest(version=version), timeout=10)
    channel.close()
    return registered.version


def reference_profile(version):
    """Training looked like this: amount around 100, channel mostly web."""
    from fabrique.v1 import common_pb2 as c
    profile = c.ReferenceProfile(model_version=c.ModelVersionRef(model=MODEL, version=version),
                                 row_count=2000)
    amount = profile.features.add(name="amount", count=2000)
    amount.numeric.count = 2000
    amount.numeric.mean, amount.numeric.stddev = 100, 20
    amount.numeric.min_value, amount.numeric.max_value = 20, 180
    amount.numeric.bin_edges.extend([20, 80, 95, 105, 120, 180])
    amount.numeric.bin_fractions.extend([0.2, 0.2, 0.2, 0.2, 0.2])
    channel = profile.features.add(name="channel", count=2000)
    for value, share in (("web", 0.7), ("branch", 0.3)):
        channel.categorical.categories.add(value=value, count=int(2000 * share), fraction=share)
    channel.categorical.distinct_count = 2
    profile.training_metrics.add(name="auc", value=0.86, higher_is_better=True,
                                 split="validation")
    return profile


def log_traffic(running, version):
    """600 predictions in the last hour that drifted (amounts around 160, half mobile), and
    outcomes for 300 of them."""
    from google.protobuf import timestamp_pb2
    from fabrique.v1 import common_pb2 as c, monitor_pb2 as m, monitor_pb2_grpc
    rng = random.Random(7)
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    records, outcomes = [], []
    for i in range(600):
        at = timestamp_pb2.Timestamp(seconds=now.seconds - 3000 + 5 * i)
        probability = rng.random()
        records.append(m.PredictionRecord(
            prediction_id=f"{MODEL}-{i}", request_id=f"{MODEL}-r{i}",
            model_version=c.ModelVersionRef(model=MODEL, version=version), time=at,
            inputs=[c.Value(double_value=rng.gauss(160, 20)),
                    c.Value(string_value=rng.choice(["web", "mobile"]))],
            outputs=[c.ModelOutput(name="probability", values=[probability])],
            predicted_label="default" if probability > 0.5 else "repaid"))
        if i % 2 == 0:
            outcomes.append(m.Outcome(prediction_id=f"{MODEL}-{i}",
                                      label=c.Value(bool_value=rng.random() < 0.3),
                                      observe_time=now))
    channel = secure_channel(running, "monitor")
    monitor = monitor_pb2_grpc.MonitorStub(channel)
    logged = monitor.LogPredictions(iter([m.LogPredictionsRequest(batch_id=f"{MODEL}-p",
                                                                  predictions=records)]),
                                    timeout=30)
    assert logged.accepted == 600, logged
    joined = monitor.LogOutcomes(iter([m.LogOutcomesRequest(batch_id=f"{MODEL}-o",
                                                            outcomes=outcomes)]), timeout=30)
    assert joined.matched == 300, joined
    return channel, monitor


@pytest.fixture(scope="module")
def monitored(stubs, running):
    """MODEL registered, its traffic logged and its reference profile stored; or a failure that
    names the monitor call that is missing."""
    import grpc
    from fabrique.v1 import monitor_pb2 as m
    version = register(running)
    channel, monitor = log_traffic(running, version)
    try:
        monitor.PutReferenceProfile(m.PutReferenceProfileRequest(
            profile=reference_profile(version)), timeout=10)
    except grpc.RpcError as error:
        pytest.fail(f"the monitor cannot store reference profiles yet ({error.code()}: "
                    f"{error.details()}): the report needs them")
    finally:
        channel.close()
    return version


def check_page(html):
    """The page names the model, each feature with its test and threshold, and stands alone."""
    lower = html.lower()
    assert lower.startswith("<!doctype html>")
    assert MODEL in html
    for feature in FEATURES:
        assert feature in html, f"the page does not show {feature}"
    # Evidently's tests for these sizes: a numeric and a categorical one, shown by name.
    assert re.search(r"wasserstein|kolmogorov|\bks\b", lower), "no numeric test named"
    assert re.search(r"jensen|chi", lower), "no categorical test named"
    assert "threshold" in lower
    for banned in ("<script", "src=", "http://", "https://", "<link", "url(", "@import"):
        assert banned not in lower, banned


def check_chromium_draws(page, tmp_path):
    width, height, counts = screenshot(page, tmp_path)
    assert (width, height) == (WIDTH, HEIGHT)
    most_common, most = counts.most_common(1)[0]
    assert most < 0.95 * width * height, f"the page is mostly one colour {most_common.hex()}"
    assert len(counts) > 50, "too few colours for text and charts"


def test_fabrique_monitor_report_writes_a_page_that_draws(monitored, running, tmp_path):
    page = tmp_path / "report.html"
    result = fabrique("monitor", "report", f"{MODEL}:{monitored}", "--from", "2h",
                      "--html", str(page), "--data_dir", running.data_dir, timeout=120)
    assert result.returncode == 0, (
        f"fabrique monitor report failed (exit {result.returncode}); it needs the monitor's "
        f"GetDriftReport and GetPerformanceReport:\n{result.stdout}{result.stderr}")
    assert f"wrote {page}" in result.stdout
    assert not list(tmp_path.glob("report.html.tmp*")), "a temporary file was left behind"
    html = page.read_text(encoding="utf-8")
    check_page(html)
    check_chromium_draws(page, tmp_path)


def test_the_monitor_serves_the_same_page_over_http(monitored, running, tmp_path):
    status, kind, body = http_get(running, f"/reports/{MODEL}?version={monitored}",
                                  running.token())
    assert status == 200, (
        f"GET /reports/{MODEL} answered {status}; the page needs the monitor's reports: {body}")
    assert kind.startswith("text/html")
    check_page(body)
    page = tmp_path / "served.html"
    page.write_text(body, encoding="utf-8")
    check_chromium_draws(page, tmp_path)
    # Without a version: the production alias's, else (as here) the latest.
    status, _, latest = http_get(running, f"/reports/{MODEL}", running.token())
    assert status == 200 and f"version {monitored}" in latest, latest[:2000]
    # risk's models are not fraud's to see.
    status, _, _ = http_get(running, f"/reports/{MODEL}?version={monitored}",
                            running.token("erin", ["fraud:data-scientist"]))
    assert status == 403
