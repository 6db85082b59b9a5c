#!/usr/bin/env node
// A fault-injecting HTTPS proxy between backfilld and the local Cosmos server (which itself
// never throttles). Each request draws one fault from a seeded RNG, at the rates given:
//
//   429       answers 429 with x-ms-retry-after-ms (never forwarded)
//   449       answers 449 "retry with" (never forwarded)
//   503       answers 503 (never forwarded)
//   408       answers 408 (never forwarded)
//   dropBefore  destroys the client connection before forwarding: nothing happened
//   dropAfter   forwards, lets the server act, then destroys the client connection: a write
//               happened and the client never hears of it
//   slow      forwards, then holds the response for --slow-ms (past the client's deadline)
//   truncate  forwards, then sends the server's headers and half its body, and closes
//
//   node fault_proxy.mjs --target https://127.0.0.1:PORT --cert F --key F --ca F
//        [--port 0] [--port-file F] [--counts-file F] [--seed S] [--slow-ms 3000]
//        [--rates 429=0.1,503=0.02,dropBefore=0.005,dropAfter=0.005,...]
//        [--only-after N]  (no fault on the first N requests: lets set-up calls through)
//        [--latency-ms N]  (every forwarded answer N ms later: widens read-to-write windows)
//        [--ru-per-second N]  (a provisioned-throughput model, deterministic, no RNG: a token
//                    bucket of N request units per second holding at most one second's worth;
//                    a write costs 10 RU per document (a batch: per operation), a query page 1 RU
//                    per 10 documents asked for (x-ms-max-item-count), anything else 1 RU. A
//                    request is admitted while the bucket is above zero (its cost may overdraw
//                    it, as Cosmos charges after the fact); otherwise it gets 429, substatus
//                    3200 and x-ms-retry-after-ms = the time until the bucket is above zero)
//        [--ru-retry-after-ms N]  (with --ru-per-second: send this hint instead, e.g. one too
//                    short, as a busy shared container's hints are: clients retry many times)
//
// Counts of each fault injected (and requests seen) go to --counts-file on every change and
// to stdout on SIGTERM/SIGINT, as JSON: {"requests": n, "forwarded": n, "faults": {...},
// "onWrite": {...} (the faults that hit a replace or a batch of writes)}.
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { parseArgs } from "node:util";

const kFaults = ["429", "449", "503", "408", "dropBefore", "dropAfter", "slow", "truncate"];
const kUsage = `usage: node fault_proxy.mjs --target URL --cert F --key F --ca F [--port 0]
       [--port-file F] [--counts-file F] [--seed S] [--slow-ms 3000] [--only-after N] [--latency-ms 0]
       [--ru-per-second N]
       [--rates ${kFaults.map((f) => `${f}=P`).join(",")}]`;

function usageError(message) {
  process.stderr.write(`fault_proxy.mjs: ${message}\n${kUsage}\n`);
  process.exit(2);
}

/** Seeded xorshift128+ over SHA-256 of the seed text: the same seed injects the same sequence. */
class Rng {
  constructor(seedText) {
    const h = crypto.createHash("sha256").update(seedText).digest();
    this.s0 = h.readBigUInt64LE(0) | 1n;
    this.s1 = h.readBigUInt64LE(8) | 1n;
  }
  float() {
    const mask = (1n << 64n) - 1n;
    let s1 = this.s0;
    const s0 = this.s1;
    this.s0 = s0;
    s1 = (s1 ^ (s1 << 23n)) & mask;
    this.s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return Number(((this.s1 + s0) & mask) >> 11n) / 2 ** 53;
  }
}

function parseRates(text) {
  const rates = Object.fromEntries(kFaults.map((f) => [f, 0]));
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split("=");
    if (!kFaults.includes(name)) usageError(`unknown fault "${name}"`);
    const p = Number(value);
    if (!(p >= 0 && p <= 1)) usageError(`rate of ${name} must be in [0, 1], got "${value}"`);
    rates[name] = p;
  }
  const total = Object.values(rates).reduce((a, b) => a + b, 0);
  if (total > 1) usageError(`rates add up to ${total} > 1`);
  return rates;
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      target: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      ca: { type: "string" },
      port: { type: "string", default: "0" },
      "port-file": { type: "string" },
      "counts-file": { type: "string" },
      seed: { type: "string", default: process.env.FAULT_SEED || "faults" },
      "slow-ms": { type: "string", default: "3000" },
      "only-after": { type: "string", default: "0" },
      "latency-ms": { type: "string", default: "0" },
      "ru-per-second": { type: "string", default: "0" },
      "ru-retry-after-ms": { type: "string", default: "" },
      rates: { type: "string", default: process.env.FAULT_RATES || "" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usageError(err.message);
}
if (args.help) {
  process.stdout.write(`${kUsage}\n`);
  process.exit(0);
}
for (const flag of ["target", "cert", "key", "ca"]) if (!args[flag]) usageError(`--${flag} is required`);
const rates = parseRates(args.rates);
const rng = new Rng(args.seed);
const slowMs = Number(args["slow-ms"]);
const onlyAfter = Number(args["only-after"]);
const latencyMs = Number(args["latency-ms"]);
const ruPerSecond = Number(args["ru-per-second"]);
const ruRetryAfterMs = args["ru-retry-after-ms"] === "" ? null : Number(args["ru-retry-after-ms"]);
if (!(ruPerSecond >= 0)) usageError(`--ru-per-second must be 0 (off) or more, got "${args["ru-per-second"]}"`);
const target = new URL(args.target);
const upstream = new https.Agent({ keepAlive: true, maxSockets: 64, ca: fs.readFileSync(args.ca) });

