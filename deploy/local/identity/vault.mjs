#!/usr/bin/env node
// A fake Azure Key Vault over HTTPS, faithful enough for @azure/keyvault-secrets,
// @azure/keyvault-keys and backfilld: versioned secrets, RSA keys with real RSA-OAEP-256
// wrapkey/unwrapkey (node:crypto), bearer tokens of issuer.mjs checked (audience
// https://vault.azure.net), the 401 challenge the SDKs start from, 403 for denied objects, and
// Key Vault's error shape. Proven with the SDKs by tests/interop/identity_sdk_test.mjs.
//
//   node vault.mjs --cert F --key F --authority https://HOST:PORT/TENANT [--port 0]
//     [--host 127.0.0.1] [--port-file F] [--secrets-file F] [--rsa-key NAME]... [--deny PATH]...
//     [--allow-oid OID]...
// Prints "listening https://HOST:PORT" (the vault URL). --authority is issuer.mjs's tenant
// authority (what the challenge names and tokens are checked against; its CA must be trusted:
// NODE_EXTRA_CA_CERTS or the same cert). --secrets-file: {"NAME": "value" | ["v1", "v2", ...]}
// (the last is current). --rsa-key NAME creates an RSA-2048 key. --deny secrets/NAME or
// keys/NAME answers 403 for it; --allow-oid limits callers to those object ids (default: any).
// Routes (all need ?api-version= and Authorization: Bearer <token>):
//   GET  /secrets/{name}[/{version}]     -> {value, id, attributes, tags, contentType?}
//   GET  /secrets, /keys, /secrets/{name}/versions, /keys/{name}/versions -> {value: [...], nextLink: null}
//   PUT  /secrets/{name}  {"value", "contentType"?, "tags"?}  -> a new current version
//   POST /keys/{name}/create  {"kty": "RSA", "key_size": 2048?}; PUT /keys/{name} {"key": JWK with d,p,q,dp,dq,qi}
//   GET  /keys/{name}[/{version}]        -> {key: {kid, kty, key_ops, n, e}, attributes, tags}
//   POST /keys/{name}[/{version}]/wrapkey|unwrapkey|encrypt|decrypt  {"alg": "RSA-OAEP-256"|"RSA-OAEP", "value": b64url}
//        -> {"kid", "value": b64url}
// Admin (no auth): GET /_vault/stats; POST /_vault/fail {"status": 503, "count": 3} (the next N
// data requests fail); POST /_vault/deny {"path": "secrets/NAME", "deny": true|false};
// PUT /_vault/secrets/{name} {"value"} (sets a version without a token; answers its id).
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { parseArgs } from "node:util";
import { closeOnSignals } from "../shutdown.mjs";
import { b64url, fromB64url, integerArg, listen, readBody, sendJson } from "./http.mjs";
import { makeVerifier } from "./verify_token.mjs";

const usage = "usage: node vault.mjs --cert FILE --key FILE --authority https://HOST:PORT/TENANT [--port 0] " +
  "[--host 127.0.0.1] [--port-file FILE] [--secrets-file FILE] [--rsa-key NAME]... [--deny PATH]... [--allow-oid OID]...";

