// The identity fakes (deploy/local/identity: issuer.mjs, vault.mjs; the ranges layer's
// --require-aad) are faithful to what the official SDKs expect of Entra ID, Key Vault and an
// Entra-only Cosmos account: unchanged SDK code paths, only endpoint options pointed at the
// fakes, get tokens (client secret, workload identity, managed identity over IMDS and App
// Service), read secrets (current and pinned versions), unwrap keys (real RSA-OAEP-256 both
// ways) and read and write Cosmos documents with Entra tokens, while wrong secrets, bad
// assertions, denied objects, master keys and expired tokens are refused in the shapes the SDKs
// parse. Needs the `cosmos` fixture (BACKFILLD_TEST_COSMOS_DIR) and
// NODE_EXTRA_CA_CERTS=$BACKFILLD_TEST_COSMOS_DIR/cert.pem (the SDKs use the default trust store):
//   D=build/local-cosmos; NODE_EXTRA_CA_CERTS=$D/cert.pem BACKFILLD_TEST_COSMOS_DIR=$D \
//     node --test tests/interop/identity_sdk_test.mjs
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const localDir = fileURLToPath(new URL("../../deploy/local/", import.meta.url));
const require = createRequire(`${localDir}package.json`);
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const { CosmosClient } = await load("@azure/cosmos");
const { ClientSecretCredential, WorkloadIdentityCredential } = await load("@azure/identity");
const { SecretClient } = await load("@azure/keyvault-secrets");
const { KeyClient, CryptographyClient } = await load("@azure/keyvault-keys");
const { makeVerifier } = await import(pathToFileURL(`${localDir}identity/verify_token.mjs`).href);

const stateDir = process.env.BACKFILLD_TEST_COSMOS_DIR;
assert.ok(stateDir, "BACKFILLD_TEST_COSMOS_DIR must name the local server's state dir");
const certFile = path.resolve(stateDir, "cert.pem");
assert.equal(path.resolve(process.env.NODE_EXTRA_CA_CERTS ?? ""), certFile,
  `NODE_EXTRA_CA_CERTS must be ${certFile}: the SDKs trust the local certificate only through it`);
const ca = fs.readFileSync(certFile);
const serverEndpoint = fs.readFileSync(`${stateDir}/${fs.existsSync(`${stateDir}/server-endpoint`) ? "server-endpoint" : "endpoint"}`, "utf8").trim();
const masterKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DLjmxqJO9ZWV9wldkBPn4sIOs/bYXmyPGTBZrMm7LJSBEw==";

const tenantId = "3c2f8f4e-1111-4222-8333-944445555666";
const app = { id: "a1b2c3d4-0000-4000-8000-000000000001", secret: crypto.randomBytes(18).toString("base64url") };
const workloadApp = "a1b2c3d4-0000-4000-8000-000000000002";
const managedId = "a1b2c3d4-0000-4000-8000-000000000003";
const identityHeader = crypto.randomBytes(12).toString("hex");
const dekValues = [crypto.randomBytes(32).toString("base64"), crypto.randomBytes(32).toString("base64")];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "identity-sdk-"));
const federatedFile = path.join(work, "federated-token");
fs.writeFileSync(federatedFile, `${crypto.randomBytes(24).toString("base64url")}\n`);
fs.writeFileSync(path.join(work, "secrets.json"), JSON.stringify({ "dek-k1": dekValues }));

const children = [];
let issuerUrl;
let imdsUrl;
let authority;
let vaultUrl;
let layerUrl;
const dbName = `identity-${process.pid}-${Date.now()}`;

/// Starts a node script; resolves with the URLs its stdout names once it prints "listening URL".
function start(script, args) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      const match = /listening (https:\/\/\S+)/.exec(text);
      if (match) resolve({ url: match[1], imds: /imds (http:\/\/\S+)/.exec(text)?.[1] });
    });
    child.on("exit", (code) => reject(new Error(`${path.basename(script)} exited with ${code}`)));
  });
}

