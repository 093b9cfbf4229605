"""The `fabrique` CLI as a user runs it: up, status, version, help, and a clean stop; usage
errors, exit codes, a service that cannot be reached, and a data dir already in use."""

import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN_DIR, Fabrique, fabrique


def local_user():
    """The user `fabrique up` makes platform-admin, as the CLI names it."""
    return os.environ.get("USER") or "root"


def token(data_dir, user, *groups, ttl="1h"):
    """A token for `user` in `groups`, minted with the signing key of the `fabrique up` on
    `data_dir`, as `fabrique auth token` prints it."""
    result = fabrique("auth", "token", f"--data_dir={data_dir}", f"--user={user}",
                      f"--groups={','.join(groups)}", f"--ttl={ttl}")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def secure_channel(running, service, bearer=None):
    """A channel to `service` of `running` as a squad's own client makes one: TLS trusting the
    local CA (whose certificates name fabrique-SERVICE), with a bearer token (by default the local
    user's, platform-admin)."""
    import grpc
    ca = (pathlib.Path(running.data_dir) / "auth" / "ca.crt").read_bytes()
    bearer = bearer or token(running.data_dir, local_user())
    credentials = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=ca),
        grpc.access_token_call_credentials(bearer))
    return grpc.secure_channel(running.endpoints[service]["grpc"], credentials,
                               options=[("grpc.ssl_target_name_override", f"fabrique-{service}")])


