"""What `fabrique` prints when a call fails, against stand-in services that fail on purpose: the
server's own message on stderr (even when it speaks of another service it could not reach), and
nothing on stdout, however far a listing or a `show` got before the failing call."""

from concurrent import futures

import grpc
import pytest

from conftest import fabrique
from test_cli import dead_port

# What the trainer answers when the feature store it reads from is down: a message about another
# service's connection, from a trainer that did answer.
FEATURE_STORE_DOWN = (
    "GetFeatureGroup sig failed 5 times (deadline 30s); last: failed to connect to all "
    "addresses; last error: UNKNOWN: ipv4:127.0.0.1:48001: Failed to connect to remote host: "
    "Connection refused")
DRAINING = "draining: try again in a minute"


def first_page_then_unavailable(response_type, field, make_item):
    """A paged List method: one item and a next page on the first call, UNAVAILABLE on the next."""
    def method(self, request, context):
        if request.page_token:
            context.abort(grpc.StatusCode.UNAVAILABLE, DRAINING)
        response = response_type(next_page_token="2")
        getattr(response, field).append(make_item())
        return response
    return method


@pytest.fixture(scope="module")
def fakes(stubs):
    """A trainer, a model registry and a feature store on one port-0 server, each answering its
    calls as the tests below need, in plaintext as a server run with --insecure; yields the
    server's address."""
    from fabrique.v1 import common_pb2 as c, features_pb2 as f, features_pb2_grpc
    from fabrique.v1 import registry_pb2 as r, registry_pb2_grpc
    from fabrique.v1 import trainer_pb2 as t, trainer_pb2_grpc

    class Trainer(trainer_pb2_grpc.TrainerServicer):
        def SubmitRun(self, request, context):
            context.abort(grpc.StatusCode.UNAVAILABLE, FEATURE_STORE_DOWN)

        ListRuns = first_page_then_unavailable(t.ListRunsResponse, "runs",
                                               lambda: t.Run(run_id="run-1"))

    class Registry(registry_pb2_grpc.ModelRegistryServicer):
        def GetModel(self, request, context):
            return r.Model(name=request.name, latest_version=1)

        def ListAliases(self, request, context):
            return r.ListAliasesResponse()

        def GetVersion(self, request, context):
            context.abort(grpc.StatusCode.UNAVAILABLE, DRAINING)

        def VerifyAuditChain(self, request, context):
            context.abort(grpc.StatusCode.UNAVAILABLE, DRAINING)

        def ListAuditEntries(self, request, context):
            return r.ListAuditEntriesResponse(entries=[c.AuditEntry(sequence=1)])

        ListModels = first_page_then_unavailable(r.ListModelsResponse, "models",
                                                 lambda: r.Model(name="m"))
        ListVersions = first_page_then_unavailable(r.ListVersionsResponse, "versions",
                                                   lambda: r.ModelVersion(model="m", version=1))
        ListPromotionRequests = first_page_then_unavailable(
            r.ListPromotionRequestsResponse, "requests", lambda: r.PromotionRequest(id="p-1"))

    class FeatureStore(features_pb2_grpc.FeatureStoreServicer):
        ListFeatureGroups = first_page_then_unavailable(f.ListFeatureGroupsResponse, "groups",
                                                        f.FeatureGroup)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trainer_pb2_grpc.add_TrainerServicer_to_server(Trainer(), server)
    registry_pb2_grpc.add_ModelRegistryServicer_to_server(Registry(), server)
    features_pb2_grpc.add_FeatureStoreServicer_to_server(FeatureStore(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_a_server_that_answered_keeps_its_words_even_about_another_service(fakes, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"model_name": "m"}')
    result = fabrique("train", "submit", str(spec), f"--target={fakes}", "--insecure")
    assert result.returncode == 1
    assert result.stderr == f"fabrique train submit: SubmitRun: UNAVAILABLE: {FEATURE_STORE_DOWN}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command,call", [
    (["train", "list"], "ListRuns"),
    (["models", "list"], "ListModels"),
    (["models", "versions"], "ListVersions"),
    (["models", "requests"], "ListPromotionRequests"),
    (["features", "list"], "ListFeatureGroups"),
    (["models", "show", "m"], "GetVersion m"),
    (["registry", "audit", "--verify"], "VerifyAuditChain"),
    (["models", "audit", "--verify"], "VerifyAuditChain"),
])
def test_a_call_failing_after_others_answered_prints_only_the_error(fakes, command, call):
    result = fabrique(*command, f"--target={fakes}", "--insecure")
    assert result.returncode == 1
    assert result.stderr == f"fabrique {' '.join(command[:2])}: {call}: UNAVAILABLE: {DRAINING}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", [
    ["train", "list"], ["models", "list"], ["models", "versions"], ["models", "requests"],
    ["features", "list"], ["models", "show", "m"], ["models", "show", "m:1"],
    ["models", "alias", "m"], ["registry", "audit"], ["train", "show", "run-1"],
])
def test_a_list_or_show_that_cannot_reach_its_service_prints_only_the_error(command):
    result = fabrique(*command, f"--target=127.0.0.1:{dead_port()}", "--insecure")
    assert result.returncode == 1
    assert "cannot reach fabrique-" in result.stderr
    assert result.stdout == ""
