"""`fab.tower` against a running `fabrique up`: the portfolio and the jobs as DataFrames, a job
submitted for squad risk once onboarded (then listed and cancelled), one for a squad the tower
does not know (NOT_FOUND), an unknown job, and the quantities and names refused before
sending."""

import re
import time

import pytest

import py_factory
from fabrique import tower
from fabrique.errors import FailedPrecondition, InvalidInput, NotFound

SPEC = {"model_name": "pytower-fraud", "epochs": 1}
# The client on the module's `fabrique up` (a fixture).
fab = py_factory.fab


def test_the_portfolio_is_a_ranked_frame_with_its_funnel(fab):
    portfolio = fab.tower.portfolio()
    assert list(portfolio.columns)[:6] == ["rank", "use_case_id", "name", "squad", "entity",
                                           "status"]
    from fabrique.v1 import tower_pb2
    stages = [tower_pb2.UseCaseStatus.Name(stage.status) for stage in portfolio.attrs["funnel"]]
    assert stages == ["USE_CASE_STATUS_" + stage for stage in (
        "IDEA", "QUALIFIED", "APPROVED", "BUILDING", "IN_PRODUCTION", "RETIRED")]
    assert fab.tower.portfolio(statuses=["idea"]).empty
    with pytest.raises(InvalidInput) as error:
        fab.tower.portfolio(statuses=["daydream"])
    assert error.value.column == "status"


def test_jobs_is_a_frame(fab):
    jobs = fab.tower.jobs()
    assert list(jobs.columns)[:5] == ["id", "squad", "use_case_id", "kind", "state"]
    assert fab.tower.jobs(squad="risk", states=["queued", "running"]).empty
    with pytest.raises(InvalidInput) as error:
        fab.tower.jobs(states=["sleeping"])
    assert error.value.column == "state"


def test_a_job_for_a_squad_the_tower_does_not_know(fab):
    with pytest.raises((NotFound, FailedPrecondition)) as error:
        fab.tower.submit(SPEC, squad="ghosts", cpu="500m", memory="1Gi")
    assert error.value.code_name in ("NOT_FOUND", "FAILED_PRECONDITION")
    assert "ghosts" in error.value.message


@pytest.fixture(scope="module")
def onboarded(running):
    """Squad risk onboarded at the tower with a quota, the onboarding approved by a second
    platform admin (the requester may not approve it)."""
    data = ["--data_dir", str(running.data_dir)]
    onboard = py_factory.fabrique("tower", "entities", "onboard", "--id", "pyretail", "--name",
                                  "Retail", "--budget", "50000 EUR", "--squad", "risk=Credit risk",
                                  "--cpu", "4", "--memory", "8Gi", *data)
    assert onboard.returncode == 0, onboard.stderr
    approval = re.search(r"^approval: *(\S+)", onboard.stdout, re.M).group(1)
    policy = running.auth_dir / "policy.csv"
    policy.write_text(policy.read_text() + "g, user:ops, *:platform-admin\n")
    deadline = time.monotonic() + 60
    while True:  # The services read the policy again within seconds.
        decided = py_factory.fabrique("tower", "approvals", "approve", approval, *data,
                                      "--token", running.token("ops"))
        if decided.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert decided.returncode == 0, decided.stderr


def test_a_job_submitted_listed_and_cancelled(fab, onboarded):
    job = fab.tower.submit({**SPEC, "epochs": 1_000_000}, squad="risk", cpu="500m",
                           memory="1Gi", reason="a try", executor="local")
    assert job.id and job.squad == "risk"
    assert job.spec.resources.cpu_cores == 0.5 and job.spec.resources.memory_bytes == 2**30
    assert fab.tower.job(job.id).id == job.id
    jobs = fab.tower.jobs(squad="risk")
    assert job.id in set(jobs.id)
    row = jobs.set_index("id").loc[job.id]
    assert row.model == SPEC["model_name"] and row.squad == "risk"
    from fabrique.v1 import tower_pb2
    cancelled = fab.tower.cancel(job.id, "enough")
    assert cancelled.id == job.id
    # SPEC names no features, so the trainer refuses the run the moment the local executor starts
    # it. The cancel usually reaches the job first, while it is queued; on a loaded machine the
    # executor may start it first, and then the job has failed for that reason and stays failed.
    final = (tower_pb2.JOB_STATE_CANCELLED, tower_pb2.JOB_STATE_FAILED)
    deadline = time.monotonic() + 30
    while fab.tower.job(job.id).state not in final:
        assert time.monotonic() < deadline, fab.tower.job(job.id)
        time.sleep(0.2)
    ended = fab.tower.job(job.id)
    if ended.state == tower_pb2.JOB_STATE_FAILED:
        assert "could not start it" in ended.failure_reason, ended
        assert "RunSpec.features is empty" in ended.failure_reason, ended


def test_an_unknown_job_is_not_found(fab):
    with pytest.raises(NotFound):
        fab.tower.job("job-none")
    with pytest.raises(NotFound):
        fab.tower.cancel("job-none", "never was")


@pytest.mark.parametrize("kwargs, column", [
    (dict(cpu="lots"), "cpu"), (dict(cpu=0), "cpu"), (dict(memory="8GB"), "memory"),
    (dict(memory=0), "memory"), (dict(gpus=-1), "gpus"), (dict(executor="cloud"), "executor"),
    (dict(kind="holiday"), "kind"), (dict(squad=""), "squad")])
def test_bad_requests_are_refused_before_sending(fab, kwargs, column):
    with pytest.raises(InvalidInput) as error:
        fab.tower.submit(SPEC, **{"squad": "risk", **kwargs})
    assert error.value.column == column


def test_quantities():
    assert tower.cpu_cores("500m") == 0.5 and tower.cpu_cores(2) == 2.0
    assert tower.memory_bytes("4Gi") == 4 * 2**30 and tower.memory_bytes("1G") == 10**9
    assert tower.memory_bytes(1024) == 1024
