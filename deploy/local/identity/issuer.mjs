#!/usr/bin/env node
// A fake Microsoft Entra ID token issuer over HTTPS, faithful enough for the official SDKs
// (@azure/identity, MSAL) and backfilld: RS256 JWT access tokens signed with a fresh RSA key per
// run, an OIDC discovery document and its JWKS, client credentials with a secret or with a
// federated assertion (workload identity), and the managed identity endpoints (IMDS and App
// Service's IDENTITY_ENDPOINT). Proven with the SDKs by tests/interop/identity_sdk_test.mjs.
//
//   node issuer.mjs --cert F --key F [--port 0] [--host 127.0.0.1] [--port-file F]
//     [--tenant TENANT_ID] [--client ID:SECRET]... [--client ID]... [--clients-file F]
//     [--federated-token-file F] [--managed-identity CLIENT_ID]... [--identity-header VALUE]
//     [--token-lifetime-s 3600] [--http-port-file F] [--resource R]...
// Prints "listening https://HOST:PORT" (and "imds http://HOST:PORT" with --http-port-file).
// Authority (what AZURE_AUTHORITY_HOST / authorityHost names): https://HOST:PORT; the tenant's
// authority: https://HOST:PORT/TENANT. --client ID without a secret is a federated-only app.
// --clients-file: {"clients": [{"id": "...", "secret": "..."}]}. The federated assertion is
// accepted when it equals the file's content (read per request, so tests can rotate it) or is a
// JWT minted here for audience api://AzureADTokenExchange. The first --managed-identity is the
// system-assigned one. --http-port-file adds a plain-HTTP listener (real IMDS is plain HTTP).
// --resource limits the audiences tokens are issued for (others: AADSTS500011); default any.
// Routes:
//   POST /{tenant}/oauth2/v2.0/token          grant_type=client_credentials, client_id, scope=R/.default,
//                                             client_secret | client_assertion(+_type jwt-bearer)
//   GET  /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys,
//        /common/discovery/instance (MSAL's instance discovery)
//   GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=ID]  (Metadata: true)
//   GET  /msi/token?api-version=2019-08-01&resource=R[&client_id=ID]   (X-IDENTITY-HEADER; IDENTITY_ENDPOINT)
// Admin: GET /_issuer/stats; POST /_issuer/mint {"aud", "lifetimeS", ...claims} -> {"access_token"}
// (negative lifetimeS: already expired); POST /_issuer/config {"tokenLifetimeS": N};
// POST /_issuer/fail {"status": 503, "count": N} (the next N token requests fail).
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import { parseArgs } from "node:util";
import { closeOnSignals } from "../shutdown.mjs";
import { b64url, integerArg, listen, readBody, sendJson, writePortFile } from "./http.mjs";
import { decodeJwt, verifySignature } from "./verify_token.mjs";

const usage = "usage: node issuer.mjs --cert FILE --key FILE [--port 0] [--host 127.0.0.1] [--port-file FILE] " +
  "[--tenant ID] [--client ID[:SECRET]]... [--clients-file FILE] [--federated-token-file FILE] " +
  "[--managed-identity CLIENT_ID]... [--identity-header VALUE] [--token-lifetime-s 3600] [--http-port-file FILE] [--resource R]...";

