#!/usr/bin/env python3
"""A fake Kubernetes API server for the tower's Kubernetes executor tests.

It serves the few calls the executor makes (create, get and delete batch/v1 Jobs, create
ConfigMaps, list a Job's pods), answers like the real server (metav1.Status bodies, 401 without
the expected Bearer token, 409 AlreadyExists, 404 NotFound), and records every request. Objects it
accepts are written to DIR/bodies/NNNN-<kind>.json so tests/k8s/validate_job.js can check them
against the Kubernetes OpenAPI schemas.

The test drives it through /fake/... (no token needed):
  PUT /fake/status/NS/NAME        body: the Job's new .status (pending -> active -> succeeded)
  PUT /fake/termination/NS/NAME   body: the trainer container's termination message
  PUT /fake/token                 body: the token accepted from now on
  PUT /fake/fail                  body: {"method": M, "path_contains": S, "code": C, "times": N}
  GET /fake/requests              the API requests so far, oldest first
  GET /fake/objects               the stored objects

Usage: fake_kube_apiserver.py --dir DIR --token TOKEN [--cert CRT --key KEY]
It listens on 127.0.0.1, a free port, written to DIR/port once it accepts connections.
"""

import argparse
import http.server
import json
import os
import ssl
import threading
import urllib.parse
import uuid

