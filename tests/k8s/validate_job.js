#!/usr/bin/env node
// Validates the objects the tower sends to the Kubernetes API (batch/v1 Jobs and v1 ConfigMaps)
// against the API's OpenAPI schemas, with npm's kubernetes-models (installed by tools/setup into
// tests/k8s/node_modules; no network at test time). The schemas check types, required fields,
// enums and quantity formats; they do not check what the API server's own validation adds, so
// this also checks names, label keys and values, and the Job fields the tower relies on.
//
// Usage: node tests/k8s/validate_job.js FILE_OR_DIR...   (every *.json, one object each)
//        node tests/k8s/validate_job.js --self-test       (proves a bad Job is refused)
// Exits 1 naming each object and what is wrong with it.
"use strict";

const fs = require("fs");
const path = require("path");

let models;
try {
  models = {
    Job: require("kubernetes-models/batch/v1/Job").Job,
    ConfigMap: require("kubernetes-models/v1/ConfigMap").ConfigMap,
  };
} catch (error) {
  console.error("kubernetes-models is missing: run tools/setup (it runs `npm ci` in tests/k8s)");
  process.exit(2);
}

const {DNS_LABEL, metadataProblems} = require("./metadata_checks");

// What the API server's Job validation and the tower's design require of a Job.
function jobProblems(job) {
  const problems = [];
  const spec = job.spec || {};
  const pod = (spec.template || {}).spec || {};
  if (!["Never", "OnFailure"].includes(pod.restartPolicy)) {
    problems.push(`spec.template.spec.restartPolicy must be Never or OnFailure for a Job`);
  }
  const containers = pod.containers || [];
  if (containers.length === 0) problems.push("the pod has no container");
  const volumes = new Set((pod.volumes || []).map((v) => v.name));
  for (const container of containers) {
    if (!DNS_LABEL.test(container.name || "")) {
      problems.push(`container name "${container.name}" is not a DNS-1123 label`);
    }
    for (const mount of container.volumeMounts || []) {
      if (!volumes.has(mount.name)) problems.push(`volumeMount "${mount.name}" has no volume`);
    }
    const resources = container.resources || {};
    for (const [name, quantity] of Object.entries(resources.requests || {})) {
      const limit = (resources.limits || {})[name];
      if (name.includes("/") && limit !== quantity) {
        problems.push(`extended resource ${name}: requests must equal limits`);
      }
    }
  }
  const templateLabels = ((spec.template || {}).metadata || {}).labels || {};
  problems.push(...metadataProblems({name: "template", labels: templateLabels}, "Pod")
                    .filter((p) => !p.startsWith("metadata.name")));
  return problems;
}

function validate(object) {
  const problems = [];
  const Model = models[object.kind];
  if (!Model) return [`kind "${object.kind}" is not one the tower sends`];
  const expectedVersion = object.kind === "Job" ? "batch/v1" : "v1";
  if (object.apiVersion !== expectedVersion) {
    problems.push(`apiVersion is "${object.apiVersion}", expected "${expectedVersion}"`);
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`OpenAPI schema: ${error.message}`);
  }
  problems.push(...metadataProblems(object.metadata, object.kind));
  if (object.kind === "Job") problems.push(...jobProblems(object));
  return problems;
}

function filesOf(target) {
  if (fs.statSync(target).isDirectory()) {
    return fs.readdirSync(target).filter((f) => f.endsWith(".json")).sort()
        .map((f) => path.join(target, f));
  }
  return [target];
}

function selfTest() {
  const good = {
    apiVersion: "batch/v1", kind: "Job",
    metadata: {name: "fabrique-j1-a0", namespace: "fabrique-risk", labels: {"fabrique.io/squad": "risk"}},
    spec: {backoffLimit: 0, template: {spec: {restartPolicy: "Never", containers: [
      {name: "trainer", image: "fabrique:latest",
       resources: {requests: {cpu: "500m", memory: "1073741824"},
                   limits: {cpu: "500m", memory: "1073741824"}}}]}}},
  };
  const bad = [
    ["a quantity that is not one", (j) => { j.spec.template.spec.containers[0].resources.limits.cpu = "lots"; }],
    ["backoffLimit as a string", (j) => { j.spec.backoffLimit = "0"; }],
    ["a container without a name", (j) => { delete j.spec.template.spec.containers[0].name; }],
    ["a name with capitals", (j) => { j.metadata.name = "Fabrique_J1"; }],
    ["a label value too long", (j) => { j.metadata.labels["fabrique.io/squad"] = "x".repeat(64); }],
    ["restartPolicy Always", (j) => { j.spec.template.spec.restartPolicy = "Always"; }],
  ];
  let failed = 0;
  const goodProblems = validate(good);
  if (goodProblems.length) {
    console.error(`self-test: a good Job was refused: ${goodProblems.join("; ")}`);
    failed++;
  }
  for (const [what, spoil] of bad) {
    const job = JSON.parse(JSON.stringify(good));
    spoil(job);
    if (validate(job).length === 0) {
      console.error(`self-test: a Job with ${what} was accepted`);
      failed++;
    }
  }
  console.log(`self-test: ${bad.length + 1 - failed} of ${bad.length + 1} checks behaved`);
  return failed === 0;
}

function main(args) {
  if (args.length === 1 && args[0] === "--self-test") return selfTest() ? 0 : 1;
  if (args.length === 0) {
    console.error("usage: validate_job.js FILE_OR_DIR... | --self-test");
    return 2;
  }
  let checked = 0;
  let failed = 0;
  for (const file of args.flatMap(filesOf)) {
    const problems = validate(JSON.parse(fs.readFileSync(file, "utf8")));
    checked++;
    if (problems.length) {
      failed++;
      console.error(`${file}:\n  ${problems.join("\n  ")}`);
    }
  }
  if (checked === 0) {
    console.error("no objects to validate");
    return 1;
  }
  console.log(`${checked - failed} of ${checked} objects valid`);
  return failed ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
