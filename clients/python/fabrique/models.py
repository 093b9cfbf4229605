"""The model registry: models, versions, aliases and governed promotion, as `fabrique models`.

    fab.models.list()                                  # DataFrame, one row per model
    fab.models.versions("churn")                       # DataFrame, one row per version
    fab.models.aliases("churn")                        # DataFrame, one row per alias
    fab.models.set_alias("churn", "staging", 3)        # an alias without gates moves at once
    p = fab.models.promote("churn", 3, alias="production")   # every gate evaluated
    p.state                                            # "completed", or "pending" approvals
    fab.models.approve(p.id)                           # a reviewer's approval

Lists come back as pandas DataFrames; single records as the registry's proto messages
(fabrique.v1.Model, ModelVersion, Alias), and promotion requests as `Promotion` dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional

from fabrique._area import Area
from fabrique._specs import check_name, enum_label, new_request_id, parse_model, timestamp
from fabrique.errors import InvalidInput

if TYPE_CHECKING:
    import pandas

    from fabrique.client import Client

_PAGE = 500


@dataclass
class Gate:
    """One gate of a promotion, evaluated: kind ("metric", "approval", ...), what it asks
    (`description`), where it stands ("passed", "failed", "pending") and why."""
    kind: str
    description: str
    state: str
    explanation: str


@dataclass
class Promotion:
    """A request to move `alias` of `model` to `version`, with every gate's evaluation.

    `state`: "pending" (waiting for approvals), "completed" (the alias moved), "refused",
    "rejected", "cancelled" or "superseded". `id` is what reviewers approve (empty for a dry
    run). `message` is the registry's record (fabrique.v1.PromotionRequest)."""
    id: str
    model: str
    alias: str
    version: int
    previous_version: int
    state: str
    gates: List[Gate] = field(default_factory=list)
    message: Any = None

    @property
    def completed(self) -> bool:
        """True when the alias moved."""
        return self.state == "completed"