/// A JSON admin call to one of the fakes.
async function admin(base, method, route, body) {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(`${base}${route}`, { method, ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve(JSON.parse(text)));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const secretCredential = () => new ClientSecretCredential(tenantId, app.id, app.secret, { authorityHost: issuerUrl, disableInstanceDiscovery: true });
// The vault's challenge names resource https://vault.azure.net while the vault is 127.0.0.1: the
// SDKs' domain check would refuse it, so it is turned off (the test below shows it is needed).
const vaultOptions = { disableChallengeResourceVerification: true };

before(async () => {
  ({ url: issuerUrl, imds: imdsUrl } = await start(`${localDir}identity/issuer.mjs`, [
    "--cert", certFile, "--key", `${stateDir}/key.pem`, "--tenant", tenantId, "--client", `${app.id}:${app.secret}`,
    "--client", workloadApp, "--federated-token-file", federatedFile, "--managed-identity", managedId,
    "--identity-header", identityHeader, "--http-port-file", path.join(work, "imds-port")]));
  authority = `${issuerUrl}/${tenantId}`;
  ({ url: vaultUrl } = await start(`${localDir}identity/vault.mjs`, [
    "--cert", certFile, "--key", `${stateDir}/key.pem`, "--authority", authority,
    "--secrets-file", path.join(work, "secrets.json"), "--rsa-key", "kek"]));
  ({ url: layerUrl } = await start(`${localDir}ranges/layer.mjs`, [
    "--upstream", serverEndpoint, "--cert", certFile, "--key", `${stateDir}/key.pem`, "--ranges", "2",
    "--throughput", "100000", "--require-aad", authority]));
});

after(async () => {
  for (const child of children) child.kill("SIGTERM");
  await new CosmosClient({ endpoint: serverEndpoint, key: masterKey }).database(dbName).delete().catch(() => {});
  fs.rmSync(work, { recursive: true, force: true });
});

test("ClientSecretCredential gets a signed token for the scope's audience; a wrong secret gets AADSTS7000215", async () => {
  const { token, expiresOnTimestamp } = await secretCredential().getToken("https://vault.azure.net/.default");
  assert.ok(expiresOnTimestamp > Date.now() + 3000_000, "the SDK read expires_in");
  const checked = await makeVerifier({ authority }).verify(token, ["https://vault.azure.net"]);
  assert.ok(checked.ok, checked.message);
  assert.equal(checked.claims.appid, app.id);
  assert.equal(checked.claims.tid, tenantId);

  const wrong = new ClientSecretCredential(tenantId, app.id, "not-the-secret", { authorityHost: issuerUrl, disableInstanceDiscovery: true });
  // @azure/identity reports MSAL's ServerError (the AAD error JSON parsed) as AuthenticationRequiredError.
  await assert.rejects(wrong.getToken("https://vault.azure.net/.default"), (err) => {
    assert.equal(err.name, "AuthenticationRequiredError");
    assert.match(err.message, /invalid_client.*AADSTS7000215: Invalid client secret/s);
    return true;
  });
  const unknown = new ClientSecretCredential(tenantId, "ffffffff-0000-4000-8000-000000000000", "x", { authorityHost: issuerUrl, disableInstanceDiscovery: true });
  await assert.rejects(unknown.getToken("https://vault.azure.net/.default"), /AADSTS700016/);
});

test("a short token lifetime (/_issuer/config) makes the SDK fetch a new token on each call; the default caches", async () => {
  const credential = secretCredential();
  const count = async () => (await admin(issuerUrl, "GET", "/_issuer/stats")).tokens.client_secret;
  const n0 = await count();
  const a = await credential.getToken("https://cosmos.azure.com/.default");
  const b = await credential.getToken("https://cosmos.azure.com/.default");
  assert.equal(a.token, b.token, "a token valid for an hour is cached");
  assert.equal(await count(), n0 + 1);
  await admin(issuerUrl, "POST", "/_issuer/config", { tokenLifetimeS: 60 });
  try {
    const c = await credential.getToken("https://vault.azure.net/.default");
    const d = await credential.getToken("https://vault.azure.net/.default");
    assert.notEqual(c.token, d.token, "a token within MSAL's 5-minute refresh margin is fetched again");
    assert.ok(d.expiresOnTimestamp <= Date.now() + 61_000);
    assert.equal(await count(), n0 + 3);
  } finally {
    await admin(issuerUrl, "POST", "/_issuer/config", { tokenLifetimeS: 3600 });
  }
});

test("WorkloadIdentityCredential presents the federated token file and gets a token; another assertion is refused", async () => {
  const before = (await admin(issuerUrl, "GET", "/_issuer/stats")).tokens.client_assertion;
  const credential = new WorkloadIdentityCredential({ tenantId, clientId: workloadApp, tokenFilePath: federatedFile, authorityHost: issuerUrl, disableInstanceDiscovery: true });
  const { token } = await credential.getToken("https://cosmos.azure.com/.default");
  const checked = await makeVerifier({ authority }).verify(token, ["https://cosmos.azure.com"]);
  assert.ok(checked.ok, checked.message);
  assert.equal(checked.claims.appid, workloadApp);
  assert.equal((await admin(issuerUrl, "GET", "/_issuer/stats")).tokens.client_assertion, before + 1);

  const otherFile = path.join(work, "other-token");
  fs.writeFileSync(otherFile, "not-the-projected-token");
  const other = new WorkloadIdentityCredential({ tenantId, clientId: workloadApp, tokenFilePath: otherFile, authorityHost: issuerUrl, disableInstanceDiscovery: true });
  await assert.rejects(other.getToken("https://cosmos.azure.com/.default"), /AADSTS70021/);

  // A JWT the issuer minted for api://AzureADTokenExchange is accepted too (a projected service
  // account token stands in for Kubernetes' own); one for another audience is not.
  const { access_token: projected } = await admin(issuerUrl, "POST", "/_issuer/mint", { aud: "api://AzureADTokenExchange", sub: "system:serviceaccount:backfilld:backfilld" });
  fs.writeFileSync(otherFile, projected);
  const minted = new WorkloadIdentityCredential({ tenantId, clientId: workloadApp, tokenFilePath: otherFile, authorityHost: issuerUrl, disableInstanceDiscovery: true });
  assert.ok((await minted.getToken("https://cosmos.azure.com/.default")).token);
  const { access_token: wrongAud } = await admin(issuerUrl, "POST", "/_issuer/mint", { aud: "https://cosmos.azure.com" });
  fs.writeFileSync(otherFile, wrongAud);
  const wrong = new WorkloadIdentityCredential({ tenantId, clientId: workloadApp, tokenFilePath: otherFile, authorityHost: issuerUrl, disableInstanceDiscovery: true });
  await assert.rejects(wrong.getToken("https://cosmos.azure.com/.default"), /AADSTS700212/);
});

/// Runs ManagedIdentityCredential in a child with `env` (MSAL picks its source from the environment once per process).
function managedIdentityToken(env, clientId) {
  const script = `
    import { createRequire } from "node:module";
    import { pathToFileURL } from "node:url";
    const require = createRequire(${JSON.stringify(`${localDir}package.json`)});
    const { ManagedIdentityCredential } = await import(pathToFileURL(require.resolve("@azure/identity")).href);
    const credential = new ManagedIdentityCredential(${clientId ? JSON.stringify({ clientId }) : ""});
    try {
      const { token } = await credential.getToken("https://vault.azure.net/.default");
      process.stdout.write(JSON.stringify({ token }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: err.message }));
    }`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
    !["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_SERVER_THUMBPRINT"].includes(name)));
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`child exited ${code}: ${text}`))));
  });
}

