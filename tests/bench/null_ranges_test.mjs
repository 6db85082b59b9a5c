#!/usr/bin/env node
// The null backend's partition key ranges (ctest bench/null-backend-ranges), checked against the
// ranges layer's own code (deploy/local/ranges/epk.mjs: the SDK's hash V2 and the layer's
// boundaries), not against the backend's C++:
//  - pkranges lists K ranges with the layer's bounds; the container says hash V2;
//  - the K pinned scans together return every note exactly once (their union is the unpinned
//    scan), each note in the range its EPK falls into, pages of x-ms-max-item-count notes;
//  - COUNT(1) pinned counts the range, unpinned the container; a continuation of another range
//    and an unknown range answer 400; bulk batches pinned to a range are acknowledged per
//    operation; every answer carries x-ms-request-charge;
//  - --latency-ms waits per connection: K requests on K connections overlap their latency.
//
//   node null_ranges_test.mjs NULL_BACKEND SOURCE_DIR
import { execFileSync, spawn } from "node:child_process";
import assert from "node:assert/strict";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nullBackend, source] = process.argv.slice(2);
if (!nullBackend || !source) {
  console.error("usage: node null_ranges_test.mjs NULL_BACKEND SOURCE_DIR");
  process.exit(2);
}
const { hashV2PartitionKey, initialBoundaries, inRange } = await import(
  pathToFileURL(path.join(source, "deploy/local/ranges/epk.mjs")).href
);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "null-ranges-"));
const children = [];
execFileSync(path.join(source, "deploy/local/cosmos.sh"), ["cert", work], { stdio: "inherit" });
const ca = fs.readFileSync(path.join(work, "cert.pem"));

async function startBackend(extra) {
  const child = spawn(nullBackend, ["--cert", path.join(work, "cert.pem"), "--key",
    path.join(work, "key.pem"), "--port", "0", ...extra], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const port = await new Promise((resolve, reject) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = /listening on port (\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", (code) => reject(new Error(`null_backend exited with ${code}`)));
  });
  return { port, agent: () => new https.Agent({ keepAlive: true, maxSockets: 1, ca }) };
}

function call(backend, agent, method, route, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const request = https.request({ host: "127.0.0.1", servername: "localhost", port: backend.port,
      method, path: route, agent, headers }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => {
        assert.ok(response.headers["x-ms-request-charge"], `${method} ${route}: no request charge`);
        resolve({ status: response.statusCode, headers: response.headers, body: JSON.parse(text) });
      });
    });
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const docs = "/dbs/bench/colls/notes/docs";
const selectAll = { query: "SELECT * FROM c WHERE c.productId = @productId",
  parameters: [{ name: "@productId", value: "notelett" }] };
const countAll = { ...selectAll, query: "SELECT VALUE COUNT(1) FROM c WHERE c.productId = @productId" };
const queryHeaders = (page, range, continuation) => ({
  "content-type": "application/query+json", "x-ms-documentdb-isquery": "True",
  "x-ms-max-item-count": String(page),
  ...(range === undefined ? { "x-ms-documentdb-query-enablecrosspartition": "True" }
    : { "x-ms-documentdb-partitionkeyrangeid": range }),
  ...(continuation ? { "x-ms-continuation": continuation } : {}),
});

/// Every page of a query: { ids, pages: [sizes], epks: [[id, workspaceId]] }.
async function scan(backend, agent, page, range) {
  const notes = [];
  const pages = [];
  let continuation;
  do {
    const reply = await call(backend, agent, "POST", docs, queryHeaders(page, range, continuation), selectAll);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    pages.push(reply.body.Documents.length);
    notes.push(...reply.body.Documents);
    continuation = reply.headers["x-ms-continuation"];
  } while (continuation);
  return { notes, pages };
}

