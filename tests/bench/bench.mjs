#!/usr/bin/env node
// The performance benchmark of issue 8, driven by tests/bench/run.sh (which builds first):
//  1. backfilld's live encryption job against the local Cosmos server (HTTPS, keep-alive):
//     documents/s, daemon CPU per document, peak RSS, and GET /v1/jobs/{id} latency meanwhile;
//  2. the peer (../shared/bench/peer-node, the @azure/cosmos SDK) on a copy of the same data;
//  3. ratios backfilld/peer;
//  4. the scale run against tests/bench/null_backend at 10,000 and 1,000,000 documents;
//  5. with --ranges 1,4,8: the scale run once per K partition key ranges of the null backend,
//     with --latency-ms per request (default 20) and pages of --ranges-page-size documents
//     (default 100), so one range is latency-bound and range parallelism shows; the job asks for
//     knobs.rangeConcurrency = K;
//  6. with --layer-ranges 1,4,8: the same per K on the ranges layer (deploy/local/ranges) in
//     front of the local server, --layer-documents notes (default 20,000: every pinned page
//     filters a full server page, so the layer costs the server K passes over the container),
//     --latency-ms per request added by the layer, no throttling;
//  7. the transform micro-benchmark.
// Daemon CPU is the sum of on-CPU time of all its threads (/proc/PID/task/*/schedstat) over the
// job, from submission to the status that says it succeeded; peak RSS is VmHWM.
//
//   node bench.mjs --source DIR --build DIR [--notes 5000] [--scale 10000,1000000]
//                  [--peer DIR] [--page-size 1000] [--write-mode auto]
//                  [--ranges 1,4,8] [--latency-ms 20] [--ranges-page-size 100]
//                  [--ranges-documents 1000000] [--layer-ranges 1,4,8] [--layer-documents 20000]
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    source: { type: "string" },
    build: { type: "string" },
    notes: { type: "string", default: "5000" },
    scale: { type: "string", default: "10000,1000000" },
    peer: { type: "string", default: "" },
    "page-size": { type: "string", default: "1000" },
    "write-mode": { type: "string", default: "auto" },
    "write-concurrency": { type: "string", default: "16" },
    parts: { type: "string", default: "local,scale,transform" },
    ranges: { type: "string", default: "" },
    "latency-ms": { type: "string", default: "20" },
    "ranges-page-size": { type: "string", default: "100" },
    "ranges-documents": { type: "string", default: "1000000" },
    "layer-ranges": { type: "string", default: "" },
    "layer-documents": { type: "string", default: "20000" },
  },
});
const source = path.resolve(args.source);
const build = path.resolve(args.build);
const backfilld = path.join(build, "daemon/backfilld");
const nullBackend = path.join(build, "tests/bench/null_backend");
const transformBench = path.join(build, "tests/bench/transform_bench");
const cosmosSh = path.join(source, "deploy/local/cosmos.sh");
// The peer lives beside the repository (../shared/bench/peer-node), a worktree's two levels up.
const peerSource = [args.peer, path.join(source, "../shared/bench/peer-node"),
  path.join(source, "../../shared/bench/peer-node")].find((dir) => dir && fs.existsSync(dir));
const notes = Number(args.notes);
const pageSize = Number(args["page-size"]);
const kEmulatorKey =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "backfilld-bench-"));
const dataKey = Buffer.alloc(32, 42).toString("base64");
const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const children = [];

const log = (...line) => console.error("bench:", ...line);
const sh = (file, argv, options = {}) =>
  execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...options });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Pins a command to one core when there are two or more, so "on one core" holds. */
const pinned = (core, file, argv) =>
  cpus >= 2 && !process.env.BENCH_NO_PIN ? ["taskset", ["-c", String(core), file, ...argv]] : [file, argv];

// ------------------------------------------------------------------------- process figures
function cpuSeconds(pid) {
  let total = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    total += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
  }
  return total / 1e9;
}
const peakRssMb = (pid) =>
  Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

