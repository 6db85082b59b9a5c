#!/usr/bin/env node
// NoteLett's application, simulated: writes (upserts) and point-reads notes shaped as seed.mjs's
// through Cosmos (the ranges layer) at a steady open-loop rate, as users would: a slow or
// throttled answer does not slow the next request down. Reports Prometheus metrics (text format)
// on its own HTTP port and takes a new rate live, so a test can push it over a throttle threshold.
// Every answer is counted as the store gave it: a 429 is counted once per answer; with
// --retries N the request is sent again after x-ms-retry-after-ms, and that retry counts again.
//
//   node app_sim.mjs --endpoint URL --ca FILE --db DB [--container notes] [--rate 10]
//        [--read-fraction 0.5] [--documents 100] [--body-bytes 1000] [--id-prefix sim-]
//        [--retries 0] [--max-in-flight 64] [--user-agent notelett-app-sim/1]
//        [--port 0] [--host 127.0.0.1] [--port-file FILE]
// HTTP: GET /metrics (app_requests_total{op,status}, app_throttled_total{op},
// app_request_duration_seconds{op} histogram, app_request_charge_total{op}, app_skipped_total,
// app_in_flight, app_target_rate); GET /status (JSON); POST /rate {"rate": n, "readFraction": f}.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const { CosmosClient, partitionKeyHeader } = await import(path.resolve(here, "../../deploy/local/admin.mjs"));
const { generate, kFieldMap } = await import(path.resolve(here, "../../deploy/local/seed.mjs"));

const kUsage = `usage: node app_sim.mjs --endpoint URL --ca FILE --db DB [--container notes] [--rate OPS/S]
       [--read-fraction 0.5] [--documents 100] [--body-bytes 1000] [--id-prefix sim-] [--retries 0]
       [--max-in-flight 64] [--user-agent notelett-app-sim/1] [--port 0] [--host 127.0.0.1] [--port-file FILE]`;
const kBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const kOps = ["read", "write"];

