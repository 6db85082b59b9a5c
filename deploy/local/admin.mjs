#!/usr/bin/env node
// Minimal Cosmos DB REST client for the local stack: master-key auth, TLS verified against
// the CA file we generated, keep-alive. Used by cosmos.sh and imported by seed.mjs.
//
//   node admin.mjs --endpoint URL --ca FILE create-db DB
//   node admin.mjs --endpoint URL --ca FILE create-containers DB NAME:/pkpath [NAME:/pkpath ...]
//   node admin.mjs --endpoint URL --ca FILE query DB CONTAINER "SELECT ..."   (prints JSON array)
//   node admin.mjs --endpoint URL --ca FILE count DB CONTAINER ["WHERE ..."]
//   node admin.mjs selftest                                  (checks the published auth vectors)
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The Cosmos DB emulator's published master key; the local server checks no auth at all. */
export const kEmulatorKey =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";
export const kApiVersion = "2018-12-31";

/** Master-key Authorization header value (already URL-encoded), per COSMOS_NOTES.md. */
export function masterKeyAuth(verb, resourceType, resourceLink, date, key) {
  const text =
    `${verb.toLowerCase()}\n${resourceType.toLowerCase()}\n${resourceLink}\n` +
    `${date.toLowerCase()}\n\n`;
  const sig = crypto
    .createHmac("sha256", Buffer.from(key, "base64"))
    .update(text, "utf8")
    .digest("base64");
  return encodeURIComponent(`type=master&ver=1.0&sig=${sig}`);
}

/**
 * Partition key header value: JSON, with every non-ASCII character escaped as \uXXXX, because
 * HTTP header values cannot carry raw non-ASCII or control characters (JSON.stringify already
 * escapes the control characters). `undefined` means "document has no partition key value",
 * which Cosmos spells [{}].
 */
export function partitionKeyHeader(value) {
  if (value === undefined) return "[{}]";
  return JSON.stringify([value]).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A keep-alive HTTPS client for one endpoint; every request is signed and TLS-verified. */
export class CosmosClient {
  constructor({ endpoint, caFile, key = process.env.COSMOS_KEY || kEmulatorKey, maxSockets = 16 }) {
    this.base = new URL(endpoint);
    this.key = key;
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: fs.readFileSync(caFile),
      rejectUnauthorized: true,
    });
  }

  close() {
    this.agent.destroy();
  }

  /**
   * Sends one request. `path` is the URL path ("/dbs/x/colls/y/docs"); `resourceType` and
   * `resourceLink` are what gets signed. Resolves { status, headers, body } (body parsed JSON
   * when possible); rejects only on transport errors.
   */
  request({ method, path, resourceType, resourceLink, headers = {}, body, timeoutMs = 30_000 }) {
    const date = new Date().toUTCString();
    const payload = body === undefined ? undefined : Buffer.from(
      typeof body === "string" ? body : JSON.stringify(body), "utf8");
    const allHeaders = {
      "x-ms-version": kApiVersion,
      "x-ms-date": date,
      authorization: masterKeyAuth(method, resourceType, resourceLink, date, this.key),
      accept: "application/json",
      ...headers,
    };
    if (payload) {
      allHeaders["content-type"] ??= "application/json";
      allHeaders["content-length"] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: allHeaders,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // leave as text
            }
            resolve({ status: res.statusCode, headers: res.headers, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${path}`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  createDatabase(db) {
    return this.request({
      method: "POST", path: "/dbs", resourceType: "dbs", resourceLink: "", body: { id: db },
    });
  }

  createContainer(db, name, pkPath) {
    return this.request({
      method: "POST",
      path: `/dbs/${encodeURIComponent(db)}/colls`,
      resourceType: "colls",
      resourceLink: `dbs/${db}`,
      body: { id: name, partitionKey: { paths: [pkPath], kind: "Hash" } },
    });
  }

  /** Upsert one document; `pkValue` undefined = the document has no partition key value. */
  upsert(db, container, doc, pkValue) {
    return this.request({
      method: "POST",
      path: `/dbs/${encodeURIComponent(db)}/colls/${encodeURIComponent(container)}/docs`,
      resourceType: "docs",
      resourceLink: `dbs/${db}/colls/${container}`,
      headers: {
        "x-ms-documentdb-is-upsert": "True",
        "x-ms-documentdb-partitionkey": partitionKeyHeader(pkValue),
      },
      body: doc,
    });
  }

  /** Runs a cross-partition query to the end, following continuations; returns all documents. */
  async queryAll(db, container, query, parameters = [], pageSize = 1000) {
    const out = [];
    let continuation;
    for (;;) {
      const headers = {
        "content-type": "application/query+json",
        "x-ms-documentdb-isquery": "True",
        "x-ms-documentdb-query-enablecrosspartition": "True",
        "x-ms-max-item-count": String(pageSize),
      };
      if (continuation) headers["x-ms-continuation"] = continuation;
      const res = await this.request({
        method: "POST",
        path: `/dbs/${encodeURIComponent(db)}/colls/${encodeURIComponent(container)}/docs`,
        resourceType: "docs",
        resourceLink: `dbs/${db}/colls/${container}`,
        headers,
        body: { query, parameters },
      });
      if (res.status !== 200) {
        throw new Error(`query ${container}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      }
      out.push(...res.body.Documents);
      continuation = res.headers["x-ms-continuation"];
      if (!continuation) return out;
    }
  }
}

