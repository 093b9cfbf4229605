"""`fab.models` against a running `fabrique up`, on one model trained by the trainer: the lists
as DataFrames, a version by number and alias, an alias set, a governed promotion that waits for
a design authority's approval and completes with it, and the refusals (a version that is no
number before sending, a stale compare-and-set, a self-approval without the role, an unknown
model)."""

import json

import pytest

import py_factory
from fabrique.errors import Aborted, InvalidInput, NotFound, PermissionDenied

PREFIX = "pymodels"
MODEL = "pymodels-churn"
# The client on the module's `fabrique up` (a fixture).
fab = py_factory.fab


@pytest.fixture(scope="module")
def version(fab, running, tmp_path_factory):
    return py_factory.train(fab, running, tmp_path_factory.mktemp(PREFIX), PREFIX, MODEL,
                            epochs=2)[0]


def test_list_and_get(fab, version):
    models = fab.models.list(prefix="pymodels")
    assert list(models.name) == [MODEL]
    row = models.iloc[0]
    assert row.owner_squad == "risk" and row.task == "binary_classification"
    assert row.latest_version == version
    assert fab.models.get(MODEL).latest_version == version
    assert fab.models.list(prefix="nothing-like-it").empty


def test_versions_and_one_version(fab, version):
    versions = fab.models.versions(MODEL)
    assert list(versions.version) == [version]
    row = versions.iloc[0]
    assert row.state == "active" and "auc" in row.metrics and row.trainer_run_id
    assert fab.models.version(MODEL, version).version == version
    assert fab.models.version(f"{MODEL}:{version}").version == version
    assert fab.models.version(MODEL).version == version  # The newest.
    assert fab.models.versions("pymodels-none").empty


def test_set_alias_and_the_aliases_frame(fab, version):
    alias = fab.models.set_alias(MODEL, "staging", version, reason="first try")
    assert alias.name == "staging" and alias.version == version
    aliases = fab.models.aliases(MODEL)
    assert aliases.set_index("alias").loc["staging", "version"] == version
    assert fab.models.version(MODEL, alias="staging").version == version
    with pytest.raises(Aborted):
        fab.models.set_alias(MODEL, "staging", version, expected_current_version=version + 7)


def test_promotion_waits_for_a_design_authority_then_completes(fab, version, running, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"approvalGates": [{"role": "design-authority",
                                                     "requiredApprovals": 1}]}))
    rita = running.token("rita", ["risk:design-authority"])
    set_policy = py_factory.fabrique("models", "policy", MODEL, "production", "--set",
                                     str(policy), "--data_dir", str(running.data_dir),
                                     "--token", rita)
    assert set_policy.returncode == 0, set_policy.stderr

    dry = fab.models.promote(MODEL, version, alias="production", dry_run=True)
    assert dry.id == "" and dry.state == "pending"
    promotion = fab.models.promote(MODEL, version, alias="production", comment="ready")
    assert promotion.state == "pending" and promotion.id and not promotion.completed
    approval = [gate for gate in promotion.gates if gate.kind == "approval"]
    assert approval and approval[0].state == "pending"

    dana = py_factory.client.connect(data_dir=running.data_dir,
                                     token=running.token("dana", ["risk:data-scientist"]))
    with pytest.raises(PermissionDenied) as error:
        dana.models.approve(promotion.id)
    assert error.value.code_name == "PERMISSION_DENIED"
    dana.close()

    with py_factory.client.connect(data_dir=running.data_dir, token=rita) as reviewer:
        approved = reviewer.models.approve(promotion.id, "looks right")
    assert approved.completed and approved.state == "completed"
    assert fab.models.promotion(promotion.id).state == "completed"
    aliases = fab.models.aliases(MODEL).set_index("alias")
    assert aliases.loc["production", "version"] == version
    assert aliases.loc["production", "promotion_request_id"] == promotion.id


def test_bad_input_is_refused_before_sending(fab):
    for bad in (0, -1, "3", True):
        with pytest.raises(InvalidInput) as error:
            fab.models.set_alias(MODEL, "staging", bad)
        assert error.value.column == "version"
    with pytest.raises(InvalidInput):
        fab.models.version(MODEL, 1, alias="production")
    with pytest.raises(InvalidInput):
        fab.models.get("")


def test_unknown_model_and_request_are_not_found(fab):
    with pytest.raises(NotFound):
        fab.models.get("pymodels-none")
    with pytest.raises(NotFound):
        fab.models.version("pymodels-none", 1)
    with pytest.raises(NotFound):
        fab.models.promotion("no-such-request")
