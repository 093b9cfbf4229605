// The API server's checks of names, labels and annotations (apimachinery's validation), which
// the OpenAPI schemas leave out. Shared by validate_job.js and validate_manifests.js.
"use strict";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function metadataProblems(metadata, kind) {
  const problems = [];
  if (!metadata || typeof metadata.name !== "string") return ["metadata.name is missing"];
  // A Job's name becomes its pods' job-name label value: at most 63 characters.
  const nameLimit = kind === "Job" ? 63 : 253;
  if (metadata.name.length > nameLimit || !DNS_SUBDOMAIN.test(metadata.name)) {
    problems.push(`metadata.name "${metadata.name}" is not a DNS-1123 name of <= ${nameLimit}`);
  }
  if (metadata.namespace !== undefined &&
      (metadata.namespace.length > 63 || !DNS_LABEL.test(metadata.namespace))) {
    problems.push(`metadata.namespace "${metadata.namespace}" is not a DNS-1123 label`);
  }
  for (const where of ["labels", "annotations"]) {
    for (const [key, value] of Object.entries(metadata[where] || {})) {
      const slash = key.lastIndexOf("/");
      const prefix = slash >= 0 ? key.slice(0, slash) : "";
      const name = slash >= 0 ? key.slice(slash + 1) : key;
      if ((prefix && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || name.length > 63 ||
          !LABEL_NAME.test(name)) {
        problems.push(`metadata.${where} key "${key}" is not a qualified name`);
      }
      if (typeof value !== "string") {
        problems.push(`metadata.${where}["${key}"] is not a string`);
      } else if (where === "labels" && (value.length > 63 || !LABEL_VALUE.test(value))) {
        problems.push(`metadata.labels["${key}"] = "${value}" is not a valid label value`);
      }
    }
  }
  for (const owner of metadata.ownerReferences || []) {
    for (const field of ["apiVersion", "kind", "name", "uid"]) {
      if (!owner[field]) problems.push(`an ownerReference has no ${field}`);
    }
  }
  return problems;
}

module.exports = {
  DNS_LABEL,
  metadataProblems
};
