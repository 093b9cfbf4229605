"""`fabrique models` and `fabrique registry` against a real fabrique-registry, as a data scientist,
a reviewer and an auditor use them: create a model, upload and register artifacts, read them back,
download and resume, move aliases through a gated promotion, and read and verify the audit trail."""

import hashlib
import json
import os
import pathlib
import re
import pytest

from conftest import fabrique
from test_cli import token

MIB = 1 << 20
# The people the tests play, as the tokens `fabrique auth token` mints for them: a data scientist
# of risk, and risk's design authority. Filled in once `fabrique up` has made its signing key.
SCIENTIST = []
REVIEWER = []


@pytest.fixture(scope="module")
def registry(running):
    """The registry of a `fabrique up` (TLS, tokens); with its address and data dir."""
    class Registry:
        data_dir = pathlib.Path(running.data_dir)
        address = running.endpoints["registry"]["grpc"]
        ca = str(data_dir / "auth" / "ca.crt")
    SCIENTIST[:] = ["--token", token(running.data_dir, "dana", "risk:data-scientist")]
    REVIEWER[:] = ["--token", token(running.data_dir, "rita", "risk:design-authority")]
    return Registry


@pytest.fixture(scope="module")
def models(registry):
    """Runs `fabrique models ARGS --data_dir DIR`: as the local user (platform-admin) unless ARGS
    carry a --token; returns the CompletedProcess."""
    def run(*args, env=None, timeout=60):
        return fabrique("models", *args, "--data_dir", str(registry.data_dir), env=env,
                        timeout=timeout)
    return run


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def write_random(path, size):
    path.write_bytes(os.urandom(size))
    return path


def register(models, tmp_path, model, auc, size=64 * 1024):
    """Uploads a fresh file as the artifact of a new version of `model`; returns its number."""
    path = write_random(tmp_path / f"{model}-{auc}.pt", size)
    out = ok(models("upload", str(path), "--register", model, "--metric", f"auc={auc}",
                    *SCIENTIST))
    return int(re.search(rf"registered {model}:(\d+)", out).group(1))


def create(models, name):
    ok(models("create", name, "--squad", "risk", "--use-case", "uc-fraud", *SCIENTIST))


def test_create_upload_register_and_read_back(models, tmp_path):
    out = ok(models("create", "cli-fraud", "--squad", "risk", "--use-case", "uc-fraud",
                    "--task", "binary_classification", "--description", "Card fraud",
                    "--tag", "team=risk", *SCIENTIST))
    assert "created model cli-fraud" in out and "team=risk" in out

    model = write_random(tmp_path / "model.pt", 6 * MIB + 123)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    signature = tmp_path / "signature.json"
    signature.write_text(json.dumps({
        "inputs": [{"name": "amount", "datatype": "FP32", "shape": [-1, 1]}],
        "outputs": [{"name": "probability", "datatype": "FP32", "shape": [-1, 1]}]}))
    result = models("upload", str(model), "--register", "cli-fraud", "--metric", "auc=0.91",
                    "--metric", "log_loss=0.21", "--param", "lr=0.1", "--tag", "stage=test",
                    "--description", "first", "--signature", str(signature), *SCIENTIST)
    out = ok(result)
    assert out.split()[0] == digest
    assert "6.0 MiB, uploaded" in out and "registered cli-fraud:1" in out

    # The same bytes again: the same digest, stored once; a second version may share them.
    again = ok(models("upload", f"weights={model}", *SCIENTIST))
    assert again.split()[0] == digest

    listed = ok(models("list", "--squad", "risk", "--prefix", "cli-f"))
    assert listed.splitlines()[0].split()[:3] == ["NAME", "SQUAD", "USE"]
    row = next(l.split() for l in listed.splitlines() if l.startswith("cli-fraud "))
    assert row[:5] == ["cli-fraud", "risk", "uc-fraud", "binary_classification", "1"]
    assert "cli-fraud" not in ok(models("list", "--squad", "growth"))

    shown = ok(models("show", "cli-fraud"))
    assert "description:   Card fraud" in shown and "versions:      1" in shown
    assert "latest version:" in shown and digest in shown and "registered:" in shown

    version = ok(models("show", "cli-fraud:1"))
    assert "version:       cli-fraud:1" in version and "state:         active" in version
    assert re.search(r"model\s+torchscript_module\s+6\.0 MiB\s+" + digest, version)
    assert re.search(r"input\s+amount\s+FP32\s+\[-1,1\]", version)
    assert re.search(r"auc\s+0\.91\s+higher is better", version)
    assert re.search(r"log_loss\s+0\.21\s+lower is better", version)
    assert "lr = 0.1" in version and "stage=test" in version

    versions = ok(models("versions", "cli-fraud", "--metric", "auc>=0.8"))
    assert versions.splitlines()[1].split()[0] == "cli-fraud:1"
    assert "auc=0.91" in versions
    assert len(ok(models("versions", "cli-fraud", "--metric", "auc>=0.95")).splitlines()) == 1


