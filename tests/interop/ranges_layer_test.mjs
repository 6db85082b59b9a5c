// The ranges layer (deploy/local/ranges) is faithful to what the official SDK expects of the
// service: the same scenario (cross-partition queries, point operations, bulk) run with
// @azure/cosmos through the layer (4 ranges) and directly against the local server gives the
// same results, before and after a split forced in the middle of a paged query; the layer's
// hash matches the published V2 vectors; one hot range is throttled (429/3200) while the others
// are not. Needs the `cosmos` fixture: BACKFILLD_TEST_COSMOS_DIR holds endpoint and cert.pem.
//   BACKFILLD_TEST_COSMOS_DIR=build/local-cosmos node --test tests/interop/ranges_layer_test.mjs
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const localDir = fileURLToPath(new URL("../../deploy/local/", import.meta.url));
const require = createRequire(`${localDir}package.json`);
const { CosmosClient } = await import(pathToFileURL(require.resolve("@azure/cosmos")).href);
const { hashV2PartitionKey } = await import(pathToFileURL(`${localDir}ranges/epk.mjs`).href);

const stateDir = process.env.BACKFILLD_TEST_COSMOS_DIR;
assert.ok(stateDir, "BACKFILLD_TEST_COSMOS_DIR must name the local server's state dir");
const serverEndpoint = fs.readFileSync(`${stateDir}/endpoint`, "utf8").trim();
const ca = fs.readFileSync(`${stateDir}/cert.pem`);
const key = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DLjmxqJO9ZWV9wldkBPn4sIOs/bYXmyPGTBZrMm7LJSBEw==";
const dbName = `ranges-${process.pid}-${Date.now()}`;

let layer;
let layerEndpoint;
const clientFor = (endpoint, retryOptions) => new CosmosClient({ endpoint, key, agent: new https.Agent({ ca, keepAlive: true }),
  ...(retryOptions ? { connectionPolicy: { retryOptions } } : {}) });

/// Starts the layer on a free port; resolves with its endpoint once it says it listens.
function startLayer() {
  layer = spawn(process.execPath, [`${localDir}ranges/layer.mjs`, "--upstream", serverEndpoint,
    "--cert", `${stateDir}/cert.pem`, "--key", `${stateDir}/key.pem`, "--ranges", "4", "--throughput", "100000"],
  { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let text = "";
    layer.stdout.on("data", (chunk) => {
      text += chunk;
      const match = /listening (https:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
    layer.on("exit", (code) => reject(new Error(`layer exited with ${code}`)));
  });
}

/// A JSON call to the layer's admin or REST endpoints (no SDK): { status, headers, body }.
function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = https.request(`${layerEndpoint}${path}`, { method, ca, headers: { "content-type": "application/json", ...headers } }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : null }));
    });
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

// What must be equal on both sides: the data, not the server-made identifiers and timestamps.
const strip = (doc) => {
  if (!doc || typeof doc !== "object") return doc;
  const { _rid, _self, _etag, _ts, _attachments, ...rest } = doc;
  return rest;
};
const byId = (docs) => docs.map(strip).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const seedDocs = () => Array.from({ length: 120 }, (_, i) => ({
  id: `d${String(i).padStart(3, "0")}`, pk: i % 7 === 0 ? i : `tenant-${i % 13}`, n: i, body: "x".repeat(200 + (i % 5) * 300),
}));

async function settle(promise) {
  try {
    const r = await promise;
    return { status: r.statusCode, body: strip(r.resource) };
  } catch (err) {
    return { status: err.code };
  }
}

