"""The Python client package on its own (clients/python/fabrique): where a channel's target, CA
and token come from, and the tokens it mints, checked without a running server. The calls it
makes against real servers are in test_access.py and every other direct-gRPC test."""

import base64
import hashlib
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import fabrique as client


@pytest.fixture
def data_dir(tmp_path):
    """A data dir laid out as `fabrique up` leaves it, with what the client reads."""
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "signing.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "endpoints.tsv").write_text(
        "features\t127.0.0.1:7101\t9101\t11\nregistry\t127.0.0.1:7102\t9102\t12\n")
    return tmp_path, key


def test_a_minted_token_carries_the_claims_the_services_check(data_dir):
    path, key = data_dir
    before = int(time.time())
    token = client.mint_token(path, user="dana", groups=["risk:data-scientist"], ttl=600)
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="fabrique",
                        issuer="fabrique-local")
    assert claims["sub"] == "dana" and claims["groups"] == ["risk:data-scientist"]
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 600
    # The key id the services' JWKS gives this key: base64url(SHA-256(SubjectPublicKeyInfo)),
    # 16 characters.
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()[:16]
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": kid, "typ": "JWT"}


def test_a_token_issued_in_the_past_is_expired(data_dir):
    path, key = data_dir
    token = client.mint_token(path, user="dana", ttl=3600, issued_at=time.time() - 7200)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="fabrique")


def test_the_token_comes_from_the_environment_unless_a_user_is_named(data_dir, monkeypatch):
    path, key = data_dir
    monkeypatch.setenv("FABRIQUE_TOKEN", "from-the-environment")
    assert client.token_for(path) == "from-the-environment"
    minted = client.token_for(path, user="sam", groups=["risk:sre"])
    assert jwt.decode(minted, key.public_key(), algorithms=["ES256"],
                      audience="fabrique")["sub"] == "sam"
    monkeypatch.delenv("FABRIQUE_TOKEN")
    monkeypatch.setenv("USER", "alice")
    assert jwt.decode(client.token_for(path), key.public_key(), algorithms=["ES256"],
                      audience="fabrique")["sub"] == "alice"  # The local user.
    with pytest.raises(ValueError, match="FABRIQUE_TOKEN"):
        client.token_for(None)


def test_targets_come_from_the_endpoints_file(data_dir):
    path, _ = data_dir
    assert client.endpoint("registry", path) == "127.0.0.1:7102"
    with pytest.raises(LookupError, match="trainer"):
        client.endpoint("trainer", path)


def test_connect_says_what_is_missing(data_dir, monkeypatch):
    path, _ = data_dir
    monkeypatch.delenv("FABRIQUE_CA", raising=False)
    with pytest.raises(ValueError, match="target= or data_dir="):
        client.open_channel("features", token="t")
    with pytest.raises(ValueError, match="no CA"):
        client.open_channel("features", target="127.0.0.1:1", token="t")
    with pytest.raises(FileNotFoundError, match="ca.crt"):
        client.open_channel("features", data_dir=path)  # This data dir holds no CA yet.


# --- fabrique.connect: one client for the factory, checked before the first call -------------

def test_a_host_target_puts_each_service_on_its_default_port(monkeypatch):
    monkeypatch.delenv("FABRIQUE_TARGET", raising=False)
    fab = client.connect("127.0.0.1", insecure=True)
    assert fab.targets["features"] == "127.0.0.1:7101"
    assert fab.targets["tower"] == "127.0.0.1:7106"
    fab = client.connect("localhost", insecure=True, targets={"inference": "127.0.0.1:9000"})
    assert fab.targets["inference"] == "127.0.0.1:9000"
    assert fab.targets["registry"] == "localhost:7102"


def test_a_pattern_target_names_each_service(monkeypatch):
    # Cluster names do not resolve here; what is checked is the names made from the pattern.
    monkeypatch.setattr("fabrique.client._check_resolves", lambda host: None)
    fab = client.connect("fabrique-{service}.fabrique.svc:{port}", insecure=True)
    assert fab.targets["monitor"] == "fabrique-monitor.fabrique.svc:7105"
    fab = client.connect("dns:///fabrique-{service}", insecure=True)
    assert fab.targets["trainer"] == "dns:///fabrique-trainer:7103"


def test_a_target_with_one_port_is_refused_with_what_to_pass():
    with pytest.raises(client.ConfigurationError, match="names one port"):
        client.connect("127.0.0.1:7101", insecure=True)


def test_an_unknown_host_is_refused_before_any_call():
    with pytest.raises(client.UnknownTarget, match="no-such-host.invalid") as caught:
        client.connect("no-such-host.invalid", token="t")
    assert caught.value.target == "no-such-host.invalid"


def test_an_expired_token_is_refused_before_any_call(data_dir, monkeypatch):
    path, _ = data_dir
    monkeypatch.delenv("FABRIQUE_CA", raising=False)
    expired = client.mint_token(path, user="dana", ttl=60, issued_at=time.time() - 3600)
    with pytest.raises(client.TokenExpired, match="expired .* 'dana'") as caught:
        client.connect("127.0.0.1", token=expired)
    assert caught.value.expired_at < time.time()


def test_the_target_comes_from_the_environment_then_the_data_dir(data_dir, monkeypatch):
    path, _ = data_dir
    monkeypatch.setenv("FABRIQUE_TARGET", "localhost")
    assert client.connect(insecure=True).targets["features"] == "localhost:7101"
    monkeypatch.delenv("FABRIQUE_TARGET")
    assert client.connect(data_dir=path, insecure=True).targets == {
        "features": "127.0.0.1:7101", "registry": "127.0.0.1:7102"}
    with pytest.raises(client.ConfigurationError, match="no target"):
        client.connect(insecure=True)
    with pytest.raises(client.ConfigurationError, match="no target for the trainer"):
        client.connect(data_dir=path, insecure=True).channel("trainer")


def test_a_missing_ca_file_is_named(data_dir, monkeypatch):
    path, _ = data_dir
    monkeypatch.delenv("FABRIQUE_CA", raising=False)
    with pytest.raises(client.ConfigurationError, match="ca.crt"):
        client.connect(data_dir=path)  # This data dir holds no CA yet.


def test_a_refused_call_raises_the_subclass_for_its_code(running, stubs):
    from fabrique.v1 import features_pb2, features_pb2_grpc
    fab = client.connect(data_dir=running.data_dir, user="mia",
                         groups=["marketing:data-scientist"])
    store = fab.stub("features", features_pb2_grpc.FeatureStoreStub)
    with pytest.raises(client.errors.NotFound) as caught:
        fab.call(store.GetFeatureGroup, features_pb2.GetFeatureGroupRequest(name="nope"))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    assert caught.value.method == "/fabrique.v1.FeatureStore/GetFeatureGroup"
    assert "nope" in caught.value.message
    fab.close()