function describe(res) {
  const msg = res.body && typeof res.body === "object" ? res.body.message || res.body.code : res.body;
  return `HTTP ${res.status}${msg ? `: ${msg}` : ""}`;
}

function selftest() {
  const cases = [
    ["dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==",
      "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT",
      "type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D"],
    ["VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=", "get", "docs", "dpztakyoj5g=",
      "tue, 21 jul 2020 17:55:37 gmt", "nWZ29vBWEbWx7UZlJP+TzbgHoYCVVy6mz004thDJuPc="],
    ["VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=", "post", "docs",
      "dbs/92dc837c73484349852a2c8f05777565/colls/ea9ebd7de6aa46d8bc0aa7e29b89236c",
      "tue, 21 jul 2020 17:55:37 gmt", "dQGGlBUiVh2cX+LCTXt+fCyAkPRpChou//plVECIuyA="],
    ["VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=", "get", "pkranges", "dpztakyoj5g=",
      "tue, 21 jul 2020 17:55:37 gmt", "qH73yd16s9pr9e3X4azaZc97zyqs4oyxkB1L+LdsGbk="],
  ];
  let failed = 0;
  for (const [key, verb, type, link, date, want] of cases) {
    const header = masterKeyAuth(verb, type, link, date, key);
    const got = want.startsWith("type%3D") ? header : decodeURIComponent(header).split("sig=")[1];
    if (got !== want) {
      failed += 1;
      process.stderr.write(`FAIL ${verb} ${type} ${link}: got ${got}, want ${want}\n`);
    }
  }
  const pk = partitionKeyHeader("é☃\u0001\t😀");
  if (pk !== '["\\u00e9\\u2603\\u0001\\t\\ud83d\\ude00"]' || JSON.parse(pk)[0] !== "é☃\u0001\t😀") {
    failed += 1;
    process.stderr.write(`FAIL partitionKeyHeader: ${pk}\n`);
  }
  process.stdout.write(`${cases.length + 1 - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

const kUsage = `usage:
  node admin.mjs --endpoint URL --ca FILE create-db DB
  node admin.mjs --endpoint URL --ca FILE create-containers DB NAME:/pkpath [NAME:/pkpath ...]
  node admin.mjs --endpoint URL --ca FILE query DB CONTAINER SQL
  node admin.mjs --endpoint URL --ca FILE count DB CONTAINER [WHERE-CLAUSE]
  node admin.mjs selftest
COSMOS_KEY overrides the emulator's well-known master key.`;

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { endpoint: { type: "string" }, ca: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`admin.mjs: ${err.message}\n${kUsage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [cmd, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${kUsage}\n`);
    return 0;
  }
  if (cmd === "selftest") return selftest();
  const arity = { "create-db": [1, 1], "create-containers": [2, Infinity], query: [3, 3], count: [2, 3] };
  if (!arity[cmd] || rest.length < arity[cmd][0] || rest.length > arity[cmd][1] ||
      !values.endpoint || !values.ca) {
    process.stderr.write(`admin.mjs: bad arguments\n${kUsage}\n`);
    return 2;
  }
  const client = new CosmosClient({ endpoint: values.endpoint, caFile: values.ca });
  try {
    if (cmd === "create-db") {
      const [db] = rest;
      const res = await client.createDatabase(db);
      if (res.status === 201) process.stdout.write(`created database ${db}\n`);
      else if (res.status === 409) process.stdout.write(`database ${db} already exists\n`);
      else throw new Error(`create database ${db}: ${describe(res)}`);
    } else if (cmd === "create-containers") {
      const [db, ...specs] = rest;
      for (const spec of specs) {
        const m = /^([^:/]+):(\/.+)$/.exec(spec);
        if (!m) {
          process.stderr.write(`admin.mjs: bad container spec "${spec}", want NAME:/pkpath\n`);
          return 2;
        }
        const [, name, pkPath] = m;
        const res = await client.createContainer(db, name, pkPath);
        if (res.status === 201) process.stdout.write(`created container ${db}/${name} (${pkPath})\n`);
        else if (res.status === 409) process.stdout.write(`container ${db}/${name} already exists\n`);
        else if (res.status === 404) throw new Error(`create container ${db}/${name}: database ${db} not found`);
        else throw new Error(`create container ${db}/${name}: ${describe(res)}`);
      }
    } else if (cmd === "query") {
      const [db, container, sql] = rest;
      const docs = await client.queryAll(db, container, sql);
      process.stdout.write(`${JSON.stringify(docs, null, 1)}\n`);
    } else if (cmd === "count") {
      const [db, container, where = ""] = rest;
      // The gateway serves no cross-partition aggregates, so count by scanning ids.
      const docs = await client.queryAll(db, container, `SELECT c.id FROM c ${where}`);
      process.stdout.write(`${docs.length}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`admin.mjs: ${err.message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
