"""Who may call, seen from a squad's Python client: the transport is TLS that a client verifies
against `fabrique up`'s CA, every call needs a token from the authority the services trust, and
the policy decides what the token's user may do in which squad. The answers carry exact codes and
say why: UNAUTHENTICATED for a missing or bad credential, PERMISSION_DENIED naming permission and
squad. Headers a caller asserts about itself (`x-fabrique-*`) count for nothing."""

import datetime
import time

import grpc
import pytest


@pytest.fixture(scope="module")
def payments(connect):
    """A feature group of the risk squad, defined by a risk data engineer."""
    from fabrique.v1 import common_pb2 as c, features_pb2 as f, features_pb2_grpc
    fs = features_pb2_grpc.FeatureStoreStub(
        connect("features", user="dana", groups=["risk:data-engineer"]))
    fs.ApplyEntity(f.ApplyEntityRequest(entity=f.Entity(
        name="account", join_key="account_id", owner_squad="risk")), timeout=5)
    spec = f.FeatureGroupSpec(name="risk_scores", entity="account", owner_squad="risk")
    spec.features.add(name="score", type=c.FEATURE_TYPE_DOUBLE)
    fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)
    return "risk_scores"


def get_group(channel, name, **kwargs):
    from fabrique.v1 import features_pb2 as f, features_pb2_grpc
    return features_pb2_grpc.FeatureStoreStub(channel).GetFeatureGroup(
        f.GetFeatureGroupRequest(name=name), timeout=5, **kwargs)


def refused(call):
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def test_a_plaintext_client_gets_no_answer_from_a_tls_server(stubs, running, payments):
    with grpc.insecure_channel(running.endpoints["features"]["grpc"]) as channel:
        error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_trusting_another_ca_refuses_the_server(stubs, running, payments):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    other_ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(
            root_certificates=other_ca.public_bytes(serialization.Encoding.PEM)),
        grpc.access_token_call_credentials(running.token()))
    with grpc.secure_channel(running.endpoints["features"]["grpc"], credentials) as channel:
        error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    # The same call through the right CA is answered: the server was fine, the trust was not.
    with running.connect("features") as channel:
        assert get_group(channel, payments).spec.owner_squad == "risk"


def test_a_call_without_a_token_is_unauthenticated(stubs, running, payments):
    credentials = grpc.ssl_channel_credentials(root_certificates=(running.auth_dir / "ca.crt").read_bytes())
    with grpc.secure_channel(running.endpoints["features"]["grpc"], credentials) as channel:
        error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "no credentials" in error.details()


def test_an_expired_token_is_unauthenticated_naming_expiry(stubs, running, payments):
    # Issued two hours ago for one hour: an hour past expiry, far beyond any clock skew.
    token = running.token("dana", ["risk:data-engineer"], ttl=3600,
                          issued_at=time.time() - 7200)
    with running.connect("features", token=token) as channel:
        error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired" in error.details()


def test_a_token_from_another_authority_is_unauthenticated(stubs, running, payments, tmp_path):
    """A signing key the services do not know, in the same layout: its tokens name a key id
    absent from the services' JWKS."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import fabrique as client
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "signing.key").write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    forged = client.mint_token(tmp_path, user="mallory", groups=["*:platform-admin"])
    with running.connect("features", token=forged) as channel:
        error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "key id" in error.details()


def test_another_squad_cannot_read_a_feature_group(connect, payments):
    channel = connect("features", user="mia", groups=["marketing:data-scientist"])
    error = refused(lambda: get_group(channel, payments))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "user:mia" in error.details()
    assert "features.schema.read" in error.details() and "risk" in error.details()
    # Their own squad's reader is let through.
    reader = connect("features", user="rita", groups=["risk:data-scientist"])
    assert get_group(reader, payments).spec.name == payments


def test_a_forged_role_header_changes_nothing(connect, payments):
    channel = connect("features", user="mia", groups=["marketing:data-scientist"])
    plain = refused(lambda: get_group(channel, payments))
    forged = refused(lambda: get_group(channel, payments, metadata=[
        ("x-fabrique-user", "root"), ("x-fabrique-roles", "design-authority"),
        ("x-fabrique-squad", "risk")]))
    assert forged.code() == plain.code() == grpc.StatusCode.PERMISSION_DENIED
    assert forged.details() == plain.details()
    assert "user:mia" in forged.details()


def test_whoami_answers_who_the_token_says(connect):
    from fabrique.v1 import access_pb2, access_pb2_grpc
    channel = connect("registry", user="dana", groups=["risk:data-scientist"])
    me = access_pb2_grpc.AccessStub(channel).WhoAmI(access_pb2.WhoAmIRequest(), timeout=5)
    assert me.caller.subject == "dana"
    assert list(me.groups) == ["risk:data-scientist"]
    assert [(r.squad, r.role) for r in me.roles] == [("risk", "data-scientist")]