def test_download_verifies_and_resumes(models, tmp_path):
    create(models, "cli-dl")
    data = write_random(tmp_path / "big.bin", 5 * MIB + 7).read_bytes()
    (tmp_path / "big.bin").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    out = ok(models("upload", str(tmp_path / "big.bin"), "--register", "cli-dl",
                    "--name", "model", *SCIENTIST))
    assert out.split()[0] == digest

    whole = tmp_path / "whole.bin"
    out = ok(models("download", "cli-dl:1", "-o", str(whole)))
    assert whole.read_bytes() == data and "verified" in out
    assert not (tmp_path / "whole.bin.partial").exists()

    by_digest = tmp_path / "by-digest.bin"
    ok(models("download", digest, "--output", str(by_digest)))
    assert by_digest.read_bytes() == data
    ok(models("download", "cli-dl:1/model", "-o", str(by_digest)))
    assert by_digest.read_bytes() == data

    # An interrupted download left PATH.partial: --resume fetches only the rest.
    resumed = tmp_path / "resumed.bin"
    (tmp_path / "resumed.bin.partial").write_bytes(data[:2 * MIB])
    out = ok(models("download", "cli-dl:1", "-o", str(resumed), "--resume"))
    assert f"resumed after {2 * MIB} bytes" in out
    assert resumed.read_bytes() == data
    assert not (tmp_path / "resumed.bin.partial").exists()

    # A partial file that is not a prefix of the artifact fails the check: no PATH is left, and
    # the bad partial file is removed so the next try starts clean.
    bad = tmp_path / "bad.bin"
    (tmp_path / "bad.bin.partial").write_bytes(b"x" * MIB)
    result = models("download", "cli-dl:1", "-o", str(bad), "--resume")
    assert result.returncode == 1 and result.stdout == ""
    assert "is not artifact " + digest in result.stderr
    assert not bad.exists() and not (tmp_path / "bad.bin.partial").exists()
    ok(models("download", "cli-dl:1", "-o", str(bad), "--resume"))
    assert bad.read_bytes() == data

    # Without --resume a stale partial file is overwritten, not appended to.
    (tmp_path / "fresh.bin.partial").write_bytes(b"stale")
    ok(models("download", "cli-dl:1", "-o", str(tmp_path / "fresh.bin")))
    assert (tmp_path / "fresh.bin").read_bytes() == data

    missing = models("download", "cli-dl:1/nope", "-o", str(tmp_path / "x"))
    assert missing.returncode == 1 and "has no artifact 'nope': it has model" in missing.stderr