// --------------------------------------------------------------------- the daemon's API
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function api(port, method, route, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, method, path: route, agent, headers: { "content-type": "application/json" } },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode, body: text ? JSON.parse(text) : {} }));
      });
    request.on("error", reject);
    request.end(body ? JSON.stringify(body) : undefined);
  });
}

async function startDaemon(name, env) {
  const logFile = path.join(work, `${name}.log`);
  const out = fs.openSync(logFile, "w");
  const [file, argv] = pinned(0, backfilld, [
    "serve", "--listen", "127.0.0.1:0", "--state-dir", path.join(work, `${name}-state`),
    "--allow-live-without-dry-run", "--log-format", "human",
  ]);
  const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
  children.push(child);
  for (let i = 0; i < 300; ++i) {
    const match = /serving on port (\d+)/.exec(fs.readFileSync(logFile, "utf8"));
    if (match) return { child, pid: child.pid, port: Number(match[1]), logFile };
    await sleep(20);
  }
  throw new Error(`daemon ${name} did not start: see ${logFile}`);
}

const manifest = {
  id: "bench-encrypt", kind: "encrypt-fields", filter: { productId: "notelett" }, batchSize: pageSize,
  // The seed holds deliberately malformed documents: they are counted, not fatal here.
  stopCriteria: { maxErrors: 1e9, maxOwnerMismatch: 1e9, maxMissingPartitionKey: 1e9 },
  rollback: "benchmark data only",
  containers: [{ name: "notes", partitionKeyPath: "/workspaceId", fields: ["body"], context: "notes",
    userIdField: "userId", skipOwners: [] }],
};

/** GET latency of a daemon with no job: the machine's own noise floor for the p99 below. */
async function measureIdle(daemon, count = 400) {
  const latencies = [];
  for (let i = 0; i < count; ++i) {
    const sent = performance.now();
    await api(daemon.port, "GET", "/v1/jobs");
    latencies.push(performance.now() - sent);
    await sleep(5);
  }
  latencies.sort((a, b) => a - b);
  return { gets: count, getP50: percentile(latencies, 0.5), getP99: percentile(latencies, 0.99) };
}

/** Submits the live job with knobs; a daemon without the rangeConcurrency knob yet (issue 13's
 *  per-range engine) gets the job without it, and the figures say so. */
async function submitJob(daemon, knobs) {
  const submit = (withKnobs) => api(daemon.port, "POST", "/v1/jobs", {
    manifest, dryRun: false, operator: "bench", backupConfirmed: "benchmark data", knobs: withKnobs,
  });
  let submitted = await submit(knobs);
  let rangeConcurrency = knobs.rangeConcurrency;
  if (submitted.status === 400 && rangeConcurrency !== undefined &&
      JSON.stringify(submitted.body).includes("rangeConcurrency")) {
    log(`the daemon does not know knobs.rangeConcurrency yet: ${JSON.stringify(submitted.body)}`);
    const { rangeConcurrency: _, ...rest } = knobs;
    submitted = await submit(rest);
    rangeConcurrency = undefined;
  }
  if (submitted.status !== 201) throw new Error(`submit: ${JSON.stringify(submitted.body)}`);
  return { id: submitted.body.jobs[0], rangeConcurrency };
}

