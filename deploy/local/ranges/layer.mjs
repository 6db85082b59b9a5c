#!/usr/bin/env node
// The ranges layer: an HTTPS proxy in front of the local Cosmos server
// (@vercel/cosmosdb-server: one partition key range, no throttling, 1 RU for everything) that
// makes it production-shaped: K partition key ranges over the hash V2 space, range-pinned
// queries answered per range, splits on command (410/1002, children continuing from the parent's
// continuation), request charges, provisioned throughput per container divided among its ranges
// with 429/3200 per range, and optional network latency. What it models and what not:
// README.md beside this file.
//
//   node layer.mjs --upstream https://127.0.0.1:PORT --cert F --key F [--ranges 4]
//     [--throughput 400] [--autoscale-max N] [--latency-ms 0] [--split-after N]
//     [--trace] [--port 0] [--host 127.0.0.1] [--port-file F] [--require-aad https://HOST:PORT/TENANT]
// --require-aad: local auth off, Entra ID tokens of that issuer (../identity/issuer.mjs) only
// (aad.mjs); its CA must be the layer's cert or in NODE_EXTRA_CA_CERTS.
// Admin (same port): GET /_layer/stats, GET /_layer/stats/usage?collection=dbs/D/colls/C
// [&collection=...][&since=MS][&until=MS][&ua=backfilld|other|all] (usage.mjs),
// POST /_layer/split {"collection": "dbs/D/colls/C", "range": "0", "completeAfterMs": 0}.
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { closeOnSignals } from "../shutdown.mjs";
import { makeAadGate } from "./aad.mjs";
import { failure, Router } from "./routes.mjs";
import { Upstream } from "./upstream.mjs";
import { kUaClasses, mergeSlots, summarize } from "./usage.mjs";

const usage = "usage: node layer.mjs --upstream URL --cert FILE --key FILE [--ranges K] [--throughput RU] " +
  "[--autoscale-max RU] [--latency-ms N] [--split-after N] [--port 0] [--host 127.0.0.1] [--port-file FILE] " +
  "[--require-aad https://HOST:PORT/TENANT]";

function fail(message) {
  process.stderr.write(`layer.mjs: ${message}\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      upstream: { type: "string" }, cert: { type: "string" }, key: { type: "string" },
      ranges: { type: "string", default: "4" }, throughput: { type: "string", default: "400" },
      "autoscale-max": { type: "string" }, "latency-ms": { type: "string", default: "0" },
      "split-after": { type: "string", default: "0" }, trace: { type: "boolean" }, port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" }, "port-file": { type: "string" },
      "require-aad": { type: "string" }, help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!args.upstream || !args.cert || !args.key) fail("--upstream, --cert and --key are required");
const integer = (name, min, max) => {
  const text = args[name];
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) fail(`--${name} must be an integer in [${min}, ${max}], got ${text}`);
  return Number(text);
};
const ranges = integer("ranges", 1, 256);
const throughput = { offerThroughput: integer("throughput", 400, 10_000_000) };
if (args["autoscale-max"] !== undefined) throughput.autoscaleMax = integer("autoscale-max", 1000, 10_000_000);
const latencyMs = integer("latency-ms", 0, 60_000);
const splitAfter = integer("split-after", 0, Number.MAX_SAFE_INTEGER);
const port = integer("port", 0, 65535);

let cert;
let key;
try {
  cert = fs.readFileSync(args.cert);
  key = fs.readFileSync(args.key);
} catch (err) {
  fail(err.message);
}

const upstream = new Upstream(args.upstream, cert);
if (args["require-aad"] !== undefined && !/^https:\/\/[^/]+\/[^/]+\/?$/.test(args["require-aad"])) {
  fail(`--require-aad must be the issuer's tenant authority https://HOST:PORT/TENANT, got ${args["require-aad"]}`);
}
const aad = args["require-aad"] ? makeAadGate({ authority: args["require-aad"], ca: cert }) : null;
const router = new Router({ upstream, ranges, throughput, splitAfter: splitAfter || undefined });

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const kHopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "date"]);

