"""Every example in README.md runs as written, in the order a newcomer follows them.

The README's shell and Python blocks are turned into one bash script, run in a fresh folder
(with `build/bin`, `protos` and `clients` linked in, as in a checkout): each command must exit 0, or the
code its comment announces (`# exit 1: ...`). What a newcomer runs in another terminal and
leaves running (`fabrique up`, a service started by hand) is started in the background and
waited for, then stopped at the end, and must stop cleanly. The README uses the default ports
(7101...) and `mktemp`, so the script runs in a network and mount namespace of its own
(`unshare`), with TMPDIR in its folder: its ports and temporary folders are its own, and it
cannot collide with anything else running. Where namespaces are not allowed it runs directly if
the default ports are free.

Not run, and said so: the optional third-party tools (grpcurl, grpc_health_probe) when they are
not installed, and the blocks that build, test or benchmark the project itself (tools/setup,
tools/test, cmake, ctest, pytest, the benchmarks, tools/image), which are this suite's own
set-up or take minutes, and the blocks that need a Kubernetes cluster or an image registry
(kubectl, kind, skopeo), which this machine has not."""

import datetime
import os
import pathlib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import warnings

import pytest

from conftest import BIN_DIR, REPO

README = REPO / "README.md"

THIRD_PARTY = ("grpcurl", "grpc_health_probe")
THIRD_PARTY_MARK = "# Optional third-party tool"
PROJECT_COMMANDS = re.compile(
    r"^(tools/(quickstart|test|setup|sanitize|image)\b|cmake |ctest |build/bin/tests/|build/bin/\w+_bench\b"
    r"|FABRIQUE_BIN_DIR=\S+ /usr/bin/python3 -m pytest )")
# What needs a cluster or a registry: shown, never run here.
CLUSTER_COMMANDS = re.compile(r"^(kubectl|kind|skopeo|helm) ")
# What runs in the foreground until stopped: started in the background, waited for.
UP = re.compile(r"^(\S*/)?fabrique up\b")
SERVICE_BY_HAND = re.compile(r"^(\S*/)?fabrique-\w+ .*--port[ =](\d+)")
# Placeholders the README uses for what an earlier command printed, and how the script gets
# them: RUN_ID is the run the last `fabrique train submit` printed ("submitted run ...").
PLACEHOLDERS = {"RUN_ID": "sed -n 's/^submitted run //p' \"$__TRANSCRIPT\" | tail -1"}
DEFAULT_PORTS = [7101, 7102, 7103, 7104, 7105, 7106, 9101, 9102, 9103, 9104, 9105, 9106,
                 7201, 9201]


class Block:
    def __init__(self, language, line, text, section):
        self.language = language  # "sh" or "python"
        self.line = line          # README line of the first line of code
        self.text = text
        self.section = section


class Command:
    def __init__(self, text, code, line, comment):
        self.text = text          # The command as written, continuation lines included.
        self.code = code          # The same without its comments, to run.
        self.line = line
        self.comment = comment    # Its first line's trailing comment, without "#".

    @property
    def first_line(self):
        return self.text.splitlines()[0]


def readme_blocks():
    blocks, section, language, start, lines = [], "", None, 0, []
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if language is None:
            if line.startswith("#"):
                section = line.lstrip("#").strip()
            elif line.startswith("```"):
                language, start, lines = line[3:].strip(), number + 1, []
        elif line.startswith("```"):
            if language in ("sh", "python"):
                blocks.append(Block(language, start, "\n".join(lines) + "\n", section))
            language = None
        else:
            lines.append(line)
    return blocks


