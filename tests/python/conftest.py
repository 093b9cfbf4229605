"""Shared fixtures: the built binaries, Python stubs generated at test time, and a running
`fabrique up` on free loopback ports."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("FABRIQUE_BIN_DIR", REPO / "build" / "bin"))


def fabrique(*args, timeout=30, **kwargs):
    """Runs the fabrique CLI and returns the CompletedProcess."""
    return subprocess.run([str(BIN_DIR / "fabrique"), *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def stubs(tmp_path_factory):
    """Generates Python stubs for every Fabrique proto with grpc_tools.protoc, as a squad would,
    and puts them on sys.path."""
    from grpc_tools import protoc
    out = tmp_path_factory.mktemp("stubs")
    protos = sorted(str(p.relative_to(REPO / "protos"))
                    for p in (REPO / "protos").rglob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(["grpc_tools.protoc", f"-I{REPO / 'protos'}", f"-I{include}",
                      f"--python_out={out}", f"--grpc_python_out={out}", *protos])
    assert rc == 0, f"grpc_tools.protoc failed on {protos}"
    sys.path.insert(0, str(out))
    # grpc.health.v1 lives under the installed `grpc` package's name; let that package find the
    # generated health modules too (Debian ships no grpcio-health-checking).
    import grpc
    grpc.__path__.append(str(out / "grpc"))
    return out


class Fabrique:
    """`fabrique up` in the background, with the endpoints it wrote."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
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
