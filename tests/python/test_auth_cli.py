"""Identity from the command line: `fabrique up` makes the local authority and serves TLS,
`fabrique auth token | whoami | can-i | permissions`, and how the CLI reports a caller the
services refuse (no roles, an expired token) and a promotion decided by real tokens."""

import json
import os
import pathlib
import re
import stat
import subprocess
import time

import pytest

from conftest import BIN_DIR, Fabrique, fabrique
from test_cli import local_user, secure_channel, token


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def at(running, *args, bearer=None):
    """Runs `fabrique ARGS --data_dir DIR`, with --token BEARER when given."""
    extra = ["--token", bearer] if bearer else []
    return fabrique(*args, "--data_dir", str(running.data_dir), *extra)


def test_up_makes_the_local_authority_and_serves_tls(running, stubs):
    auth = pathlib.Path(running.data_dir) / "auth"
    for name in ["ca.crt", "signing.key", "jwks.json", "policy.csv", "registry.crt",
                 "registry.key"]:
        assert (auth / name).is_file(), name
    for secret in ["signing.key", "ca.key", "registry.key", "policy.csv"]:
        assert stat.S_IMODE((auth / secret).stat().st_mode) == 0o600, secret
    assert f"g, user:{local_user()}, *:platform-admin" in (auth / "policy.csv").read_text()
    assert not (pathlib.Path(running.data_dir) / "insecure").exists()

    # TLS: a plaintext client gets nowhere; one trusting the local CA is served.
    import grpc
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    address = running.endpoints["registry"]["grpc"]
    with grpc.insecure_channel(address) as plaintext:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(plaintext).Check(health_pb2.HealthCheckRequest(),
                                                        timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    with secure_channel(running, "registry") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                           timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


class InsecureUp(Fabrique):
    """`fabrique up --insecure` in the background."""

    def __init__(self, data_dir):  # pylint: disable=super-init-not-called
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [str(BIN_DIR / "fabrique"), "up", f"--data_dir={data_dir}", "--grpc_base_port=0",
             "--metrics_base_port=0", "--insecure"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.endpoints = self._wait_for_endpoints(timeout=120)


def test_up_insecure_warns_and_the_cli_follows_it(tmp_path):
    up = InsecureUp(str(tmp_path))
    try:
        assert (tmp_path / "insecure").exists()
        status = fabrique("status", f"--data_dir={tmp_path}")
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        code, output = up.stop()
    assert code == 0, output
    assert "WARNING: --insecure" in output and "authenticates NOBODY" in output
    assert not (tmp_path / "insecure").exists()
    assert not (tmp_path / "auth").exists()


def test_token_prints_a_jwt_for_the_user_and_groups(running):
    import jwt
    minted = token(running.data_dir, "dana", "risk:data-scientist", "growth:sre", ttl="10m")
    jwks = json.loads((pathlib.Path(running.data_dir) / "auth" / "jwks.json").read_text())
    key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwks["keys"][0]))
    claims = jwt.decode(minted, key, algorithms=["ES256"], audience="fabrique",
                        issuer="fabrique-local")
    assert claims["sub"] == "dana"
    assert claims["groups"] == ["risk:data-scientist", "growth:sre"]
    assert 590 <= claims["exp"] - claims["iat"] <= 600

    # --signing_key names the key directly.
    by_key = fabrique("auth", "token", "--user", "erin", "--signing_key",
                      f"{running.data_dir}/auth/signing.key")
    assert jwt.decode(ok(by_key).strip(), key, algorithms=["ES256"], audience="fabrique")[
        "sub"] == "erin"


def test_token_without_a_readable_key_says_why(tmp_path):
    missing = fabrique("auth", "token", "--user", "dana", f"--data_dir={tmp_path}")
    assert missing.returncode == 1
    assert missing.stderr.startswith(
        f"fabrique auth token: cannot mint a token: {tmp_path}/auth/signing.key")
    assert "Only whoever can read the signing key" in missing.stderr
    no_user = fabrique("auth", "token", f"--data_dir={tmp_path}")
    assert no_user.returncode == 2 and "--user is required" in no_user.stderr
    no_key = fabrique("auth", "token", "--user", "dana")
    assert no_key.returncode == 2 and "--data_dir DIR or --signing_key PATH" in no_key.stderr


def test_permissions_help_and_can_i_usage():
    listed = ok(fabrique("auth", "permissions"))
    assert listed.splitlines()[0].split() == ["PERMISSION", "LETS", "A", "CALLER"]
    names = [line.split()[0] for line in listed.splitlines()[1:]]
    assert {"models.read", "models.approve", "features.personal.read", "auth.delegate"} <= set(
        names)
    assert "  auth " in ok(fabrique("help"))
    overview = ok(fabrique("auth", "--help"))
    assert "$FABRIQUE_TOKEN" in overview and "current-context" in overview
    for sub in ["token", "whoami", "can-i", "permissions"]:
        assert ok(fabrique("auth", sub, "--help")).startswith(f"Usage: fabrique auth {sub}")
    unknown = fabrique("auth", "can-i", "models.aprove", "--squad", "risk")
    assert unknown.returncode == 2
    assert "unknown permission 'models.aprove' (did you mean 'models.approve'?)" in unknown.stderr


