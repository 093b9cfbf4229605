"""Training runs: submit a spec and follow it, as `fabrique train` does.

    run = fab.train.submit(spec, squad="risk")          # a progress bar in a terminal/notebook
    run.registered_version.version                      # the version it registered
    for event in fab.train.watch(run.run_id): ...       # the run's events, to its end
    fab.train.list(model="churn")                       # a DataFrame, one row per run

A spec is a fabrique.v1.RunSpec, a dict in protobuf JSON (what `fabrique train submit` reads
from SPEC.json) or the path of such a file. Runs come back as fabrique.v1.Run messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List, Optional

from fabrique._frames import label_values, micros, require_column
from fabrique._progress import Progress
from fabrique._area import Area
from fabrique._specs import SpecLike, enum_label, new_request_id, parse_spec, timestamp
from fabrique.errors import FabriqueError, InvalidInput

if TYPE_CHECKING:
    import pandas

    from fabrique.client import Client


class RunFailed(FabriqueError):
    """A run followed to its end did not succeed (failed or cancelled). `run` is its final
    record (fabrique.v1.Run): `run.failure_reason` says why."""

    def __init__(self, run: Any) -> None:
        from fabrique.v1 import trainer_pb2
        self.run = run
        state = enum_label(trainer_pb2.RunState, run.state, "RUN_STATE_")
        reason = f": {run.failure_reason}" if run.failure_reason else ""
        super().__init__(f"run {run.run_id} {state}{reason}")


def state_of(run: Any) -> str:
    """A run's state as the CLI prints it: "queued", "training", "succeeded", ..."""
    from fabrique.v1 import trainer_pb2
    return enum_label(trainer_pb2.RunState, run.state, "RUN_STATE_")


class Train(Area):
    """The trainer's calls. Get it as `fabrique.connect(...).train`."""

    def __init__(self, client: "Client") -> None:
        from fabrique.v1 import trainer_pb2, trainer_pb2_grpc
        super().__init__(client, "trainer", trainer_pb2_grpc.TrainerStub)
        self._pb = trainer_pb2

    def submit(self, spec: SpecLike, *, labels: Optional["pandas.DataFrame"] = None,
               time_column: str = "event_time", label_column: str = "label",
               squad: Optional[str] = None, watch: bool = True,
               progress: Optional[bool] = None, check: bool = True,
               request_id: Optional[str] = None, validate_only: bool = False,
               deadline_s: Optional[float] = None) -> Any:
        """Submits a training run and, with `watch`, follows it to its end.

        Args:
          spec:      a RunSpec, a dict in protobuf JSON or a JSON file's path.
          labels:    the label events as a DataFrame, in place of the spec's `label`: a key
                     column per entity the features use (one column: any name; several: each
                     named by its entity), `time_column` (datetimes or Unix microseconds) and
                     `label_column` (bool, integer or text classes; float for regression).
          squad:     the squad the run trains for (it owns the run and a model it creates);
                     None = the one squad where the caller holds runs.submit.
          watch:     follow the run to its end (False: return the run as submitted).
          progress:  draw a progress bar on stderr; None = only in a terminal or a notebook.
          check:     raise RunFailed when the run followed did not succeed.
          request_id: idempotency key (a retry with it returns the same run); default new.
          validate_only: have the trainer check the spec; nothing is queued.
          deadline_s: a wall-time limit for the whole run, in seconds.
        Returns:
          the final fabrique.v1.Run when watching, else the submitted (or validated) one.
        Raises:
          InvalidInput: the spec cannot be read, or `labels` lacks a column or holds values
            that cannot be sent (naming the column); before anything is sent.
          InvalidArgument: the trainer refused the spec (unknown features, several squads, ...).
          FailedPrecondition: e.g. a `cuda` device without a GPU.
          RunFailed: with `watch` and `check`, the run failed or was cancelled.
        """
        from fabrique.v1 import common_pb2
        run_spec = parse_spec(spec, common_pb2.RunSpec, "spec")
        if labels is not None:
            _set_label_events(run_spec, labels, time_column, label_column)
        if not run_spec.model_name:
            raise InvalidInput("spec has no model_name: the run must name the model it trains",
                               "model_name")
        request = self._pb.SubmitRunRequest(spec=run_spec, request_id=request_id or
                                            new_request_id(), validate_only=validate_only,
                                            squad=squad or "")
        if deadline_s:
            request.deadline.FromMilliseconds(int(deadline_s * 1000))
        # Idempotent by its request id: a retry after UNAVAILABLE gets the same run.
        run = self._client.call(self._stub.SubmitRun, request, idempotent=True)
        if not watch or validate_only:
            return run
        return self.wait(run.run_id, progress=progress, check=check)

    def watch(self, run_id: str, *, after_sequence: int = 0) -> Iterator[Any]:
        """Yields the run's events (fabrique.v1.RunEvent): past ones after `after_sequence`, then
        live ones, ending after the terminal state (whose event carries `final_run`).

        Raises:
          NotFound: no such run.
        """
        request = self._pb.WatchRunRequest(run_id=run_id, after_sequence=after_sequence)
        return self._client.stream(self._stub.WatchRun, request, timeout=float("inf"))

    def wait(self, run_id: str, *, progress: Optional[bool] = None, check: bool = True) -> Any:
        """Follows a run to its end, with a progress bar (see `submit`); returns its final
        fabrique.v1.Run. Raises RunFailed (with `check`) when it did not succeed."""
        final = None
        with Progress(progress) as bar:
            for event in self.watch(run_id):
                kind = event.WhichOneof("event")
                if kind == "final_run":
                    final = event.final_run
                elif kind == "state_change":
                    change = event.state_change
                    reason = f": {change.reason}" if change.reason else ""
                    bar.line(f"{enum_label(self._pb.RunState, change.to_state, 'RUN_STATE_')}"
                             f"{reason}")
                elif kind == "progress" and event.progress.epochs_total > 0:
                    _draw(bar, event.progress)
                elif kind == "log" and event.log.severity != "INFO":
                    bar.line(f"{event.log.severity}: {event.log.message}")
        if final is None:  # A stream that ended without its last event: read the record.
            final = self.get(run_id)
        if check and self._pb.RunState.Name(final.state) != "RUN_STATE_SUCCEEDED":
            raise RunFailed(final)
        return final

    def get(self, run_id: str) -> Any:
        """Returns the run's record (fabrique.v1.Run). Raises NotFound naming it."""
        return self._client.call(self._stub.GetRun, self._pb.GetRunRequest(run_id=run_id),
                                 idempotent=True)

    def list(self, model: Optional[str] = None, *, state: Optional[str] = None,
             limit: int = 1000) -> "pandas.DataFrame":
        """Runs, newest first, of the squads where the caller holds runs.read: a DataFrame with
        one row per run and the columns run_id, model, squad, state, registered_version
        (0 = none), failure_reason, device, create_time, end_time.

        Args:
          model: only this model's runs.
          state: only runs in this state ("succeeded", "failed", "training", ...).
          limit: at most this many rows.
        Raises:
          InvalidInput: an unknown state name.
        """
        import pandas
        request = self._pb.ListRunsRequest(model_name=model or "", page_size=min(limit, 1000))
        if state:
            name = "RUN_STATE_" + state.upper()
            if name not in self._pb.RunState.keys():
                known = [enum_label(self._pb.RunState, n, "RUN_STATE_")
                         for n in self._pb.RunState.values()][1:]
                raise InvalidInput(f"unknown run state {state!r}: one of {known}", "state")
            request.state = self._pb.RunState.Value(name)
        rows: List[dict] = []
        while len(rows) < limit:
            response = self._client.call(self._stub.ListRuns, request, idempotent=True)
            for run in response.runs:
                rows.append({
                    "run_id": run.run_id, "model": run.spec.model_name, "squad": run.squad,
                    "state": state_of(run), "registered_version": run.registered_version.version,
                    "failure_reason": run.failure_reason, "device": run.device,
                    "create_time": timestamp(run.create_time),
                    "end_time": timestamp(run.end_time)})
            if not response.next_page_token:
                break
            request.page_token = response.next_page_token
        return pandas.DataFrame(rows[:limit], columns=[
            "run_id", "model", "squad", "state", "registered_version", "failure_reason", "device",
            "create_time", "end_time"])

    def cancel(self, run_id: str, reason: str = "") -> Any:
        """Cancels a run: a queued one at once, a running one within one batch. Idempotent: a run
        that already ended comes back as it ended (check `state_of(run)`). Returns the run as it
        stands (fabrique.v1.Run). Raises NotFound for an unknown run."""
        request = self._pb.CancelRunRequest(run_id=run_id, reason=reason)
        return self._client.call(self._stub.CancelRun, request, idempotent=True)