def test_alias_policy_promotion_approval_and_rejection(models, tmp_path):
    create(models, "cli-promo")
    assert register(models, tmp_path, "cli-promo", 0.91) == 1
    assert register(models, tmp_path, "cli-promo", 0.75) == 2

    # An alias without a policy moves directly, and compare-and-set guards it.
    out = ok(models("alias", "cli-promo", "staging", "1", *SCIENTIST))
    assert re.search(r"staging\s+1\s", out)
    lost = models("alias", "cli-promo", "staging", "2", "--expect", "2", *SCIENTIST)
    assert lost.returncode == 1 and "ABORTED" in lost.stderr
    assert re.search(r"staging\s+1\s", ok(models("alias", "cli-promo")))

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({
        "metricGates": [{"metric": "auc", "op": "COMPARISON_OP_GREATER_OR_EQUAL", "value": 0.8}],
        "approvalGates": [{"role": "design-authority", "requiredApprovals": 1}]}))
    # Setting gates is the design authority's, not the scientist's.
    denied = models("policy", "cli-promo", "production", "--set", str(policy), *SCIENTIST)
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr
    assert "models.policy.write" in denied.stderr
    out = ok(models("policy", "cli-promo", "production", "--set", str(policy), *REVIEWER))
    assert "metric        auc >= 0.8" in out and "approval      1 from design-authority" in out
    assert "auc >= 0.8" in ok(models("policy", "cli-promo", "production"))

    # A failing automatic gate refuses the request: exit 1 with the server's explanation.
    refused = models("promote", "cli-promo", "2", "--alias", "production", *SCIENTIST)
    assert refused.returncode == 1, refused.stdout
    assert "FAILED_PRECONDITION" in refused.stderr
    assert "auc >= 0.8: auc 0.75 not >= 0.8" in refused.stderr

    # A gated alias cannot be set by hand.
    by_hand = models("alias", "cli-promo", "production", "1", *SCIENTIST)
    assert by_hand.returncode == 1 and "FAILED_PRECONDITION" in by_hand.stderr

    dry = ok(models("promote", "cli-promo", "1", "--alias", "production", "--dry-run",
                    *SCIENTIST))
    assert "none (dry run: nothing stored)" in dry and "state:         pending" in dry

    pending = ok(models("promote", "cli-promo", "1", "--alias", "production",
                        "--comment", "better auc", *SCIENTIST))
    assert "state:         pending" in pending
    assert re.search(r"PASSED\s+auc >= 0\.8: auc 0\.91 >= 0\.8", pending)
    assert re.search(r"PENDING\s+1 approvals from design-authority: 0 of 1", pending)
    request_id = re.search(r"request:\s+(\S+)", pending).group(1)

    # Only a holder of the gate's role approves; theirs moves the alias.
    own = models("approve", request_id, *SCIENTIST)
    assert own.returncode == 1 and "PERMISSION_DENIED" in own.stderr
    assert "models.approve" in own.stderr
    assert "state:         pending" in ok(models("promotion", request_id))
    approved = ok(models("approve", request_id, "--comment", "lgtm", *REVIEWER))
    assert "state:         completed" in approved and "approved by rita" in approved
    assert re.search(r"production\s+1\s", ok(models("alias", "cli-promo")))
    assert "version:       cli-promo:1" in ok(models("show", "cli-promo@production"))
    assert "completed" in ok(models("promotion", request_id))

    # A rejection closes the request and leaves the alias where it was.
    assert register(models, tmp_path, "cli-promo", 0.95) == 3
    second = ok(models("promote", "cli-promo", "3", "--alias", "production", *SCIENTIST))
    second_id = re.search(r"request:\s+(\S+)", second).group(1)
    rejected = ok(models("reject", second_id, "--comment", "not this week", *REVIEWER))
    assert "state:         rejected" in rejected and "not this week" in rejected
    assert re.search(r"production\s+1\s", ok(models("alias", "cli-promo")))
    closed = models("approve", second_id, *REVIEWER)
    assert closed.returncode == 1 and "FAILED_PRECONDITION" in closed.stderr

    # The requester may withdraw a pending request: it is cancelled, not rejected.
    third = ok(models("promote", "cli-promo", "3", "--alias", "production", *SCIENTIST))
    third_id = re.search(r"request:\s+(\S+)", third).group(1)
    withdrawn = ok(models("reject", third_id, "--comment", "wrong version", *SCIENTIST))
    assert "state:         cancelled" in withdrawn

    # Archiving releases the version's aliases; versions --all still lists it.
    ok(models("archive", "cli-promo", "1", *SCIENTIST))
    assert "staging" not in ok(models("alias", "cli-promo"))
    listed = ok(models("versions", "cli-promo", "--all"))
    assert re.search(r"cli-promo:1\s+archived", listed)
    assert "cli-promo:1" not in ok(models("versions", "cli-promo"))
    ok(models("alias", "cli-promo", "staging", "2", *SCIENTIST))
    ok(models("alias", "cli-promo", "staging", "--delete", *SCIENTIST))
    assert "staging" not in ok(models("alias", "cli-promo"))


