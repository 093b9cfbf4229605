"""overlays/prod's NetworkPolicies open exactly the paths Fabrique uses. From the policies alone
this computes which endpoint may open a connection to which port of which other, as Kubernetes
decides it (a connection needs the source's egress and the destination's ingress to allow it,
each side being open only until a policy selects it), and compares that with the table the code
gives: each service's --*_target peers (calls_in_code), the clients' namespaces, Prometheus, the
cluster DNS, and the tower's Kubernetes API.
"""

import copy

import pytest

from deploy_manifests import SERVICE_NAMES, calls_in_code, catalog, pod_spec, render, service

NAMESPACE = "fabrique"


def endpoint(namespace, namespace_labels, pod_labels):
    return {"namespace": namespace,
            "namespace_labels": {"kubernetes.io/metadata.name": namespace, **namespace_labels},
            "labels": pod_labels}


# Who else is on the cluster: the pods that should reach Fabrique and some that should not.
OUTSIDERS = {
    "squad": endpoint("fabrique-risk", {"fabrique.io/squad": "risk"}, {"app": "notebook"}),
    "client": endpoint("ci", {"fabrique.io/client": "true"}, {}),
    "prometheus": endpoint("monitoring", {}, {"app.kubernetes.io/name": "prometheus"}),
    "grafana": endpoint("monitoring", {}, {"app.kubernetes.io/name": "grafana"}),
    "stranger": endpoint("default", {}, {"app": "anything"}),
    "kube-dns": endpoint("kube-system", {}, {"k8s-app": "kube-dns"}),
}
# An address that is no pod: the Kubernetes API server (the control plane's).
API_SERVER = {"namespace": None, "namespace_labels": {}, "labels": {}}


def selector_matches(selector, labels):
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if not {"In": lambda: labels.get(key) in values,
                "NotIn": lambda: labels.get(key) not in values,
                "Exists": lambda: key in labels,
                "DoesNotExist": lambda: key not in labels}[operator]():
            return False
    return True


def peer_matches(peer, other):
    """A `from` or `to` entry of a policy in NAMESPACE against an endpoint."""
    assert set(peer) <= {"podSelector", "namespaceSelector"}, f"unsupported peer {peer}"
    if other["namespace"] is None:
        return False  # not a pod: only a rule without peers (or an ipBlock) reaches it
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], other["namespace_labels"]):
            return False
    elif other["namespace"] != NAMESPACE:
        return False
    return selector_matches(peer.get("podSelector", {}), other["labels"])


def port_matches(rule, port, protocol):
    ports = rule.get("ports")
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == protocol
                            for p in ports)


def allows(policies, pod, direction, other, port, protocol):
    """Whether the policies selecting `pod` let traffic in `direction` with `other` through."""
    kind, peers = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    selecting = [p for p in policies if kind in p["spec"].get("policyTypes", ["Ingress"])
                 and selector_matches(p["spec"]["podSelector"], pod["labels"])]
    if pod["namespace"] != NAMESPACE or not selecting:
        return True  # not isolated
    return any(port_matches(rule, port, protocol)
               and (peers not in rule or any(peer_matches(p, other) for p in rule[peers]))
               for policy in selecting for rule in policy["spec"].get(direction, []))


def open_paths(objects):
    """{(source, destination, port/protocol)} every connection the policies allow."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert all(p["metadata"]["namespace"] == NAMESPACE for p in policies)
    namespace_labels = next(o for o in objects if o["kind"] == "Namespace")["metadata"]["labels"]
    endpoints = dict(OUTSIDERS)
    ports = {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP")}
    for workload in (o for o in objects if pod_spec(o) is not None):
        name = workload["metadata"]["name"].removeprefix("fabrique-")
        endpoints[name] = endpoint(NAMESPACE, namespace_labels,
                                   workload["spec"]["template"]["metadata"]["labels"])
        ports |= {(p["containerPort"], p.get("protocol", "TCP"))
                  for p in pod_spec(workload)["containers"][0]["ports"]}
    destinations = {**endpoints, "kubernetes-api": API_SERVER}
    found = set()
    for source_name, source in endpoints.items():
        for destination_name, destination in destinations.items():
            if source_name == destination_name:
                continue
            for port, protocol in ports:
                if (allows(policies, source, "egress", destination, port, protocol)
                        and allows(policies, destination, "ingress", source, port, protocol)):
                    found.add((source_name, destination_name, f"{port}/{protocol}"))
    return {path for path in found if "fabrique" in path_owners(path, endpoints)}


def path_owners(path, endpoints):
    """The namespaces a path touches; paths between two outsiders are not the policies' business."""
    source, destination, _ = path
    return {endpoints.get(name, API_SERVER)["namespace"] for name in (source, destination)}


def expected_paths():
    paths = set()
    for caller, callees in calls_in_code().items():
        paths |= {(caller, callee, f"{service(callee)['port']}/TCP") for callee in callees}
    for s in catalog():
        name = s["name"]
        paths |= {(client, name, f"{s['port']}/TCP") for client in ("squad", "client")}
        paths.add(("prometheus", name, f"{s['metrics_port']}/TCP"))
        paths |= {(name, "kube-dns", f"53/{protocol}") for protocol in ("UDP", "TCP")}
    # The monitor's metrics port also serves its report pages (/reports/MODEL) to clients.
    paths |= {(client, "monitor", f"{service('monitor')['metrics_port']}/TCP")
              for client in ("squad", "client")}
    # The tower runs training Jobs through the Kubernetes API (its ServiceAccount). The API
    # server's address differs by cluster, so the policy opens its ports towards any address
    # outside the namespace; an overlay narrows it with an ipBlock.
    paths |= {("tower", other, port) for other in [*OUTSIDERS, "kubernetes-api"]
              for port in ("443/TCP", "6443/TCP")}
    return paths


def test_the_prod_policies_open_exactly_the_paths_the_services_use():
    found, expected = open_paths(render("overlays/prod")), expected_paths()
    assert sorted(found - expected) == [], "open, but nothing uses them"
    assert sorted(expected - found) == [], "used, but closed"


def test_the_namespace_denies_everything_else_both_ways():
    deny = [p for p in render("overlays/prod") if p["kind"] == "NetworkPolicy"
            and p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
            and not p["spec"].get("egress")]
    assert [d["spec"]["policyTypes"] for d in deny] == [["Ingress", "Egress"]]


def test_every_service_has_its_own_policy():
    names = {p["metadata"]["name"] for p in render("overlays/prod") if p["kind"] == "NetworkPolicy"}
    assert {f"fabrique-{s}" for s in SERVICE_NAMES} <= names


def spoil(objects, name, change):
    objects = copy.deepcopy(objects)
    change(next(o for o in objects if o["metadata"]["name"] == name
                and o["kind"] == "NetworkPolicy")["spec"])
    return objects


@pytest.mark.parametrize("what,name,change", [
    ("clients let in on every port", "fabrique-features", lambda s: s["ingress"][1].pop("ports")),
    ("a rule open to every source", "fabrique-registry", lambda s: s["ingress"][1].pop("from")),
    ("egress closed", "fabrique-inference", lambda s: s.update(egress=[])),
    ("DNS closed", "fabrique-dns", lambda s: s["egress"][0]["ports"].pop()),
    ("the Kubernetes API closed", "fabrique-tower", lambda s: s["egress"].pop()),
])
def test_the_computation_notices_a_changed_policy(what, name, change):
    objects = render("overlays/prod")
    assert open_paths(spoil(objects, name, change)) != expected_paths(), f"{what} went unnoticed"