def split_commands(block):
    """Splits a shell block into commands: a command goes on over backslash continuations,
    unclosed quotes (an awk program) and here-documents; comment lines stand alone."""
    commands, current, code, start, comment = [], [], [], 0, ""
    quote, heredoc = None, None
    for offset, line in enumerate(block.text.splitlines()):
        if not current:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start, comment = block.line + offset, ""
        current.append(line)
        if heredoc is not None:
            code.append(line)
            if line.strip() == heredoc:
                heredoc = None
        else:
            i, code_end = 0, len(line)
            while i < len(line):
                c = line[i]
                if quote:
                    if c == quote:
                        quote = None
                    elif c == "\\" and quote == '"':
                        i += 1
                elif c in "'\"":
                    quote = c
                elif c == "\\":
                    i += 1
                elif c == "#" and (i == 0 or line[i - 1] in " \t"):
                    code_end = i
                    if len(current) == 1:
                        comment = line[i + 1:].strip()
                    break
                i += 1
            code.append(line[:code_end].rstrip())
            marker = re.search(r"<<-?\s*'?(\w+)'?", line[:code_end]) if not quote else None
            if marker:
                heredoc = marker.group(1)
            if quote or heredoc or line[:code_end].rstrip().endswith("\\"):
                continue
        if heredoc is None and quote is None:
            commands.append(Command("\n".join(current), "\n".join(code), start, comment))
            current, code = [], []
    assert not current, f"README line {start}: a command never ends: {current}"
    return commands


def is_project_block(block):
    """True for a block of the project's own build, test or benchmark commands, or of commands
    that need a cluster: the examples are kept apart from both."""
    commands = split_commands(block)
    for kind, pattern in (("the project's build and test commands", PROJECT_COMMANDS),
                          ("the commands that need a cluster", CLUSTER_COMMANDS)):
        matched = [bool(pattern.match(c.text)) for c in commands]
        assert all(matched) or not any(matched), (
            f"README line {block.line}: keep {kind} in blocks of their own, apart from the "
            "examples of using it")
        if all(matched):
            return True
    return False


def third_party_tool(command):
    word = command.text.split()[0]
    return word if word in THIRD_PARTY else None


def expected_exit(command):
    """0, or the code the command's comment announces ("# exit 1: a gate fails")."""
    announced = re.match(r"exit (\d+)\b", command.comment)
    return int(announced.group(1)) if announced else 0


def script_for(blocks, sandbox):
    """The bash script that runs `blocks`, and what it skipped (line, reason)."""
    out = [
        "__fail() { echo \"README line $1: $2\" >&2; __stop_servers; exit 97; }",
        "__check() { [ \"$1\" = \"$2\" ] || __fail \"$3\" \"exited $1, expected $2: $4\"; }",
        "__servers=()",
        "__stop_servers() {  # as Ctrl-C would; fails unless every one stops cleanly (exit 0)",
        "  local pid unclean=0",
        "  for pid in \"${__servers[@]}\"; do kill -INT \"$pid\" 2>/dev/null; done",
        "  for pid in \"${__servers[@]}\"; do",
        "    wait \"$pid\" || { echo \"server $pid exited $?\" >&2; unclean=1; }",
        "  done",
        "  __servers=(); return $unclean",
        "}",
        "__wait_for() {  # line, pid, command that succeeds once the server is ready",
        "  local deadline=$((SECONDS + 120))",
        "  until eval \"$3\" >/dev/null 2>&1; do",
        "    kill -0 \"$2\" 2>/dev/null || __fail \"$1\" \"the server it starts exited\"",
        "    [ $SECONDS -lt $deadline ] || __fail \"$1\" \"the server it starts was not ready\"",
        "    sleep 0.1",
        "  done",
        "}",
    ]
    skipped = []
    for number, block in enumerate(blocks):
        if block.language == "python":
            name = f"example_{block.line}.py"
            (sandbox / name).write_text(block.text)
            out.append(f"echo '$ /usr/bin/python3 {name}  # README line {block.line}'")
            out.append(f"/usr/bin/python3 {name}")
            out.append(f"__check $? 0 {block.line} 'the Python example'")
            continue
        for command in split_commands(block):
            tool = third_party_tool(command)
            if tool and shutil.which(tool) is None:
                skipped.append((command.line, f"{tool} is not installed: {command.first_line}"))
                continue
            text = command.code
            for placeholder in PLACEHOLDERS:
                text = re.sub(rf"\b{placeholder}\b", f'"${placeholder}"', text)
            out.append(f"echo {shlex.quote('$ ' + command.first_line)}")
            summary = shlex.quote(command.first_line)
            up, by_hand = UP.match(text), SERVICE_BY_HAND.match(text)
            if (up or by_hand) and "--help" not in text:
                log = f"server_{command.line}.log"
                out.append(f"{text} > {log} 2>&1 &")
                out.append("__servers+=($!)")
                if up:
                    flag = re.search(r"--data_dir[ =](\S+)", text)
                    ready = f"test -f {flag.group(1) if flag else 'fabrique-data'}/endpoints.tsv"
                else:
                    # Over TLS, like the service, unless it was started in plaintext.
                    insecure = " --insecure" if re.search(r"--insecure\b", text) else ""
                    ready = f"fabrique status --target 127.0.0.1:{by_hand.group(2)}{insecure}"
                out.append(f"__wait_for {command.line} $! {shlex.quote(ready)}")
                continue
            out.append(text)
            out.append(f"__check $? {expected_exit(command)} {command.line} {summary}")
            if "fabrique train submit" in text:
                out.append(f"RUN_ID=$({PLACEHOLDERS['RUN_ID']})")
    out.append("__stop_servers || { echo 'a server did not stop cleanly' >&2; exit 98; }")
    out.append("echo 'README examples: all ran'")
    return "\n".join(out) + "\n", skipped


