#!/usr/bin/env node
// Validates rendered manifests (deploy/kubernetes's overlays, as `kubectl kustomize` builds them)
// against the Kubernetes OpenAPI schemas (npm's kubernetes-models) and the CRDs' own schemas
// (@kubernetes-models/cert-manager, @kubernetes-models/prometheus-operator), installed by
// tools/setup into tests/k8s/node_modules; no cluster and no network are needed. An object whose
// apiVersion and kind have no schema here is refused, never skipped; so is a field no schema
// declares (unknown_fields.js), as the API server's strict field validation would.
//
// Usage: node tests/k8s/validate_manifests.js FILE...   (each a JSON list of objects)
//        node tests/k8s/validate_manifests.js --self-test (proves bad objects are refused)
// Exits 1 naming each object and what is wrong with it.
"use strict";

const fs = require("fs");

const {metadataProblems} = require("./metadata_checks");
const {unknownFields} = require("./unknown_fields");

// Where each API group's schemas come from: the package, and its folder for the group.
const PACKAGES = {
  "": ["kubernetes-models", ""],  // the core group: apiVersion v1
  "apps": ["kubernetes-models", "apps"],
  "autoscaling": ["kubernetes-models", "autoscaling"],
  "batch": ["kubernetes-models", "batch"],
  "policy": ["kubernetes-models", "policy"],
  "networking.k8s.io": ["kubernetes-models", "networking.k8s.io"],
  "rbac.authorization.k8s.io": ["kubernetes-models", "rbac.authorization.k8s.io"],
  "cert-manager.io": ["@kubernetes-models/cert-manager", "cert-manager.io"],
  "monitoring.coreos.com": ["@kubernetes-models/prometheus-operator", "monitoring.coreos.com"],
};

// The model class of an apiVersion and kind and the module it comes from, or null when no
// package here has its schema. By import(), not require(): the CRD packages are ES modules only.
async function modelOf(apiVersion, kind) {
  const slash = (apiVersion || "").indexOf("/");
  const group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  const entry = PACKAGES[group];
  if (!entry || !/^v\d+((alpha|beta)\d+)?$/.test(version || "") || !/^[A-Z]\w*$/.test(kind || "")) {
    return null;
  }
  const [pkg, folder] = entry;
  const module = [pkg, folder, version, kind].filter((part) => part).join("/");
  let loaded;
  try {
    loaded = await import(module);
  } catch (error) {
    const missing = ["ERR_MODULE_NOT_FOUND", "ERR_PACKAGE_PATH_NOT_EXPORTED", "MODULE_NOT_FOUND"];
    if (missing.includes(error.code) && error.message.includes(`${version}/${kind}`)) return null;
    throw error;
  }
  const Model = loaded[kind] || (loaded.default || {})[kind];
  return Model ? {Model, module} : null;
}

function describe(object) {
  const metadata = object.metadata || {};
  return `${object.apiVersion} ${object.kind} ${
             metadata.namespace ? metadata.namespace + "/" : ""}` +
      `${metadata.name}`;
}

async function validate(object) {
  const model = await modelOf(object.apiVersion, object.kind);
  if (!model) return [`no schema for apiVersion "${object.apiVersion}" kind "${object.kind}"`];
  const problems = [];
  try {
    new model.Model(object).validate();
  } catch (error) {
    problems.push(`schema: ${error.message}`);
  }
  problems.push(...unknownFields(object, model.module, object.kind));
  problems.push(...metadataProblems(object.metadata, object.kind));
  return problems;
}

async function validateAll(objects) {
  const failures = [];
  for (const object of objects) {
    const problems = await validate(object);
    if (problems.length) failures.push(`${describe(object)}:\n  ${problems.join("\n  ")}`);
  }
  return failures;
}