test("ManagedIdentityCredential gets tokens from the fake IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST) and App Service endpoint", async () => {
  const stats0 = (await admin(issuerUrl, "GET", "/_issuer/stats")).tokens;
  const imds = await managedIdentityToken({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsUrl });
  assert.ok(imds.token, imds.error);
  const checked = await makeVerifier({ authority }).verify(imds.token, ["https://vault.azure.net"]);
  assert.ok(checked.ok, checked.message);
  assert.equal(checked.claims.oid, managedId);

  const appService = await managedIdentityToken({ IDENTITY_ENDPOINT: `${issuerUrl}/msi/token`, IDENTITY_HEADER: identityHeader }, managedId);
  assert.ok(appService.token, appService.error);
  assert.ok((await makeVerifier({ authority }).verify(appService.token, ["https://vault.azure.net"])).ok);
  const wrongHeader = await managedIdentityToken({ IDENTITY_ENDPOINT: `${issuerUrl}/msi/token`, IDENTITY_HEADER: "wrong" });
  assert.ok(wrongHeader.error, "a wrong X-IDENTITY-HEADER gets no token");

  const stats1 = (await admin(issuerUrl, "GET", "/_issuer/stats")).tokens;
  assert.equal(stats1.imds, stats0.imds + 1);
  // IMDS refuses a request without "Metadata: true" (what keeps SSRF from reading tokens).
  const { get } = await import("node:http");
  const refused = await new Promise((resolve, reject) => {
    get(`${imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    }).on("error", reject);
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, "invalid_request");
  assert.equal(stats1.app_service, stats0.app_service + 1);
});

test("SecretClient reads the current and a pinned version, sees a rotation, and gets 404/403 in Key Vault's shape", async () => {
  const client = new SecretClient(vaultUrl, secretCredential(), vaultOptions);
  const current = await client.getSecret("dek-k1");
  assert.equal(current.value, dekValues[1]);
  assert.match(current.properties.id, new RegExp(`^${vaultUrl}/secrets/dek-k1/[0-9a-f]{32}$`));
  const versions = [];
  for await (const p of client.listPropertiesOfSecretVersions("dek-k1").byPage()) versions.push(...p);
  assert.equal(versions.length, 2);
  assert.ok(versions.some((v) => v.version === current.properties.version));

  const stats = await admin(vaultUrl, "GET", "/_vault/stats");
  assert.ok(stats.unauthenticated >= 1, "the SDK started from the 401 challenge");

  const first = await admin(vaultUrl, "PUT", "/_vault/secrets/pinned", { value: "first" });
  await client.setSecret("pinned", "second");
  const pinnedVersion = first.id.split("/").at(-1);
  assert.equal((await client.getSecret("pinned", { version: pinnedVersion })).value, "first");
  assert.equal((await client.getSecret("pinned")).value, "second");

  await assert.rejects(client.getSecret("no-such-secret"), (err) => err.statusCode === 404 && err.code === "SecretNotFound");
  await assert.rejects(client.getSecret("pinned", { version: "0".repeat(32) }), (err) => err.statusCode === 404 && err.code === "SecretNotFound");
  await admin(vaultUrl, "POST", "/_vault/deny", { path: "secrets/pinned" });
  await assert.rejects(client.getSecret("pinned"), (err) => err.statusCode === 403 && err.code === "Forbidden");
  await admin(vaultUrl, "POST", "/_vault/deny", { path: "secrets/pinned", deny: false });

  await admin(vaultUrl, "POST", "/_vault/fail", { status: 503, count: 1 });
  assert.equal((await client.getSecret("pinned")).value, "second", "the SDK retries an injected 503");
  assert.equal((await admin(vaultUrl, "GET", "/_vault/stats")).injected, 1);
});

test("without disableChallengeResourceVerification the SDK refuses the local vault's challenge (why the option is set)", async () => {
  const client = new SecretClient(vaultUrl, secretCredential());
  await assert.rejects(client.getSecret("dek-k1"), /challenge resource|does not match/i);
});

test("a token for another audience is refused by the vault", async () => {
  const { access_token: token } = await admin(issuerUrl, "POST", "/_issuer/mint", { aud: "https://cosmos.azure.com" });
  const client = new SecretClient(vaultUrl, { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) }, vaultOptions);
  await assert.rejects(client.getSecret("dek-k1"), (err) => err.statusCode === 401 && /audience/.test(err.message));
});

test("CryptographyClient unwraps RSA-OAEP-256 through the vault: node:crypto's wrap and the vault's own", async () => {
  const credential = secretCredential();
  const keys = new KeyClient(vaultUrl, credential, vaultOptions);
  const kek = await keys.getKey("kek");
  const publicKey = crypto.createPublicKey({ key: { kty: "RSA", n: Buffer.from(kek.key.n).toString("base64url"), e: Buffer.from(kek.key.e).toString("base64url") }, format: "jwk" });
  const dek = crypto.randomBytes(32);
  const wrapped = crypto.publicEncrypt({ key: publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, dek);

  const client = new CryptographyClient(kek.id, credential, vaultOptions);
  const before = (await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/unwrapkey"] ?? 0;
  const unwrapped = await client.unwrapKey("RSA-OAEP-256", wrapped);
  assert.deepEqual(Buffer.from(unwrapped.result), dek);
  assert.equal(unwrapped.keyID, kek.id);
  assert.equal((await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/unwrapkey"], before + 1, "unwrapped by the vault");

  // The SDK wraps RSA-OAEP-256 remotely (its local provider knows only RSA1_5 and RSA-OAEP).
  const wraps = (await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/wrapkey"] ?? 0;
  const rewrapped = await client.wrapKey("RSA-OAEP-256", dek);
  assert.equal((await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/wrapkey"], wraps + 1, "wrapped by the vault");
  assert.deepEqual(Buffer.from((await client.unwrapKey("RSA-OAEP-256", rewrapped.result)).result), dek);
  await assert.rejects(client.unwrapKey("RSA-OAEP-256", crypto.randomBytes(256)), (err) => err.statusCode === 400);
});

test("the vault's wrapkey is real RSA-OAEP-256: node:crypto opens it with an imported key", async () => {
  const credential = secretCredential();
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  const asBytes = (v) => Buffer.from(v, "base64url");
  const keys = new KeyClient(vaultUrl, credential, vaultOptions);
  const imported = await keys.importKey("imported", {
    kty: "RSA", n: asBytes(jwk.n), e: asBytes(jwk.e), d: asBytes(jwk.d), p: asBytes(jwk.p), q: asBytes(jwk.q),
    dp: asBytes(jwk.dp), dq: asBytes(jwk.dq), qi: asBytes(jwk.qi),
  });
  const dek = crypto.randomBytes(32);
  const before = (await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/wrapkey"] ?? 0;
  // A wrap request straight to the REST API (the SDK may wrap locally with the public key).
  const { token } = await credential.getToken("https://vault.azure.net/.default");
  const { request } = await import("node:https");
  const wrapped = await new Promise((resolve, reject) => {
    const req = request(`${imported.id}/wrapkey?api-version=7.5`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ alg: "RSA-OAEP-256", value: dek.toString("base64url") }));
  });
  assert.equal(wrapped.kid, imported.id);
  assert.equal((await admin(vaultUrl, "GET", "/_vault/stats")).byOperation["POST keys/wrapkey"], before + 1);
  const opened = crypto.privateDecrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, Buffer.from(wrapped.value, "base64url"));
  assert.deepEqual(opened, dek);
});

test("@azure/cosmos with aadCredentials reads and writes through the Entra-only layer; master keys and expired tokens are refused", async () => {
  const scopes = [];
  const inner = secretCredential();
  const credential = { getToken: (scope, options) => (scopes.push(...[scope].flat()), inner.getToken(scope, options)) };
  const client = new CosmosClient({ endpoint: layerUrl, aadCredentials: credential });
  const { database } = await client.databases.createIfNotExists({ id: dbName });
  const { container } = await database.containers.createIfNotExists({ id: "notes", partitionKey: { paths: ["/pk"] } });
  await container.items.create({ id: "n1", pk: "t1", body: "hello" });
  const { resource } = await container.item("n1", "t1").read();
  assert.equal(resource.body, "hello");
  const { resources } = await container.items.query("SELECT * FROM c").fetchAll();
  assert.deepEqual(resources.map((d) => d.id), ["n1"]);
  assert.ok(scopes.length > 0 && scopes.every((s) => s === `${layerUrl}/.default`), `the SDK asked for the account scope: ${scopes}`);
  const aad = (await admin(layerUrl, "GET", "/_layer/stats")).aad;
  assert.ok(aad.accepted >= 4);

  const keyClient = new CosmosClient({ endpoint: layerUrl, key: masterKey });
  await assert.rejects(keyClient.database(dbName).container("notes").item("n1", "t1").read(), (err) => {
    assert.equal(err.code, 403);
    assert.match(err.message, /Local Authorization is disabled/);
    return true;
  });

  const { access_token: expired } = await admin(issuerUrl, "POST", "/_issuer/mint", { aud: layerUrl, lifetimeS: -60 });
  const stale = new CosmosClient({ endpoint: layerUrl, aadCredentials: { getToken: async () => ({ token: expired, expiresOnTimestamp: Date.now() + 3600_000 }) } });
  await assert.rejects(stale.database(dbName).container("notes").item("n1", "t1").read(), (err) => {
    assert.equal(err.code, 401);
    assert.match(err.message, /expired/);
    return true;
  });
  const { access_token: otherAudience } = await admin(issuerUrl, "POST", "/_issuer/mint", { aud: "https://vault.azure.net" });
  const wrongAud = new CosmosClient({ endpoint: layerUrl, aadCredentials: { getToken: async () => ({ token: otherAudience, expiresOnTimestamp: Date.now() + 3600_000 }) } });
  await assert.rejects(wrongAud.database(dbName).container("notes").item("n1", "t1").read(), (err) => err.code === 401 && /audience/.test(err.message));
  const after = (await admin(layerUrl, "GET", "/_layer/stats")).aad.refused;
  assert.ok(after.local_auth >= 1 && after.expired >= 1 && after.audience >= 1, JSON.stringify(after));
});