function fail(message) {
  process.stderr.write(`vault.mjs: ${message}\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cert: { type: "string" }, key: { type: "string" }, authority: { type: "string" },
      port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" },
      "port-file": { type: "string" }, "secrets-file": { type: "string" },
      "rsa-key": { type: "string", multiple: true, default: [] }, deny: { type: "string", multiple: true, default: [] },
      "allow-oid": { type: "string", multiple: true, default: [] }, help: { type: "boolean", short: "h" },
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
if (!args.cert || !args.key || !args.authority) fail("--cert, --key and --authority are required");
if (!/^https:\/\/[^/]+\/[^/]+\/?$/.test(args.authority)) fail(`--authority must be https://HOST:PORT/TENANT, got ${args.authority}`);
const authority = args.authority.replace(/\/+$/, "");
const port = integerArg(fail, "port", args.port, 0, 65535);
let cert;
let key;
try {
  cert = fs.readFileSync(args.cert);
  key = fs.readFileSync(args.key);
} catch (err) {
  fail(err.message);
}

const kResource = "https://vault.azure.net";
// Key Vault's own application id is also a valid audience for it.
const kAudiences = [kResource, "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"];
const verifier = makeVerifier({ authority, ca: cert });
const newVersion = () => crypto.randomBytes(16).toString("hex");
const nowS = () => Math.floor(Date.now() / 1000);
const attributes = (created) => ({ enabled: true, created, updated: created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 });

/** name -> [{version, value, contentType, tags, created}] (last is current). */
const secrets = new Map();
/** name -> [{version, privateKey, jwk, created}] (last is current). */
const keys = new Map();
const denied = new Set(args.deny);
const stats = { requests: 0, unauthenticated: 0, invalidToken: 0, forbidden: 0, injected: 0, byOperation: {}, byStatus: {} };
let failPlan = { status: 0, count: 0 };

function addSecret(name, value, extra = {}) {
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw new Error(`secret name ${name} must be 1-127 letters, digits or dashes`);
  if (typeof value !== "string") throw new Error(`secret ${name}: value must be a string`);
  const version = { version: newVersion(), value, contentType: extra.contentType, tags: extra.tags ?? {}, created: nowS() };
  secrets.set(name, [...(secrets.get(name) ?? []), version]);
  return version;
}

function addKey(name, privateKey) {
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw new Error(`key name ${name} must be 1-127 letters, digits or dashes`);
  const pub = crypto.createPublicKey(privateKey).export({ format: "jwk" });
  if (pub.kty !== "RSA") throw new Error(`key ${name}: only RSA keys are modelled`);
  const version = { version: newVersion(), privateKey, jwk: { kty: "RSA", n: pub.n, e: pub.e }, created: nowS() };
  keys.set(name, [...(keys.get(name) ?? []), version]);
  return version;
}

try {
  if (args["secrets-file"]) {
    for (const [name, values] of Object.entries(JSON.parse(fs.readFileSync(args["secrets-file"], "utf8")))) {
      for (const value of Array.isArray(values) ? values : [values]) addSecret(name, value);
    }
  }
  for (const name of args["rsa-key"]) addKey(name, crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
} catch (err) {
  fail(err.message);
}

const kvError = (res, status, code, message, headers = {}, inner) => {
  sendJson(res, status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, headers);
};
const notFound = (res, kind, name, version) =>
  kvError(res, 404, kind === "secrets" ? "SecretNotFound" : "KeyNotFound",
    `A ${kind === "secrets" ? "secret" : "key"} with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. ` +
    "If you recently deleted this secret you may be able to recover it using the correct recovery command. " +
    "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182");

function secretBundle(vaultUrl, name, v) {
  return {
    value: v.value, id: `${vaultUrl}/secrets/${name}/${v.version}`, ...(v.contentType ? { contentType: v.contentType } : {}),
    attributes: attributes(v.created), tags: v.tags,
  };
}

function keyBundle(vaultUrl, name, v) {
  return {
    key: { kid: `${vaultUrl}/keys/${name}/${v.version}`, kty: "RSA", key_ops: ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"], ...v.jwk },
    attributes: { ...attributes(v.created), exportable: false }, tags: {},
  };
}

/// GET /{kind} (every item's current version, no version in its id) or /{kind}/{name}/versions: one page, nextLink null.
function list(vaultUrl, kind, name) {
  const map = kind === "secrets" ? secrets : keys;
  const entries = name ? (map.get(name) ?? []).map((v) => [name, v, true]) : [...map].map(([n, versions]) => [n, versions.at(-1), false]);
  const idField = kind === "secrets" ? "id" : "kid";
  const value = entries.map(([n, v, withVersion]) => ({
    [idField]: `${vaultUrl}/${kind}/${n}${withVersion ? `/${v.version}` : ""}`, attributes: attributes(v.created), tags: v.tags ?? {},
    ...(v.contentType ? { contentType: v.contentType } : {}),
  }));
  return { value, nextLink: null };
}

const find = (map, name, version) => {
  const versions = map.get(name);
  if (!versions) return null;
  return version ? versions.find((v) => v.version === version) ?? null : versions.at(-1);
};

/// wrapkey/encrypt (public key) and unwrapkey/decrypt (private key) with RSA-OAEP-256 or RSA-OAEP.
function keyOperation(res, vaultUrl, name, v, op, body) {
  const hashes = { "RSA-OAEP-256": "sha256", "RSA-OAEP": "sha1" };
  if (!hashes[body.alg]) return kvError(res, 400, "BadParameter", `Algorithm '${body.alg}' is not supported here; use RSA-OAEP-256 or RSA-OAEP.`);
  const input = fromB64url(body.value);
  if (!input || input.length === 0) return kvError(res, 400, "BadParameter", "Property 'value' must be a non-empty base64url string.");
  const params = { key: v.privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashes[body.alg] };
  let output;
  try {
    output = op === "wrapkey" || op === "encrypt" ? crypto.publicEncrypt(params, input) : crypto.privateDecrypt(params, input);
  } catch {
    return kvError(res, 400, "BadParameter", op === "wrapkey" || op === "encrypt" ? "The value is too long for this key." : "Invalid ciphertext.");
  }
  return sendJson(res, 200, { kid: `${vaultUrl}/keys/${name}/${v.version}`, value: b64url(output) });
}

async function authorize(req, res, vaultUrl, objectPath, action) {
  const challenge = { "www-authenticate": `Bearer authorization="${authority}", resource="${kResource}"` };
  const header = req.headers.authorization ?? "";
  const match = /^Bearer (\S+)$/i.exec(header);
  if (!match) {
    stats.unauthenticated += 1;
    kvError(res, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", challenge);
    return null;
  }
  const checked = await verifier.verify(match[1], kAudiences);
  if (!checked.ok) {
    stats.invalidToken += 1;
    const codes = { audience: "AKV10022", issuer: "AKV10032", expired: "AKV10018", not_yet_valid: "AKV10018" };
    kvError(res, 401, "Unauthorized", `${codes[checked.reason] ?? "AKV10005"}: Token validation failed: ${checked.message}.`, challenge);
    return null;
  }
  const oid = checked.claims.oid;
  if (denied.has(objectPath) || (args["allow-oid"].length > 0 && !args["allow-oid"].includes(oid))) {
    stats.forbidden += 1;
    kvError(res, 403, "Forbidden",
      "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n" +
      `Caller: appid=${checked.claims.appid};oid=${oid};iss=${checked.claims.iss}\r\nAction: '${action}'\r\nResource: '${vaultUrl}/${objectPath}'\r\n` +
      "Assignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n", {}, "ForbiddenByRbac");
    return null;
  }
  return checked.claims;
}

async function data(req, res, url, segments) {
  const vaultUrl = `https://${req.headers.host}`;
  const [kind, name, third, fourth] = segments;
  const op = ["wrapkey", "unwrapkey", "encrypt", "decrypt", "create"].includes(fourth ?? third) ? fourth ?? third : null;
  const version = op ? (fourth ? third : undefined) : third;
  const operation = `${req.method} ${kind}${op ? `/${op}` : ""}`;
  stats.byOperation[operation] = (stats.byOperation[operation] ?? 0) + 1;
  if (!url.searchParams.get("api-version")) return kvError(res, 400, "BadParameter", "The 'api-version' query parameter is missing.");
  const listing = req.method === "GET" && (segments.length === 1 || (segments.length === 3 && third === "versions"));
  if ((kind !== "secrets" && kind !== "keys") || (!name && !listing) || segments.length > (op ? 4 : 3)) {
    return kvError(res, 404, "NotFound", `No route ${req.method} ${url.pathname}.`);
  }
  if (failPlan.count > 0) {
    failPlan.count -= 1;
    stats.injected += 1;
    const headers = failPlan.status === 429 || failPlan.status === 503 ? { "retry-after": "0" } : {};
    return kvError(res, failPlan.status, failPlan.status === 429 ? "Throttled" : "ServiceUnavailable", "Injected failure (vault.mjs /_vault/fail).", headers);
  }
  const body = await readBody(req);
  const actions = { secrets: "Microsoft.KeyVault/vaults/secrets", keys: "Microsoft.KeyVault/vaults/keys" };
  const action = `${actions[kind]}/${op ?? (req.method === "GET" ? "read" : "write")}/action`;
  if (!(await authorize(req, res, vaultUrl, `${kind}/${name}`, action))) return;
  let json = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString());
    } catch {
      return kvError(res, 400, "BadParameter", "The request body is not valid JSON.");
    }
  }
  try {
    if (listing) return sendJson(res, 200, list(vaultUrl, kind, name));
    if (kind === "secrets" && req.method === "GET" && !op) {
      const v = find(secrets, name, version);
      return v ? sendJson(res, 200, secretBundle(vaultUrl, name, v)) : notFound(res, kind, name, version);
    }
    if (kind === "secrets" && req.method === "PUT" && !version && !op) {
      return sendJson(res, 200, secretBundle(vaultUrl, name, addSecret(name, json.value, json)));
    }
    if (kind === "keys" && req.method === "GET" && !op) {
      const v = find(keys, name, version);
      return v ? sendJson(res, 200, keyBundle(vaultUrl, name, v)) : notFound(res, kind, name, version);
    }
    if (kind === "keys" && req.method === "POST" && op === "create" && !version) {
      if (json.kty !== "RSA" && json.kty !== "RSA-HSM") return kvError(res, 400, "BadParameter", `Key type '${json.kty}' is not modelled; use RSA.`);
      const modulusLength = json.key_size ?? 2048;
      if (![2048, 3072, 4096].includes(modulusLength)) return kvError(res, 400, "BadParameter", "key_size must be 2048, 3072 or 4096.");
      return sendJson(res, 200, keyBundle(vaultUrl, name, addKey(name, crypto.generateKeyPairSync("rsa", { modulusLength }).privateKey)));
    }
    if (kind === "keys" && req.method === "PUT" && !version && !op) {
      const privateKey = crypto.createPrivateKey({ key: { ...json.key, kty: "RSA" }, format: "jwk" });
      return sendJson(res, 200, keyBundle(vaultUrl, name, addKey(name, privateKey)));
    }
    if (kind === "keys" && req.method === "POST" && op && op !== "create") {
      const v = find(keys, name, version);
      return v ? keyOperation(res, vaultUrl, name, v, op, json) : notFound(res, kind, name, version);
    }
  } catch (err) {
    return kvError(res, 400, "BadParameter", err.message);
  }
  return kvError(res, 405, "MethodNotAllowed", `${req.method} is not allowed on ${url.pathname}.`);
}

async function admin(req, res, segments) {
  const body = JSON.parse((await readBody(req)).toString() || "{}");
  if (req.method === "GET" && segments[1] === "stats") return sendJson(res, 200, { ...stats, failPending: failPlan.count, denied: [...denied] });
  if (req.method === "POST" && segments[1] === "fail") {
    const { status = 503, count = 1 } = body;
    if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(count) || count < 0) {
      return sendJson(res, 400, { error: 'fail wants {"status": 400..599, "count": N}' });
    }
    failPlan = { status, count };
    return sendJson(res, 200, failPlan);
  }
  if (req.method === "POST" && segments[1] === "deny") {
    if (!/^(secrets|keys)\/[0-9a-zA-Z-]+$/.test(body.path ?? "")) return sendJson(res, 400, { error: 'deny wants {"path": "secrets/NAME" | "keys/NAME", "deny": true}' });
    if (body.deny === false) denied.delete(body.path);
    else denied.add(body.path);
    return sendJson(res, 200, { denied: [...denied] });
  }
  if (req.method === "PUT" && segments[1] === "secrets" && segments[2]) {
    try {
      const v = addSecret(segments[2], body.value, body);
      return sendJson(res, 200, { id: `https://${req.headers.host}/secrets/${segments[2]}/${v.version}` });
    } catch (err) {
      return sendJson(res, 400, { error: err.message });
    }
  }
  return sendJson(res, 404, { error: `no admin route ${req.method} /${segments.join("/")}` });
}

const server = https.createServer({ cert, key, keepAlive: true }, async (req, res) => {
  const url = new URL(req.url, "https://vault");
  try {
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (segments[0] === "_vault") return await admin(req, res, segments);
    stats.requests += 1;
    res.on("finish", () => (stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] ?? 0) + 1));
    await data(req, res, url, segments);
  } catch (err) {
    process.stderr.write(`vault.mjs: ${req.method} ${url.pathname}: ${err.message}\n`);
    if (!res.headersSent) kvError(res, 500, "InternalServerError", `vault.mjs: ${err.message}`);
    else res.destroy();
  }
});
const bound = await listen(server, { port, host: args.host, portFile: args["port-file"], name: "vault.mjs" });
process.stdout.write(`listening https://${args.host}:${bound} (authority ${authority}, ${secrets.size} secrets, ${keys.size} keys)\n`);
closeOnSignals(server, "vault.mjs");
