"""The first proof that squads' Python clients work: stubs generated with grpc_tools.protoc at
test time, health checks on every service, and the not-built answer on a published call; every
call over TLS with a token, through the Python client package."""

import grpc
import pytest

SERVICES = {
    "features": ["fabrique.v1.FeatureStore"],
    "registry": ["fabrique.v1.ModelRegistry"],
    "trainer": ["fabrique.v1.Trainer"],
    "inference": ["inference.GRPCInferenceService", "fabrique.v1.EntityInference"],
    "monitor": ["fabrique.v1.Monitor"],
    "tower": ["fabrique.v1.Tower"],
}


def test_all_six_services_are_up(running):
    assert set(running.endpoints) == set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_health_is_serving(stubs, running, name):
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    with running.connect(name) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ["", *SERVICES[name]]:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
        with pytest.raises(grpc.RpcError) as error:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_every_generated_module_imports(stubs):
    import importlib
    for module in ["fabrique.v1.common_pb2", "fabrique.v1.features_pb2_grpc",
                   "fabrique.v1.registry_pb2_grpc", "fabrique.v1.trainer_pb2_grpc",
                   "fabrique.v1.inference_pb2_grpc", "fabrique.v1.monitor_pb2_grpc",
                   "fabrique.v1.tower_pb2_grpc", "inference.grpc_predict_v2_pb2_grpc"]:
        importlib.import_module(module)


def test_open_inference_protocol_from_python(stubs, running):
    from inference import grpc_predict_v2_pb2 as pb, grpc_predict_v2_pb2_grpc as pb_grpc
    with running.connect("inference") as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        assert stub.ServerLive(pb.ServerLiveRequest(), timeout=5).live
        assert stub.ServerReady(pb.ServerReadyRequest(), timeout=5).ready
        assert stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=5).name == \
            "fabrique-inference"
        # Nothing is served on a fresh registry: a model is asked for by name, and not found.
        with pytest.raises(grpc.RpcError) as error:
            stub.ModelInfer(pb.ModelInferRequest(model_name="churn"), timeout=5)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert "churn" in error.value.details()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_unbuilt_calls_say_so(stubs, running, name):
    """Every method of every Fabrique service either works or answers UNIMPLEMENTED naming the
    area that builds it; none pretends to succeed. The caller is the platform admin, whom the
    policy lets call everything, so what answers is the call itself."""
    import importlib
    implemented = {"ServerLive", "ServerReady", "ServerMetadata",
                   # The inference server.
                   "ModelReady", "ModelMetadata", "ModelInfer", "Predict", "ListServedModels",
                   "GetServedModel", "ValidateCapacity",
                   # The feature store.
                   "ApplyEntity", "GetEntity", "ListEntities", "ApplyFeatureGroup",
                   "ApplyFeatureGroupWithProgress", "LookupOnlineStream",
                   "GetFeatureGroup", "ListFeatureGroups", "ListFeatures", "Ingest",
                   "LookupOnline", "ReadHistory", "BuildTrainingSet", "GetDataset", "ListDatasets",
                   "RecordDatasetUsage", "GetFeatureGroupLineage", "ClassifyFeatures",
                   "GetPersonalDataLineage", "ListPersonalDataReads", "VerifyPersonalDataReads",
                   # The model registry: all of it.
                   "CreateModel", "GetModel", "RegisterVersion", "GetVersion", "ArchiveVersion",
                   "SetAlias", "GetAlias", "UploadArtifact", "DownloadArtifact",
                   "ListAuditEntries", "VerifyAuditChain", "Watch", "SetPromotionPolicy",
                   "GetPromotionPolicy", "RequestPromotion", "GetPromotionRequest",
                   "ApprovePromotion", "RejectPromotion", "ListModels", "ListAliases",
                   "DeleteAlias", "ListVersions", "UpdateModel", "DeleteVersion",
                   "CollectGarbage", "ListPromotionPolicies", "ListPromotionRequests",
                   "SetTrafficPolicy", "GetTrafficPolicy", "AppendEvaluation",
                   "SetStandard", "GetStandard", "ListStandards", "DeleteStandard",
                   # The trainer.
                   "SubmitRun", "GetRun", "ListRuns", "CancelRun", "WatchRun",
                   # The monitor.
                   "LogPredictions", "LogOutcomes", "PutReferenceProfile",
                   "GetReferenceProfile", "GetDriftReport", "ListDriftReports",
                   "GetPerformanceReport", "ListPerformanceReports", "CompareCanary",
                   "SetMonitoringPolicy", "GetMonitoringPolicy", "ListMonitoringPolicies",
                   "DeleteMonitoringPolicy", "ListAlerts", "GetAlert", "AcknowledgeAlert"}
    # The control tower: every call.
    implemented |= {"OnboardEntity", "GetEntity", "ListEntities", "CreateSquad", "GetSquad",
                    "UpdateSquad", "ListSquads", "AddSquadMember", "UpdateSquadMember",
                    "RemoveSquadMember", "WatchRoleBindings", "CreateUseCase", "UpdateUseCase",
                    "GetUseCase", "ListUseCases", "GetPortfolio", "GetCapacityGaps",
                    "PutTemplate", "GetTemplate", "ListTemplates", "SetQuota", "GetQuota",
                    "ListQuotas", "SetCapacity", "GetCapacity", "SubmitJob", "GetJob",
                    "ListJobs", "CancelJob", "WatchJobs", "RequestApproval", "GetApproval",
                    "ListApprovals", "DecideApproval", "WithdrawApproval", "SetApprovalRule",
                    "ListApprovalRules", "RecordUsage", "SetRateCard", "GetRateCard",
                    "SetBudget", "GetBudgetReport"}
    with running.connect(name) as channel:
        for full_name in SERVICES[name]:
            package, service = full_name.rsplit(".", 1)
            module = {"fabrique.v1.FeatureStore": "fabrique.v1.features_pb2",
                      "fabrique.v1.ModelRegistry": "fabrique.v1.registry_pb2",
                      "fabrique.v1.Trainer": "fabrique.v1.trainer_pb2",
                      "fabrique.v1.EntityInference": "fabrique.v1.inference_pb2",
                      "fabrique.v1.Monitor": "fabrique.v1.monitor_pb2",
                      "fabrique.v1.Tower": "fabrique.v1.tower_pb2",
                      "inference.GRPCInferenceService": "inference.grpc_predict_v2_pb2"}[full_name]
            descriptor = importlib.import_module(module).DESCRIPTOR.services_by_name[service]
            for method in descriptor.methods:
                call = channel.unary_unary(f"/{full_name}/{method.name}")
                try:
                    call(b"", timeout=5)
                    code, details = grpc.StatusCode.OK, ""
                except grpc.RpcError as error:
                    code, details = error.code(), error.details()
                if method.name in implemented:
                    # A built call answers, even if an empty request is wrong for it.
                    assert code != grpc.StatusCode.UNIMPLEMENTED, method.full_name
                else:
                    assert code == grpc.StatusCode.UNIMPLEMENTED, method.full_name
                    assert "is not built yet" in details, method.full_name
