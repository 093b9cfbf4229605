"""The Python client as pip installs it (clients/python), offline: the stubs generated while it is
built, its declared dependencies, the README's install commands, and `import fabrique;
fabrique.connect(...)` from the installed copy in a fresh interpreter against `fabrique up`."""

import email.parser
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import client_package

SERVICES = ["access", "common", "features", "inference", "monitor", "registry", "tower",
            "trainer"]


def run_python(code, python=sys.executable, path=None, cwd=None):
    """Runs `code` in a fresh interpreter that sees `path` first and not the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run([python, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_the_installed_client_carries_stubs_for_every_proto(stubs):
    package = stubs / "fabrique"
    for service in SERVICES:
        assert (package / "v1" / f"{service}_pb2.py").is_file(), service
        assert (package / "v1" / f"{service}_pb2_grpc.py").is_file(), service
    assert (package / "oip" / "grpc_predict_v2_pb2_grpc.py").is_file()
    assert (package / "grpc_health" / "v1" / "health_pb2_grpc.py").is_file()
    # Only `fabrique` is installed: no top-level `inference`, nothing inside grpcio's `grpc`.
    assert sorted(p.name for p in stubs.iterdir() if not p.name.endswith(".dist-info")) == \
        ["fabrique"]
    # The generated modules import each other where they were placed.
    inference_pb2 = (package / "v1" / "inference_pb2.py").read_text()
    assert "from fabrique.oip import grpc_predict_v2_pb2" in inference_pb2
    assert "from inference import" not in inference_pb2


def test_the_tests_import_the_installed_copy(stubs):
    import fabrique
    from fabrique.v1 import features_pb2_grpc
    assert pathlib.Path(fabrique.__file__).is_relative_to(stubs)
    assert pathlib.Path(features_pb2_grpc.__file__).is_relative_to(stubs)


def test_the_package_declares_what_it_needs(stubs):
    (dist_info,) = stubs.glob("fabrique-*.dist-info")
    metadata = email.parser.Parser().parsestr((dist_info / "METADATA").read_text())
    required = {re.match(r"[A-Za-z0-9_.-]+", r).group() for r in metadata.get_all("Requires-Dist")}
    assert required == {"grpcio", "protobuf", "pandas", "numpy", "PyJWT", "cryptography"}


def test_the_installed_client_connects_from_a_fresh_interpreter(stubs, running, tmp_path):
    result = run_python(f"""
        import fabrique
        from fabrique.v1 import features_pb2 as f, features_pb2_grpc
        from fabrique.oip import grpc_predict_v2_pb2 as oip, grpc_predict_v2_pb2_grpc
        assert fabrique.__file__.startswith({str(stubs)!r}), fabrique.__file__
        try:
            import inference
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("a top-level inference package is importable")
        fab = fabrique.connect(data_dir={running.data_dir!r})
        store = fab.stub("features", features_pb2_grpc.FeatureStoreStub)
        groups = fab.call(store.ListFeatureGroups, f.ListFeatureGroupsRequest(), idempotent=True)
        served = fab.stub("inference", grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub)
        print(len(groups.groups), fab.call(served.ServerLive,
                                                   oip.ServerLiveRequest()).live)
        """, path=stubs, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True"]


def test_the_readme_venv_install_resolves_every_dependency_offline(tmp_path):
    # As the README says: a venv that sees Debian's packages, pip without build isolation or an
    # index. Without --no-deps, so that every declared dependency must be found installed.
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    source = client_package.copy_sources(tmp_path / "checkout")
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", *client_package.PIP_OFFLINE,
                                str(source)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    result = run_python("""
        import fabrique, fabrique.v1.tower_pb2_grpc, fabrique.grpc_health.v1.health_pb2
        print(fabrique.__file__)
        """, python=str(venv / "bin" / "python"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(venv))


def test_a_build_without_the_protos_says_where_they_are_looked_for(tmp_path, monkeypatch):
    monkeypatch.delenv("FABRIQUE_PROTOS", raising=False)
    source = client_package.copy_sources(tmp_path / "checkout")
    (tmp_path / "lone").mkdir()
    lone = (tmp_path / "lone" / "python")
    source.rename(lone)  # No protos/ two levels up, none inside.
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", *client_package.PIP_OFFLINE, "--no-deps",
         "--target", str(tmp_path / "site"), str(lone)], capture_output=True, text=True,
        timeout=300)
    assert installed.returncode != 0
    assert "cannot find Fabrique's protos" in installed.stdout + installed.stderr
    assert "FABRIQUE_PROTOS" in installed.stdout + installed.stderr


def test_a_build_takes_the_protos_from_the_environment(tmp_path):
    source = client_package.copy_sources(tmp_path / "checkout")
    lone = tmp_path / "lone"
    source.rename(lone)
    env = dict(os.environ, FABRIQUE_PROTOS=str(tmp_path / "checkout" / "protos"))
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", *client_package.PIP_OFFLINE, "--no-deps",
         "--target", str(tmp_path / "site"), str(lone)], capture_output=True, text=True,
        env=env, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (tmp_path / "site" / "fabrique" / "v1" / "features_pb2.py").is_file()