function fail(message) {
  process.stderr.write(`issuer.mjs: ${message}\n${usage}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cert: { type: "string" }, key: { type: "string" }, port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" }, "port-file": { type: "string" },
      tenant: { type: "string", default: "72f988bf-0000-4000-8000-00000000000a" },
      client: { type: "string", multiple: true, default: [] }, "clients-file": { type: "string" },
      "federated-token-file": { type: "string" },
      "managed-identity": { type: "string", multiple: true, default: ["5b0a8c1e-0000-4000-8000-00000000000b"] },
      "identity-header": { type: "string" }, "token-lifetime-s": { type: "string", default: "3600" },
      "http-port-file": { type: "string" }, resource: { type: "string", multiple: true, default: [] }, help: { type: "boolean", short: "h" },
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
if (!args.cert || !args.key) fail("--cert and --key are required");
const port = integerArg(fail, "port", args.port, 0, 65535);
let tokenLifetimeS = integerArg(fail, "token-lifetime-s", args["token-lifetime-s"], 1, 86_400 * 7);
const tenant = args.tenant;
if (!/^[A-Za-z0-9.-]+$/.test(tenant) || ["common", "organizations", "consumers"].includes(tenant)) {
  fail(`--tenant must be a tenant id or domain, got ${tenant}`);
}

/** client id -> secret (null: federated only). */
const clients = new Map();
for (const spec of args.client) {
  const at = spec.indexOf(":");
  const id = at < 0 ? spec : spec.slice(0, at);
  if (!id) fail(`--client wants ID or ID:SECRET, got ${spec}`);
  clients.set(id, at < 0 ? null : spec.slice(at + 1));
}
if (args["clients-file"]) {
  try {
    for (const c of JSON.parse(fs.readFileSync(args["clients-file"], "utf8")).clients ?? []) {
      if (typeof c.id !== "string") throw new Error("every client needs a string id");
      clients.set(c.id, typeof c.secret === "string" ? c.secret : null);
    }
  } catch (err) {
    fail(`--clients-file ${args["clients-file"]}: ${err.message}`);
  }
}
const managedIdentities = args["managed-identity"];

let cert;
let key;
try {
  cert = fs.readFileSync(args.cert);
  key = fs.readFileSync(args.key);
} catch (err) {
  fail(err.message);
}

// A fresh signing key per run: tokens of an earlier run never verify.
const signing = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const kid = crypto.createHash("sha256").update(signing.publicKey.export({ type: "spki", format: "der" })).digest("base64url").slice(0, 27);
const jwks = { keys: [{ ...signing.publicKey.export({ format: "jwk" }), kid, kty: "RSA", use: "sig", alg: "RS256" }] };
let issuerBase; // https://HOST:PORT once listening: the iss claim does not depend on the Host a client used
const issuerOf = () => `${issuerBase}/${tenant}/v2.0`;

const stats = { tokens: { client_secret: 0, client_assertion: 0, imds: 0, app_service: 0, minted: 0 }, refused: 0, failed: 0, requests: 0 };
let failPlan = { status: 0, count: 0 };

/// A signed RS256 JWT with the standard claims plus `extra`; lifetime may be negative (expired).
function mint({ aud, sub, appid, lifetimeS = tokenLifetimeS, extra = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    aud, iss: issuerOf(), iat: now, nbf: now, exp: now + lifetimeS, tid: tenant, oid: sub, sub, appid, azp: appid,
    idtyp: "app", ver: "2.0", uti: crypto.randomBytes(16).toString("base64url"), ...extra,
  };
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = crypto.sign("sha256", Buffer.from(`${head}.${body}`), signing.privateKey);
  return { token: `${head}.${body}.${b64url(sig)}`, claims };
}

// The shape of Entra ID's errors: error, error_description starting with the AADSTS code, error_codes.
function aadError(res, status, error, code, description) {
  stats.refused += 1;
  const traceId = crypto.randomUUID();
  const correlationId = crypto.randomUUID();
  const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  sendJson(res, status, {
    error, error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code], timestamp, trace_id: traceId, correlation_id: correlationId,
    error_uri: `${issuerBase}/error?code=${code}`,
  });
}

/// scope "R/.default" (MSAL may add openid profile offline_access) -> the audience R, or null.
function audienceOfScope(scope) {
  const scopes = String(scope ?? "").split(/\s+/).filter((s) => s && !["openid", "profile", "offline_access"].includes(s));
  if (scopes.length !== 1 || !scopes[0].endsWith("/.default")) return null;
  return scopes[0].slice(0, -"/.default".length);
}

const resourceKnown = (aud) => args.resource.length === 0 || args.resource.includes(aud);
const unknownResource = (res, aud) => aadError(res, 400, "invalid_resource", 500011,
  `The resource principal named ${aud} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);

function tokenResponse(res, aud, clientId, grant) {
  const { token } = mint({ aud, sub: clientId, appid: clientId });
  stats.tokens[grant] += 1;
  sendJson(res, 200, { token_type: "Bearer", expires_in: tokenLifetimeS, ext_expires_in: tokenLifetimeS, access_token: token });
}

/// Whether a federated assertion is acceptable: the configured file's content, or our own JWT for api://AzureADTokenExchange.
function federatedAssertionOk(assertion) {
  if (args["federated-token-file"]) {
    try {
      if (assertion === fs.readFileSync(args["federated-token-file"], "utf8").trim()) return { ok: true };
    } catch {
      // a missing file accepts nothing from it; our own JWTs are still checked below
    }
  }
  const decoded = decodeJwt(assertion);
  if (!decoded || decoded.header.kid !== kid || !verifySignature(decoded, jwks.keys[0])) {
    return { ok: false, code: 70021, why: "No matching federated identity record found for presented assertion." };
  }
  const now = Math.floor(Date.now() / 1000);
  if (decoded.claims.aud !== "api://AzureADTokenExchange") {
    return { ok: false, code: 700212, why: `No matching federated identity record found for presented assertion audience '${decoded.claims.aud}'.` };
  }
  if (!(decoded.claims.exp > now)) return { ok: false, code: 700024, why: "Client assertion is not within its valid time range." };
  return { ok: true };
}

async function token(req, res, pathTenant) {
  const form = new URLSearchParams((await readBody(req)).toString());
  const need = (name) => form.get(name) ?? null;
  for (const name of ["grant_type", "client_id", "scope"]) {
    if (!need(name)) return aadError(res, 400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`);
  }
  if (need("grant_type") !== "client_credentials") {
    return aadError(res, 400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${need("grant_type")}'.`);
  }
  const clientId = need("client_id");
  if (!clients.has(clientId)) {
    return aadError(res, 400, "unauthorized_client", 700016,
      `Application with identifier '${clientId}' was not found in the directory '${pathTenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
  }
  const aud = audienceOfScope(need("scope"));
  if (!aud) {
    return aadError(res, 400, "invalid_scope", 1002012,
      `The provided value for scope ${need("scope")} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  if (!resourceKnown(aud)) return unknownResource(res, aud);
  if (need("client_assertion") !== null) {
    if (need("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return aadError(res, 400, "invalid_request", 50027, `Invalid client_assertion_type '${need("client_assertion_type")}'.`);
    }
    const checked = federatedAssertionOk(need("client_assertion"));
    if (!checked.ok) return aadError(res, 400, "invalid_client", checked.code, checked.why);
    return tokenResponse(res, aud, clientId, "client_assertion");
  }
  if (need("client_secret") === null) {
    return aadError(res, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  if (clients.get(clientId) === null || need("client_secret") !== clients.get(clientId)) {
    return aadError(res, 401, "invalid_client", 7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
  }
  return tokenResponse(res, aud, clientId, "client_secret");
}

/// The managed identity a query names (client_id, object_id/principal_id, msi_res_id/mi_res_id), or the system-assigned one.
function managedIdentityOf(query) {
  const named = query.get("client_id") ?? query.get("object_id") ?? query.get("principal_id") ?? query.get("msi_res_id") ?? query.get("mi_res_id");
  if (named === null) return managedIdentities[0];
  return managedIdentities.includes(named) ? named : null;
}

/// IMDS and App Service: GET with resource=R (a trailing /.default is tolerated).
function managedIdentityToken(req, res, url, style) {
  const plain = (status, error, description) => {
    stats.refused += 1;
    sendJson(res, status, { error, error_description: description });
  };
  if (style === "imds" && req.headers.metadata !== "true") return plain(400, "invalid_request", "Required metadata header not specified");
  if (style === "app_service" && (!args["identity-header"] || req.headers["x-identity-header"] !== args["identity-header"])) {
    return plain(401, "unauthorized", "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER");
  }
  const apiVersion = url.searchParams.get("api-version");
  if (!apiVersion) return plain(400, "invalid_request", "Required query variable 'api-version' is missing");
  const resource = url.searchParams.get("resource");
  if (!resource) return plain(400, "invalid_request", "Required query variable 'resource' is missing");
  const clientId = managedIdentityOf(url.searchParams);
  if (!clientId) return plain(400, "invalid_request", "Identity not found");
  const aud = resource.replace(/\/\.default$/, "");
  if (!resourceKnown(aud)) return unknownResource(res, aud);
  const { token, claims } = mint({ aud, sub: clientId, appid: clientId });
  stats.tokens[style] += 1;
  const common = { access_token: token, expires_on: String(claims.exp), resource: aud, token_type: "Bearer", client_id: clientId };
  if (style === "app_service") return sendJson(res, 200, common);
  return sendJson(res, 200, { ...common, refresh_token: "", expires_in: String(tokenLifetimeS), ext_expires_in: String(tokenLifetimeS), not_before: String(claims.nbf) });
}

function discovery(req, pathTenant) {
  const base = `https://${req.headers.host}`;
  return {
    token_endpoint: `${base}/${pathTenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/${pathTenant}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: issuerOf(),
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/${pathTenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${pathTenant}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/${pathTenant}/oauth2/v2.0/logout`,
    tenant_region_scope: null, cloud_instance_name: "local", cloud_graph_host_name: "graph.local", msgraph_host: "graph.local",
  };
}

async function admin(req, res, segments) {
  const body = async () => JSON.parse((await readBody(req)).toString() || "{}");
  if (req.method === "GET" && segments[1] === "stats") {
    return sendJson(res, 200, { ...stats, tokenLifetimeS, tenant, issuer: issuerOf(), failPending: failPlan.count });
  }
  if (req.method === "POST" && segments[1] === "mint") {
    const { aud, lifetimeS = tokenLifetimeS, sub = managedIdentities[0], appid = sub, ...extra } = await body();
    if (typeof aud !== "string" || !Number.isInteger(lifetimeS)) return sendJson(res, 400, { error: 'mint wants {"aud": "...", "lifetimeS": N}' });
    const made = mint({ aud, sub, appid, lifetimeS, extra });
    stats.tokens.minted += 1;
    return sendJson(res, 200, { access_token: made.token, claims: made.claims });
  }
  if (req.method === "POST" && segments[1] === "config") {
    const { tokenLifetimeS: lifetime } = await body();
    if (!Number.isInteger(lifetime) || lifetime < 1) return sendJson(res, 400, { error: 'config wants {"tokenLifetimeS": N >= 1}' });
    tokenLifetimeS = lifetime;
    return sendJson(res, 200, { tokenLifetimeS });
  }
  if (req.method === "POST" && segments[1] === "fail") {
    const { status = 503, count = 1 } = await body();
    if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(count) || count < 0) {
      return sendJson(res, 400, { error: 'fail wants {"status": 400..599, "count": N}' });
    }
    failPlan = { status, count };
    return sendJson(res, 200, failPlan);
  }
  return sendJson(res, 404, { error: `no admin route ${req.method} /${segments.join("/")}` });
}

async function handle(req, res) {
  const url = new URL(req.url, "https://issuer");
  const segments = url.pathname.split("/").filter(Boolean);
  // MSAL asks IMDS for ".../oauth2/token/": trailing slashes do not matter here.
  const pathname = `/${segments.join("/")}`;
  if (segments[0] === "_issuer") return admin(req, res, segments);
  stats.requests += 1;
  const isTokenRequest = pathname.toLowerCase() === "/msi/token" || pathname === "/metadata/identity/oauth2/token" ||
    (segments[1] === "oauth2" && segments.at(-1) === "token");
  if (isTokenRequest && failPlan.count > 0) {
    failPlan.count -= 1;
    stats.failed += 1;
    return aadError(res, failPlan.status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.");
  }
  if (req.method === "GET" && pathname === "/metadata/identity/oauth2/token") return managedIdentityToken(req, res, url, "imds");
  if (req.method === "GET" && pathname.toLowerCase() === "/msi/token") return managedIdentityToken(req, res, url, "app_service");
  if (req.method === "GET" && pathname === "/common/discovery/instance") {
    const host = req.headers.host;
    return sendJson(res, 200, {
      tenant_discovery_endpoint: `https://${host}/${tenant}/v2.0/.well-known/openid-configuration`, "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }
  const pathTenant = segments[0];
  if (pathTenant !== undefined && pathTenant !== tenant && !["common", "organizations"].includes(pathTenant)) {
    return aadError(res, 400, "invalid_request", 90002,
      `Tenant '${pathTenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  const rest = segments.slice(1).join("/");
  if (req.method === "GET" && (rest === "v2.0/.well-known/openid-configuration" || rest === ".well-known/openid-configuration")) {
    return sendJson(res, 200, discovery(req, pathTenant));
  }
  if (req.method === "GET" && (rest === "discovery/v2.0/keys" || rest === "discovery/keys")) return sendJson(res, 200, jwks);
  if (req.method === "POST" && rest === "oauth2/v2.0/token") {
    if (pathTenant !== tenant) return aadError(res, 400, "invalid_request", 90002, `Tenant '${pathTenant}' cannot issue app tokens; name the tenant.`);
    return token(req, res, pathTenant);
  }
  return sendJson(res, 404, { error: "not_found", error_description: `issuer.mjs has no route ${req.method} ${url.pathname}` });
}

const serve = async (req, res) => {
  try {
    await handle(req, res);
  } catch (err) {
    process.stderr.write(`issuer.mjs: ${req.method} ${url(req)}: ${err.stack}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: err.message });
    else res.destroy();
  }
};
// Query strings may hold a resource, never a secret; still, log the path only.
const url = (req) => req.url.split("?")[0];

// The plain listener (if any) first, so the HTTPS port file, written last, means both are up.
let plainPort = null;
if (args["http-port-file"]) {
  const plain = http.createServer(serve);
  plainPort = await listen(plain, { port: 0, host: args.host, portFile: args["http-port-file"], name: "issuer.mjs" });
  closeOnSignals(plain, "issuer.mjs (http)");
}
const server = https.createServer({ cert, key, keepAlive: true }, serve);
const bound = await listen(server, { port, host: args.host, name: "issuer.mjs" });
issuerBase = `https://${args.host.includes(":") ? `[${args.host}]` : args.host}:${bound}`;
if (args["port-file"]) writePortFile(args["port-file"], bound);
if (plainPort !== null) process.stdout.write(`imds http://${args.host}:${plainPort}\n`);
process.stdout.write(`listening ${issuerBase} (tenant ${tenant}, ${clients.size} clients, tokens live ${tokenLifetimeS}s)\n`);
closeOnSignals(server, "issuer.mjs");
