"""The monitor: outcomes of predictions, drift and the report for business users.

    fab.monitor.log_outcomes(outcomes)           # prediction_id + label columns
    fab.monitor.drift("churn")                   # DataFrame, one row per feature and output
    fab.monitor.report("churn", "churn.html")    # a self-contained HTML page

Outcomes join to predictions by `prediction_id` (as `predict` returns it), or by entity key and
event time for a model (`model=`, `entity=` and `time=` columns).
"""

from __future__ import annotations

import datetime
import html
import os
import pathlib
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, List, Optional

from fabrique._frames import label_values, micros, require_column, texts
from fabrique._area import Area
from fabrique._specs import enum_label, new_request_id, parse_model
from fabrique.errors import InvalidInput

if TYPE_CHECKING:
    import pandas

    from fabrique.client import Client

# Outcomes per LogOutcomes message: well under gRPC's 4 MiB message limit.
_BATCH = 2000


@dataclass
class OutcomesLogged:
    """What the monitor did with the outcomes sent: accepted (of which `matched` joined to a
    prediction now, `pending` kept for a prediction that may come later), `duplicates`, and
    `rejected` with the first reasons in `errors`."""
    accepted: int = 0
    matched: int = 0
    pending: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: List[str] = field(default_factory=list)


class Monitor(Area):
    """The monitor's calls. Get it as `fabrique.connect(...).monitor`."""

    def __init__(self, client: "Client") -> None:
        from fabrique.v1 import monitor_pb2, monitor_pb2_grpc
        super().__init__(client, "monitor", monitor_pb2_grpc.MonitorStub)
        self._pb = monitor_pb2

    # ---- outcomes ------------------------------------------------------------------------

    def log_outcomes(self, frame: "pandas.DataFrame", *, label: str = "label",
                     prediction_id: str = "prediction_id", model: Optional[str] = None,
                     entity: Optional[str] = None, time: str = "event_time",
                     entity_name: str = "", observe_time: Optional[str] = None
                     ) -> OutcomesLogged:
        """Sends observed outcomes to the monitor, which joins them to the predictions.

        Each row is an outcome: its `label` column (bool, integer, float or text, as the model's
        task), joined either by the `prediction_id` column, or, when the frame has none, by the
        `entity` column (entity keys) and the `time` column (the event time: datetimes, or
        microseconds since the epoch) for `model`.

        Args:
          frame:  the outcomes.
          label, prediction_id, entity, time: the columns' names.
          model:  the model, for the entity-and-time join.
          entity_name: the entity's name when the model uses several.
          observe_time: a column of when each outcome was observed; default now.
        Returns:
          OutcomesLogged, the monitor's counts over every batch.
        Raises:
          InvalidInput: an empty frame, a missing column or one of the wrong type (naming it),
            before anything is sent.
        """
        import pandas
        if not isinstance(frame, pandas.DataFrame):
            raise InvalidInput(f"outcomes must be a pandas DataFrame, not {type(frame).__name__}")
        if frame.empty:
            raise InvalidInput("no outcomes: the DataFrame is empty")
        by_prediction = prediction_id in frame.columns
        if not by_prediction:
            if entity is None:
                raise InvalidInput(
                    f"column {prediction_id!r} is missing: outcomes join to predictions by "
                    f"prediction id, or pass model= and entity= (the key column) with a "
                    f"{time!r} column", prediction_id)
            if not model:
                raise InvalidInput("joining by entity and time needs model=", "model")
            parse_model(model)
            for column in (entity, time):
                require_column(frame, column)
        require_column(frame, label)
        labels = label_values(frame[label], label)
        if by_prediction:
            ids = texts(frame[prediction_id], prediction_id)
        else:
            keys = texts(frame[entity], entity)
            times = micros(frame[time], time)
        observed = (micros(frame[observe_time], observe_time) if observe_time
                    else [int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1e6)]
                    * len(frame))

        def outcome(i: int) -> Any:
            message = self._pb.Outcome()
            if by_prediction:
                message.prediction_id = ids[i]
            else:
                join = message.entity_event
                join.model = model
                join.entity = entity_name
                join.entity_key = keys[i]
                join.event_time.FromMicroseconds(times[i])
            kind, value = labels[i]
            setattr(message.label, kind, value)
            message.observe_time.FromMicroseconds(observed[i])
            return message

        def requests() -> Iterator[Any]:
            for start in range(0, len(frame), _BATCH):
                yield self._pb.LogOutcomesRequest(
                    batch_id=new_request_id(),
                    outcomes=[outcome(i) for i in range(start, min(start + _BATCH, len(frame)))])

        response = self._client.send_stream(self._stub.LogOutcomes, requests())
        return OutcomesLogged(accepted=response.accepted, matched=response.matched,
                              pending=response.pending, duplicates=response.duplicates,
                              rejected=response.rejected, errors=list(response.errors))

    # ---- drift ---------------------------------------------------------------------------

    def drift(self, model: str, *, version: Optional[int] = None, alias: Optional[str] = None,
              start: Optional[datetime.datetime] = None,
              end: Optional[datetime.datetime] = None) -> "pandas.DataFrame":
        """Drift of the model's features and outputs over a window (default: the monitoring
        policy's window ending now), against the version's reference profile.

        Returns:
          a DataFrame, one row per feature (kind "feature") and output (kind "prediction"), with
          the columns name, kind, feature ("group:feature"), status ("no_drift", "drifted",
          "not_enough_data", "no_reference"), severity, metric (the verdict's test), value,
          p_value, threshold, drifted, count, reference_count, missing_rate, column_type. The
          whole report (fabrique.v1.DriftReport) is in `frame.attrs["report"]`.
        Raises:
          NotFound: no such model, version or alias.
        """
        report = self._drift_report(model, version, alias, start, end, live_profiles=False)
        return _drift_frame(self._pb, report)

    def _drift_report(self, model: str, version: Optional[int], alias: Optional[str],
                      start: Optional[datetime.datetime], end: Optional[datetime.datetime],
                      live_profiles: bool) -> Any:
        request = self._pb.GetDriftReportRequest(include_live_profiles=live_profiles)
        _set_ref(request.model, model, version, alias)
        _set_window(request.window, start, end)
        return self._client.call(self._stub.GetDriftReport, request, idempotent=True)

    # ---- the report page -----------------------------------------------------------------

    def report(self, model: str, path: os.PathLike, *, version: Optional[int] = None,
               alias: Optional[str] = None, hours: float = 24.0) -> pathlib.Path:
        """Writes the model's report for business users to `path` as one self-contained HTML
        page (no script, no link outside it): its health, each feature's drift with its test
        and threshold, live performance beside the training figure, and the alerts firing; over
        the last `hours`. The file is replaced whole, never half.

        Returns:
          the path written.
        Raises:
          InvalidInput: hours not positive. NotFound: no such model.
        """
        if not hours > 0:
            raise InvalidInput(f"hours must be positive, not {hours!r}", "hours")
        end = datetime.datetime.now(datetime.timezone.utc)
        start = end - datetime.timedelta(hours=hours)
        drift = self._drift_report(model, version, alias, start, end, live_profiles=False)
        performance_request = self._pb.GetPerformanceReportRequest()
        _set_ref(performance_request.model, model, version, alias)
        _set_window(performance_request.window, start, end)
        performance = self._client.call(self._stub.GetPerformanceReport, performance_request,
                                        idempotent=True)
        name = parse_model(model, version, alias)[0]
        alerts_request = self._pb.ListAlertsRequest(model=name,
                                                    state=self._pb.ALERT_STATE_FIRING)
        alerts = self._client.call(self._stub.ListAlerts, alerts_request, idempotent=True).alerts
        page = _render(self._pb, name, start, end, drift, performance, alerts)
        path = pathlib.Path(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(temporary, path)
        return path


def _set_ref(ref: Any, model: str, version: Optional[int], alias: Optional[str]) -> None:
    name, number, alias = parse_model(model, version, alias)
    ref.model = name
    if number is not None:
        ref.version = number
    elif alias:
        ref.alias = alias


def _set_window(window: Any, start: Optional[datetime.datetime],
                end: Optional[datetime.datetime]) -> None:
    if start is not None and end is not None and start >= end:
        raise InvalidInput("the window's start must be before its end", "start")
    if start is not None:
        window.start_time.FromDatetime(_utc(start))
    if end is not None:
        window.end_time.FromDatetime(_utc(end))


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


_DRIFT_COLUMNS = ["name", "kind", "feature", "status", "severity", "metric", "value", "p_value",
                  "threshold", "drifted", "count", "reference_count", "missing_rate",
                  "column_type"]


def _drift_frame(pb: Any, report: Any) -> "pandas.DataFrame":
    import pandas
    rows = []
    for kind, columns in (("feature", report.features), ("prediction", report.predictions)):
        for column in columns:
            score = column.scores[0] if column.scores else None
            ref = column.feature.ref
            rows.append({
                "name": column.name, "kind": kind,
                "feature": f"{ref.group}:{ref.feature}" if ref.feature else "",
                "status": enum_label(pb.DriftStatus, column.status, "DRIFT_STATUS_"),
                "severity": enum_label(pb.Severity, column.severity, "SEVERITY_"),
                "metric": enum_label(pb.DriftMetric, score.metric, "DRIFT_METRIC_")
                if score else "",
                "value": score.value if score else float("nan"),
                "p_value": score.p_value.value if score and score.HasField("p_value")
                else float("nan"),
                "threshold": score.threshold if score else float("nan"),
                "drifted": bool(score.drifted) if score else False,
                "count": column.count,
                "reference_count": score.reference_count if score else 0,
                "missing_rate": column.missing_rate, "column_type": column.column_type})
    frame = pandas.DataFrame(rows, columns=_DRIFT_COLUMNS)
    frame.attrs["report"] = report
    return frame


_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
          "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
          "th{background:#f3f3f3}.drifted,.critical{color:#b00020}.warning{color:#b36b00}"
          ".ok,.no_drift{color:#1b5e20}")