def test_audit_lists_entries_and_verifies_the_chain(models, registry, tmp_path):
    create(models, "cli-audit")
    register(models, tmp_path, "cli-audit", 0.9)
    out = ok(models("audit", "--model", "cli-audit", "--verify"))
    lines = out.splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "WHO", "ACTION", "HASH", "TARGET"]
    entries = [l.split() for l in lines[1:] if re.match(r"\d+ ", l)]
    assert [e[-1] for e in entries] == ["models/cli-audit", "models/cli-audit/versions/1"]
    assert entries[0][3:5] == ["dana", "(risk)"] and "model.create" in entries[0]
    assert all(re.fullmatch(r"[0-9a-f]{12}", e[-2]) for e in entries)
    assert re.search(r"audit chain valid: \d+ entries checked", out)

    # `fabrique registry audit` is the same command.
    same = fabrique("registry", "audit", "--model", "cli-audit", "--data_dir",
                    str(registry.data_dir))
    assert ok(same).splitlines()[1:] == lines[1:3]
    everything = ok(fabrique("registry", "audit", "--data_dir", str(registry.data_dir)))
    assert "models/cli-audit" in everything and len(everything.splitlines()) > len(entries) + 1


def test_credentials_from_the_environment_the_file_and_endpoints(models, registry, tmp_path):
    # $FABRIQUE_TOKEN and $FABRIQUE_CA, with --target: how a script calls a remote registry.
    erin = token(registry.data_dir, "erin", "growth:data-scientist")
    env = dict(os.environ, FABRIQUE_TOKEN=erin, FABRIQUE_CA=registry.ca)
    ok(fabrique("models", "create", "cli-env", "--squad", "growth", "--use-case", "uc-growth",
                "--task", "regression", "--target", registry.address, env=env))
    out = ok(models("audit", "--model", "cli-env"))
    assert re.search(r"erin \(growth\)\s+model\.create", out)
    assert "task:          regression" in ok(models("show", "cli-env"))
    # --token wins over $FABRIQUE_TOKEN.
    refused = fabrique("models", "create", "cli-env-2", "--squad", "growth", "--use-case", "u",
                       "--target", registry.address, *SCIENTIST, env=env)
    assert refused.returncode == 1 and "PERMISSION_DENIED" in refused.stderr

    # The credentials file: its current context gives the target, the CA and the token.
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "current-context: local\n"
        "contexts:\n"
        "  local:\n"
        f"    ca: {registry.ca}\n"
        f"    token: {erin}\n"
        "    targets:\n"
        f"      registry: {registry.address}\n"
        "  elsewhere:\n"
        "    ca: /nowhere/ca.crt\n")
    credentials.chmod(0o600)
    bare = {k: v for k, v in os.environ.items() if not k.startswith("FABRIQUE_")}
    from_file = fabrique("models", "list", env={**bare, "FABRIQUE_CONFIG": str(credentials)})
    assert "cli-env" in ok(from_file)
    other = fabrique("models", "list", env={**bare, "FABRIQUE_CONFIG": str(credentials),
                                            "FABRIQUE_CONTEXT": "elsewhere"})
    assert other.returncode == 1 and "/nowhere/ca.crt" in other.stderr

    # --data_dir finds the registry in the endpoints file `fabrique up` writes.
    (tmp_path / "endpoints.tsv").write_text(f"registry\t{registry.address}\t-1\t0\n")
    listed = fabrique("models", "list", "--data_dir", str(tmp_path), "--ca", registry.ca,
                      "--token", erin)
    assert "cli-env" in ok(listed)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "endpoints.tsv").write_text("features\t127.0.0.1:1\t-1\t0\n")
    none = fabrique("models", "list", "--data_dir", str(tmp_path / "other"))
    assert none.returncode == 1 and "lists no 'registry' service" in none.stderr


