"""Installs the Python client (clients/python) with pip, offline, the way the README tells a squad
to, so that the tests import the package as it is installed (with the stubs generated while it
was built) rather than the source tree."""

import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]

# What a build leaves in the source tree; never copied into a fresh build.
_BUILD_LEFTOVERS = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "v1",
                                          "oip", "grpc_health")

# pip without the network or PyPI: Debian's setuptools, wheel and grpc_tools build it.
PIP_OFFLINE = ["--no-build-isolation", "--no-index", "--disable-pip-version-check", "--quiet"]


def copy_sources(into: pathlib.Path) -> pathlib.Path:
    """Copies clients/python and protos/ into `into`, laid out as in the repository; returns the
    copy of clients/python. Building a copy keeps build/ and *.egg-info out of the checkout."""
    shutil.copytree(REPO / "clients" / "python", into / "clients" / "python",
                    ignore=_BUILD_LEFTOVERS)
    shutil.copytree(REPO / "protos", into / "protos")
    return into / "clients" / "python"


def install(target: pathlib.Path, work: pathlib.Path, python: str = sys.executable,
            extra: tuple = ("--no-deps",)) -> subprocess.CompletedProcess:
    """`pip install --target target` of a fresh copy of the client (built under `work`);
    returns pip's CompletedProcess (check its returncode)."""
    source = copy_sources(work)
    return subprocess.run([python, "-m", "pip", "install", *PIP_OFFLINE, *extra, "--target",
                           str(target), str(source)], capture_output=True, text=True,
                          timeout=300)
