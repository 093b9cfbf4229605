"""The built image, run: every binary's --help, and a service that starts in the image and
answers fabrique-health-probe, also run from the image.

Runs in a container (`buildah run --isolation chroot`) when this machine can run one. When it
cannot, says why and runs the same checks on the image's root filesystem, unpacked from the
archive, with the root's own dynamic loader and libraries; it then also checks that every
library the binaries load comes from the root. Either way it reads the archive's config for the
user and the labels, and its layers for the absence of a shell and a package manager.

Needs FABRIQUE_IMAGE=path/to/fabrique.oci.tar (tools/image sets it); skipped otherwise.
FABRIQUE_IMAGE_BINARIES="a b ..." names the binaries an image split by --split_trainer holds.
FABRIQUE_IMAGE_MODE=root runs the root filesystem checks even where containers run.
"""

import gzip
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

IMAGE = os.environ.get("FABRIQUE_IMAGE")
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not IMAGE, reason="no image to test: set FABRIQUE_IMAGE=build/image/fabrique.oci.tar")

SERVICES = ["fabrique-features", "fabrique-registry", "fabrique-trainer", "fabrique-inference",
            "fabrique-monitor", "fabrique-tower"]
USER = "65532:65532"
LIBRARY_PATH = ["usr/lib/x86_64-linux-gnu", "usr/lib", "usr/lib64"]


def read_blob(archive, digest):
    return archive.extractfile("blobs/" + digest.replace(":", "/")).read()


def open_layer(data):
    return tarfile.open(fileobj=io.BytesIO(gzip.decompress(data) if data[:2] == b"\x1f\x8b"
                                           else data))


@pytest.fixture(scope="module")
def image():
    """The archive's config and the layers' file names."""
    with tarfile.open(IMAGE) as archive:
        index = json.loads(archive.extractfile("index.json").read())
        manifest = json.loads(read_blob(archive, index["manifests"][0]["digest"]))
        config = json.loads(read_blob(archive, manifest["config"]["digest"]))
        layers = [read_blob(archive, layer["digest"]) for layer in manifest["layers"]]
    names = set()
    for layer in layers:
        with open_layer(layer) as tar:
            names.update(name.lstrip("./") for name in tar.getnames())
    return {"index": index, "config": config, "names": names, "layers": layers,
            "binaries": sorted(n.split("/")[-1] for n in names
                               if n.startswith("usr/local/bin/") and n != "usr/local/bin/")}


class ContainerRunner:
    """Runs commands in a working container of the image, with buildah's chroot isolation."""

    mode = "container (buildah run --isolation chroot)"

    def __init__(self):
        self.container = subprocess.run(
            ["buildah", "from", "--quiet", f"oci-archive:{IMAGE}"], capture_output=True,
            text=True, check=True, timeout=300).stdout.strip().splitlines()[-1]

    def argv(self, command):
        return ["buildah", "run", "--isolation", "chroot", self.container, "--", *command]

    def data_dir(self, binary):
        # The image's working folder, which belongs to the user the services run as.
        return f"/var/lib/fabrique/{binary}"

    def close(self):
        subprocess.run(["buildah", "rm", self.container], capture_output=True, check=False)
        # `buildah from` stored the archive's image under its name; untagged, so runs of the
        # test leave no image behind.
        with tarfile.open(IMAGE) as archive:
            index = json.loads(archive.extractfile("index.json").read())
        name = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
        subprocess.run(["buildah", "rmi", name], capture_output=True, check=False)


class RootRunner:
    """Runs the image's binaries from its unpacked root with the root's loader and libraries."""

    mode = "root filesystem (the image's loader and libraries, no container)"

    def __init__(self, layers):
        self.root = Path(tempfile.mkdtemp(prefix="fabrique-image-root-"))
        for layer in layers:
            with open_layer(layer) as tar:
                tar.extractall(self.root, members=[m for m in tar.getmembers()
                                                   if m.isfile() or m.isdir() or m.issym()])
        self.loader = str(self.root / "lib64/ld-linux-x86-64.so.2")
        self.library_path = ":".join(str(self.root / d) for d in LIBRARY_PATH)
        self.data = Path(tempfile.mkdtemp(prefix="fabrique-image-data-"))

    def argv(self, command):
        return [self.loader, "--library-path", self.library_path,
                str(self.root) + command[0], *command[1:]]

    def data_dir(self, binary):
        return str(self.data / binary)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)