const counts = {
  requests: 0, forwarded: 0,
  faults: Object.fromEntries(kFaults.map((f) => [f, 0])),
  // The same, only on writes (a replace PUT, or a batch POST): those whose answer a fault may lose.
  onWrite: Object.fromEntries(kFaults.map((f) => [f, 0])),
  // --ru-per-second: requests answered 429 because the bucket was empty, and RU admitted.
  ruThrottled: 0, ruThrottledWrites: 0, ruCharged: 0,
};
function saveCounts() {
  if (!args["counts-file"]) return;
  const tmp = `${args["counts-file"]}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(counts)}\n`);
  fs.renameSync(tmp, args["counts-file"]);
}

function draw() {
  const r = rng.float();
  let acc = 0;
  for (const f of kFaults) {
    acc += rates[f];
    if (r < acc) return f;
  }
  return null;
}

/** The RU model of --ru-per-second: a token bucket refilled continuously, at most one second full. */
const bucket = { tokens: ruPerSecond, at: performance.now() };
function ruCost(req, body, batch) {
  if (batch) {
    try {
      const operations = JSON.parse(body.toString("utf8"));
      return 10 * (Array.isArray(operations) ? operations.length : 1);
    } catch {
      return 10;
    }
  }
  if (req.method === "PUT") return 10;
  if (String(req.headers["x-ms-documentdb-isquery"]).toLowerCase() === "true") {
    return Math.max(1, Math.ceil(Number(req.headers["x-ms-max-item-count"] || 100) / 10));
  }
  if (req.method === "POST" && /\/docs$/.test(req.url)) return 10;  // create, upsert
  return 1;
}
/** 0 when the request may go (its cost is charged), else the ms until the bucket refills. */
function admit(cost) {
  const now = performance.now();
  bucket.tokens = Math.min(ruPerSecond, bucket.tokens + ((now - bucket.at) / 1000) * ruPerSecond);
  bucket.at = now;
  if (bucket.tokens > 0) {
    bucket.tokens -= cost;
    counts.ruCharged += cost;
    return 0;
  }
  return Math.max(1, Math.ceil((-bucket.tokens / ruPerSecond) * 1000) + 1);
}

/** Forwards the request (body already read) and resolves {status, headers, body}. */
function forward(req, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host };
    const up = https.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: upstream },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    up.on("error", reject);
    up.end(body);
  });
}

function errorResponse(res, status, code, extraHeaders = {}) {
  const body = JSON.stringify({ code, message: `injected by fault_proxy.mjs (${status})` });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
}

function relay(res, answer, bodyBytes = answer.body) {
  const headers = { ...answer.headers };
  delete headers["transfer-encoding"];
  delete headers.connection;
  headers["content-length"] = answer.body.length;  // the full length, even when truncating
  res.writeHead(answer.status, headers);
  return bodyBytes;
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  counts.requests += 1;
  const batch = String(req.headers["x-ms-cosmos-is-batch-request"]).toLowerCase() === "true";
  if (ruPerSecond > 0 && counts.requests > onlyAfter) {
    const waitMs = admit(ruCost(req, body, batch));
    if (waitMs > 0) {
      counts.ruThrottled += 1;
      if (req.method === "PUT" || batch) counts.ruThrottledWrites += 1;
      saveCounts();
      return errorResponse(res, 429, "TooManyRequests", {
        "x-ms-retry-after-ms": String(ruRetryAfterMs ?? waitMs), "x-ms-substatus": "3200",
      });
    }
  }
  const fault = counts.requests > onlyAfter ? draw() : null;
  if (fault) {
    counts.faults[fault] += 1;
    if (req.method === "PUT" || batch) counts.onWrite[fault] += 1;
    saveCounts();
  }
  switch (fault) {
    case "429":
      return errorResponse(res, 429, "TooManyRequests", { "x-ms-retry-after-ms": String(1 + Math.floor(rng.float() * 20)) });
    case "449":
      return errorResponse(res, 449, "RetryWith");
    case "503":
      return errorResponse(res, 503, "ServiceUnavailable");
    case "408":
      return errorResponse(res, 408, "RequestTimeout");
    case "dropBefore":
      return req.socket.destroy();
    default:
      break;
  }
  let answer;
  try {
    answer = await forward(req, body);
  } catch (err) {
    process.stderr.write(`fault_proxy.mjs: upstream ${req.method} ${req.url}: ${err.message}\n`);
    return req.socket.destroy();
  }
  counts.forwarded += 1;
  if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
  if (fault === "dropAfter") return req.socket.destroy();
  if (fault === "slow") await new Promise((r) => setTimeout(r, slowMs));
  if (res.destroyed || req.socket.destroyed) return undefined;
  if (fault === "truncate") {
    const half = relay(res, answer, answer.body.subarray(0, Math.floor(answer.body.length / 2)));
    res.write(half);
    return res.socket.destroy();
  }
  res.end(relay(res, answer));
  return undefined;
}

const server = https.createServer(
  { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key), keepAlive: true },
  (req, res) => {
    handle(req, res).catch((err) => {
      process.stderr.write(`fault_proxy.mjs: ${err.message}\n`);
      req.socket.destroy();
    });
  },
);
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.on("clientError", (_err, socket) => socket.destroy());
server.listen(Number(args.port), "127.0.0.1", () => {
  const { port } = server.address();
  if (args["port-file"]) {
    fs.writeFileSync(`${args["port-file"]}.tmp`, `${port}\n`);
    fs.renameSync(`${args["port-file"]}.tmp`, args["port-file"]);
  }
  saveCounts();
  process.stderr.write(`fault_proxy.mjs: https://127.0.0.1:${port} -> ${target.origin}, rates ${JSON.stringify(rates)}${ruPerSecond > 0 ? `, ${ruPerSecond} RU/s` : ""}\n`);
});

function stop() {
  saveCounts();
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
