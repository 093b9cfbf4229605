"""The control tower: training jobs on squads' quotas, and the portfolio of use cases.

    job = fab.tower.submit(spec, squad="risk", cpu="500m", memory="2Gi")
    fab.tower.jobs(squad="risk")                  # DataFrame, one row per job
    fab.tower.portfolio()                         # DataFrame, one row per use case, ranked

A job's spec is a training RunSpec (a fabrique.v1.RunSpec, a dict in protobuf JSON or a JSON
file's path), as `fabrique tower submit` reads it. Jobs come back as fabrique.v1.Job messages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from fabrique._area import Area
from fabrique._specs import (
    SpecLike, check_name, enum_label, new_request_id, parse_spec, timestamp)
from fabrique.errors import InvalidInput

if TYPE_CHECKING:
    import pandas

    from fabrique.client import Client

_PAGE = 500
_BINARY = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def cpu_cores(value: Union[int, float, str]) -> float:
    """CPU as cores: 2, 0.5, "2" or "500m" (millicores). Raises InvalidInput."""
    text = str(value).strip()
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise InvalidInput(f"cpu {value!r} is not a CPU quantity: cores (2) or millicores "
                           "(500m)", "cpu") from None
    if not cores > 0:
        raise InvalidInput(f"cpu must be above 0, not {value!r}", "cpu")
    return cores


def memory_bytes(value: Union[int, str]) -> int:
    """Memory in bytes: 1073741824, "4Gi", "512Mi", "1G". Raises InvalidInput."""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|M|G|T)?\s*", str(value))
        if not match:
            raise InvalidInput(f"memory {value!r} is not a memory quantity: 4Gi, 512Mi or bytes",
                               "memory")
        amount = int(float(match.group(1)) * _BINARY[match.group(2) or ""])
    if amount <= 0:
        raise InvalidInput(f"memory must be above 0, not {value!r}", "memory")
    return amount


def money(value: Any) -> float:
    """A fabrique.v1.Money as a float in its currency's units."""
    return value.units + value.nanos / 1e9