# --- What follows needs services that verify tokens and decide by the policy (ServeAccess).

def test_whoami_shows_the_user_how_and_roles(running):
    dana = token(running.data_dir, "dana", "risk:data-scientist", "growth:data-engineer")
    out = ok(at(running, "auth", "whoami", bearer=dana))
    assert re.search(r"^subject: +dana$", out, re.M)
    assert re.search(r"^authenticated: +token \(credentials: --token\)$", out, re.M)
    assert re.search(r"^expires: +\S+ .*\(in ", out, re.M)
    assert re.search(r"^risk +data-scientist$", out, re.M)
    assert re.search(r"^growth +data-engineer$", out, re.M)

    mine = ok(at(running, "auth", "whoami", "--service", "features"))
    assert re.search(rf"^subject: +{local_user()}$", mine, re.M)
    assert f"minted for {local_user()} with" in mine
    assert re.search(r"^\* \(every squad\) +platform-admin$", mine, re.M)


def test_can_i_answers_yes_or_no_with_exit_codes(running):
    dana = token(running.data_dir, "dana", "risk:data-scientist")
    yes = at(running, "auth", "can-i", "models.promote", "--squad", "risk", bearer=dana)
    assert yes.returncode == 0 and yes.stdout.splitlines()[0] == "yes", yes.stderr
    no = at(running, "auth", "can-i", "models.approve", "--squad", "risk", bearer=dana)
    assert no.returncode == 1 and no.stdout.splitlines()[0] == "no"
    assert "models.approve" in no.stdout
    elsewhere = at(running, "auth", "can-i", "models.promote", "--squad", "growth", bearer=dana)
    assert elsewhere.returncode == 1 and elsewhere.stdout.startswith("no\n")


def test_a_user_without_roles_is_refused_with_the_reason(running):
    nobody = token(running.data_dir, "nobody")
    for args in (["models", "list"], ["features", "list"]):
        result = at(running, *args, bearer=nobody)
        assert result.returncode == 1, args
        assert "PERMISSION_DENIED" in result.stderr and "user:nobody" in result.stderr, args
        assert "hint: 'fabrique auth whoami'" in result.stderr
        assert result.stdout == ""


def test_an_expired_token_is_refused_naming_its_expiry(running):
    import jwt
    auth = pathlib.Path(running.data_dir) / "auth"
    kid = json.loads((auth / "jwks.json").read_text())["keys"][0]["kid"]
    now = int(time.time())
    # Past expiry by more than the verifiers' allowance for clock skew.
    expired = jwt.encode({"sub": "dana", "groups": ["risk:data-scientist"],
                          "iss": "fabrique-local", "aud": "fabrique",
                          "iat": now - 7200, "exp": now - 3600},
                         (auth / "signing.key").read_text(), algorithm="ES256",
                         headers={"kid": kid})
    result = at(running, "models", "list", bearer=expired)
    assert result.returncode == 1
    assert "UNAUTHENTICATED" in result.stderr and "expired" in result.stderr
    assert "hint: the server did not accept your credentials" in result.stderr


def test_promotion_with_real_tokens(running, tmp_path):
    dana = token(running.data_dir, "dana", "risk:data-scientist")
    rita = token(running.data_dir, "rita", "risk:design-authority")
    ok(at(running, "models", "create", "auth-promo", "--squad", "risk", "--use-case", "uc",
          bearer=dana))
    artifact = tmp_path / "model.pt"
    artifact.write_bytes(os.urandom(4096))
    ok(at(running, "models", "upload", str(artifact), "--register", "auth-promo", "--metric",
          "auc=0.9", bearer=dana))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(
        {"approvalGates": [{"role": "design-authority", "requiredApprovals": 1}]}))
    # Promotion policies are the design authority's (and the admin's), not the scientist's.
    denied = at(running, "models", "policy", "auth-promo", "production", "--set", str(policy),
                bearer=dana)
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr
    ok(at(running, "models", "policy", "auth-promo", "production", "--set", str(policy),
          bearer=rita))

    pending = ok(at(running, "models", "promote", "auth-promo", "1", "--alias", "production",
                    bearer=dana))
    request_id = re.search(r"request:\s+(\S+)", pending).group(1)
    own = at(running, "models", "approve", request_id, bearer=dana)
    assert own.returncode == 1 and "PERMISSION_DENIED" in own.stderr
    approved = ok(at(running, "models", "approve", request_id, bearer=rita))
    assert "state:         completed" in approved and "approved by rita" in approved
    trail = ok(at(running, "models", "audit", "--model", "auth-promo"))
    assert re.search(r"dana \(risk\)\s+promotion\.request", trail)
    assert re.search(r"rita \(risk\)\s+promotion\.approve", trail)
