"""The budget and approvals through the real fabrique-tower (--insecure, so every caller is the
same anonymous user): an entity onboarded by approval with its budget, a squad's budget, usage
priced at the default rate card, the hard threshold, an overrun approval that lifts it, the
gauges on /metrics, and all of it kept across a SIGKILL."""

import json
import os
import pathlib
import signal
import subprocess
import time
import urllib.request

import grpc
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("FABRIQUE_BIN_DIR", REPO / "build" / "bin"))


class Tower:
    def __init__(self, data_dir, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(BIN_DIR / "fabrique-tower"), "--insecure", f"--data_dir={data_dir}", "--port=0",
             "--metrics_port=0", "--listen_host=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.grpc_port, self.metrics_port = self._wait_started(timeout=60)

    def _wait_started(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, pathlib.Path(self.log_path).read_text()
            for line in pathlib.Path(self.log_path).read_text().splitlines():
                if '"server_started"' in line:
                    event = json.loads(line)
                    return event["grpc_port"], event["metrics_port"]
            time.sleep(0.05)
        raise AssertionError("fabrique-tower did not start in time")

    def stub(self, stubs):
        from fabrique.v1 import tower_pb2_grpc
        return tower_pb2_grpc.TowerStub(grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}"))

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=10) as response:
            return response.read().decode()

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        self.log.close()


def poll(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_budget_thresholds_and_overrun_through_the_binary(stubs, tmp_path):
    from fabrique.v1 import tower_pb2 as t
    tower = Tower(tmp_path / "data", tmp_path / "tower.log")
    try:
        s = tower.stub(stubs)
        onboarding = s.OnboardEntity(t.OnboardEntityRequest(
            entity=t.OrgEntity(id="bank"), squads=[t.Squad(id="risk")],
            budget=t.Budget(monthly=t.Money(units=100)), request_id="o1"))
        assert onboarding.required_role == "platform-admin" and onboarding.squad == ""
        approved = s.DecideApproval(t.DecideApprovalRequest(id=onboarding.id, approve=True))
        assert approved.state == t.APPROVAL_STATE_APPROVED and approved.close_reason == ""

        with pytest.raises(grpc.RpcError) as unknown:
            s.SetBudget(t.SetBudgetRequest(budget=t.Budget(
                scope=t.BUDGET_SCOPE_SQUAD, id="ghost", monthly=t.Money(units=10))))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        s.SetBudget(t.SetBudgetRequest(budget=t.Budget(
            scope=t.BUDGET_SCOPE_SQUAD, id="risk", monthly=t.Money(units=10))))

        usage = t.RecordUsageRequest(squad="risk", request_id="u1", items=[
            t.UsageItem(kind=t.USAGE_KIND_CPU_SECONDS, quantity=1_200_000)])
        assert s.RecordUsage(usage).cost.units == 12  # EUR 0.00001 a cpu-second.
        assert s.RecordUsage(usage).duplicate

        lines = {(l.scope, l.id): l for l in s.GetBudgetReport(t.GetBudgetReportRequest()).lines}
        assert lines[(t.BUDGET_SCOPE_ENTITY, "bank")].budget.units == 100
        assert lines[(t.BUDGET_SCOPE_ENTITY, "bank")].status == t.BUDGET_STATUS_OK
        assert lines[(t.BUDGET_SCOPE_SQUAD, "risk")].status == t.BUDGET_STATUS_HARD_EXCEEDED
        assert poll(lambda: 'fabrique_tower_budget_threshold_exceeded{id="risk",level="hard",'
                            'scope="squad"} 1' in tower.metrics())
        assert 'fabrique_tower_budget_spent{currency="EUR",id="risk",scope="squad"} 12' in \
            tower.metrics()

        overrun = s.RequestApproval(t.RequestApprovalRequest(
            kind=t.APPROVAL_KIND_BUDGET_OVERRUN, request_id="r1",
            budget_overrun=t.BudgetOverrun(scope=t.BUDGET_SCOPE_SQUAD, id="risk")))
        assert overrun.squad == "risk" and overrun.state == t.APPROVAL_STATE_PENDING
        pending = s.ListApprovals(t.ListApprovalsRequest(state=t.APPROVAL_STATE_PENDING))
        assert [a.id for a in pending.approvals] == [overrun.id]
        assert poll(lambda: 'fabrique_tower_approvals_pending{kind="budget_overrun"} 1' in
                    tower.metrics())
        # The tower dies before anyone decides: nothing is lost.
        tower.stop(signal.SIGKILL)
        tower = Tower(tmp_path / "data", tmp_path / "tower2.log")
        s = tower.stub(stubs)
        assert s.GetApproval(t.GetApprovalRequest(id=overrun.id)).state == \
            t.APPROVAL_STATE_PENDING
        assert s.RecordUsage(usage).duplicate
        s.DecideApproval(t.DecideApprovalRequest(id=overrun.id, approve=True))
        lines = {(l.scope, l.id): l for l in s.GetBudgetReport(t.GetBudgetReportRequest()).lines}
        risk = lines[(t.BUDGET_SCOPE_SQUAD, "risk")]
        assert risk.status == t.BUDGET_STATUS_LIFTED and risk.lifted_by_approval == overrun.id
        with pytest.raises(grpc.RpcError) as closed:
            s.DecideApproval(t.DecideApprovalRequest(id=overrun.id, approve=True))
        assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        tower.stop()
