"""`fab.tower` against a running `fabrique up`: the portfolio and the jobs as DataFrames, a job
submitted for a squad the tower does not know (NOT_FOUND), an unknown job, and the quantities
and names refused before sending."""

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
