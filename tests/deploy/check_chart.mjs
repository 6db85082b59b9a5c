// Renders helm/backfilld with `helm template` in both modes and asserts the objects an operator
// relies on: kinds per mode, probes, secret references (and no secret material), the security
// context, the state volume, the optional ServiceMonitor and NetworkPolicy, the scrape
// annotations and a termination grace period above the daemon's own.
//   node check_chart.mjs HELM SOURCE_DIR
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import assert from "node:assert/strict";

const [helm, src] = process.argv.slice(2).map((p) => p && resolve(p));
if (!helm || !src) {
  console.error("usage: node check_chart.mjs HELM SOURCE_DIR");
  process.exit(2);
}
const YAML = createRequire(`${src}/deploy/tools/package.json`)("yaml");
const chart = `${src}/helm/backfilld`;
const manifestFile = `${src}/migrations/notelett/encrypt-fields.json`;
const base = [
  "--set", "cosmos.endpoint=https://acct.documents.azure.com:443/",
  "--set", "cosmos.database=notelett-prod",
  "--set-file", `manifests.files.encrypt-fields\\.json=${manifestFile}`,
];
// Secret names that differ from the defaults, so a hard-coded name in a template would show.
const secrets = [
  "--set", "cosmos.keySecret.name=prod-cosmos", "--set", "cosmos.keySecret.key=primary",
  "--set", "apiToken.secretName=prod-api", "--set", "apiToken.key=bearer",
  "--set", "encryption.keyringSecret.name=prod-keys", "--set", "encryption.keyringSecret.key=ring.json",
  "--set", "cosmos.caSecret.name=prod-ca",
];

// "--no-manifests" first: without the base's --set-file.
function baseValues(args) {
  if (args[0] !== "--no-manifests") return base;
  args.shift();
  return base.slice(0, 4);
}
function render(...args) {
  const values = baseValues(args);
  const out = execFileSync(helm, ["template", "rel", chart, ...values, ...args], { encoding: "utf8" });
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
}
function renderFails(...args) {
  const values = baseValues(args);
  try {
    execFileSync(helm, ["template", "rel", chart, ...values, ...args], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    return String(error.stderr);
  }
  assert.fail(`helm template ${args.join(" ")} rendered, want an error`);
}
const kinds = (objects) => objects.map((o) => o.kind).sort();
const one = (objects, kind) => {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `want one ${kind}, got ${found.length}`);
  return found[0];
};
const podSpec = (objects) => (objects.find((o) => o.kind === "Deployment") ?? one(objects, "Job")).spec.template.spec;
const container = (spec) => spec.containers.find((c) => c.name === "backfilld");
const env = (c, name) => c.env.find((e) => e.name === name);
const volume = (spec, name) => spec.volumes.find((v) => v.name === name);
const mount = (c, name) => c.volumeMounts.find((m) => m.name === name);
const arg = (c, flag) => c.args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
let checks = 0;
const check = (name, fn) => { fn(); checks++; console.log(`ok ${name}`); };

// The daemon's own default grace period, from the code, so the chart cannot drift from it.
const graceInCode = Number(
  /std::chrono::seconds grace_period\{(\d+)\}/.exec(readFileSync(`${src}/daemon/cli/serve_command.hpp`, "utf8"))[1]);

function checkSecurity(objects) {
  const spec = podSpec(objects);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.securityContext.runAsNonRoot, true);
  assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.ok(spec.securityContext.runAsUser > 0, "pod runs as a non-root uid");
  const sc = container(spec).securityContext;
  assert.equal(sc.runAsNonRoot, true);
  assert.ok(sc.runAsUser > 0);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.privileged, false);
  assert.deepEqual(sc.capabilities.drop, ["ALL"]);
  assert.equal(sc.capabilities.add, undefined);
  assert.equal(sc.seccompProfile.type, "RuntimeDefault");
  // A read-only root needs every written path on a volume.
  assert.equal(mount(container(spec), "state").mountPath, "/var/lib/backfilld");
  assert.ok(mount(container(spec), "tmp"), "/tmp is a volume");
  assert.ok(container(spec).resources.requests && container(spec).resources.limits, "resources set");
}

