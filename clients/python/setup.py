"""Builds the `fabrique` package with its gRPC stubs generated from the repository's protos.

The metadata is in pyproject.toml; this file only adds the generation step to `build_py`, so
`pip install ./clients/python` (or building a wheel) writes, beside the hand-written modules:

  fabrique/v1/*_pb2.py, *_pb2_grpc.py           Fabrique's services (package fabrique.v1)
  fabrique/oip/grpc_predict_v2_pb2(_grpc).py    the Open Inference Protocol (package inference)
  fabrique/grpc_health/v1/health_pb2(_grpc).py  gRPC health checking (package grpc.health.v1)

The wire packages stay as the protos say; only the Python modules move under `fabrique`, so
installing the client adds no top-level `inference` package and nothing inside grpcio's `grpc`.
The imports between generated modules are rewritten to match.

The protos are looked for in $FABRIQUE_PROTOS, then ./protos (a source archive), then
../../protos (a checkout).
"""

import os
import pathlib
import re
import shutil
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent

# Where each generated proto directory goes inside the package, and how its modules are
# imported once there.
PLACES = {
    "fabrique/v1": ("fabrique/v1", "fabrique.v1"),
    "inference": ("fabrique/oip", "fabrique.oip"),
    "grpc/health/v1": ("fabrique/grpc_health/v1", "fabrique.grpc_health.v1"),
}


def find_protos() -> pathlib.Path:
    """The directory holding fabrique/v1/*.proto; raises if there is none."""
    candidates = [os.environ.get("FABRIQUE_PROTOS"), HERE / "protos", HERE.parents[1] / "protos"]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "fabrique" / "v1").is_dir():
            return pathlib.Path(candidate)
    raise RuntimeError("cannot find Fabrique's protos (fabrique/v1/*.proto): build from a "
                       "checkout of the repository, or set FABRIQUE_PROTOS to its protos/")


def rewrite_imports(source: str) -> str:
    """Points the generated `from <proto dir> import x_pb2` lines at the modules' new places."""
    for proto_dir, (_, module) in PLACES.items():
        old = proto_dir.replace("/", ".")
        source = re.sub(rf"^from {re.escape(old)} import ", f"from {module} import ", source,
                        flags=re.MULTILINE)
    return source


def generate_stubs(protos: pathlib.Path, package_root: pathlib.Path) -> None:
    """Runs grpc_tools.protoc over every proto and places the modules under package_root."""
    try:
        from grpc_tools import protoc
    except ImportError:
        raise RuntimeError("building fabrique needs grpc_tools (Debian: python3-grpc-tools; "
                           "PyPI: grpcio-tools) to generate its stubs") from None
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    files = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as out:
        rc = protoc.main(["grpc_tools.protoc", f"-I{protos}", f"-I{include}",
                          f"--python_out={out}", f"--grpc_python_out={out}", *files])
        if rc != 0:
            raise RuntimeError(f"grpc_tools.protoc failed ({rc}) on {files}")
        for proto_dir, (place, _) in PLACES.items():
            source_dir = pathlib.Path(out) / proto_dir
            target_dir = package_root / place
            if target_dir.exists():
                shutil.rmtree(target_dir)
            target_dir.mkdir(parents=True)
            for module in sorted(source_dir.glob("*.py")):
                (target_dir / module.name).write_text(rewrite_imports(module.read_text()))
            # Every directory on the way is a regular package.
            for directory in [pathlib.Path(place), *pathlib.Path(place).parents[:-1]]:
                init = package_root / directory / "__init__.py"
                if not init.exists():
                    init.write_text('"""Generated from Fabrique\'s protos when the package '
                                    'was built."""\n')


class BuildPyWithStubs(build_py):
    """build_py, then the generated stubs into the build directory (into the source tree for an
    editable install, which imports from there)."""

    def run(self) -> None:
        super().run()
        root = HERE if getattr(self, "editable_mode", False) else pathlib.Path(self.build_lib)
        generate_stubs(find_protos(), root)


setup(cmdclass={"build_py": BuildPyWithStubs})
