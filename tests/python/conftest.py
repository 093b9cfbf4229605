"""Shared fixtures: the built binaries, the Python client installed with pip as a squad installs
it, a running `fabrique up` on free loopback ports, and calls to it as a squad's client makes
them: over TLS that verifies the server against `fabrique up`'s CA, with a bearer token minted
for the user and groups a test plays.

Every test imports `fabrique` (and its generated `fabrique.v1` stubs) from the installed copy:
this file installs clients/python once per run into a temporary directory and puts it first on
sys.path. Set FABRIQUE_CLIENT_SITE to a directory it is already installed in (`pip install
--target DIR`) to skip that."""

import atexit
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import client_package

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("FABRIQUE_BIN_DIR", REPO / "build" / "bin"))


def _installed_client_site() -> pathlib.Path:
    """Where the client is installed for this run (installing it there first)."""
    if os.environ.get("FABRIQUE_CLIENT_SITE"):
        return pathlib.Path(os.environ["FABRIQUE_CLIENT_SITE"])
    work = pathlib.Path(tempfile.mkdtemp(prefix="fabrique-client-"))
    atexit.register(shutil.rmtree, work, True)
    installed = client_package.install(work / "site", work / "src")
    if installed.returncode != 0:
        raise RuntimeError("pip could not install clients/python (on Debian it needs "
                           "python3-pip, python3-setuptools, python3-wheel and "
                           f"python3-grpc-tools):\n{installed.stdout}{installed.stderr}")
    return work / "site"


CLIENT_SITE = _installed_client_site()
sys.path.insert(0, str(CLIENT_SITE))

import fabrique as client  # noqa: E402  (the installed Python client package)


def fabrique(*args, timeout=30, **kwargs):
    """Runs the fabrique CLI and returns the CompletedProcess."""
    return subprocess.run([str(BIN_DIR / "fabrique"), *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def stubs(tmp_path_factory):
    """The generated stubs: Fabrique's own (`fabrique.v1`) come with the installed client; the
    standard ones a KServe or gRPC user generates themselves (`inference` for the Open Inference
    Protocol, `grpc.health.v1`) are generated here with grpc_tools.protoc and put on sys.path.
    Returns the directory of the installed client."""
    from grpc_tools import protoc
    out = tmp_path_factory.mktemp("stubs")
    protos = ["inference/grpc_predict_v2.proto", "grpc/health/v1/health.proto"]
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(["grpc_tools.protoc", f"-I{REPO / 'protos'}", f"-I{include}",
                      f"--python_out={out}", f"--grpc_python_out={out}", *protos])
    assert rc == 0, f"grpc_tools.protoc failed on {protos}"
    sys.path.insert(1, str(out))  # After the installed client.
    # grpc.health.v1 lives under the installed `grpc` package's name: let it find the generated
    # modules too (Debian ships no grpcio-health-checking).
    import grpc
    grpc.__path__.append(str(out / "grpc"))
    return CLIENT_SITE


class Fabrique:
    """`fabrique up` in the background, with the endpoints it wrote and its local authority
    (DATA_DIR/auth: the CA, the services' certificates, the token signing key, the policy)."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.auth_dir = pathlib.Path(data_dir) / "auth"
        self.process = subprocess.Popen(
            [str(BIN_DIR / "fabrique"), "up", f"--data_dir={data_dir}", "--grpc_base_port=0",
             "--metrics_base_port=0", "--startup_timeout=60s"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.endpoints = self._wait_for_endpoints(timeout=120)

    def _wait_for_endpoints(self, timeout):
        path = pathlib.Path(self.data_dir) / "endpoints.tsv"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"fabrique up exited {self.process.returncode}:\n"
                                     f"{self.process.stdout.read()}")
            if path.exists():
                rows = [line.split("\t") for line in path.read_text().splitlines()]
                return {name: {"grpc": grpc, "metrics_port": int(metrics), "pid": int(pid)}
                        for name, grpc, metrics, pid in rows}
            time.sleep(0.05)
        raise AssertionError("fabrique up wrote no endpoints in time")

    def token(self, user=None, groups=(), ttl=3600, issued_at=None):
        """A token from this authority for `user` (default the local user, platform-admin in the
        default policy) in `groups`, e.g. ["risk:data-scientist"]."""
        return client.mint_token(self.data_dir, user=user, groups=groups, ttl=ttl,
                                 issued_at=issued_at)

    def connect(self, service, user=None, groups=(), token=None):
        """A TLS channel to `service` whose calls carry a token for `user` in `groups` (or
        `token`)."""
        return client.open_channel(service, data_dir=self.data_dir,
                              token=token or self.token(user, groups))

    def stop(self, sig=signal.SIGINT):
        """Stops `fabrique up` with `sig`; returns (exit code, everything it printed)."""
        self.process.send_signal(sig)
        output, _ = self.process.communicate(timeout=120)
        return self.process.returncode, output


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fabrique-data")
    up = Fabrique(str(data_dir))
    yield up
    if up.process.poll() is None:
        up.stop()


@pytest.fixture(scope="module")
def connect(stubs, running):
    """connect(service, user=None, groups=()) -> a channel to the running `service` as `user`
    in `groups` (default the local user, who administers the platform); closed after the
    module."""
    channels = []

    def open_channel(service, user=None, groups=(), token=None):
        channels.append(running.connect(service, user=user, groups=groups, token=token))
        return channels[-1]

    yield open_channel
    for channel in channels:
        channel.close()