/// The scenario, run once through the layer and once directly. onPage(n) runs after the n-th
/// page of the paged query (the layer's side splits a range there). Returns a transcript.
async function scenario(container, onPage, planned) {
  const t = {};
  // With the query plan the SDK pins one query per range (pkranges, x-ms-documentdb-
  // partitionkeyrangeid, the layer's filtered short pages and continuations).
  // The local server has no query plans (it runs the plan request as a query), so its side of
  // the comparison runs the SDK's default path; the layer answers plans itself.
  t.planned = byId((await container.items.query("SELECT * FROM c", { maxItemCount: 6, forceQueryPlan: planned }).fetchAll()).resources);
  // Without it (the SDK's default), the query goes unpinned to the gateway; paged, with a split
  // forced after page 2. Not the pinned path: @azure/cosmos 4.9.3 (and 4.10.1) loop forever on a
  // 410/1002 in a pinned parallel query (DocumentProducer.bufferMore buffers the error and the
  // execution context never refreshes its ranges), on the service as through the layer.
  const iterator = container.items.query("SELECT * FROM c", { maxItemCount: 5 });
  const paged = [];
  let pages = 0;
  while (iterator.hasMoreResults()) {
    const { resources } = await iterator.fetchNext();
    paged.push(...(resources ?? []));
    pages += 1;
    await onPage(pages);
  }
  t.paged = byId(paged);
  t.all = byId((await container.items.query("SELECT * FROM c").fetchAll()).resources);
  const ops = [];
  for (const doc of seedDocs().slice(0, 12)) {
    const item = container.item(doc.id, doc.pk);
    const read = await item.read();
    ops.push({ read: strip(read.resource) });
    ops.push({ replace: await settle(item.replace({ ...read.resource, n: -doc.n }, { accessCondition: { type: "IfMatch", condition: read.resource._etag } })) });
    ops.push({ staleReplace: await settle(item.replace({ ...read.resource, n: 0 }, { accessCondition: { type: "IfMatch", condition: read.resource._etag } })) });
  }
  for (const doc of seedDocs().slice(12, 18)) ops.push({ upsert: await settle(container.items.upsert({ ...doc, up: true })) });
  for (let i = 0; i < 4; i += 1) ops.push({ upsertNew: await settle(container.items.upsert({ id: `new${i}`, pk: `tenant-new-${i}`, n: i })) });
  for (const doc of seedDocs().slice(18, 22)) {
    ops.push({ delete: await settle(container.item(doc.id, doc.pk).delete()) });
    ops.push({ readDeleted: await settle(container.item(doc.id, doc.pk).read()) });
  }
  t.ops = ops;
  const bulk = [
    ...seedDocs().slice(30, 60).map((doc) => ({ operationType: "Replace", id: doc.id, partitionKey: doc.pk, resourceBody: { ...doc, bulk: 1 } })),
    ...Array.from({ length: 20 }, (_, i) => ({ operationType: "Create", partitionKey: `bulk-${i}`, resourceBody: { id: `b${i}`, pk: `bulk-${i}` } })),
    ...seedDocs().slice(60, 70).map((doc) => ({ operationType: "Delete", id: doc.id, partitionKey: doc.pk })),
    { operationType: "Read", id: "missing", partitionKey: "nowhere" },
  ];
  const results = await container.items.executeBulkOperations(bulk);
  t.bulk = results.map((r) => ({ status: r.response?.statusCode ?? r.error?.code, body: strip(r.response?.resourceBody) }));
  t.final = byId((await container.items.query("SELECT * FROM c", { forceQueryPlan: planned, maxItemCount: 7 }).fetchAll()).resources);
  return t;
}

let layered;
let direct;
let stats;
before(async () => {
  layerEndpoint = await startLayer();
  const directClient = clientFor(serverEndpoint);
  const { database } = await directClient.databases.createIfNotExists({ id: dbName });
  await Promise.all(["viaLayer", "direct", "hot"].map(async (id) => {
    const { container } = await database.containers.createIfNotExists({ id, partitionKey: { paths: ["/pk"] } });
    await Promise.all(seedDocs().map((doc) => container.items.create(doc)));
  }));
  layered = clientFor(layerEndpoint).database(dbName);
  direct = directClient.database(dbName);
});

after(async () => {
  await clientFor(serverEndpoint).database(dbName).delete().catch(() => {});
  layer?.removeAllListeners("exit");
  layer?.kill("SIGTERM");
});

test("the layer's hash V2 gives the published vectors", () => {
  const vectors = [
    [["redmond"], "22E342F38A486A088463DFF7838A5963"], [[""], "32E9366E637A71B4E710384B2F4970A0"],
    [[null], "378867E4430E67857ACE5C908374FE16"], [[true], "0E711127C5B5A8E4726AC6DD306A3E59"],
    [[5], "19C08621B135968252FB34B4CF66F811"], [[5.5], "0E2EE47829D1AF775EEFB6540FD1D0ED"],
    [["a".repeat(110)], "0BA3E9CA8EE4C14538828D1612A4B652"],
  ];
  for (const [values, expected] of vectors) assert.equal(hashV2PartitionKey(values), expected, JSON.stringify(values));
});

test("pkranges: 4 contiguous ranges with string ids, container says hash version 2", async () => {
  const container = layered.container("viaLayer");
  const { resources } = await container.readPartitionKeyRanges().fetchAll();
  assert.deepEqual(resources.map((r) => r.id), ["0", "1", "2", "3"]);
  assert.equal(resources[0].minInclusive, "");
  assert.equal(resources[3].maxExclusive, "FF");
  for (let i = 1; i < 4; i += 1) assert.equal(resources[i].minInclusive, resources[i - 1].maxExclusive);
  assert.equal((await container.read()).resource.partitionKey.version, 2);
});