class Models(Area):
    """The registry's calls. Get it as `fabrique.connect(...).models`."""

    def __init__(self, client: "Client") -> None:
        from fabrique.v1 import registry_pb2, registry_pb2_grpc
        super().__init__(client, "registry", registry_pb2_grpc.ModelRegistryStub)
        self._pb = registry_pb2

    def _call(self, method: Any, request: Any, idempotent: bool = True) -> Any:
        return self._client.call(method, request, idempotent=idempotent)

    def list(self, *, squad: Optional[str] = None, use_case: Optional[str] = None,
             prefix: Optional[str] = None) -> "pandas.DataFrame":
        """Models the caller may read: a DataFrame with one row per model and the columns name,
        owner_squad, use_case_id, task, entity, latest_version, aliases (dict alias -> version),
        description, create_time. Filters: owning `squad`, `use_case`, name `prefix`."""
        import pandas
        from fabrique.v1 import common_pb2
        request = self._pb.ListModelsRequest(owner_squad=squad or "", use_case_id=use_case or "",
                                             name_prefix=prefix or "", page_size=_PAGE)
        rows = []
        for model in self._pages(self._stub.ListModels, request, "models"):
            rows.append({
                "name": model.name, "owner_squad": model.owner_squad,
                "use_case_id": model.use_case_id,
                "task": enum_label(common_pb2.Task, model.task, "TASK_"),
                "entity": model.entity, "latest_version": model.latest_version,
                "aliases": dict(model.aliases), "description": model.description,
                "create_time": timestamp(model.create_time)})
        return pandas.DataFrame(rows, columns=[
            "name", "owner_squad", "use_case_id", "task", "entity", "latest_version", "aliases",
            "description", "create_time"])

    def get(self, model: str) -> Any:
        """The model's record (fabrique.v1.Model: owner, task, latest version, aliases). Raises
        NotFound."""
        check_name(model, "model")
        return self._call(self._stub.GetModel, self._pb.GetModelRequest(name=model))

    def versions(self, model: str, *, include_archived: bool = False) -> "pandas.DataFrame":
        """The model's versions, a DataFrame with one row per version and the columns model,
        version, state ("active"/"archived"), aliases (list), metrics (dict name -> value),
        trainer_run_id, description, register_time. An unknown model gives no rows."""
        import pandas
        check_name(model, "model")
        request = self._pb.ListVersionsRequest(models=[model], include_archived=include_archived,
                                               page_size=_PAGE)
        rows = []
        for version in self._pages(self._stub.ListVersions, request, "versions"):
            rows.append({
                "model": version.model, "version": version.version,
                "state": enum_label(self._pb.VersionState, version.state, "VERSION_STATE_"),
                "aliases": list(version.aliases),
                "metrics": {metric.name: metric.value for metric in version.metrics},
                "trainer_run_id": version.lineage.trainer_run_id,
                "description": version.description,
                "register_time": timestamp(version.register_time)})
        return pandas.DataFrame(rows, columns=[
            "model", "version", "state", "aliases", "metrics", "trainer_run_id", "description",
            "register_time"])

    def version(self, model: str, version: Optional[int] = None, *,
                alias: Optional[str] = None) -> Any:
        """One version's record (fabrique.v1.ModelVersion): by number, by alias, or the newest.
        `model` may say it too: "churn:3", "churn@production". Raises NotFound."""
        from fabrique.v1 import common_pb2
        name, number, alias = parse_model(model, version, alias)
        ref = common_pb2.ModelRef(model=name)
        if number is not None:
            ref.version = number
        elif alias:
            ref.alias = alias
        return self._call(self._stub.GetVersion, self._pb.GetVersionRequest(ref=ref))

    def aliases(self, model: str) -> "pandas.DataFrame":
        """The model's aliases: a DataFrame with one row per alias and the columns alias,
        version, update_time, updated_by, promotion_request_id. Raises NotFound for an unknown
        model."""
        import pandas
        check_name(model, "model")
        response = self._call(self._stub.ListAliases, self._pb.ListAliasesRequest(model=model))
        rows = [{"alias": alias.name, "version": alias.version,
                 "update_time": timestamp(alias.update_time),
                 "updated_by": alias.updated_by.subject,
                 "promotion_request_id": alias.promotion_request_id}
                for alias in response.aliases]
        return pandas.DataFrame(rows, columns=["alias", "version", "update_time", "updated_by",
                                               "promotion_request_id"])

    def set_alias(self, model: str, alias: str, version: int, *,
                  expected_current_version: int = 0, reason: str = "") -> Any:
        """Points `alias` at `version` and returns it (fabrique.v1.Alias). An alias whose policy
        has gates moves only through `promote`.

        Raises:
          InvalidInput: a version that is not a number from 1, before sending.
          FailedPrecondition: the alias has a promotion policy (use `promote`), or the version is
            archived.
          Aborted: `expected_current_version` > 0 and the alias holds another version.
          NotFound: no such model or version.
        """
        check_name(model, "model")
        check_name(alias, "alias")
        _check_version(version)
        request = self._pb.SetAliasRequest(model=model, alias=alias, version=version,
                                           expected_current_version=expected_current_version,
                                           reason=reason)
        return self._call(self._stub.SetAlias, request)

    def promote(self, model: str, version: int, *, alias: str, comment: str = "",
                dry_run: bool = False, request_id: Optional[str] = None) -> Promotion:
        """Asks to move `alias` of `model` to `version`; every gate of the alias's policy is
        evaluated. Returns the Promotion: "completed" when every gate holds (the alias moved),
        "pending" when approvals are missing (reviewers call `approve(promotion.id)`).

        Raises:
          FailedPrecondition: an automatic gate failed (the message explains each one).
          NotFound: no such model or version.
          PermissionDenied: the caller may not ask for this promotion.
        """
        check_name(model, "model")
        check_name(alias, "alias")
        _check_version(version)
        request = self._pb.RequestPromotionRequest(
            model=model, alias=alias, version=version, comment=comment, dry_run=dry_run,
            request_id=request_id or new_request_id())
        # Idempotent by its request id.
        promotion = self._promotion(self._call(self._stub.RequestPromotion, request))
        if dry_run:
            promotion.id = ""  # A dry run's id names nothing stored.
        return promotion

    def approve(self, request_id: str, comment: str = "") -> Promotion:
        """Approves a pending promotion request, in one of the roles of its approval gates; the
        approval that makes every gate hold moves the alias. Returns the request as it stands.
        Raises PermissionDenied without such a role, NotFound for an unknown request,
        FailedPrecondition when it is no longer pending."""
        check_name(request_id, "request_id")
        request = self._pb.ApprovePromotionRequest(id=request_id, comment=comment)
        return self._promotion(self._call(self._stub.ApprovePromotion, request,
                                          idempotent=False))

    def reject(self, request_id: str, comment: str = "") -> Promotion:
        """Rejects a pending promotion request: it closes and the alias stays. Returns it."""
        check_name(request_id, "request_id")
        request = self._pb.RejectPromotionRequest(id=request_id, comment=comment)
        return self._promotion(self._call(self._stub.RejectPromotion, request,
                                          idempotent=False))

    def promotion(self, request_id: str) -> Promotion:
        """A promotion request as it stands. Raises NotFound."""
        check_name(request_id, "request_id")
        request = self._pb.GetPromotionRequestRequest(id=request_id)
        return self._promotion(self._call(self._stub.GetPromotionRequest, request))

    def _promotion(self, message: Any) -> Promotion:
        gates = [Gate(kind=enum_label(self._pb.GateKind, gate.kind, "GATE_KIND_"),
                      description=gate.description,
                      state=enum_label(self._pb.GateState, gate.state, "GATE_STATE_"),
                      explanation=gate.explanation) for gate in message.gates]
        return Promotion(id=message.id, model=message.model, alias=message.alias,
                         version=message.version, previous_version=message.previous_version,
                         state=enum_label(self._pb.PromotionState, message.state,
                                          "PROMOTION_STATE_"),
                         gates=gates, message=message)



def _check_version(version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"version must be a number from 1, not {version!r}", "version")