def test_unknown_things_fail_with_the_servers_words(models, tmp_path):
    for args in (["show", "no-such-model"], ["show", "no-such-model:1"],
                 ["download", "no-such-model:1", "-o", str(tmp_path / "x")],
                 ["promote", "no-such-model", "1", "--alias", "production", *SCIENTIST],
                 ["alias", "no-such-model"]):
        result = models(*args)
        assert result.returncode == 1, args
        assert "NOT_FOUND" in result.stderr and "no-such-model" in result.stderr, result.stderr
        assert result.stdout == ""
    assert "NOT_FOUND" in models("approve", "01NOSUCHREQUEST", *REVIEWER).stderr
    taken = models("create", "cli-fraud", "--squad", "risk", "--use-case", "u", *SCIENTIST)
    assert taken.returncode == 1 and "ALREADY_EXISTS" in taken.stderr
    unknown_digest = models("download", "0" * 64, "-o", str(tmp_path / "y"))
    assert unknown_digest.returncode == 1 and "NOT_FOUND" in unknown_digest.stderr
    not_uploaded = tmp_path / "v.json"
    not_uploaded.write_text(json.dumps({"artifacts": [
        {"name": "extra", "artifact": {"sha256": "1" * 64, "sizeBytes": 1}}]}))
    small = write_random(tmp_path / "small.pt", 10)
    refused = models("upload", str(small), "--register", "cli-fraud", "--version-json",
                     str(not_uploaded), *SCIENTIST)
    assert refused.returncode == 1 and "FAILED_PRECONDITION" in refused.stderr


def test_bad_usage_exits_2_with_the_reason_and_where_the_help_is(models, tmp_path):
    cases = [
        [],                                           # no subcommand
        ["launch"],                                   # unknown subcommand
        ["list", "--bogus"],                          # unknown flag
        ["list", "extra"],                            # unexpected argument
        ["show"],                                     # missing NAME
        ["show", "fraud:zero"],                       # bad version reference
        ["create", "m", "--use-case", "u"],           # no --squad
        ["create", "m", "--squad", "s", "--use-case", "u", "--task", "ranking"],
        ["versions", "--metric", "auc~0.8"],
        ["upload"],
        ["upload", "f", "--metric", "auc=0.9"],       # metrics without --register
        ["upload", "f", "--register", "m", "--tag", "novalue"],
        ["download", "fraud:1"],                      # no -o
        ["promote", "fraud", "1"],                    # no --alias
        ["promote", "fraud", "one", "--alias", "p"],
        ["alias", "fraud", "production", "--delete", "extra"],
        ["archive", "fraud"],
        ["audit", "--since", "soon"],
    ]
    for args in cases:
        result = fabrique("models", *args, "--target", "127.0.0.1:1")
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        # One line saying why, one saying where the help is: not the help itself.
        reason, see = result.stderr.splitlines()
        assert reason.startswith("fabrique models"), (args, result.stderr)
        assert re.fullmatch(r"see 'fabrique models( [a-z]+)? --help'", see), (args, see)
        assert "Usage:" not in result.stderr
    registry_bad = fabrique("registry", "nothing")
    assert registry_bad.returncode == 2
    assert registry_bad.stderr == ("fabrique registry: unknown subcommand 'nothing'\n"
                                   "see 'fabrique registry --help'\n")


def test_every_subcommand_has_help():
    overview = ok(fabrique("models", "--help"))
    subcommands = re.findall(r"^  ([a-z]+) ", overview.split("Subcommands:")[1], re.M)
    assert {"create", "list", "show", "versions", "upload", "download", "promote", "approve",
            "reject", "alias", "audit"} <= set(subcommands)
    for sub in subcommands:
        helped = ok(fabrique("models", sub, "--help"))
        assert helped.startswith(f"Usage: fabrique models {sub}"), sub
        flags = [l for l in helped.splitlines() if l.startswith("  --") and l.strip() != "--help"]
        assert flags and all("default: " in l for l in flags), sub
    assert "  models " in ok(fabrique("help")) and "  registry " in ok(fabrique("help"))
    for sub in ("audit", "gc"):
        assert ok(fabrique("registry", sub, "--help")).startswith(f"Usage: fabrique registry {sub}")