function checkSecrets(objects, { apiToken }) {
  const spec = podSpec(objects);
  const c = container(spec);
  assert.ok(!objects.some((o) => o.kind === "Secret"), "the chart renders no Secret");
  assert.deepEqual(env(c, "COSMOS_KEY"), {
    name: "COSMOS_KEY", valueFrom: { secretKeyRef: { name: "prod-cosmos", key: "primary" } } });
  for (const name of ["BACKFILLD_API_TOKEN", "FIELD_ENCRYPT_KEY"]) assert.equal(env(c, name), undefined, name);
  assert.equal(volume(spec, "keyring").secret.secretName, "prod-keys");
  assert.equal(env(c, "FIELD_ENCRYPT_KEY_PROVIDER").value, "file");
  assert.equal(env(c, "FIELD_ENCRYPT_KEYRING_FILE").value, `${mount(c, "keyring").mountPath}/ring.json`);
  assert.equal(volume(spec, "cosmos-ca").secret.secretName, "prod-ca");
  assert.equal(env(c, "COSMOS_CA_FILE").value, `${mount(c, "cosmos-ca").mountPath}/ca.pem`);
  if (apiToken) {
    assert.equal(volume(spec, "api-token").secret.secretName, "prod-api");
    assert.equal(env(c, "BACKFILLD_API_TOKEN_FILE").value, `${mount(c, "api-token").mountPath}/bearer`);
  } else {
    assert.equal(volume(spec, "api-token"), undefined, "no API token where there is no API");
  }
  for (const m of c.volumeMounts.filter((m) => m.name !== "state" && m.name !== "tmp")) {
    assert.equal(m.readOnly, true, `${m.name} mounted read-only`);
  }
}

function checkManifests(objects) {
  const spec = podSpec(objects);
  const configMap = one(objects, "ConfigMap");
  assert.deepEqual(JSON.parse(configMap.data["encrypt-fields.json"]), JSON.parse(readFileSync(manifestFile, "utf8")));
  assert.equal(volume(spec, "manifests").configMap.name, configMap.metadata.name);
  assert.equal(mount(container(spec), "manifests").mountPath, "/etc/backfilld/manifests");
}

check("deployment mode: kinds", () => {
  const objects = render(...secrets);
  assert.deepEqual(kinds(objects), ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Service", "ServiceAccount"]);
});

check("deployment mode: serve, probes, port, scrape annotations, grace period", () => {
  const objects = render();
  const deployment = one(objects, "Deployment");
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, "Recreate", "never two daemons on one state directory");
  const spec = deployment.spec.template.spec;
  const c = container(spec);
  assert.equal(c.args[0], "serve");
  const port = c.ports.find((p) => p.name === "http").containerPort;
  assert.equal(arg(c, "listen"), `0.0.0.0:${port}`);
  assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "http" });
  assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "http" });
  const service = one(objects, "Service");
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  assert.equal(service.spec.ports[0].targetPort, "http");
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(annotations["prometheus.io/scrape"], "true");
  assert.equal(annotations["prometheus.io/port"], String(port));
  assert.equal(annotations["prometheus.io/path"], "/metrics");
  const grace = Number(arg(c, "grace-period"));
  assert.equal(grace, graceInCode, "the chart's default grace period is the daemon's");
  assert.ok(spec.terminationGracePeriodSeconds > grace + 2,
    `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} must exceed ${grace} + 2`);
  assert.equal(env(c, "BACKFILLD_STATE_DIR").value, mount(c, "state").mountPath);
  assert.equal(env(c, "BACKFILLD_MANIFEST_DIR").value, mount(c, "manifests").mountPath);
});

check("deployment mode: PVC for the state directory", () => {
  const objects = render();
  const pvc = one(objects, "PersistentVolumeClaim");
  assert.equal(volume(podSpec(objects), "state").persistentVolumeClaim.claimName, pvc.metadata.name);
  const existing = render("--set", "persistence.existingClaim=old-state");
  assert.ok(!existing.some((o) => o.kind === "PersistentVolumeClaim"));
  assert.equal(volume(podSpec(existing), "state").persistentVolumeClaim.claimName, "old-state");
});

check("deployment mode: emptyDir, ServiceMonitor and NetworkPolicy by value", () => {
  const objects = render("--set", "persistence.enabled=false", "--set", "metrics.serviceMonitor.enabled=true",
    "--set", "networkPolicy.enabled=true");
  assert.deepEqual(kinds(objects), ["ConfigMap", "Deployment", "NetworkPolicy", "Service", "ServiceAccount", "ServiceMonitor"]);
  assert.deepEqual(volume(podSpec(objects), "state").emptyDir, {});
  const monitor = one(objects, "ServiceMonitor");
  assert.equal(monitor.spec.endpoints[0].port, one(objects, "Service").spec.ports[0].name);
  assert.equal(monitor.spec.endpoints[0].path, "/metrics");
  assert.equal(monitor.spec.endpoints[0].honorLabels, true, "container=\"<Cosmos container>\" must not become exported_container");
  const policy = one(objects, "NetworkPolicy");
  assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
  assert.equal(policy.spec.ingress[0].ports[0].port, 8080);
  assert.ok(policy.spec.egress.some((rule) => rule.ports.some((p) => p.port === 443)), "egress to Cosmos");
});