def default_ports_free():
    for port in DEFAULT_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def isolation():
    """How to run the script in a network namespace of its own, or None where that is not
    allowed."""
    probe = ["unshare", "--user", "--map-root-user", "--net", "true"]
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    if subprocess.run(probe, capture_output=True).returncode != 0:
        return None
    # The loopback interface starts down in a new namespace.
    return ["unshare", "--user", "--map-root-user", "--net", "sh", "-c",
            "ip link set lo up && exec bash readme.sh"]


def runnable_blocks():
    return [b for b in readme_blocks() if b.language == "python" or not is_project_block(b)]


def test_readme_examples_run_as_written(tmp_path):
    sandbox = tmp_path / "newcomer"
    (sandbox / "build").mkdir(parents=True)
    (sandbox / "build" / "bin").symlink_to(BIN_DIR)
    (sandbox / "protos").symlink_to(REPO / "protos")
    (sandbox / "clients").symlink_to(REPO / "clients")
    script, skipped = script_for(runnable_blocks(), sandbox)
    (sandbox / "readme.sh").write_text(script)
    # A warning, so that what is not run shows in every pytest summary, -q included.
    project = [b.line for b in readme_blocks() if b.language == "sh" and is_project_block(b)]
    warnings.warn(UserWarning(
        "README examples not run: " +
        "; ".join(f"line {line}: {reason}" for line, reason in skipped) +
        f"; the blocks at lines {', '.join(map(str, project))}, which build, test or benchmark "
        "the project, or need a cluster"))

    command = isolation()
    if command is None:
        if not default_ports_free():
            pytest.skip("no network namespace (unshare) here, and the README's default ports "
                        "are in use: its examples cannot run as written")
        command = ["bash", "readme.sh"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FABRIQUE_") and k != "PYTHONPATH"}
    env["__TRANSCRIPT"] = "transcript.txt"
    env["TMPDIR"] = str(sandbox / "tmp")  # Where `mktemp -d` makes folders.
    (sandbox / "tmp").mkdir()
    with open(sandbox / "transcript.txt", "w") as transcript:
        # A session of its own, so that a script that hangs is stopped with everything it
        # started in the background.
        script_run = subprocess.Popen(command, cwd=sandbox, env=env, stdout=transcript,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        try:
            script_run.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(script_run.pid, signal.SIGTERM)
            try:
                script_run.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(script_run.pid, signal.SIGKILL)
                script_run.wait()
            print("the README's examples did not finish within 300 s")
    output = (sandbox / "transcript.txt").read_text()
    logs = "".join(f"\n--- {log.name}\n{log.read_text()[-3000:]}"
                   for log in sorted(sandbox.glob("server_*.log")))
    assert script_run.returncode == 0, f"{output[-8000:]}{logs}"
    assert output.rstrip().endswith("README examples: all ran"), output[-3000:]


def third_party_lines():
    lines = []
    for block in readme_blocks():
        if block.language != "sh" or is_project_block(block):
            continue
        for command in split_commands(block):
            if third_party_tool(command):
                lines.append(pytest.param(block, command, id=f"line{command.line}"))
    return lines


@pytest.mark.parametrize("block,command", third_party_lines())
def test_third_party_lines_are_optional_and_come_after_our_own_way(block, command):
    """A line using a tool we cannot install sits in a block marked optional, after a block of
    the same section that shows the CLI or Python way; the examples test skips it when the tool
    is missing, and says so here."""
    assert block.text.startswith(THIRD_PARTY_MARK), (
        f"README line {block.line}: a third-party tool's block starts with '{THIRD_PARTY_MARK}'")
    earlier = [b for b in readme_blocks() if b.section == block.section and b.line < block.line
               and not any(third_party_tool(c) for c in split_commands(b)
                           if b.language == "sh")]
    assert earlier, f"README line {command.line}: show the CLI or Python way first"
    tool = third_party_tool(command)
    if shutil.which(tool) is None:
        pytest.skip(f"README line {command.line} not run: {tool} is an optional third-party tool "
                    f"and is not installed ({command.first_line})")


def test_project_commands_stay_apart_from_the_examples():
    """The blocks not run hold only the project's own build, test and benchmark commands (a
    block mixing them with examples fails is_project_block), and the examples are most."""
    project = [b for b in readme_blocks() if b.language == "sh" and is_project_block(b)]
    assert {"Fabrique", "Feature store benchmarks", "Building and testing"} <= {
        b.section for b in project}
    assert len(runnable_blocks()) >= 10


def test_the_layout_names_every_folder():
    """Every folder in git, two levels down, is in the README's Layout: named itself, under a
    deeper entry, or in its parent's entry."""
    text = README.read_text()
    layout = text[text.index("## Layout"):]
    layout = layout[layout.index("```\n") + 4:]
    layout = layout[:layout.index("```")]
    entries = []  # (names, whole text)
    for line in layout.splitlines():
        if line and not line[0].isspace():
            names = [n.strip() for n in line[:32].split(",")]
            entries.append((names, line))
        elif entries:
            entries[-1] = (entries[-1][0], entries[-1][1] + "\n" + line)
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    folders = {str(pathlib.PurePath(*pathlib.PurePath(f).parts[:depth]))
               for f in tracked for depth in (1, 2) if len(pathlib.PurePath(f).parts) > depth}
    missing = []
    for folder in sorted(folders):
        parent, _, child = folder.rpartition("/")
        named = any(n.startswith(folder + "/") or
                    re.fullmatch(re.escape(parent) + r"/<\w+>/", n)
                    for names, _ in entries for n in names)
        in_parent = any(f"{parent}/" in names and f"{child}/" in whole
                        for names, whole in entries) if parent else False
        if not (named or in_parent):
            missing.append(folder)
    assert not missing, f"the README's Layout does not mention: {missing}"


def test_scripts_never_reopen_their_own_output():
    """`tee /dev/stderr` (or /dev/stdout, /dev/fd/N) reopens the file a caller redirected the
    output to, truncating it: `tools/quickstart > log 2>&1` would lose the log."""
    for script in ["tools/quickstart", "tools/setup", "tools/test", ".ci/run"]:
        for number, line in enumerate((REPO / script).read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]  # Comments may name what they avoid.
            assert not re.search(r"/dev/(stderr|stdout|fd/)", code), f"{script}:{number}: {line}"


def test_the_sample_csv_is_dated_from_now(tmp_path):
    """The README's CSV is written with times relative to when it is run, so whenever the README
    is followed its values are live (younger than the group's TTL), not EXPIRED."""
    block = next(b for b in readme_blocks()
                 if b.language == "sh" and "cat > payments.csv" in b.text)
    command = next(c for c in split_commands(block) if c.text.startswith("cat > payments.csv"))
    ttl = int(re.search(r'"name": "payments".*?"ttl": "(\d+)s"', block.text, re.S).group(1))
    before = time.time()
    subprocess.run(["bash", "-c", command.code], cwd=tmp_path, check=True)
    rows = (tmp_path / "payments.csv").read_text().splitlines()[1:]
    assert rows
    for row in rows:
        event = datetime.datetime.strptime(row.split(",")[1], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        assert before - ttl / 2 < event <= time.time(), row