LOCK = threading.Lock()
STATE = {
    "token": "",
    "objects": {},  # (resource, ns, name) -> object
    "requests": [],
    "failures": [],
    "pods": {},  # (ns, job name) -> termination message
    "resource_version": 1,
    "bodies": 0,
}
BODIES_DIR = ""


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # Quiet: the test reads /fake/requests instead.
        pass

    def answer(self, code, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        raw = self.read_body()
        parts = [p for p in url.path.split("/") if p]
        with LOCK:
            if parts and parts[0] == "fake":
                return self.control(method, parts[1:], raw)
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
            STATE["requests"].append({
                "method": method, "path": url.path, "query": url.query,
                "authorization": self.headers.get("Authorization", ""),
                "content_type": self.headers.get("Content-Type", ""), "body": body})
            if self.headers.get("Authorization", "") != "Bearer " + STATE["token"]:
                return self.answer(401, status_body(401, "Unauthorized", "Unauthorized"))
            for failure in STATE["failures"]:
                if (failure["times"] > 0 and failure["method"] == method
                        and failure["path_contains"] in url.path):
                    failure["times"] -= 1
                    return self.answer(failure["code"], status_body(
                        failure["code"], failure.get("reason", "InternalError"),
                        failure.get("message", "injected failure")))
            return self.api(method, parts, urllib.parse.parse_qs(url.query), body)

    def control(self, method, parts, raw):
        if method == "PUT" and parts[0] == "status":
            key = ("jobs", parts[1], parts[2])
            if key not in STATE["objects"]:
                return self.answer(404, status_body(404, "NotFound", "no such job"))
            job = STATE["objects"][key]
            job["status"] = json.loads(raw)
            if job["status"].get("active") and job["spec"].get("suspend"):
                job["spec"]["suspend"] = False  # What Kueue does when it admits the Job.
            job["metadata"]["resourceVersion"] = self.next_version()
            return self.answer(200, job)
        if method == "PUT" and parts[0] == "termination":
            STATE["pods"][(parts[1], parts[2])] = raw.decode()
            return self.answer(200, {})
        if method == "PUT" and parts[0] == "token":
            STATE["token"] = raw.decode().strip()
            return self.answer(200, {})
        if method == "PUT" and parts[0] == "fail":
            STATE["failures"].append(json.loads(raw))
            return self.answer(200, {})
        if method == "GET" and parts[0] == "requests":
            return self.answer(200, STATE["requests"])
        if method == "GET" and parts[0] == "objects":
            return self.answer(200, [o for o in STATE["objects"].values()])
        return self.answer(404, status_body(404, "NotFound", "unknown control call"))

    @staticmethod
    def next_version():
        STATE["resource_version"] += 1
        return str(STATE["resource_version"])

    def api(self, method, parts, query, body):
        # /apis/batch/v1/namespaces/NS/jobs[/NAME] or /api/v1/namespaces/NS/{configmaps,pods}
        if parts[:3] == ["apis", "batch", "v1"]:
            rest, kind, api_version = parts[3:], "Job", "batch/v1"
        elif parts[:2] == ["api", "v1"]:
            rest, kind, api_version = parts[2:], None, "v1"
        else:
            return self.answer(404, status_body(404, "NotFound", "the server could not find "
                                                "the requested resource"))
        if len(rest) < 3 or rest[0] != "namespaces":
            return self.answer(404, status_body(404, "NotFound", "unsupported path"))
        ns, resource = rest[1], rest[2]
        name = rest[3] if len(rest) > 3 else None
        kind = {"jobs": "Job", "configmaps": "ConfigMap", "pods": "Pod"}.get(resource)
        if kind is None:
            return self.answer(404, status_body(404, "NotFound", "unsupported resource"))
        if method == "POST" and name is None:
            return self.create(resource, kind, api_version, ns, body)
        if method == "GET" and resource == "pods" and name is None:
            return self.list_pods(ns, query)
        key = (resource, ns, name)
        if key not in STATE["objects"]:
            return self.answer(404, status_body(
                404, "NotFound", f'{resource}{".batch" if kind == "Job" else ""} "{name}" '
                "not found"))
        if method == "GET":
            return self.answer(200, STATE["objects"][key])
        if method == "DELETE":
            STATE["objects"].pop(key)
            for other in list(STATE["objects"]):  # Garbage collection of owned objects.
                owners = STATE["objects"][other]["metadata"].get("ownerReferences", [])
                if other[1] == ns and any(o.get("name") == name and o.get("kind") == kind
                                          for o in owners):
                    STATE["objects"].pop(other)
            return self.answer(200, {"kind": "Status", "apiVersion": "v1", "status": "Success",
                                     "details": {"name": name, "kind": resource}})
        return self.answer(405, status_body(405, "MethodNotAllowed", "method not allowed"))

    def create(self, resource, kind, api_version, ns, body):
        if not isinstance(body, dict):
            return self.answer(400, status_body(400, "BadRequest", "the body is not JSON"))
        if body.get("kind") != kind or body.get("apiVersion") != api_version:
            return self.answer(400, status_body(
                400, "BadRequest", f"expected {api_version} {kind}, got "
                f"{body.get('apiVersion')} {body.get('kind')}"))
        metadata = body.get("metadata") or {}
        name = metadata.get("name")
        if not name:
            return self.answer(422, status_body(422, "Invalid", f"{kind} is invalid: "
                                                "metadata.name: Required value"))
        if metadata.get("namespace", ns) != ns:
            return self.answer(400, status_body(
                400, "BadRequest", "the namespace of the provided object does not match the "
                "namespace sent on the request"))
        STATE["bodies"] += 1
        with open(os.path.join(BODIES_DIR, f"{STATE['bodies']:04d}-{kind}.json"), "w") as out:
            json.dump(body, out, indent=1)
        key = (resource, ns, name)
        if key in STATE["objects"]:
            return self.answer(409, status_body(
                409, "AlreadyExists", f'{resource} "{name}" already exists'))
        stored = json.loads(json.dumps(body))
        stored["metadata"].update({"namespace": ns, "uid": str(uuid.uuid4()),
                                   "resourceVersion": self.next_version(),
                                   "creationTimestamp": "2023-11-14T22:13:20Z"})
        if kind == "Job":
            stored["status"] = {}
        STATE["objects"][key] = stored
        return self.answer(201, stored)

    def list_pods(self, ns, query):
        selector = (query.get("labelSelector") or [""])[0]
        items = []
        if selector.startswith("job-name="):
            job = selector[len("job-name="):]
            message = STATE["pods"].get((ns, job))
            if message is not None and ("jobs", ns, job) in STATE["objects"]:
                items.append({
                    "kind": "Pod", "apiVersion": "v1",
                    "metadata": {"name": job + "-x7k2p", "namespace": ns,
                                 "labels": {"job-name": job}},
                    "status": {"containerStatuses": [{
                        "name": "trainer",
                        "state": {"terminated": {"exitCode": 0, "message": message}}}]}})
        return self.answer(200, {"kind": "PodList", "apiVersion": "v1", "items": items})


def main():
    global BODIES_DIR
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    STATE["token"] = args.token
    BODIES_DIR = os.path.join(args.dir, "bodies")
    os.makedirs(BODIES_DIR, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port_file = os.path.join(args.dir, "port")
    with open(port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