async function selfTest() {
  const good = [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: {name: "fabrique-features"},
      spec: {clusterIP: "None", ports: [{name: "grpc", port: 7101}]}
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: {name: "fabrique-inference"},
      spec: {
        scaleTargetRef: {apiVersion: "apps/v1", kind: "Deployment", name: "fabrique-inference"},
        maxReplicas: 3,
        metrics: [{
          type: "Pods",
          pods: {
            metric: {name: "fabrique_inference_queued_rows"},
            target: {type: "AverageValue", averageValue: "64"}
          }
        }]
      }
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {name: "fabrique-features"},
      spec: {
        secretName: "fabrique-features-tls",
        issuerRef: {name: "fabrique-ca", kind: "ClusterIssuer"},
        dnsNames: ["fabrique-features"],
        privateKey: {algorithm: "ECDSA", size: 256}
      }
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: {name: "fabrique"},
      spec: {
        selector: {matchLabels: {"app.kubernetes.io/part-of": "fabrique"}},
        endpoints: [{port: "metrics"}]
      }
    },
  ];
  const bad = [
    [
      "a port that is a word", 0,
      (o) => {
        o.spec.ports[0].port = "grpc";
      }
    ],
    [
      "an HPA without maxReplicas", 1,
      (o) => {
        delete o.spec.maxReplicas;
      }
    ],
    [
      "a target that is not a quantity", 1,
      (o) => {
        o.spec.metrics[0].pods.target.averageValue = "lots";
      }
    ],
    [
      "a Certificate without secretName", 2,
      (o) => {
        delete o.spec.secretName;
      }
    ],
    [
      "a private key algorithm cert-manager lacks", 2,
      (o) => {
        o.spec.privateKey.algorithm = "DSA";
      }
    ],
    [
      "a ServiceMonitor endpoint port that is a number", 3,
      (o) => {
        o.spec.endpoints[0].port = 9101;
      }
    ],
    [
      "a name with capitals", 0,
      (o) => {
        o.metadata.name = "Fabrique_Features";
      }
    ],
    [
      "an unknown kind", 0,
      (o) => {
        o.kind = "Servic";
      }
    ],
    [
      "an unknown API group", 2,
      (o) => {
        o.apiVersion = "certmanager.example/v1";
      }
    ],
    [
      "an API version the group lacks", 3,
      (o) => {
        o.apiVersion = "monitoring.coreos.com/v9";
      }
    ],
    [
      "a misspelt field", 0,
      (o) => {
        o.spec.ports[0].targetport = "grpc";
      }
    ],
    [
      "a misspelt CRD field", 2,
      (o) => {
        o.spec.dnsName = ["fabrique-features"];
      }
    ],
    [
      "a misspelt field in a list", 3,
      (o) => {
        o.spec.endpoints[0].intervall = "30s";
      }
    ],
  ];
  let failed = 0;
  const goodFailures = await validateAll(good);
  if (goodFailures.length) {
    console.error(`self-test: good objects were refused:\n${goodFailures.join("\n")}`);
    failed++;
  }
  for (const [what, index, spoil] of bad) {
    const object = JSON.parse(JSON.stringify(good[index]));
    spoil(object);
    if ((await validate(object)).length === 0) {
      console.error(`self-test: ${what} was accepted`);
      failed++;
    }
  }
  console.log(`self-test: ${bad.length + 1 - failed} of ${bad.length + 1} checks behaved`);
  return failed === 0;
}

async function main(args) {
  if (args.length === 1 && args[0] === "--self-test") return (await selfTest()) ? 0 : 1;
  if (args.length === 0) {
    console.error("usage: validate_manifests.js FILE... | --self-test");
    return 2;
  }
  let checked = 0;
  const failures = [];
  for (const file of args) {
    const objects = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!Array.isArray(objects)) {
      failures.push(`${file}: not a JSON list of objects`);
      continue;
    }
    checked += objects.length;
    failures.push(...(await validateAll(objects)).map((failure) => `${file}: ${failure}`));
  }
  if (checked === 0) {
    console.error("no objects to validate");
    return 1;
  }
  if (failures.length) console.error(failures.join("\n"));
  console.log(`${checked - failures.length} of ${checked} objects valid`);
  return failures.length ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
  console.error(error.stack || error);
  process.exit(2);
});
