"""The Python client package on its own (clients/python/fabrique): where a channel's target, CA
and token come from, and the tokens it mints, checked without a running server. The calls it
makes against real servers are in test_access.py and every other direct-gRPC test."""

import base64
import hashlib
import time

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
        client.connect("features", token="t")
    with pytest.raises(ValueError, match="no CA"):
        client.connect("features", target="127.0.0.1:1", token="t")
    with pytest.raises(FileNotFoundError, match="ca.crt"):
        client.connect("features", data_dir=path)  # This data dir holds no CA yet.