test("the SDK's queries, point operations and bulk through the layer equal the server's, across a split mid-query", async () => {
  const split = async (page) => {
    if (page !== 2) return;
    const r = await call("POST", "/_layer/split", { collection: `dbs/${dbName}/colls/viaLayer`, range: "0" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const viaLayer = await scenario(layered.container("viaLayer"), split, true);
  const viaServer = await scenario(direct.container("direct"), async () => {}, false);
  assert.equal(viaLayer.planned.length, 120);
  assert.deepEqual(viaLayer.paged, viaLayer.planned, "paged query across the split lost or repeated documents");
  assert.deepEqual(viaLayer, viaServer);
  stats = (await call("GET", "/_layer/stats")).body;
  const coll = stats.collections[`dbs/${dbName}/colls/viaLayer`];
  assert.deepEqual(Object.keys(coll.ranges).sort(), ["0", "1", "2", "3", "4", "5"]);
  assert.equal(coll.ranges["0"].status, "split");
  assert.deepEqual(coll.gone, { 0: ["4", "5"] });
  assert.ok(coll.ranges["4"].requests > 0 && coll.ranges["5"].requests > 0, "the children served nothing");
  const { resources } = await layered.container("viaLayer").readPartitionKeyRanges().fetchAll();
  assert.deepEqual(resources.filter((r) => r.parents.length).map((r) => [r.id, r.parents]), [["4", ["0"]], ["5", ["0"]]]);
});

test("pinned requests: 410/1002 from a split parent, children accept its continuation, others refuse it", async () => {
  const path = `/dbs/${dbName}/colls/direct/docs`;
  const query = (range, continuation) => call("POST", path, { query: "SELECT * FROM c", parameters: [] }, {
    "content-type": "application/query+json", "x-ms-documentdb-isquery": "True", "x-ms-documentdb-query-enablecrosspartition": "True",
    "x-ms-max-item-count": "10", "x-ms-documentdb-partitionkeyrangeid": range, ...(continuation ? { "x-ms-continuation": continuation } : {}) });
  const first = await query("1");
  assert.equal(first.status, 200);
  assert.ok(Number(first.headers["x-ms-request-charge"]) >= 2.5);
  const token = first.headers["x-ms-continuation"];
  assert.ok(token, "a first page of 10 out of ~118 documents has a continuation");
  await call("POST", "/_layer/split", { collection: `dbs/${dbName}/colls/direct`, range: "1" });
  const gone = await query("1", token);
  assert.equal(gone.status, 410);
  assert.equal(gone.headers["x-ms-substatus"], "1002");
  const seen = new Set();
  for (const child of ["4", "5"]) {
    for (let page = await query(child, token); ; page = await query(child, page.headers["x-ms-continuation"])) {
      assert.equal(page.status, 200, JSON.stringify(page.body));
      for (const doc of page.body.Documents) seen.add(doc.id);
      if (!page.headers["x-ms-continuation"]) break;
    }
  }
  const rest = (await query("1")).status === 410; // the parent stays gone
  assert.ok(rest);
  const refused = await query("2", token);
  assert.equal(refused.status, 400, "a continuation of range 1 must not be accepted by range 2");
  assert.ok(seen.size > 0);
});

test("one hot range is throttled (429/3200 with retry-after) while the others are not; the SDK retries", async () => {
  // Writers competing for one range's budget may each lose more than the SDK's default 9 tries.
  const container = clientFor(layerEndpoint, { maxRetryAttemptCount: 100, maxWaitTimeInSeconds: 60 }).database(dbName).container("hot");
  const { resource: offer } = await container.readOffer();
  assert.equal(offer.content.offerThroughput, 100000);
  const replaced = await call("PUT", `/offers/${offer.id}`, { ...offer, content: { offerThroughput: 400 } });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  // 400 RU/s over 4 ranges: 100 RU/s for the range of tenant-1. Upserting an existing 8 KB
  // document costs ~14 RU, so a client writing as fast as it can meets 429/3200 within a second.
  const big = (i) => ({ id: `big${i % 4}`, pk: "tenant-1", body: "y".repeat(8 * 1024), i });
  let raw;
  for (let i = 0; i < 100; i += 1) {
    raw = await call("POST", `/dbs/${dbName}/colls/hot/docs`, big(i), {
      "x-ms-documentdb-partitionkey": '["tenant-1"]', "x-ms-documentdb-is-upsert": "True" });
    if (raw.status === 429) break;
    assert.ok(raw.status < 300, JSON.stringify(raw.body));
    assert.ok(Number(raw.headers["x-ms-request-charge"]) > 7, "an 8 KB write costs more than 7 RU");
  }
  assert.equal(raw.status, 429, "100 upserts of 8 KB at full speed never exceeded 100 RU/s");
  assert.equal(raw.headers["x-ms-substatus"], "3200");
  assert.ok(Number(raw.headers["x-ms-retry-after-ms"]) > 0);
  assert.equal(raw.headers["x-ms-request-charge"], "0");
  // The SDK waits x-ms-retry-after-ms and retries: every write succeeds in the end.
  const writes = [];
  await Promise.all(Array.from({ length: 2 }, async (_, worker) => {
    for (let i = 0; i < 8; i += 1) writes.push(await container.items.upsert(big(worker * 10 + i)));
  }));
  assert.equal(writes.length, 16);
  assert.ok(writes.every((w) => w.statusCode === 200 || w.statusCode === 201));
  const coll = (await call("GET", "/_layer/stats")).body.collections[`dbs/${dbName}/colls/hot`];
  const throttled = Object.entries(coll.ranges).filter(([, r]) => r.throttled > 0).map(([id]) => id);
  assert.equal(throttled.length, 1, `exactly the hot range throttles: ${JSON.stringify(coll.ranges)}`);
});
