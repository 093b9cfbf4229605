"""The inference server, the monitor and the control tower check their callers as the other
services do: they refuse to start without a token key set and a policy (unless --insecure), serve
fabrique.v1.Access so `fabrique auth whoami --service NAME` works against them, and the calls they
answer (the Open Inference Protocol's server calls) need a token whose user the policy allows.
grpc.health.v1, which Kubernetes probes ask, stays open to callers without a credential."""

import re
import subprocess

import grpc
import pytest

from conftest import BIN_DIR, fabrique
from test_cli import local_user, token

GUARDED = ["inference", "monitor", "tower"]


def tls_only(running, service):
    """A channel to `service` that verifies the server but carries no credential."""
    ca = (running.auth_dir / "ca.crt").read_bytes()
    return grpc.secure_channel(running.endpoints[service]["grpc"],
                               grpc.ssl_channel_credentials(root_certificates=ca),
                               options=[("grpc.ssl_target_name_override", f"fabrique-{service}")])


def refused(call):
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


@pytest.mark.parametrize("service", GUARDED)
def test_whoami_asks_the_service_itself(running, service):
    mine = fabrique("auth", "whoami", "--service", service, "--data_dir", str(running.data_dir))
    assert mine.returncode == 0, mine.stderr
    assert re.search(rf"^subject: +{local_user()}$", mine.stdout, re.M)
    assert re.search(r"^\* \(every squad\) +platform-admin$", mine.stdout, re.M)

    dana = token(running.data_dir, "dana", "risk:data-scientist")
    theirs = fabrique("auth", "whoami", "--service", service, "--data_dir", str(running.data_dir),
                      "--token", dana)
    assert theirs.returncode == 0, theirs.stderr
    assert re.search(r"^subject: +dana$", theirs.stdout, re.M)
    assert re.search(r"^risk +data-scientist$", theirs.stdout, re.M)


def test_open_inference_server_calls_need_a_caller_the_policy_allows(stubs, running, connect):
    from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc
    with tls_only(running, "inference") as anonymous:
        stub = pb_grpc.GRPCInferenceServiceStub(anonymous)
        for call, request in [(stub.ServerLive, pb.ServerLiveRequest()),
                              (stub.ServerReady, pb.ServerReadyRequest()),
                              (stub.ServerMetadata, pb.ServerMetadataRequest())]:
            error = refused(lambda: call(request, timeout=5))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert error.details().startswith("no credentials: present a bearer token")

    nobody = pb_grpc.GRPCInferenceServiceStub(connect("inference", user="nobody"))
    error = refused(lambda: nobody.ServerMetadata(pb.ServerMetadataRequest(), timeout=5))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "user:nobody lacks inference.read in any squad" in error.details()

    # inference.read in one squad is enough for the server-wide questions.
    scientist = pb_grpc.GRPCInferenceServiceStub(
        connect("inference", user="dana", groups=["risk:data-scientist"]))
    assert scientist.ServerLive(pb.ServerLiveRequest(), timeout=5).live
    assert scientist.ServerReady(pb.ServerReadyRequest(), timeout=5).ready
    assert scientist.ServerMetadata(pb.ServerMetadataRequest(), timeout=5).name == \
        "fabrique-inference"


@pytest.mark.parametrize("service", GUARDED)
def test_health_needs_no_credential(stubs, running, service):
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    with tls_only(running, service) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                           timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("service", GUARDED)
def test_a_binary_without_token_keys_or_policy_refuses_to_start(running, service, tmp_path):
    auth = running.auth_dir
    argv = [str(BIN_DIR / f"fabrique-{service}"), "--listen_host=127.0.0.1", "--port=0",
            "--metrics_port=0", f"--tls_cert={auth / service}.crt",
            f"--tls_key={auth / service}.key", f"--tls_client_ca={auth / 'ca.crt'}"]
    if service != "inference":
        argv.append(f"--data_dir={tmp_path / 'data'}")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "pass --jwks (your OIDC provider's token signing keys) and --policy" in output
