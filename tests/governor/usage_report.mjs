#!/usr/bin/env node
// What the ranges layer charged, as issue 14's "Done when" measures it: the mean RU/s over the
// active span, the highest 5-second window, requests and 429s, for one or more containers and a
// client class, between two times. Reads the layer's GET /_layer/stats/usage
// (deploy/local/ranges/usage.mjs; the layer keeps the last 10 minutes).
//
//   node usage_report.mjs --endpoint LAYER_URL --ca FILE --collection dbs/D/colls/C [--collection ...]
//        [--since T] [--until T] [--ua backfilld|other|all] [--budget RU] [--seconds]
// T: milliseconds since the epoch or an ISO 8601 time. Prints one JSON object:
// {meanRuPerSecond, max5sRuPerSecond, throttled, requests, throttledFraction, requestCharge,
//  activeSpanMs, from, to, ua, collections[, budget, meanOverBudget, max5sOverBudget][, seconds]}
// (with --budget, the two ratios to it: 1.05 is 5 % over). Exit 1 when the layer refuses
// (its error printed), 2 on bad arguments.
import fs from "node:fs";
import https from "node:https";
import { parseArgs } from "node:util";

const kUsage = `usage: node usage_report.mjs --endpoint LAYER_URL --ca FILE --collection dbs/D/colls/C [--collection ...]
       [--since MS|ISO] [--until MS|ISO] [--ua backfilld|other|all] [--budget RU/S] [--seconds]`;

function die(message, code = 2) {
  process.stderr.write(`usage_report.mjs: ${message}\n${code === 2 ? `${kUsage}\n` : ""}`);
  process.exit(code);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      endpoint: { type: "string" }, ca: { type: "string" }, collection: { type: "string", multiple: true },
      since: { type: "string" }, until: { type: "string" }, ua: { type: "string", default: "all" },
      budget: { type: "string" }, seconds: { type: "boolean" }, help: { type: "boolean", short: "h" },
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
for (const flag of ["endpoint", "ca", "collection"]) if (!args[flag]) die(`--${flag} is required`);
if (!["backfilld", "other", "all"].includes(args.ua)) die(`--ua must be backfilld, other or all, got ${args.ua}`);
for (const link of args.collection) {
  if (!/^\/?dbs\/[^/]+\/colls\/[^/]+\/?$/.test(link)) die(`--collection must look like dbs/DB/colls/CONTAINER, got ${link}`);
}

/// Milliseconds since the epoch from digits or an ISO 8601 time.
function time(name) {
  const text = args[name];
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) die(`--${name} must be ms since the epoch or an ISO 8601 time, got ${text}`);
  return ms;
}
const since = time("since");
const until = time("until");
if (since !== undefined && until !== undefined && until <= since) die("--until must be after --since");
let budget;
if (args.budget !== undefined) {
  budget = Number(args.budget);
  if (!(budget > 0)) die(`--budget must be a positive number of RU/s, got ${args.budget}`);
}
let ca;
try {
  ca = fs.readFileSync(args.ca);
} catch (err) {
  die(`--ca: ${err.message}`);
}

const url = new URL("/_layer/stats/usage", args.endpoint);
for (const link of args.collection) url.searchParams.append("collection", link);
if (since !== undefined) url.searchParams.set("since", String(since));
if (until !== undefined) url.searchParams.set("until", String(until));
url.searchParams.set("ua", args.ua);

const answer = await new Promise((resolve, reject) => {
  const request = https.get(url, { ca, timeout: 10_000 }, (response) => {
    let text = "";
    response.on("data", (chunk) => (text += chunk));
    response.on("end", () => resolve({ status: response.statusCode, text }));
  });
  request.on("timeout", () => request.destroy(new Error("no answer within 10 s")));
  request.on("error", reject);
}).catch((err) => die(`${url.origin}: ${err.message}`, 1));
let body;
try {
  body = JSON.parse(answer.text);
} catch {
  die(`${url.origin} answered ${answer.status} with no JSON: ${answer.text.slice(0, 200)}`, 1);
}
if (answer.status !== 200) die(`the layer answered ${answer.status}: ${body.message ?? answer.text}`, 1);
if (typeof body.total?.requests !== "number" || !Array.isArray(body.seconds)) {
  die(`${url.origin} answered no usage summary (a layer older than /_layer/stats/usage?): ${answer.text.slice(0, 200)}`, 1);
}

const ratio = (x) => Math.round((x / budget) * 10000) / 10000;
const report = {
  meanRuPerSecond: body.meanRuPerSecond,
  max5sRuPerSecond: body.max5sRuPerSecond,
  throttled: body.total.throttled,
  requests: body.total.requests,
  throttledFraction: body.throttledFraction,
  requestCharge: body.total.requestCharge,
  activeSpanMs: body.activeSpanMs,
  from: body.from,
  to: body.to,
  ua: body.ua,
  collections: body.collections,
  ...(budget === undefined ? {} : { budget, meanOverBudget: ratio(body.meanRuPerSecond), max5sOverBudget: ratio(body.max5sRuPerSecond) }),
  ...(args.seconds ? { seconds: body.seconds } : {}),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