check("deployment mode: security context", () => checkSecurity(render(...secrets)));
check("deployment mode: secrets by reference only", () => {
  const objects = render(...secrets);
  checkSecrets(objects, { apiToken: true });
  checkManifests(objects);
});
check("deployment mode: an existing manifests ConfigMap", () => {
  const objects = render("--set", "manifests.existingConfigMap=ops-manifests");
  assert.ok(!objects.some((o) => o.kind === "ConfigMap"));
  assert.equal(volume(podSpec(objects), "manifests").configMap.name, "ops-manifests");
});

check("deployment mode without manifests: the image's own manifest directory applies", () => {
  const c = container(podSpec(render("--no-manifests")));
  // Neither set nor mounted, so the image's BACKFILLD_MANIFEST_DIR (its shipped manifests) stays.
  assert.equal(env(c, "BACKFILLD_MANIFEST_DIR"), undefined);
  assert.equal(mount(c, "manifests"), undefined);
});

check("job mode: kinds, run --manifest, backoffLimit, no probes", () => {
  const objects = render("--set", "mode=job", "--set", "metrics.serviceMonitor.enabled=false", ...secrets);
  assert.deepEqual(kinds(objects), ["ConfigMap", "Job", "PersistentVolumeClaim", "ServiceAccount"]);
  const job = one(objects, "Job");
  assert.ok(job.spec.backoffLimit >= 1 && job.spec.backoffLimit <= 6, `backoffLimit ${job.spec.backoffLimit}`);
  const rule = job.spec.podFailurePolicy.rules.find((r) => r.action === "FailJob");
  assert.deepEqual(rule.onExitCodes.values, [1, 2], "a failed or misconfigured run is not retried");
  const spec = job.spec.template.spec;
  assert.equal(spec.restartPolicy, "Never");
  const c = container(spec);
  assert.equal(c.args[0], "run");
  assert.equal(arg(c, "manifest"), `${mount(c, "manifests").mountPath}/encrypt-fields.json`);
  assert.ok(c.args.includes("--dry-run"), "dry run by default");
  assert.equal(c.readinessProbe, undefined);
  assert.equal(c.livenessProbe, undefined);
  // Checkpoints on the persistent state volume: a retried pod resumes, it does not rescan.
  assert.equal(arg(c, "state-dir"), `${mount(c, "state").mountPath}/run`);
  assert.equal(volume(spec, "state").persistentVolumeClaim.claimName, one(objects, "PersistentVolumeClaim").metadata.name);
  assert.equal(arg(c, "backup-confirmed"), undefined, "no backup attested unless the values name one");
  assert.ok(spec.terminationGracePeriodSeconds > graceInCode);
  checkSecurity(objects);
  checkSecrets(objects, { apiToken: false });
  checkManifests(objects);
  const live = container(podSpec(render("--set", "mode=job", "--set", "job.dryRun=false", "--set", "job.container=notes",
    "--set", "job.backupConfirmed=pitr-2026-11-24T02:00Z")));
  assert.ok(!live.args.includes("--dry-run"));
  assert.equal(arg(live, "container"), "notes");
  assert.equal(arg(live, "backup-confirmed"), "pitr-2026-11-24T02:00Z");
  assert.ok(!live.args.includes("--allow-live-without-dry-run"), "the dry-run gate stays on by default");
  const ephemeral = podSpec(render("--set", "mode=job", "--set", "persistence.enabled=false"));
  assert.deepEqual(volume(ephemeral, "state").emptyDir, {});
});

check("job mode: NetworkPolicy by value, no ServiceMonitor (run serves no /metrics)", () => {
  const objects = render("--set", "mode=job", "--set", "networkPolicy.enabled=true", "--set", "metrics.serviceMonitor.enabled=true");
  assert.deepEqual(kinds(objects), ["ConfigMap", "Job", "NetworkPolicy", "PersistentVolumeClaim", "ServiceAccount"]);
  assert.deepEqual(one(objects, "NetworkPolicy").spec.ingress, []);
});

check("bad values are refused with a message naming them", () => {
  assert.match(renderFails("--set", "terminationGracePeriodSeconds=27"), /terminationGracePeriodSeconds \(27\) must exceed/);
  assert.match(renderFails("--set", "daemon.gracePeriodSeconds=60"), /must exceed daemon.gracePeriodSeconds/);
  assert.match(renderFails("--set", "mode=cron"), /mode must be deployment or job/);
  assert.match(renderFails("--set", "cosmos.endpoint="), /cosmos.endpoint is required/);
  assert.match(renderFails("--set", "cosmos.keySecret.name="), /cosmos.keySecret.name is required/);
  assert.match(renderFails("--no-manifests", "--set", "mode=job"), /job mode needs a manifest/);
});

console.log(`${checks} chart checks passed`);