def dead_port():
    """A loopback port nothing listens on: bound to learn a free one, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OutputWatcher:
    """Reads a process's output on a thread, so a test can wait for a line without sleeping."""

    def __init__(self, stream):
        self.text = ""
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for chunk in iter(lambda: stream.read(1), ""):
            with self._changed:
                self.text += chunk
                self._changed.notify_all()

    def wait_for(self, marker, timeout):
        """Returns once `marker` has been printed; fails after `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: marker in self.text, timeout=timeout):
                raise AssertionError(f"no {marker!r} within {timeout}s; got:\n{self.text}")

    def rest(self):
        """Everything the process printed, once it has ended."""
        self._thread.join(timeout=60)
        return self.text


def test_status_sees_every_service_serving(running):
    result = fabrique("status", f"--data_dir={running.data_dir}")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert {row[0] for row in rows} == {"features", "registry", "trainer", "inference",
                                        "monitor", "tower"}
    assert all(row[2] == "SERVING" for row in rows)


def service_args(running, service):
    """The command line `up` started `service` with."""
    pid = running.endpoints[service]["pid"]
    return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_up_tells_each_service_where_the_later_ones_it_calls_listen(running):
    # The registry starts before the monitor and the monitor before the tower, yet each calls
    # the later one (promotion gates; retraining jobs): with free ports, `up` fixes theirs first.
    def args(service):
        return service_args(running, service)

    assert f"--monitor_target={running.endpoints['monitor']['grpc']}" in args("registry")
    assert f"--tower_target={running.endpoints['tower']['grpc']}" in args("monitor")


def test_up_has_every_service_but_the_tower_follow_its_role_bindings(running):
    # Each follows the tower's squads' members under its own certificate (bindings.read in the
    # default policy): the tower's set arrives and is put in force.
    followers = ("features", "registry", "trainer", "inference", "monitor")
    target = f"--bindings_target={running.endpoints['tower']['grpc']}"
    for service in followers:
        assert target in service_args(running, service), service
    assert not any(a.startswith("--bindings_target") for a in service_args(running, "tower"))
    logs = pathlib.Path(running.data_dir) / "logs"

    def applied(service):
        return any('"tower_bindings_applied"' in line and '"source":"tower"' in line
                   for line in (logs / f"{service}.log").read_text().splitlines())

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(applied(s) for s in followers):
        time.sleep(0.2)
    assert [s for s in followers if not applied(s)] == []


def test_status_exits_1_when_nothing_listens():
    # Port 1 is privileged and never a Fabrique service.
    result = fabrique("status", "--grpc_base_port=1", "--timeout=1s", "--insecure")
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
    output = OutputWatcher(up.stdout)
    # The line `up` prints (and flushes) once it has started the binary and waits for it.
    output.wait_for("features   starting ...", timeout=60)
    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=60) == 130, output.rest()
    output = output.rest()
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


def test_a_second_up_on_the_same_data_dir_names_the_first(running):
    second = fabrique("up", f"--data_dir={running.data_dir}", "--grpc_base_port=0",
                      "--metrics_base_port=0", timeout=60)
    assert second.returncode == 1
    assert second.stderr == (f"fabrique up: fabrique is already running on {running.data_dir} "
                             f"(pid {running.process.pid}): stop it first or pass another "
                             "--data_dir\n")
    assert "starting" not in second.stdout  # Refused before anything was started.
    assert fabrique("status", f"--data_dir={running.data_dir}").returncode == 0


def test_a_service_on_a_data_dir_in_use_names_its_holder(running):
    features = running.endpoints["features"]["pid"]
    result = subprocess.run([str(BIN_DIR / "fabrique-features"),
                             f"--data_dir={running.data_dir}/features", "--port=0",
                             "--metrics_port=-1", "--insecure"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert (f"fabrique-features is already running on {running.data_dir}/features "
            f"(pid {features}): stop it first or pass another --data_dir") in result.stderr
    assert "LOCK" not in result.stderr


@pytest.mark.parametrize("command,binary", [
    (["features", "list"], "fabrique-features"),
    (["models", "list"], "fabrique-registry"),
    (["train", "list"], "fabrique-trainer"),
])
def test_a_service_that_cannot_be_reached_says_what_to_do(command, binary):
    address = f"127.0.0.1:{dead_port()}"
    result = fabrique(*command, f"--target={address}", "--insecure")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert f"cannot reach {binary} at {address}: Connection refused." in line
    assert "Is 'fabrique up' running?" in line
    assert "--data_dir DIR" in line and "--target HOST:PORT" in line
    assert "failed to connect to all addresses" not in line
    assert len(result.stderr.splitlines()) == 1


def test_endpoints_of_a_stopped_up_ask_whether_it_still_runs(tmp_path):
    address = f"127.0.0.1:{dead_port()}"
    (tmp_path / "endpoints.tsv").write_text(f"features\t{address}\t-1\t1\n")
    result = fabrique("features", "list", f"--data_dir={tmp_path}", "--insecure")
    assert result.returncode == 1
    assert (f"cannot reach fabrique-features at {address} (from {tmp_path}/endpoints.tsv)"
            in result.stderr)
    assert f"Is 'fabrique up --data_dir {tmp_path}' still running?" in result.stderr
    # Without --insecure, a folder with no CA of its own is no TLS `fabrique up`: it says so.
    no_ca = fabrique("features", "list", f"--data_dir={tmp_path}")
    assert no_ca.returncode == 1
    assert f"{tmp_path}/auth/ca.crt does not exist" in no_ca.stderr


def test_usage_errors_are_one_line_with_a_suggestion():
    for args, reason in [
            (["featres"], "fabrique: unknown command 'featres' (did you mean 'features'?)"),
            (["models", "promot"],
             "fabrique models: unknown subcommand 'promot' (did you mean 'promote'?)"),
            (["features", "list", "--dta_dir", "x"],
             "fabrique features list: unknown flag --dta_dir (did you mean '--data_dir'?)"),
            (["train", "show"], "fabrique train show: expected one RUN_ID, got 0 arguments")]:
        result = fabrique(*args)
        assert result.returncode == 2, args
        program = reason.split(":")[0]
        assert result.stderr == f"{reason}\nsee '{program} --help'\n", args
        assert result.stdout == ""
    bare = fabrique("models")
    assert bare.returncode == 2
    assert bare.stderr.startswith("fabrique models: expected a subcommand: create, list, show")


def test_help_takes_a_command():
    features = fabrique("help", "features")
    assert features.returncode == 0
    assert features.stdout.startswith("Usage: fabrique features SUBCOMMAND")
    ingest = fabrique("help", "features", "ingest")
    assert ingest.returncode == 0
    assert ingest.stdout.startswith("Usage: fabrique features ingest")
    unknown = fabrique("help", "featurs")
    assert unknown.returncode == 2 and "did you mean 'features'?" in unknown.stderr


def test_help_about_help_is_the_overview():
    overview = fabrique("--help")
    assert overview.returncode == 0 and overview.stdout.startswith("Usage: fabrique COMMAND")
    for args in [["help"], ["help", "help"], ["help", "--help"], ["help", "-h"], ["-h"],
                 ["help", "help", "features"]]:
        result = fabrique(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == overview.stdout and result.stderr == "", args
    # A name that is no command is refused without suggesting the word typed.
    unknown = fabrique("help", "nosuch")
    assert unknown.returncode == 2
    assert unknown.stderr == "fabrique: unknown command 'nosuch'\nsee 'fabrique --help'\n"


def test_the_exit_code_rule_is_documented_and_followed(running, tmp_path):
    overview = fabrique("--help").stdout
    assert "Exit codes, for every command:" in overview
    assert "1  the operation failed" in overview and "2  bad usage" in overview
    missing = str(tmp_path / "missing.json")
    # 2: a file named on the command line that cannot be read, whichever command reads it.
    for args in [["features", "apply", missing],
                 ["features", "ingest", "--group", "g", missing],
                 ["train", "submit", missing],
                 ["models", "upload", missing],
                 ["models", "policy", "m", "production", "--set", missing]]:
        result = fabrique(*args, f"--data_dir={running.data_dir}")
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr == (f"fabrique {args[0]} {args[1]}: cannot read {missing}: "
                                 "No such file or directory\n"), args
    for args in [["features", "apply", str(tmp_path)], ["train", "submit", str(tmp_path)]]:
        result = fabrique(*args, f"--data_dir={running.data_dir}")
        assert result.returncode == 2
        assert f"{tmp_path} is a directory" in result.stderr
    (tmp_path / "spec.json").write_text('{"model_name": "m", "no_such_field": 1}')
    unparsable = fabrique("train", "submit", str(tmp_path / "spec.json"),
                          f"--data_dir={running.data_dir}")
    assert unparsable.returncode == 2 and "not a fabrique.v1.RunSpec" in unparsable.stderr
    # 1: the service refused, or could not be reached.
    refused = fabrique("models", "show", "no-such-model", f"--data_dir={running.data_dir}")
    assert refused.returncode == 1 and "NOT_FOUND" in refused.stderr
    unreachable = fabrique("models", "show", "m", f"--target=127.0.0.1:{dead_port()}",
                           "--insecure")
    assert unreachable.returncode == 1
    # 1: no CA to check a TLS server against; it says where to give one.
    bare = {k: v for k, v in os.environ.items()
            if not k.startswith("FABRIQUE_") and k != "XDG_CONFIG_HOME"}
    no_ca = fabrique("models", "show", "m", "--target=registry.example.com:7102",
                     env={**bare, "HOME": str(tmp_path)})
    assert no_ca.returncode == 1
    assert "no CA to check the server's certificate against: pass --ca FILE" in no_ca.stderr


def test_status_checks_one_service_by_its_address(running):
    registry = running.endpoints["registry"]["grpc"]
    result = fabrique("status", f"--target={registry}", f"--ca={running.data_dir}/auth/ca.crt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == ["registry", registry, "SERVING"]
    nothing = fabrique("status", f"--target=127.0.0.1:{dead_port()}", "--timeout=1s",
                       "--insecure")
    assert nothing.returncode == 1
    assert "UNREACHABLE" in nothing.stdout and "Is 'fabrique up' running?" in nothing.stderr