/** Runs one live job to the end, polling its status every 5 ms; figures of the daemon. */
async function measureJob(daemon, extraKnobs = {}) {
  const cpuBefore = cpuSeconds(daemon.pid);
  const started = performance.now();
  const { id, rangeConcurrency } = await submitJob(daemon, {
    batchSize: pageSize, writeConcurrency: Number(args["write-concurrency"]), writeMode: args["write-mode"],
    ...extraKnobs,
  });
  const latencies = [];
  let status;
  for (;;) {
    const sent = performance.now();
    status = await api(daemon.port, "GET", `/v1/jobs/${id}`);
    latencies.push(performance.now() - sent);
    if (["succeeded", "failed", "stopped"].includes(status.body.state)) break;
    await sleep(5);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(daemon.pid) - cpuBefore;
  if (status.body.state !== "succeeded") throw new Error(`job ${id}: ${JSON.stringify(status.body)}`);
  const scanned = status.body.counts.scanned;
  latencies.sort((a, b) => a - b);
  return {
    scanned, encrypted: status.body.counts.encrypted, seconds, docsPerSecond: scanned / seconds,
    cpuUsPerDoc: (cpu * 1e6) / scanned, peakRssMb: peakRssMb(daemon.pid),
    getP50: percentile(latencies, 0.5), getP99: percentile(latencies, 0.99), gets: latencies.length,
    cpuSeconds: cpu, rangeConcurrency,
  };
}

// ------------------------------------------------------------------ the local Cosmos server
async function localServerRun() {
  if (!peerSource) throw new Error("no peer: pass --peer DIR (../shared/bench/peer-node)");
  const state = path.join(work, "cosmos");
  sh(cosmosSh, ["install"]);
  sh(cosmosSh, ["start", state]);
  sh(cosmosSh, ["wait", state]);
  const endpoint = fs.readFileSync(path.join(state, "endpoint"), "utf8").trim();
  const ca = path.join(state, "cert.pem");
  for (const db of ["bench_daemon", "bench_peer"]) {
    sh(cosmosSh, ["create-db", state, db]);
    sh(cosmosSh, ["create-containers", state, db, "notes:/workspaceId"]);
    log(`seeding ${notes} notes into ${db}`);
    sh("node", [path.join(source, "deploy/local/seed.mjs"), "--endpoint", endpoint, "--ca", ca, "--db", db,
      "--containers", "notes", "--per-container", String(notes), "--body-bytes", "1000", "--seed", "8"]);
  }

  log("backfilld: live encryption job");
  const daemon = await startDaemon("daemon-local", {
    COSMOS_ENDPOINT: endpoint, COSMOS_KEY: kEmulatorKey, COSMOS_DATABASE: "bench_daemon", COSMOS_CA_FILE: ca,
    FIELD_ENCRYPT_ENABLED: "true", FIELD_ENCRYPT_KEY_PROVIDER: "env", FIELD_ENCRYPT_KEY: dataKey,
    FIELD_ENCRYPT_KEY_ID: "k1",
  });
  const ours = await measureJob(daemon);
  daemon.child.kill("SIGTERM");

  log("peer: npm install and run");
  const peerDir = path.join(work, "peer-node");
  fs.cpSync(peerSource, peerDir, { recursive: true, filter: (f) => !f.includes("node_modules") });
  sh("npm", ["install", "--prefix", peerDir, "--no-audit", "--no-fund", "--loglevel=error"]);
  const peerOut = sh("node", [path.join(peerDir, "migrate.mjs"), "--endpoint", endpoint, "--db", "bench_peer",
    "--container", "notes", "--pk", "/workspaceId", "--fields", "body", "--context", "notes",
    "--user-field", "userId", "--batch-size", "100", "--concurrency", "50"],
  { env: { ...process.env, FIELD_ENCRYPT_KEY: dataKey } });
  const peer = JSON.parse(peerOut.trim().split("\n").pop());
  sh(cosmosSh, ["stop", state]);
  return { ours, peer };
}

// ------------------------------------------------------------------------ the ranges layer
/** One live job per K through the ranges layer in front of one local server: K ranges, latency
 *  added per request, throughput high enough never to throttle. */
async function layerRuns(documents, ks, latencyMs, pageSize) {
  const state = path.join(work, "cosmos-layer");
  sh(cosmosSh, ["install"]);
  sh(cosmosSh, ["start", state]);
  sh(cosmosSh, ["wait", state]);
  const endpoint = fs.readFileSync(path.join(state, "endpoint"), "utf8").trim();
  const ca = path.join(state, "cert.pem");
  const runs = [];
  try {
    for (const k of ks) {
      const db = `bench_layer_${k}`;
      sh(cosmosSh, ["create-db", state, db]);
      sh(cosmosSh, ["create-containers", state, db, "notes:/workspaceId"]);
      log(`layer: seeding ${documents} notes into ${db}`);
      sh("node", [path.join(source, "deploy/local/seed.mjs"), "--endpoint", endpoint, "--ca", ca, "--db", db,
        "--containers", "notes", "--per-container", String(documents), "--body-bytes", "1000", "--seed", "8"]);
      const portFile = path.join(work, `layer-${k}.port`);
      const layer = spawn("node", [path.join(source, "deploy/local/ranges/layer.mjs"), "--upstream", endpoint,
        "--cert", ca, "--key", path.join(state, "key.pem"), "--ranges", String(k), "--latency-ms", String(latencyMs),
        "--throughput", "10000000", "--port", "0", "--port-file", portFile], { stdio: ["ignore", "ignore", "inherit"] });
      children.push(layer);
      while (!fs.existsSync(portFile) || fs.readFileSync(portFile, "utf8").trim() === "") await sleep(20);
      const port = fs.readFileSync(portFile, "utf8").trim();
      log(`layer: ${k} ranges, ${latencyMs} ms per request`);
      const daemon = await startDaemon(`daemon-layer-k${k}`, {
        COSMOS_ENDPOINT: `https://127.0.0.1:${port}`, COSMOS_KEY: kEmulatorKey, COSMOS_DATABASE: db,
        COSMOS_CA_FILE: ca, FIELD_ENCRYPT_ENABLED: "true", FIELD_ENCRYPT_KEY_PROVIDER: "env",
        FIELD_ENCRYPT_KEY: dataKey, FIELD_ENCRYPT_KEY_ID: "k1",
      });
      const layerCpuBefore = cpuSeconds(layer.pid);
      const figures = await measureJob(daemon, { batchSize: pageSize, rangeConcurrency: k });
      figures.layerCpuUsPerDoc = ((cpuSeconds(layer.pid) - layerCpuBefore) * 1e6) / figures.scanned;
      daemon.child.kill("SIGTERM");
      layer.kill("SIGTERM");
      runs.push({ k, documents, ...figures });
    }
  } finally {
    sh(cosmosSh, ["stop", state]);
  }
  return runs;
}

// ------------------------------------------------------------------------ the null backend
/** One live job against the null backend. options: { ranges, latencyMs, knobs } (K ranges, added
 *  latency per request, knobs over the defaults). */
async function nullBackendRun(documents, { ranges = 1, latencyMs = 0, knobs = {} } = {}) {
  const certDir = path.join(work, "cert");
  sh(cosmosSh, ["cert", certDir]);
  const [file, argv] = pinned(1, nullBackend, ["--cert", path.join(certDir, "cert.pem"), "--key",
    path.join(certDir, "key.pem"), "--documents", String(documents), "--ranges", String(ranges),
    "--latency-ms", String(latencyMs)]);
  const backend = spawn(file, argv, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(backend);
  const port = await new Promise((resolve) => backend.stdout.on("data", (d) => {
    const match = /listening on port (\d+)/.exec(String(d));
    if (match) resolve(Number(match[1]));
  }));
  const daemon = await startDaemon(`daemon-null-${documents}-k${ranges}`, {
    COSMOS_ENDPOINT: `https://localhost:${port}`, COSMOS_KEY: kEmulatorKey, COSMOS_DATABASE: "bench",
    COSMOS_CA_FILE: path.join(certDir, "cert.pem"), FIELD_ENCRYPT_ENABLED: "true",
    FIELD_ENCRYPT_KEY_PROVIDER: "env", FIELD_ENCRYPT_KEY: dataKey, FIELD_ENCRYPT_KEY_ID: "k1",
  });
  const idle = await measureIdle(daemon);
  const backendCpuBefore = cpuSeconds(backend.pid);
  const figures = await measureJob(daemon, knobs);
  figures.idle = idle;
  figures.backendCpuUsPerDoc = ((cpuSeconds(backend.pid) - backendCpuBefore) * 1e6) / figures.scanned;
  daemon.child.kill("SIGTERM");
  backend.kill("SIGTERM");
  return figures;
}

// ------------------------------------------------------------------------------- tables
const f0 = (x) => Math.round(x).toLocaleString("en-US");
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const f3 = (x) => x.toFixed(3);
const row = (cells) => `| ${cells.join(" | ")} |`;
function table(header, rows) {
  return [row(header), row(header.map(() => "---")), ...rows.map(row)].join("\n");
}

let succeeded = false;
try {
  log(`work dir ${work}; ${cpus} CPUs; load ${os.loadavg().map(f2).join(" ")}`);
  const parts = new Set(args.parts.split(","));
  const out = [`Machine: ${cpus} CPUs, load average at start ${os.loadavg().map(f2).join(" ")}\n`];
  const scale = [];
  const byRanges = [];
  let ours;
  if (parts.has("local")) {
    const local = await localServerRun();
    ours = local.ours;
    const peer = local.peer;
    out.push(`## Against the local Cosmos server (${notes} notes of ~1 KB, HTTPS keep-alive)\n`);
  out.push(table(["", "documents", "seconds", "docs/s", "CPU µs/doc", "peak RSS MB"], [
    [`backfilld (page ${pageSize}, writeMode ${args["write-mode"]})`, f0(ours.scanned), f2(ours.seconds),
      f0(ours.docsPerSecond), f1(ours.cpuUsPerDoc), f1(ours.peakRssMb)],
    ["peer (@azure/cosmos, batch 100, concurrency 50)", f0(peer.scanned), f2(peer.seconds),
      f0(peer.docs_per_s), f1(peer.cpu_us_per_doc), "-"],
  ]));
  out.push("\n## Ratios backfilld / peer\n");
  out.push(table(["", "ratio", "target"], [
    ["throughput (docs/s)", `${f1(ours.docsPerSecond / peer.docs_per_s)}x`, ">= 5x"],
    ["CPU per document", `${f2(ours.cpuUsPerDoc / peer.cpu_us_per_doc)}x (${f1(peer.cpu_us_per_doc / ours.cpuUsPerDoc)}x less)`,
      "<= 30 µs/doc"],
  ]));
  }
  if (parts.has("scale")) {
    for (const documents of args.scale.split(",").map(Number)) {
      log(`null backend: ${documents} documents`);
      scale.push({ documents, ...(await nullBackendRun(documents)) });
    }
    out.push("\n## Scale run: null backend (daemon pinned to one core)\n");
  out.push(table(["documents", "seconds", "docs/s", "daemon CPU µs/doc", "backend CPU µs/doc", "peak RSS MB"],
    scale.map((s) => [f0(s.documents), f2(s.seconds), f0(s.docsPerSecond), f1(s.cpuUsPerDoc),
      f1(s.backendCpuUsPerDoc), f1(s.peakRssMb)])));
  if (scale.length >= 2) {
    const [a, b] = [scale[0], scale[scale.length - 1]];
    out.push(`\nPeak RSS ${f0(b.documents)} vs ${f0(a.documents)}: ${f1(((b.peakRssMb - a.peakRssMb) / a.peakRssMb) * 100)}%`);
  }
  }
  if (args.ranges) {
    const documents = Number(args["ranges-documents"]);
    const latencyMs = Number(args["latency-ms"]);
    const rangesPage = Number(args["ranges-page-size"]);
    for (const k of args.ranges.split(",").map(Number)) {
      log(`null backend: ${documents} documents, ${k} ranges, ${latencyMs} ms per request`);
      byRanges.push({ k, documents, ...(await nullBackendRun(documents, {
        ranges: k, latencyMs, knobs: { batchSize: rangesPage, rangeConcurrency: k } })) });
    }
    out.push(`\n## Partition key ranges: null backend, ${f0(documents)} documents, ${latencyMs} ms added ` +
      `per request, pages of ${rangesPage} documents, writeMode ${args["write-mode"]} ` +
      `(daemon pinned to one core)\n`);
    const base = byRanges[0];
    out.push(table(["K ranges", "rangeConcurrency", "seconds", "docs/s", `docs/s vs K=${base.k}`,
      "daemon CPU s / 1,000 docs", `CPU/doc vs K=${base.k}`, "peak RSS MB"],
    byRanges.map((r) => [String(r.k), r.rangeConcurrency === undefined ? "not known to the daemon" : String(r.rangeConcurrency),
      f2(r.seconds), f0(r.docsPerSecond), `${f2(r.docsPerSecond / base.docsPerSecond)}x`,
      f3((r.cpuSeconds * 1000) / r.scanned), `${f2(r.cpuUsPerDoc / base.cpuUsPerDoc)}x`, f1(r.peakRssMb)])));
  }
  const byLayer = [];
  if (args["layer-ranges"]) {
    const documents = Number(args["layer-documents"]);
    const latencyMs = Number(args["latency-ms"]);
    const rangesPage = Number(args["ranges-page-size"]);
    byLayer.push(...await layerRuns(documents, args["layer-ranges"].split(",").map(Number), latencyMs, rangesPage));
    out.push(`\n## Partition key ranges: the ranges layer over the local server, ${f0(documents)} notes, ` +
      `${latencyMs} ms added per request, pages of ${rangesPage} documents, writeMode ${args["write-mode"]}\n`);
    const base = byLayer[0];
    out.push(table(["K ranges", "seconds", "docs/s", `docs/s vs K=${base.k}`, "daemon CPU s / 1,000 docs",
      `CPU/doc vs K=${base.k}`, "layer CPU µs/doc", "peak RSS MB"],
    byLayer.map((r) => [String(r.k), f2(r.seconds), f0(r.docsPerSecond), `${f2(r.docsPerSecond / base.docsPerSecond)}x`,
      f3((r.cpuSeconds * 1000) / r.scanned), `${f2(r.cpuUsPerDoc / base.cpuUsPerDoc)}x`, f0(r.layerCpuUsPerDoc),
      f1(r.peakRssMb)])));
  }
  out.push("\n## Control plane while a job runs flat out: GET /v1/jobs/{id}\n");
  out.push(table(["job", "GETs", "p50 ms", "p99 ms"], [
    ...(ours ? [["local server", String(ours.gets), f2(ours.getP50), f2(ours.getP99)]] : []),
    ...scale.map((s) => [`null backend, ${f0(s.documents)}`, String(s.gets), f2(s.getP50), f2(s.getP99)]),
    ...byRanges.map((r) => [`null backend, ${f0(r.documents)}, K=${r.k}`, String(r.gets), f2(r.getP50),
      f2(r.getP99)]),
    ...byLayer.map((r) => [`ranges layer, ${f0(r.documents)}, K=${r.k}`, String(r.gets), f2(r.getP50),
      f2(r.getP99)]),
    ...[...scale, ...byRanges].slice(0, 1).map((s) => ["(no job: the same daemon idle, the machine's noise)",
      String(s.idle.gets), f2(s.idle.getP50), f2(s.idle.getP99)]),
  ]));
  if (parts.has("transform")) {
    const micro = sh(transformBench, ["1", "notes"]);
    out.push("\n## Transform alone (tests/bench/transform_bench)\n");
    out.push("```\n" + micro.trimEnd() + "\n```");
  }
  console.log(out.join("\n"));
  succeeded = true;
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  try { sh(cosmosSh, ["stop", path.join(work, "cosmos")]); } catch { /* not started */ }
  if (succeeded) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work} (logs of the daemon, the server and the seed)`);
}
