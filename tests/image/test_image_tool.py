"""tools/image's failures, checked before buildah is needed: fast, and safe in tools/test."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "image"
BINARIES = [
    "fabrique", "fabrique-features", "fabrique-registry", "fabrique-trainer",
    "fabrique-inference", "fabrique-monitor", "fabrique-tower", "fabrique-health-probe",
]


def run_tool(*args, env=None):
    return subprocess.run([str(TOOL), *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def path_without(command, tmp_path):
    """A PATH holding every command of this machine's PATH but `command`."""
    shadow = tmp_path / "path"
    shadow.mkdir()
    for folder in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            link = shadow / name
            if name != command and not link.exists():
                link.symlink_to(os.path.join(folder, name))
    return str(shadow)


def bin_dir_of_working_binaries(tmp_path):
    """A bin dir whose eight binaries are copies of true(1): they need libc only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    true = shutil.which("true")
    for name in BINARIES:
        shutil.copy(true, bin_dir / name)
    return bin_dir


def test_help_exits_zero():
    result = run_tool("--help")
    assert result.returncode == 0
    assert "--bin_dir" in result.stdout


def test_an_unknown_flag_fails_naming_it():
    result = run_tool("--bogus")
    assert result.returncode == 1
    assert "unknown flag --bogus" in result.stderr


def test_missing_buildah_fails_before_anything_is_assembled(tmp_path):
    env = dict(os.environ, PATH=path_without("buildah", tmp_path))
    result = run_tool(f"--bin_dir={tmp_path}/nowhere", f"--root_dir={tmp_path}/root", env=env)
    assert result.returncode == 1
    assert "buildah is missing: apt-get install buildah" in result.stderr
    assert not (tmp_path / "root").exists()


def test_a_missing_binary_is_named(tmp_path):
    bin_dir = bin_dir_of_working_binaries(tmp_path)
    (bin_dir / "fabrique-monitor").unlink()
    result = run_tool("--check_only", f"--bin_dir={bin_dir}", f"--root_dir={tmp_path}/root")
    assert result.returncode == 1
    assert "fabrique-monitor is missing from" in result.stderr


def test_a_library_that_does_not_resolve_is_named_with_its_binary(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to make a binary that needs a missing library")
    bin_dir = bin_dir_of_working_binaries(tmp_path)
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "gone.c").write_text("int gone(void) { return 0; }\n")
    (tmp_path / "main.c").write_text("int gone(void);\nint main(void) { return gone(); }\n")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(lib_dir / "libfabrique_gone.so"),
                    str(lib_dir / "gone.c")], check=True)
    target = bin_dir / "fabrique-features"
    target.unlink()
    subprocess.run([compiler, "-o", str(target), str(tmp_path / "main.c"), f"-L{lib_dir}",
                    "-lfabrique_gone"], check=True)
    # The library the binary was linked against is no longer anywhere the loader looks.
    shutil.rmtree(lib_dir)
    result = run_tool("--check_only", f"--bin_dir={bin_dir}", f"--root_dir={tmp_path}/root")
    assert result.returncode == 1, result.stdout
    assert "fabrique-features needs libfabrique_gone.so" in result.stderr


def test_check_only_assembles_a_root_without_a_shell(tmp_path):
    bin_dir = bin_dir_of_working_binaries(tmp_path)
    root = tmp_path / "root"
    env = dict(os.environ, PATH=path_without("buildah", tmp_path))
    result = run_tool("--check_only", f"--bin_dir={bin_dir}", f"--root_dir={root}", env=env)
    assert result.returncode == 0, result.stderr
    assert "the root checks out" in result.stdout
    for name in BINARIES:
        assert (root / "usr/local/bin" / name).is_file()
    assert (root / "lib64/ld-linux-x86-64.so.2").exists()
    assert not (root / "bin/sh").exists() and not (root / "usr/bin/sh").exists()
    assert "nonroot:x:65532:65532:" in (root / "etc/passwd").read_text()