function send(res, reply) {
  const body = reply.json !== undefined ? Buffer.from(JSON.stringify(reply.json)) : reply.raw ?? Buffer.alloc(0);
  const headers = {};
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    if (!kHopByHop.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  if (reply.json !== undefined) headers["content-type"] = "application/json";
  headers["x-ms-request-charge"] = String(reply.charge ?? 0);
  headers["content-length"] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(body);
}

/// GET /_layer/stats/usage: the RU timeline of one or more containers (summed by second) for one
/// client class or all, between since and until (ms since the epoch; default the whole ring).
function usageAnswer(query) {
  const links = query.getAll("collection").map((link) => link.replace(/^\/+|\/+$/g, ""));
  if (links.length === 0) return failure(400, "BadRequest", "usage wants ?collection=dbs/D/colls/C (repeatable)");
  const unknown = links.filter((link) => !router.usage.has(link));
  if (unknown.length > 0) {
    return failure(404, "NotFound", `no document requests recorded for ${unknown.join(", ")}; ` +
      `recorded: ${[...router.usage.keys()].join(", ") || "none"}`);
  }
  const bound = (name, fallback) => {
    const text = query.get(name);
    if (text === null) return fallback;
    if (!/^\d+$/.test(text)) throw new Error(`${name} must be milliseconds since the epoch, got "${text}"`);
    return Number(text);
  };
  let since;
  let until;
  try {
    since = bound("since", 0);
    until = bound("until", Number.MAX_SAFE_INTEGER);
  } catch (err) {
    return failure(400, "BadRequest", err.message);
  }
  const ua = query.get("ua") ?? "all";
  if (ua !== "all" && !kUaClasses.includes(ua)) return failure(400, "BadRequest", `ua must be all, ${kUaClasses.join(" or ")}, got "${ua}"`);
  const classes = ua === "all" ? kUaClasses : [ua];
  const now = Date.now();
  const slots = links.flatMap((link) => router.usage.get(link).slots(classes, since, until, now));
  return { status: 200, json: { collections: links, ua, since, until: Math.min(until, now), ...summarize(mergeSlots([slots])) }, charge: 0 };
}

async function admin(method, segments, body, query) {
  if (method === "GET" && segments[1] === "stats" && segments[2] === "usage") return usageAnswer(query);
  if (method === "GET" && segments[1] === "stats" && segments.length === 2) {
    const collections = {};
    for (const [link, made] of router.collections) {
      collections[link] = (await made.catch(() => null))?.report() ?? null;
    }
    // Per container and client class, the retained seconds that saw requests (the ring).
    const now = Date.now();
    for (const [link, timeline] of router.usage) {
      collections[link] ??= { link };
      collections[link].usage = Object.fromEntries(kUaClasses.map((cls) => [cls,
        timeline.slots([cls], 0, now + 1000, now).map(({ t, requestCharge, requests, throttled }) =>
          ({ t, requestCharge: Math.round(requestCharge * 100) / 100, requests, throttled }))]));
    }
    return { status: 200, json: { ...router.stats, collections, ...(aad ? { aad: aad.stats } : {}) }, charge: 0 };
  }
  if (method === "POST" && segments[1] === "split") {
    const { collection, range, completeAfterMs = 0 } = JSON.parse(body.toString() || "{}");
    if (typeof collection !== "string" || range === undefined) {
      return failure(400, "BadRequest", 'split wants {"collection": "dbs/D/colls/C", "range": "ID"}');
    }
    try {
      return { status: 200, json: await router.split(collection.replace(/^\/+|\/+$/g, ""), range, Number(completeAfterMs)), charge: 0 };
    } catch (err) {
      return failure(400, "BadRequest", err.message);
    }
  }
  return failure(404, "NotFound", `no admin route ${method} /${segments.join("/")}`);
}

const server = https.createServer({ cert, key, keepAlive: true }, async (req, res) => {
  try {
    const body = await readBody(req);
    const url = new URL(req.url, "https://layer");
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (segments[0] === "_layer") return send(res, await admin(req.method, segments, body, url.searchParams));
    const refused = aad ? await aad.check(req.headers) : null;
    if (refused) return send(res, refused);
    if (latencyMs > 0) await delay(latencyMs);
    const reply = await router.route({ method: req.method, segments, headers: req.headers, body, target: req.url });
    if (args.trace) {
      // One line per request (stderr): enough to follow a client through splits and throttling.
      const h = req.headers;
      process.stderr.write(`${req.method} ${req.url} range=${h["x-ms-documentdb-partitionkeyrangeid"] ?? "-"} ` +
        `cont=${(h["x-ms-continuation"] ?? "-").slice(0, 80)} -> ${reply.status} ${reply.headers?.["x-ms-substatus"] ?? ""} ` +
        `ru=${reply.charge} next=${String(reply.headers?.["x-ms-continuation"] ?? "-").slice(0, 80)}\n`);
    }
    send(res, reply);
  } catch (err) {
    process.stderr.write(`layer.mjs: ${req.method} ${req.url}: ${err.stack}\n`);
    if (!res.headersSent) send(res, failure(500, "InternalServerError", `ranges layer: ${err.message}`));
    else res.destroy();
  }
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.on("error", (err) => {
  process.stderr.write(`layer.mjs: ${err.message}\n`);
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
  process.stdout.write(`listening https://${args.host}:${bound} -> ${args.upstream} (${ranges} ranges, ` +
    `${throughput.autoscaleMax ?? throughput.offerThroughput} RU/s, latency ${latencyMs} ms${aad ? ", Entra ID only" : ""})\n`);
});

closeOnSignals(server, "layer.mjs", () => upstream.close());
