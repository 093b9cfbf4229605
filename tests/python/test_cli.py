"""The `fabrique` CLI as a user runs it: up, status, version, help, and a clean stop."""

import os
import signal
import subprocess
import time

import pytest

from conftest import BIN_DIR, Fabrique, fabrique


def test_status_sees_every_service_serving(running):
    result = fabrique("status", f"--data_dir={running.data_dir}")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert {row[0] for row in rows} == {"features", "registry", "trainer", "inference",
                                        "monitor", "tower"}
    assert all(row[2] == "SERVING" for row in rows)


def test_status_exits_1_when_nothing_listens():
    # Port 1 is privileged and never a Fabrique service.
    result = fabrique("status", "--grpc_base_port=1", "--timeout=1s")
    assert result.returncode == 1
    assert "UNREACHABLE" in result.stdout


def test_status_without_endpoints_file_explains(tmp_path):
    result = fabrique("status", f"--data_dir={tmp_path}")
    assert result.returncode == 1
    assert "is 'fabrique up --data_dir" in result.stderr


def test_version_and_help():
    version = fabrique("version")
    assert version.returncode == 0
    assert version.stdout.startswith("fabrique ")
    assert "grpc 1." in version.stdout
    overview = fabrique("help")
    assert overview.returncode == 0
    for command in ["up", "status", "version"]:
        assert f"  {command} " in overview.stdout
    for command in ["up", "status"]:
        helped = fabrique(command, "--help")
        assert helped.returncode == 0
        flag_lines = [l for l in helped.stdout.splitlines() if l.startswith("  --")]
        assert flag_lines
        assert all("default: " in l for l in flag_lines if l.strip() != "--help")


def test_bad_usage_exits_2():
    assert fabrique().returncode == 2
    assert fabrique("launch").returncode == 2
    assert fabrique("up", "--no_such_flag").returncode == 2
    assert fabrique("status", "--timeout=soon").returncode == 2


def test_up_stops_cleanly_on_sigterm(tmp_path):
    up = Fabrique(str(tmp_path))
    assert len(up.endpoints) == 6
    code, output = up.stop(signal.SIGTERM)
    assert code == 0, output
    assert "SERVING" in output and "Press Ctrl-C to stop" in output
    assert output.count("stopped (exit 0)") == 6
    assert "All services stopped cleanly." in output
    assert not (tmp_path / "endpoints.tsv").exists()
    for name in ["features", "registry", "trainer", "monitor", "tower"]:
        assert (tmp_path / name / "kv").is_dir(), name
    assert (tmp_path / "logs" / "features.log").read_text().count("server_stopped") == 1


def test_up_fails_clearly_when_a_binary_is_missing(tmp_path):
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    result = fabrique("up", f"--data_dir={tmp_path / 'data'}", f"--bin_dir={bin_dir}",
                      "--grpc_base_port=0", "--metrics_base_port=0")
    assert result.returncode == 1
    assert "fabrique-features" in result.stderr


def test_up_reports_a_port_in_use(running, tmp_path):
    # The features port of the running instance is taken: the new `up` must fail and say so.
    port = int(running.endpoints["features"]["grpc"].rsplit(":", 1)[1])
    result = fabrique("up", f"--data_dir={tmp_path}", f"--grpc_base_port={port}",
                      "--metrics_base_port=0", timeout=60)
    assert result.returncode == 1
    assert f"cannot serve gRPC on 127.0.0.1:{port}" in result.stderr


def test_up_can_be_interrupted_while_starting(tmp_path):
    # A stand-in features binary that never reports its ports: `up` waits, Ctrl-C ends the wait.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "fabrique-features"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    up = subprocess.Popen([str(BIN_DIR / "fabrique"), "up", f"--data_dir={tmp_path / 'data'}",
                           f"--bin_dir={bin_dir}", "--grpc_base_port=0",
                           "--metrics_base_port=0"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)
    up.send_signal(signal.SIGINT)
    output, _ = up.communicate(timeout=60)
    assert up.returncode == 130, output
    assert "features   starting ... interrupted" in output
    assert "features   stopped" in output


def test_up_stops_everything_when_a_service_dies(tmp_path):
    up = Fabrique(str(tmp_path))
    os.kill(up.endpoints["monitor"]["pid"], signal.SIGKILL)
    output, _ = up.process.communicate(timeout=120)
    assert up.process.returncode == 1, output
    assert "monitor exited on its own with code 137" in output
    assert "Some services did not stop cleanly." in output
    # The others were stopped, not orphaned.
    for name, endpoint in up.endpoints.items():
        if name != "monitor":
            with pytest.raises(ProcessLookupError):
                os.kill(endpoint["pid"], 0)
