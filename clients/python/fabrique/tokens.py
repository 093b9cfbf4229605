"""Bearer tokens: from the environment, or minted by a local `fabrique up`'s authority.

A local `fabrique up --data_dir D` keeps its token signing key in D/auth/signing.key (ES256, PEM)
and the public half in D/auth/jwks.json, which every service verifies tokens against. Whoever can
read the signing key can mint a token for anyone, as `fabrique auth token` does; a real deployment
gets tokens from its OIDC provider instead and passes them in FABRIQUE_TOKEN.
"""

import base64
import hashlib
import os
import pathlib
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# The issuer and audience of a local authority's tokens (auth::LocalAuthorityOptions).
ISSUER = "fabrique-local"
AUDIENCE = "fabrique"


def local_user():
    """The user a local `fabrique up` makes platform-admin in its default policy."""
    return os.environ.get("USER") or "root"


def _key_id(public_key):
    """The "kid" Fabrique gives a key: base64url of the SHA-256 of its DER SubjectPublicKeyInfo,
    first 16 characters (auth::KeyIdFor), so the token names the JWKS entry that verifies it."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()[:16]


def mint_token(data_dir, user=None, groups=(), ttl=3600, issued_at=None):
    """Returns a token signed with `data_dir`/auth/signing.key for `user` (default the local
    user) in `groups` (e.g. ["risk:data-scientist"]: the default policy reads a group SQUAD:ROLE
    as ROLE in SQUAD), valid `ttl` seconds from `issued_at` (Unix seconds, default now)."""
    path = pathlib.Path(data_dir) / "auth" / "signing.key"
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = "ES256"
    elif isinstance(key, rsa.RSAPrivateKey):
        algorithm = "RS256"
    else:
        raise ValueError(f"{path}: neither an EC P-256 nor an RSA key")
    now = int(time.time() if issued_at is None else issued_at)
    claims = {"sub": user or local_user(), "groups": list(groups), "iss": ISSUER,
              "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + int(ttl)}
    return jwt.encode(claims, key, algorithm=algorithm,
                      headers={"kid": _key_id(key.public_key())})


def token_for(data_dir=None, user=None, groups=()):
    """The token to call with: minted for `user`/`groups` when either is given (needs
    `data_dir`); else $FABRIQUE_TOKEN; else minted for the local user from `data_dir`."""
    if user is None and not groups:
        token = os.environ.get("FABRIQUE_TOKEN")
        if token:
            return token
    if data_dir is None:
        raise ValueError("no token: pass token=, set FABRIQUE_TOKEN, or pass data_dir= of a "
                         "local `fabrique up` whose auth/signing.key this user can read")
    return mint_token(data_dir, user=user, groups=groups)