def _render(pb: Any, model: str, start: datetime.datetime, end: datetime.datetime,
            drift: Any, performance: Any, alerts: List[Any]) -> str:
    """The report page: health first, then drift, performance and alerts, all inline."""
    def cell(value: Any, css: str = "") -> str:
        klass = f' class="{html.escape(css)}"' if css else ""
        return f"<td{klass}>{html.escape(str(value))}</td>"

    worst = max(drift.severity, performance.severity)
    health = enum_label(pb.Severity, worst, "SEVERITY_") if worst else "unknown"
    version = drift.model_version.version or performance.model_version.version
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(model)}: model report</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(model)}" + (f" version {version}" if version else "") + "</h1>",
        f"<p>From {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC. Health: "
        f'<strong class="{health}">{health}</strong>. {drift.prediction_count} predictions, '
        f"{performance.labelled_count} with an outcome.</p>",
        "<h2>Drift</h2>"]
    frame = _drift_frame(pb, drift)
    if drift.no_reference:
        parts.append("<p>No reference profile: drift cannot be measured.</p>")
    parts.append("<table><tr><th>Column</th><th>Status</th><th>Test</th><th>Value</th>"
                 "<th>Threshold</th><th>Live values</th></tr>")
    for row in frame.itertuples():
        parts.append("<tr>" + cell(row.name) + cell(row.status, row.status) + cell(row.metric)
                     + cell(f"{row.value:.4g}") + cell(f"{row.threshold:.4g}") + cell(row.count)
                     + "</tr>")
    parts.append("</table><h2>Performance</h2>")
    training = {metric.name: metric.value for metric in performance.training_metrics}
    parts.append("<table><tr><th>Metric</th><th>Live</th><th>At training</th></tr>")
    for metric in performance.metrics:
        parts.append("<tr>" + cell(metric.name) + cell(f"{metric.value:.4g}")
                     + cell(f"{training[metric.name]:.4g}" if metric.name in training else "-")
                     + "</tr>")
    if not performance.metrics:
        parts.append('<tr><td colspan="3">No labelled predictions in the period.</td></tr>')
    parts.append("</table><h2>Alerts firing</h2>")
    if alerts:
        parts.append("<ul>" + "".join(
            f"<li>{html.escape(enum_label(pb.Severity, alert.severity, 'SEVERITY_'))}: "
            f"{html.escape(alert.summary)}</li>" for alert in alerts) + "</ul>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