function die(message) {
  process.stderr.write(`app_sim.mjs: ${message}\n${kUsage}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      endpoint: { type: "string" }, ca: { type: "string" }, db: { type: "string" },
      container: { type: "string", default: "notes" }, rate: { type: "string", default: "10" },
      "read-fraction": { type: "string", default: "0.5" }, documents: { type: "string", default: "100" },
      "body-bytes": { type: "string", default: "1000" }, "id-prefix": { type: "string", default: "sim-" },
      retries: { type: "string", default: "0" }, "max-in-flight": { type: "string", default: "64" },
      "user-agent": { type: "string", default: "notelett-app-sim/1" },
      port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" },
      "port-file": { type: "string" }, help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (err) {
  die(err.message);
}
if (args.help) {
  process.stdout.write(`${kUsage}\n`);
  process.exit(0);
}
for (const flag of ["endpoint", "ca", "db"]) if (!args[flag]) die(`--${flag} is required`);
if (!kFieldMap[args.container]) die(`--container must be one of ${Object.keys(kFieldMap).join(", ")}, got ${args.container}`);
const number = (name, min, max, integer = false) => {
  const value = Number(args[name]);
  if (args[name].trim() === "" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    die(`--${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${args[name]}`);
  }
  return value;
};
const config = { rate: number("rate", 0, 100_000), readFraction: number("read-fraction", 0, 1) };
const documents = number("documents", 1, 100_000, true);
const retries = number("retries", 0, 100, true);
const maxInFlight = number("max-in-flight", 1, 10_000, true);
const port = number("port", 0, 65535, true);

const { db, container } = args;
const pk = kFieldMap[container].pk;
const client = new CosmosClient({ endpoint: args.endpoint, caFile: args.ca, maxSockets: maxInFlight });
// The notes the application owns: seed.mjs's shapes (special cases without a partition key left
// out), under ids of its own so that they never collide with a seeded data set.
const pool = generate(container, { perContainer: documents, bodyBytes: number("body-bytes", 1, 1_000_000, true), seed: "app-sim" })
  .docs.filter((doc) => typeof doc[pk] === "string")
  .map((doc) => ({ ...doc, id: `${args["id-prefix"]}${doc.id}` }));
if (pool.length === 0) die(`no usable ${container} documents among --documents ${documents}`);
const written = []; // documents written at least once: what a read may ask for

// ---------------------------------------------------------------- metrics

const metrics = {
  requests: new Map(), // `${op}\t${status}` -> count
  throttled: { read: 0, write: 0 },
  charge: { read: 0, write: 0 },
  duration: Object.fromEntries(kOps.map((op) => [op, { buckets: kBuckets.map(() => 0), sum: 0, count: 0 }])),
  skipped: 0,
  inFlight: 0,
};

function observe(op, status, seconds, charge) {
  const key = `${op}\t${status}`;
  metrics.requests.set(key, (metrics.requests.get(key) ?? 0) + 1);
  if (status === 429) metrics.throttled[op] += 1;
  metrics.charge[op] += charge;
  const histogram = metrics.duration[op];
  kBuckets.forEach((le, i) => {
    if (seconds <= le) histogram.buckets[i] += 1;
  });
  histogram.sum += seconds;
  histogram.count += 1;
}

/// The Prometheus text exposition (version 0.0.4) of the counters above.
function exposition() {
  const lines = [];
  const family = (name, type, help) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family("app_requests_total", "counter", "Requests the application sent, by operation and the status the store answered (error: no answer).");
  for (const [key, count] of [...metrics.requests].sort()) {
    const [op, status] = key.split("\t");
    lines.push(`app_requests_total{op="${op}",status="${status}"} ${count}`);
  }
  family("app_throttled_total", "counter", "Requests answered 429 (each answer counted, retried or not).");
  for (const op of kOps) lines.push(`app_throttled_total{op="${op}"} ${metrics.throttled[op]}`);
  family("app_request_charge_total", "counter", "Request units the store charged (x-ms-request-charge).");
  for (const op of kOps) lines.push(`app_request_charge_total{op="${op}"} ${Math.round(metrics.charge[op] * 100) / 100}`);
  family("app_request_duration_seconds", "histogram", "Time from sending a request to its answer.");
  for (const op of kOps) {
    const h = metrics.duration[op];
    kBuckets.forEach((le, i) => lines.push(`app_request_duration_seconds_bucket{op="${op}",le="${le}"} ${h.buckets[i]}`));
    lines.push(`app_request_duration_seconds_bucket{op="${op}",le="+Inf"} ${h.count}`);
    lines.push(`app_request_duration_seconds_sum{op="${op}"} ${h.sum}`);
    lines.push(`app_request_duration_seconds_count{op="${op}"} ${h.count}`);
  }
  family("app_skipped_total", "counter", "Operations not sent because --max-in-flight requests were outstanding.");
  lines.push(`app_skipped_total ${metrics.skipped}`);
  family("app_in_flight", "gauge", "Requests sent and not yet answered.");
  lines.push(`app_in_flight ${metrics.inFlight}`);
  family("app_target_rate", "gauge", "Operations per second the application is set to send.");
  lines.push(`app_target_rate ${config.rate}`);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------- operations

const docsPath = `/dbs/${encodeURIComponent(db)}/colls/${encodeURIComponent(container)}/docs`;
const link = `dbs/${db}/colls/${container}`;
const agentHeader = { "user-agent": args["user-agent"] };

function send(op, doc) {
  if (op === "read") {
    return client.request({
      method: "GET", path: `${docsPath}/${encodeURIComponent(doc.id)}`, resourceType: "docs", resourceLink: `${link}/docs/${doc.id}`,
      headers: { ...agentHeader, "x-ms-documentdb-partitionkey": partitionKeyHeader(doc[pk]) },
    });
  }
  const body = { ...doc, version: (doc.version ?? 0) + 1, updatedAt: new Date().toISOString() };
  return client.request({
    method: "POST", path: docsPath, resourceType: "docs", resourceLink: link, body,
    headers: { ...agentHeader, "x-ms-documentdb-is-upsert": "True", "x-ms-documentdb-partitionkey": partitionKeyHeader(doc[pk]) },
  });
}

/// One operation: a read of a note written before (a write while none is), else an upsert.
async function operate() {
  const op = written.length > 0 && Math.random() < config.readFraction ? "read" : "write";
  const doc = op === "read" ? written[Math.floor(Math.random() * written.length)] : pool[Math.floor(Math.random() * pool.length)];
  metrics.inFlight += 1;
  try {
    for (let attempt = 0; ; attempt += 1) {
      const started = performance.now();
      let status = "error";
      let charge = 0;
      let wait = 0;
      try {
        const res = await send(op, doc);
        status = res.status;
        charge = Number(res.headers["x-ms-request-charge"]) || 0;
        wait = Number(res.headers["x-ms-retry-after-ms"]) || 100;
      } catch (err) {
        process.stderr.write(`app_sim.mjs: ${op} ${doc.id}: ${err.message}\n`);
      }
      observe(op, status, (performance.now() - started) / 1000, charge);
      if (op === "write" && (status === 200 || status === 201) && !doc.written) {
        doc.written = true;
        written.push(doc);
      }
      if (status !== 429 || attempt >= retries) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    metrics.inFlight -= 1;
  }
}

// Open loop: operation n of the current rate is due at base + n / rate; a rate change restarts
// the count, so the new rate applies from the moment it is set.
let base = performance.now();
let sent = 0;
let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = null;
  if (config.rate <= 0) return;
  const now = performance.now();
  while (base + (sent / config.rate) * 1000 <= now) {
    sent += 1;
    if (metrics.inFlight >= maxInFlight) metrics.skipped += 1;
    else operate();
  }
  timer = setTimeout(schedule, Math.max(1, base + (sent / config.rate) * 1000 - now));
}

function setRate(body) {
  const problems = [];
  if (body === null || typeof body !== "object" || Array.isArray(body)) return 'want {"rate": ops/s, "readFraction": 0..1}';
  for (const key of Object.keys(body)) if (!["rate", "readFraction"].includes(key)) problems.push(`unknown field ${key}`);
  if (body.rate !== undefined && !(typeof body.rate === "number" && body.rate >= 0 && body.rate <= 100_000)) problems.push("rate must be a number in [0, 100000]");
  if (body.readFraction !== undefined && !(typeof body.readFraction === "number" && body.readFraction >= 0 && body.readFraction <= 1)) problems.push("readFraction must be a number in [0, 1]");
  if (problems.length > 0) return problems.join("; ");
  if (body.readFraction !== undefined) config.readFraction = body.readFraction;
  if (body.rate !== undefined) {
    config.rate = body.rate;
    base = performance.now();
    sent = 0;
    schedule();
  }
  return null;
}

// ---------------------------------------------------------------- HTTP

function reply(res, status, body, type = "application/json") {
  const text = type === "application/json" ? `${JSON.stringify(body)}\n` : body;
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const route = `${req.method} ${new URL(req.url, "http://sim").pathname}`;
  if (route === "GET /metrics") return reply(res, 200, exposition(), "text/plain; version=0.0.4");
  if (route === "GET /status") {
    return reply(res, 200, { ...config, written: written.length, inFlight: metrics.inFlight, skipped: metrics.skipped,
      requests: Object.fromEntries(metrics.requests), throttled: metrics.throttled, requestCharge: metrics.charge });
  }
  if (route === "POST /rate") {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || "null");
    } catch (err) {
      return reply(res, 400, { error: `body is not JSON: ${err.message}` });
    }
    const problem = setRate(body);
    if (problem) return reply(res, 400, { error: problem });
    return reply(res, 200, config);
  }
  return reply(res, 404, { error: `no route ${route}; try GET /metrics, GET /status, POST /rate` });
});
server.on("error", (err) => {
  process.stderr.write(`app_sim.mjs: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, args.host, () => {
  const bound = server.address().port;
  if (args["port-file"]) {
    const file = path.resolve(args["port-file"]);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, `${bound}\n`);
    fs.renameSync(tmp, file);
  }
  process.stdout.write(`listening http://${args.host}:${bound}: ${config.rate} ops/s on ${link} via ${args.endpoint}\n`);
  schedule();
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    config.rate = 0;
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
    client.close();
    process.exit(0);
  });
}
