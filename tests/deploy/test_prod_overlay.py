"""overlays/prod: inference scaled on CPU and on its queue, disruption-budgeted and spread over
nodes and zones; the stateful services on a production storage class; certificates from the
platform's ClusterIssuer; the token signing keys from a Secret; Prometheus Operator objects that
scrape every service and carry exactly the rules deploy/prometheus tests. And overlays/dev: one
replica of everything.
"""

import importlib.util
import re

import yaml

from deploy_manifests import (KUBERNETES, PROMETHEUS, REPO, catalog, find, flags_of, pod_spec,
                              render, the_container)

PROD = KUBERNETES / "overlays" / "prod"
INFERENCE = "fabrique-inference"


def prod():
    return render("overlays/prod")


def load_generator():
    spec = importlib.util.spec_from_file_location("prometheus_rule", PROD / "prometheus_rule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_prometheus_rule_carries_exactly_the_tested_rule_files():
    groups = []
    for path in sorted(PROMETHEUS.glob("*rules.yaml")):
        groups += yaml.safe_load(path.read_text())["groups"]
    assert groups, "deploy/prometheus has no rule file"
    rule = find(prod(), "PrometheusRule", "fabrique")
    assert rule["spec"]["groups"] == groups, (
        "prometheus-rule.yaml drifted from deploy/prometheus: run "
        "/usr/bin/python3 deploy/kubernetes/overlays/prod/prometheus_rule.py")


def test_the_prometheus_rule_file_is_what_its_generator_writes():
    assert (PROD / "prometheus-rule.yaml").read_text() == load_generator().render(), (
        "run /usr/bin/python3 deploy/kubernetes/overlays/prod/prometheus_rule.py")


def test_the_service_monitor_scrapes_every_service_under_its_job_name():
    objects = prod()
    (monitor,) = [o for o in objects if o["kind"] == "ServiceMonitor"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = sorted(o["metadata"]["name"] for o in objects if o["kind"] == "Service"
                     and selector.items() <= o["metadata"]["labels"].items())
    assert scraped == sorted(s["binary"] for s in catalog())
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    assert monitor["spec"].get("jobLabel") is None, "the job must stay the Service's name"
    # What the rules' "absent" alert asks for, per service.
    rules = find(objects, "PrometheusRule", "fabrique")["spec"]["groups"]
    absent = next(r["expr"] for g in rules for r in g["rules"]
                  if r.get("alert") == "FabriqueServiceAbsent")
    for name in scraped:
        assert f'job="{name}"' in absent


def exported_gauges():
    """Metric names the inference server registers (inference_metrics.cc)."""
    source = (REPO / "services" / "inference" / "inference_metrics.cc").read_text()
    return set(re.findall(r'"(fabrique_inference_[a-z_]+)"', source))


def test_inference_scales_on_cpu_and_on_its_queue():
    hpa = find(prod(), "HorizontalPodAutoscaler", INFERENCE)["spec"]
    assert hpa["minReplicas"] >= 3 and hpa["maxReplicas"] > hpa["minReplicas"]
    by_type = {m["type"]: m for m in hpa["metrics"]}
    assert by_type["Resource"]["resource"]["name"] == "cpu"
    queue = by_type["Pods"]["pods"]
    assert queue["metric"]["name"] == "fabrique_inference_queued_rows"
    assert queue["metric"]["name"] in exported_gauges(), "the queue metric is not exported"
    assert queue["target"]["type"] == "AverageValue"


def test_inference_keeps_pods_through_disruptions_and_spreads_them():
    objects = prod()
    pdb = find(objects, "PodDisruptionBudget", INFERENCE)["spec"]
    deployment = find(objects, "Deployment", INFERENCE)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb.get("maxUnavailable") == 1
    spread = pod_spec(deployment)["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname",
                                                  "topology.kubernetes.io/zone"}
    for constraint in spread:
        assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()
    assert find(objects, "Service", INFERENCE)["spec"]["clusterIP"] == "None"


def gibibytes(quantity):
    number, unit = re.fullmatch(r"(\d+)(Gi|Ti)", quantity).groups()
    return int(number) * (1024 if unit == "Ti" else 1)


def test_stateful_services_keep_their_data_on_the_production_class():
    objects = prod()
    base = {o["metadata"]["name"]: o for o in render("base") if o["kind"] == "StatefulSet"}
    for s in (s for s in catalog() if s["stateful"]):
        workload = find(objects, "StatefulSet", s["binary"])
        (claim,) = workload["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "fabrique-data", s["binary"]
        size = claim["spec"]["resources"]["requests"]["storage"]
        (base_claim,) = base[s["binary"]]["spec"]["volumeClaimTemplates"]
        assert gibibytes(size) >= gibibytes(base_claim["spec"]["resources"]["requests"]["storage"])


def test_certificates_come_from_the_platforms_cluster_issuer():
    for certificate in (o for o in prod() if o["kind"] == "Certificate"):
        assert certificate["spec"]["issuerRef"] == {
            "group": "cert-manager.io", "kind": "ClusterIssuer", "name": "fabrique-ca"}


def test_the_token_signing_keys_come_from_a_secret():
    for workload in (o for o in prod() if pod_spec(o) is not None):
        jwks = flags_of(the_container(workload))["jwks"]
        folder = jwks.rpartition("/")[0]
        (mount,) = [m for m in the_container(workload)["volumeMounts"]
                    if m["mountPath"] == folder]
        (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "fabrique-oidc-jwks", workload["metadata"]["name"]


def test_the_tower_calls_the_kubernetes_api_as_its_own_service_account():
    objects = prod()
    tower = pod_spec(find(objects, "StatefulSet", "fabrique-tower"))
    assert tower["serviceAccountName"] == "fabrique-tower"
    find(objects, "ServiceAccount", "fabrique-tower")
    squads = list(yaml.safe_load_all((KUBERNETES / "squads" / "squad-namespace.yaml").read_text()))
    (binding,) = [d for d in squads if d["kind"] == "RoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "fabrique-tower", "namespace": "fabrique"}]


def test_the_dev_overlay_runs_one_replica_of_everything():
    objects = render("overlays/dev")
    hpa = find(objects, "HorizontalPodAutoscaler", INFERENCE)["spec"]
    assert hpa["minReplicas"] == hpa["maxReplicas"] == 1
    for workload in (o for o in objects if o["kind"] == "StatefulSet"):
        assert workload["spec"]["replicas"] == 1
        (claim,) = workload["spec"]["volumeClaimTemplates"]
        assert gibibytes(claim["spec"]["resources"]["requests"]["storage"]) <= 1
