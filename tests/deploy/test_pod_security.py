"""Every pod template of every kustomization meets the Pod Security Standard "restricted" (the
namespace enforces it, so a pod that does not would never start), and Fabrique's own rule on top
of it: a read-only root filesystem.

The profile, as https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists it:
no host namespaces, ports or paths, not privileged, only the restricted volume types, no
privilege escalation, non-root, the RuntimeDefault (or a Localhost) seccomp profile, and every
capability dropped (NET_BIND_SERVICE alone may be added back).
"""

import copy

import pytest

from deploy_manifests import KUSTOMIZATIONS, find, key_of, pod_spec, render

RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}


def restricted_violations(spec):
    """What in a pod spec the restricted profile (and a read-only root) refuses, as sentences."""
    found = []
    pod = spec.get("securityContext", {})
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field} is set")
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            found.append(f"volume {volume['name']} is {sorted(kinds)}")
    if pod.get("runAsUser") == 0:
        found.append("the pod runs as user 0")
    containers = (spec.get("initContainers", []) + spec.get("containers", [])
                  + spec.get("ephemeralContainers", []))
    for container in containers:
        where = f"container {container['name']}"
        context = container.get("securityContext", {})
        if context.get("privileged"):
            found.append(f"{where} is privileged")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            found.append(f"{where} uses a host port")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where} may escalate privileges")
        if context.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            found.append(f"{where} may run as root (runAsNonRoot)")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"{where} runs as user 0")
        seccomp = context.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{where} has seccomp profile {seccomp}")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            found.append(f"{where} does not drop ALL capabilities")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{where} adds capabilities {capabilities['add']}")
        if context.get("procMount", "Default") != "Default":
            found.append(f"{where} has procMount {context['procMount']}")
        if context.get("readOnlyRootFilesystem") is not True:
            found.append(f"{where} may write its root filesystem")
    return found


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_pod_meets_the_restricted_profile(directory):
    workloads = [o for o in render(directory) if pod_spec(o) is not None]
    assert workloads
    for workload in workloads:
        assert restricted_violations(pod_spec(workload)) == [], key_of(workload)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_the_namespace_enforces_the_restricted_profile(directory):
    labels = find(render(directory), "Namespace", "fabrique")["metadata"]["labels"]
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"


def spoiled(spec, change):
    spec = copy.deepcopy(spec)
    change(spec)
    return spec


@pytest.mark.parametrize("what,change", [
    ("host network", lambda s: s.update(hostNetwork=True)),
    ("host PID", lambda s: s.update(hostPID=True)),
    ("a hostPath volume", lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
    ("root", lambda s: s["securityContext"].update(runAsUser=0)),
    ("runAsNonRoot unset", lambda s: s["securityContext"].pop("runAsNonRoot")),
    ("no seccomp profile", lambda s: s["securityContext"].pop("seccompProfile")),
    ("seccomp Unconfined", lambda s: s["containers"][0]["securityContext"].update(
        seccompProfile={"type": "Unconfined"})),
    ("privileged", lambda s: s["containers"][0]["securityContext"].update(privileged=True)),
    ("privilege escalation", lambda s: s["containers"][0]["securityContext"].pop(
        "allowPrivilegeEscalation")),
    ("capabilities kept", lambda s: s["containers"][0]["securityContext"].pop("capabilities")),
    ("NET_ADMIN added", lambda s: s["containers"][0]["securityContext"]["capabilities"].update(
        add=["NET_ADMIN"])),
    ("a writable root", lambda s: s["containers"][0]["securityContext"].update(
        readOnlyRootFilesystem=False)),
    ("a host port", lambda s: s["containers"][0]["ports"][0].update(hostPort=7101)),
    ("an init container as root", lambda s: s.setdefault("initContainers", []).append(
        {"name": "init", "securityContext": {"runAsUser": 0}})),
])
def test_a_pod_breaking_the_profile_is_refused(what, change):
    """The check itself: a real pod passes, and each way of breaking the profile is caught."""
    spec = pod_spec(find(render("overlays/prod"), "StatefulSet", "fabrique-features"))
    assert restricted_violations(spec) == []
    assert restricted_violations(spoiled(spec, change)), f"{what} was accepted"