def _set_label_events(spec: Any, labels: "pandas.DataFrame", time_column: str,
                      label_column: str) -> None:
    """Fills spec.label.events from a DataFrame of label events."""
    import pandas
    if not isinstance(labels, pandas.DataFrame):
        raise InvalidInput(f"labels must be a pandas DataFrame, not {type(labels).__name__}",
                           "labels")
    if labels.empty:
        raise InvalidInput("labels: the DataFrame is empty", "labels")
    require_column(labels, time_column)
    require_column(labels, label_column)
    key_columns = [c for c in labels.columns if c not in (time_column, label_column)]
    if not key_columns:
        raise InvalidInput("labels has no entity key column", "labels")
    events = spec.label.events
    events.Clear()
    for column in key_columns:
        # One entity needs no name; several are told apart by their columns' names.
        if labels[column].isna().any():
            raise InvalidInput(f"labels column {column!r} has a missing key", str(column))
        events.entity_keys.add(entity="" if len(key_columns) == 1 else str(column),
                               keys=[str(key) for key in labels[column]])
    events.event_time_unix_micros.extend(micros(labels[time_column], time_column))
    values = label_values(labels[label_column], label_column)
    kind = values[0][0]
    column = {"bool_value": events.labels.bool_values, "int64_value": events.labels.int64_values,
              "double_value": events.labels.double_values,
              "string_value": events.labels.string_values}[kind]
    column.values.extend(value for _, value in values)


def _draw(bar: Progress, progress: Any) -> None:
    """One progress event as the bar: epochs x batches, the loss, the metric and the ETA."""
    per_epoch = max(progress.batches_per_epoch, 1)
    done = (max(progress.epoch, 1) - 1) * per_epoch + progress.batch
    label = f"epoch {progress.epoch}/{progress.epochs_total}"
    if progress.trials_total > 1:
        label = f"trial {progress.trial + 1}/{progress.trials_total} {label}"
    metric = progress.validation_metric
    detail = f"loss {progress.train_loss:.4f}"
    if metric.name:
        detail += f"  {metric.name} {metric.value:.4f}"
    detail += f"  {progress.samples_per_second:.0f} samples/s  ETA {progress.eta.seconds}s"
    bar.update(label, done, progress.epochs_total * per_epoch, detail)