def container_runner():
    """A ContainerRunner when a container of the image runs here, else the reason it cannot."""
    if shutil.which("buildah") is None:
        return None, "buildah is not installed"
    try:
        runner = ContainerRunner()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        return None, f"buildah from failed: {getattr(error, 'stderr', '') or error}"
    result = subprocess.run(runner.argv(["/usr/local/bin/fabrique-health-probe", "-help"]),
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        runner.close()
        return None, f"buildah run failed ({result.returncode}): {result.stderr.strip()[-300:]}"
    return runner, None


@pytest.fixture(scope="module")
def runner(image):
    if os.environ.get("FABRIQUE_IMAGE_MODE") == "root":
        chosen, reason = None, "FABRIQUE_IMAGE_MODE=root"
    else:
        chosen, reason = container_runner()
    if chosen is None:
        print(f"\nThis machine cannot run the image as a container ({reason}); "
              "checking its root filesystem instead.")
        chosen = RootRunner(image["layers"])
    print(f"\nImage test mode: {chosen.mode}")
    yield chosen
    chosen.close()


def test_the_image_runs_as_user_65532_with_its_labels(image):
    config = image["config"]["config"]
    assert config["User"] == USER
    labels = config["Labels"]
    version = re.search(r"project\(fabrique VERSION ([0-9.]+)",
                        (REPO / "CMakeLists.txt").read_text()).group(1)
    assert labels["org.opencontainers.image.version"] == version
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?|unknown",
                        labels["org.opencontainers.image.revision"])
    assert labels["org.opencontainers.image.source"]
    assert labels["org.opencontainers.image.title"]
    assert labels["org.opencontainers.image.description"]
    assert "PATH=/usr/local/bin" in config["Env"]


def test_the_archive_names_the_image_as_containerd_imports_it(image):
    # `kind load image-archive` (containerd) keeps only a fully qualified name.
    name = image["index"]["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    assert re.match(r"(localhost|[^/]*[.:][^/]*)/[^:]+:[^:/]+$", name), name


def test_the_image_has_its_binaries_and_no_shell_or_package_manager(image):
    # Every binary, unless tools/image --split_trainer says which ones this image holds.
    expected = os.environ.get("FABRIQUE_IMAGE_BINARIES", "").split() or (
        SERVICES + ["fabrique", "fabrique-health-probe"])
    assert image["binaries"] == sorted(expected)
    for forbidden in ["bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "bin/busybox",
                      "usr/bin/dpkg", "usr/bin/apt", "usr/bin/apt-get", "sbin/apk"]:
        assert forbidden not in image["names"], forbidden
    assert "etc/passwd" in image["names"]


@pytest.mark.parametrize("binary", SERVICES + ["fabrique"])
def test_each_binary_prints_its_help_in_the_image(image, runner, binary):
    if binary not in image["binaries"]:
        pytest.skip(f"{binary} is in the other image of tools/image --split_trainer")
    result = subprocess.run(runner.argv([f"/usr/local/bin/{binary}", "--help"]),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage" in result.stdout


def test_every_library_loads_from_the_root(image, runner):
    if not isinstance(runner, RootRunner):
        pytest.skip("the binaries ran in a container, which has only the image's libraries")
    for binary in image["binaries"]:
        listing = subprocess.run(
            [runner.loader, "--list", "--library-path", runner.library_path,
             str(runner.root / "usr/local/bin" / binary)],
            capture_output=True, text=True, timeout=60, check=True).stdout
        for line in listing.splitlines():
            match = re.search(r"=> (\S+) \(", line)
            if match:
                assert match.group(1).startswith(str(runner.root)), f"{binary}: {line}"
            assert "not found" not in line, f"{binary}: {line}"


# The service started in each image and the gRPC service name its health reports.
STARTED = {"fabrique-features": "fabrique.v1.FeatureStore", "fabrique-trainer": "fabrique.v1.Trainer"}


def test_a_service_starts_in_the_image_and_answers_health(image, runner, tmp_path):
    # The feature store; the trainer in the image that --split_trainer makes for it.
    binary = next(b for b in STARTED if b in image["binaries"])
    log_path = tmp_path / "service.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            runner.argv([f"/usr/local/bin/{binary}", "--insecure",
                         "--listen_host=127.0.0.1", "--port=0", "--metrics_port=-1",
                         f"--data_dir={runner.data_dir(binary)}"]),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline and server.poll() is None:
            match = re.search(r'"event":"server_started".*?"grpc_port":(\d+)',
                              log_path.read_text())
            port = int(match.group(1)) if match else None
            time.sleep(0.1)
        assert port, log_path.read_text()[-2000:]
        probe = ["/usr/local/bin/fabrique-health-probe", f"-addr=127.0.0.1:{port}"]
        serving = None
        while time.monotonic() < deadline:
            serving = subprocess.run(runner.argv(probe), capture_output=True, text=True,
                                     timeout=60, check=False)
            if serving.returncode == 0:
                break
            time.sleep(0.2)
        assert serving.returncode == 0, serving.stderr
        named = subprocess.run(runner.argv(probe + [f"-service={STARTED[binary]}"]),
                               capture_output=True, text=True, timeout=60, check=False)
        assert named.returncode == 0, named.stderr
        unknown = subprocess.run(runner.argv(probe + ["-service=no.such.Service"]),
                                 capture_output=True, text=True, timeout=60, check=False)
        assert unknown.returncode == 3, unknown.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