def test_review_queue_traffic_policy_and_safe_retries(models, tmp_path):
    create(models, "cli-serve")
    assert register(models, tmp_path, "cli-serve", 0.9) == 1

    # The same --request_id registers once: a re-run gets the first run's version back.
    artifact = write_random(tmp_path / "retry.pt", 32 * 1024)
    first = ok(models("upload", str(artifact), "--register", "cli-serve", "--metric", "auc=0.93",
                      "--request_id", "train-run-77", *SCIENTIST))
    again = ok(models("upload", str(artifact), "--register", "cli-serve", "--metric", "auc=0.93",
                      "--request_id", "train-run-77", *SCIENTIST))
    assert "registered cli-serve:2" in first and "registered cli-serve:2" in again
    assert "cli-serve:3" not in ok(models("versions", "cli-serve"))

    # The review queue: pending requests, by model and alias; a decided one leaves it.
    policy = tmp_path / "serve-policy.json"
    policy.write_text(json.dumps(
        {"approvalGates": [{"role": "design-authority", "requiredApprovals": 1}]}))
    ok(models("policy", "cli-serve", "candidate", "--set", str(policy), *REVIEWER))
    assert "(none)" in ok(models("requests", "cli-serve"))
    pending = ok(models("promote", "cli-serve", "2", "--alias", "candidate",
                        "--request_id", "ship-2", *SCIENTIST))
    request_id = re.search(r"request:\s+(\S+)", pending).group(1)
    retried = ok(models("promote", "cli-serve", "2", "--alias", "candidate",
                        "--request_id", "ship-2", *SCIENTIST))
    assert request_id in retried  # The same request, not a second one.
    queue = ok(models("requests", "cli-serve", "--alias", "candidate"))
    assert request_id in queue and "pending" in queue and len(queue.strip().splitlines()) == 2
    assert "(none)" in ok(models("requests", "cli-serve", "--alias", "production"))
    ok(models("approve", request_id, *REVIEWER))
    assert "(none)" in ok(models("requests", "cli-serve"))
    assert request_id in ok(models("requests", "cli-serve", "--state", "completed"))
    bad_state = models("requests", "--state", "maybe")
    assert bad_state.returncode == 2 and "pending" in bad_state.stderr

    # The traffic policy: defaults, a canary onto the candidate, shadow, bad input.
    shown = ok(models("traffic", "cli-serve"))
    assert "production" in shown and "0% of traffic to candidate" in shown
    canary = ok(models("traffic", "cli-serve", "--canary", "10", "--shadow", "on", *SCIENTIST))
    assert "10% of traffic to candidate" in canary and "shadow:        on" in canary
    assert "updated:" in canary and "dana" in canary
    assert "10% of traffic" in ok(models("traffic", "cli-serve"))
    too_much = models("traffic", "cli-serve", "--canary", "120", *SCIENTIST)
    assert too_much.returncode == 1 and "INVALID_ARGUMENT" in too_much.stderr
    nowhere = models("traffic", "cli-serve", "--candidate", "blue", "--canary", "5", *SCIENTIST)
    assert nowhere.returncode == 1 and "FAILED_PRECONDITION" in nowhere.stderr
    assert models("traffic", "cli-serve", "--shadow", "maybe").returncode == 2
    assert "NOT_FOUND" in models("traffic", "no-such-model").stderr

    # Reasons given on the command line are in the audit trail.
    ok(models("alias", "cli-serve", "staging", "1", "--reason", "smoke tests", *SCIENTIST))
    ok(models("archive", "cli-serve", "1", "--reason", "superseded by 2", *SCIENTIST))
    trail = ok(models("audit", "--model", "cli-serve", "--verify"))
    assert "audit chain valid" in trail
    assert "(smoke tests)" in trail and "(superseded by 2)" in trail
    assert "traffic.set" in trail and "promotion.approve" in trail