class Tower(Area):
    """The tower's calls. Get it as `fabrique.connect(...).tower`."""

    def __init__(self, client: "Client") -> None:
        from fabrique.v1 import tower_pb2, tower_pb2_grpc
        super().__init__(client, "tower", tower_pb2_grpc.TowerStub)
        self._pb = tower_pb2

    def _enum(self, enum_type: Any, prefix: str, value: str, what: str) -> int:
        name = prefix + value.upper().replace("-", "_")
        if name not in enum_type.keys():
            known = [enum_label(enum_type, n, prefix) for n in enum_type.values()][1:]
            raise InvalidInput(f"unknown {what} {value!r}: one of {known}", what)
        return enum_type.Value(name)

    def submit(self, spec: SpecLike, *, squad: str, use_case: Optional[str] = None,
               cpu: Union[int, float, str, None] = None, memory: Union[int, str, None] = None,
               gpus: Optional[int] = None, flavor: str = "", priority: Optional[int] = None,
               executor: Optional[str] = None, kind: Optional[str] = None,
               max_runtime_s: Optional[float] = None, image: str = "", reason: str = "",
               request_id: Optional[str] = None, wait_for_approval: bool = False) -> Any:
        """Submits a training job to run on `squad`'s quota, as `fabrique tower submit`.

        Args:
          spec:     the training RunSpec.
          squad:    the squad whose quota runs it.
          use_case: the use case it serves; default the spec's use_case_id.
          cpu, memory, gpus, flavor: what it asks for (default 1 core, 1 GiB, no GPU).
          priority: overrides the priority from the use case's WSJF.
          executor: "local" or "kubernetes"; default the tower's.
          kind:     "training", "search" or "retraining"; default from the spec.
          max_runtime_s: killed and failed after this long.
          wait_for_approval: past a hard budget threshold, wait for an approval rather than
                    being refused.
        Returns:
          the job as queued (fabrique.v1.Job): `id`, `state`, `queue_position`, ...
        Raises:
          InvalidInput: a bad spec or quantity, before anything is sent.
          NotFound: an unknown squad or use case. ResourceExhausted: past the budget.
        """
        from fabrique.v1 import common_pb2
        check_name(squad, "squad")
        run_spec = parse_spec(spec, common_pb2.RunSpec, "spec")
        request = self._pb.SubmitJobRequest(
            squad=squad, use_case_id=use_case or run_spec.use_case_id,
            trigger=self._pb.JOB_TRIGGER_MANUAL, reason=reason,
            request_id=request_id or new_request_id(), wait_for_approval=wait_for_approval)
        job = request.spec
        job.training.CopyFrom(run_spec)
        if not job.training.use_case_id:
            job.training.use_case_id = request.use_case_id
        if cpu is not None:
            job.resources.cpu_cores = cpu_cores(cpu)
        if memory is not None:
            job.resources.memory_bytes = memory_bytes(memory)
        if gpus is not None:
            if gpus < 0:
                raise InvalidInput(f"gpus must not be negative, not {gpus}", "gpus")
            job.resources.gpus = gpus
        job.resources.flavor = flavor
        if priority is not None:
            job.priority.value = int(priority)
        if executor:
            job.executor = self._enum(self._pb.Executor, "EXECUTOR_", executor, "executor")
        if kind:
            job.kind = self._enum(self._pb.JobKind, "JOB_KIND_", kind, "kind")
        if max_runtime_s:
            if max_runtime_s < 0:
                raise InvalidInput("max_runtime_s must not be negative", "max_runtime_s")
            job.max_runtime.seconds = int(max_runtime_s)
        job.image = image
        # Idempotent by its request id: a retry gets the same job.
        return self._client.call(self._stub.SubmitJob, request, idempotent=True)

    def job(self, job_id: str) -> Any:
        """A job's record (fabrique.v1.Job). Raises NotFound."""
        check_name(job_id, "job_id")
        return self._client.call(self._stub.GetJob, self._pb.GetJobRequest(id=job_id),
                                 idempotent=True)

    def cancel(self, job_id: str, reason: str = "") -> Any:
        """Cancels a job; returns it as it stands (fabrique.v1.Job). Raises NotFound."""
        check_name(job_id, "job_id")
        return self._client.call(self._stub.CancelJob,
                                 self._pb.CancelJobRequest(id=job_id, reason=reason),
                                 idempotent=True)

    def jobs(self, *, squad: Optional[str] = None, use_case: Optional[str] = None,
             states: Iterable[str] = ()) -> "pandas.DataFrame":
        """Jobs, a DataFrame with one row per job and the columns id, squad, use_case_id, kind,
        state, state_reason, priority, queue_position, executor, trainer_run_id, model,
        result_version (0 = none), cost, create_time, end_time. Filters: squad, use case,
        states ("queued", "running", "succeeded", ...)."""
        import pandas
        request = self._pb.ListJobsRequest(squad=squad or "", use_case_id=use_case or "",
                                           page_size=_PAGE)
        for state in states:
            request.states.append(self._enum(self._pb.JobState, "JOB_STATE_", state, "state"))
        rows = []
        for job in self._pages(self._stub.ListJobs, request, "jobs"):
            rows.append({
                "id": job.id, "squad": job.squad, "use_case_id": job.use_case_id,
                "kind": enum_label(self._pb.JobKind, job.kind, "JOB_KIND_"),
                "state": enum_label(self._pb.JobState, job.state, "JOB_STATE_"),
                "state_reason": job.state_reason, "priority": job.priority,
                "queue_position": job.queue_position,
                "executor": enum_label(self._pb.Executor, job.executor, "EXECUTOR_"),
                "trainer_run_id": job.trainer_run_id,
                "model": job.spec.training.model_name,
                "result_version": job.result_version.version, "cost": money(job.cost),
                "create_time": timestamp(job.create_time), "end_time": timestamp(job.end_time)})
        return pandas.DataFrame(rows, columns=[
            "id", "squad", "use_case_id", "kind", "state", "state_reason", "priority",
            "queue_position", "executor", "trainer_run_id", "model", "result_version", "cost",
            "create_time", "end_time"])

    def portfolio(self, *, entity: Optional[str] = None, squad: Optional[str] = None,
                  statuses: Iterable[str] = ()) -> "pandas.DataFrame":
        """The portfolio of use cases, ranked by WSJF: a DataFrame with one row per use case and
        the columns rank, use_case_id, name, squad, entity, status, wsjf, roi,
        estimated_value, estimated_cost, compute_spent, currency, models (dict model ->
        production version, 0 = none), skills_covered. The funnel (fabrique.v1.FunnelStage
        list) is in `frame.attrs["funnel"]`, the totals in `frame.attrs["total_estimated_value"]`
        and `frame.attrs["total_spent"]`. Filters: entity, squad, statuses ("idea", ...)."""
        import pandas
        request = self._pb.GetPortfolioRequest(entity=entity or "", squad=squad or "",
                                               page_size=_PAGE)
        for status in statuses:
            request.statuses.append(self._enum(self._pb.UseCaseStatus, "USE_CASE_STATUS_",
                                               status, "status"))
        rows, funnel, totals = [], [], (0.0, 0.0)
        while True:
            page = self._client.call(self._stub.GetPortfolio, request, idempotent=True)
            if not funnel:
                funnel = list(page.funnel)
                totals = (money(page.total_estimated_value), money(page.total_spent))
            for entry in page.entries:
                case = entry.use_case
                rows.append({
                    "rank": entry.rank, "use_case_id": case.id, "name": case.name,
                    "squad": case.squad, "entity": case.entity,
                    "status": enum_label(self._pb.UseCaseStatus, case.status,
                                         "USE_CASE_STATUS_"),
                    "wsjf": case.wsjf, "roi": case.roi,
                    "estimated_value": money(case.estimated_annual_value),
                    "estimated_cost": money(case.estimated_cost),
                    "compute_spent": money(entry.compute_spent),
                    "currency": case.estimated_annual_value.currency_code,
                    "models": {m.model: m.production_version for m in entry.models},
                    "skills_covered": entry.skills_covered})
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        frame = pandas.DataFrame(rows, columns=[
            "rank", "use_case_id", "name", "squad", "entity", "status", "wsjf", "roi",
            "estimated_value", "estimated_cost", "compute_spent", "currency", "models",
            "skills_covered"])
        frame.attrs["funnel"] = funnel
        frame.attrs["total_estimated_value"], frame.attrs["total_spent"] = totals
        return frame