async function checkRanges() {
  const documents = 2003; // 201 workspaces, the last one short
  const k = 4;
  const page = 100;
  const backend = await startBackend(["--documents", String(documents), "--ranges", String(k)]);
  const agent = backend.agent();

  const listed = await call(backend, agent, "GET", "/dbs/bench/colls/notes/pkranges");
  assert.deepEqual(listed.body.PartitionKeyRanges.map((r) => ({ id: r.id, min: r.minInclusive,
    max: r.maxExclusive, parents: r.parents })),
  initialBoundaries(k).map((b, i) => ({ id: String(i), min: b.min, max: b.max, parents: [] })));
  const container = await call(backend, agent, "GET", "/dbs/bench/colls/notes");
  assert.deepEqual(container.body.partitionKey, { paths: ["/workspaceId"], kind: "Hash", version: 2 });

  const whole = await scan(backend, agent, page);
  const wholeIds = whole.notes.map((n) => n.id);
  assert.equal(wholeIds.length, documents);
  assert.equal(new Set(wholeIds).size, documents);

  const ranges = listed.body.PartitionKeyRanges;
  const pinned = await Promise.all(ranges.map((r) => scan(backend, backend.agent(), page, r.id)));
  const seen = new Map();
  for (const [i, range] of ranges.entries()) {
    const { notes, pages } = pinned[i];
    assert.ok(notes.length > 0, `range ${range.id} is empty`);
    assert.ok(pages.slice(0, -1).every((n) => n === page), `range ${range.id} pages ${pages}`);
    assert.ok(pages.at(-1) > 0 && pages.at(-1) <= page, `range ${range.id} last page ${pages.at(-1)}`);
    for (const note of notes) {
      assert.ok(!seen.has(note.id), `${note.id} in range ${seen.get(note.id)} and ${range.id}`);
      seen.set(note.id, range.id);
      const epk = hashV2PartitionKey([note.workspaceId]);
      assert.ok(inRange(epk, range.minInclusive, range.maxExclusive),
        `${note.id} (${note.workspaceId}, EPK ${epk}) is not in range ${range.id}`);
    }
    const count = await call(backend, agent, "POST", docs, queryHeaders(page, range.id), countAll);
    assert.deepEqual(count.body.Documents, [notes.length], `COUNT(1) of range ${range.id}`);
    assert.equal(count.headers["x-ms-continuation"], undefined);
  }
  assert.deepEqual([...seen.keys()].sort(), [...wholeIds].sort());
  const countWhole = await call(backend, agent, "POST", docs, queryHeaders(page), countAll);
  assert.deepEqual(countWhole.body.Documents, [documents]);

  const first = await call(backend, agent, "POST", docs, queryHeaders(page, "0"), selectAll);
  const foreign = await call(backend, agent, "POST", docs,
    queryHeaders(page, "1", first.headers["x-ms-continuation"]), selectAll);
  assert.equal(foreign.status, 400, "range 1 took range 0's continuation");
  const unknown = await call(backend, agent, "POST", docs, queryHeaders(page, String(k)), selectAll);
  assert.equal(unknown.status, 400, "a range that does not exist was served");

  const operations = [0, 1, 2].map((i) => ({ operationType: "Replace", id: `note-${i}` }));
  const bulk = await call(backend, agent, "POST", docs, { "x-ms-cosmos-is-batch-request": "True",
    "x-ms-cosmos-batch-atomic": "False", "x-ms-documentdb-partitionkeyrangeid": "2" }, operations);
  assert.deepEqual(bulk.body.map((r) => r.statusCode), [200, 200, 200]);
  console.log(`ranges: ${ranges.map((r, i) => `${r.id}=${pinned[i].notes.length}`).join(" ")}`);
}

async function checkLatencyOverlaps() {
  const latency = 400;
  const k = 4;
  const backend = await startBackend(["--documents", "100", "--ranges", String(k),
    "--latency-ms", String(latency)]);
  const agents = Array.from({ length: k }, () => backend.agent());
  const round = () => Promise.all(agents.map((agent, i) =>
    call(backend, agent, "POST", docs, queryHeaders(10, String(i)), selectAll)));
  await round(); // connections and TLS handshakes
  const started = performance.now();
  await round();
  const elapsed = performance.now() - started;
  // Serialized waits would take k * latency; overlapping ones about one latency.
  assert.ok(elapsed >= latency - 5, `answered in ${elapsed} ms, before the latency`);
  assert.ok(elapsed < ((k + 1) / 2) * latency, `${k} requests on ${k} connections took ${elapsed} ms`);
  console.log(`latency: ${k} x ${latency} ms requests in parallel took ${Math.round(elapsed)} ms`);
}

try {
  await checkRanges();
  await checkLatencyOverlaps();
  console.log("null backend ranges: ok");
} finally {
  for (const child of children) child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
}
