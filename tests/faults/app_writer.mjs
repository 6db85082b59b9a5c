#!/usr/bin/env node
// An old NoteLett application version writing during a backfill: it updates seeded documents
// (the whole document, its first mapped field set to a new plaintext value) and creates new
// plaintext ones, until --stop-file appears, and records the last document it wrote per id.
// With --check it proves afterwards that none of its writes was lost: each recorded document is
// on the server with every member as written, each mapped value encrypted (envelope under the
// keyring's primary kid) and decrypting to exactly what it wrote.
//
//   node app_writer.mjs --endpoint URL --ca FILE --db DB --record FILE [--per-container 200]
//        [--body-bytes 1000] [--seed backfilld] [--stop-file FILE] [--max-writes 100000] [--workers 8]
//   node app_writer.mjs ... --record FILE --check --keyring FILE
//
// The record: {"totals": {"updates": n, "creates": n}, "containers": {name: {id: document}}}.
// --check prints {"checked": n, "encryptedFields": n, "problems": n} and exits 1 on a problem
// (listed by container, id and field, never a value).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const { generate, classify, kFieldMap } = await import(path.resolve(here, "../../deploy/local/seed.mjs"));
const { CosmosClient } = await import(path.resolve(here, "../../deploy/local/admin.mjs"));
const { loadKeyring, checkEncryptedField, sameJson, isEnvelopeMarker } = await import(
  path.resolve(here, "../e2e/verify.mjs"));

const kSystem = new Set(["_rid", "_self", "_etag", "_attachments", "_ts"]);

function die(message, code = 2) {
  process.stderr.write(`app_writer.mjs: ${message}\n`);
  process.exit(code);
}

const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    ca: { type: "string" },
    db: { type: "string" },
    record: { type: "string" },
    "per-container": { type: "string", default: "200" },
    "body-bytes": { type: "string", default: "1000" },
    seed: { type: "string", default: "backfilld" },
    "stop-file": { type: "string" },
    "max-writes": { type: "string", default: "100000" },
    workers: { type: "string", default: "8" },
    check: { type: "boolean", default: false },
    keyring: { type: "string" },
  },
  strict: true,
});
for (const flag of ["endpoint", "ca", "db", "record"]) if (!values[flag]) die(`--${flag} is required`);
const names = Object.keys(kFieldMap);
const client = new CosmosClient({ endpoint: values.endpoint, caFile: values.ca, maxSockets: 16 });

/** Seeded documents an update may rewrite: those a backfill encrypts (so a lost update shows). */
function targets() {
  const out = {};
  for (const name of names) {
    const { docs } = generate(name, {
      perContainer: Number(values["per-container"]), bodyBytes: Number(values["body-bytes"]), seed: values.seed,
    });
    out[name] = JSON.parse(JSON.stringify(docs)).filter((d) => d.productId === "notelett" && classify(name, d).doc === "encrypted");
  }
  return out;
}

async function upsertChecked(name, doc) {
  const { pk } = kFieldMap[name];
  for (let attempt = 1; ; attempt += 1) {
    const res = await client.upsert(values.db, name, doc, Object.hasOwn(doc, pk) ? doc[pk] : undefined);
    if (res.status === 200 || res.status === 201) return;
    if (attempt >= 5) throw new Error(`upsert ${name}/${doc.id}: HTTP ${res.status}`);
  }
}

async function write() {
  const pool = targets();
  const record = { totals: { updates: 0, creates: 0 }, containers: Object.fromEntries(names.map((n) => [n, {}])) };
  const maxWrites = Number(values["max-writes"]);
  const workers = Number(values.workers);
  let n = 0;
  const stopped = () => values["stop-file"] && fs.existsSync(values["stop-file"]);
  // Worker w owns the seeded documents at positions w, w + workers, ...: no two writes of one
  // document are ever in flight together, so the last recorded write is the last one made.
  async function worker(w) {
    while (!stopped() && n < maxWrites) {
      n += 1;
      const k = n;
      const name = names[crypto.randomInt(names.length)];
      const field = kFieldMap[name].fields[0];
      const mine = pool[name].filter((_, i) => i % workers === w);
      const base = mine[crypto.randomInt(mine.length)];
      const create = crypto.randomInt(4) === 0;
      const doc = { ...(record.containers[name][base.id] ?? base) };
      if (create) doc.id = `app-${name}-${k}`;
      doc[field] = `app write ${k}: ${crypto.randomBytes(6).toString("hex")} é ☃`;
      await upsertChecked(name, doc);
      record.containers[name][doc.id] = doc;
      record.totals[create ? "creates" : "updates"] += 1;
    }
  }
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  fs.writeFileSync(values.record, `${JSON.stringify(record)}\n`);
  process.stdout.write(`${JSON.stringify(record.totals)}\n`);
}

async function check() {
  if (!values.keyring) die("--check needs --keyring");
  const keyring = loadKeyring(values.keyring);
  const record = JSON.parse(fs.readFileSync(values.record, "utf8"));
  const problems = [];
  let checked = 0;
  let encryptedFields = 0;
  for (const name of names) {
    const mine = record.containers[name] ?? {};
    if (!Object.keys(mine).length) continue;
    const { fields, context } = kFieldMap[name];
    const stored = new Map((await client.queryAll(values.db, name, "SELECT * FROM c", [], 1000)).map((d) => [d.id, d]));
    for (const [id, written] of Object.entries(mine)) {
      checked += 1;
      const doc = stored.get(id);
      const add = (field, problem) => problems.push({ container: name, id, field, problem });
      if (!doc) {
        add(null, "the application's document is gone");
        continue;
      }
      const members = Object.keys(doc).filter((k) => !kSystem.has(k));
      if (members.join("\u0000") !== Object.keys(written).join("\u0000")) add(null, "members differ from the write");
      for (const member of Object.keys(written)) {
        const value = written[member];
        if (fields.includes(member) && value !== null && !isEnvelopeMarker(value)) {
          const result = checkEncryptedField(doc[member], value, keyring, context, written.userId);
          if (result.problem) add(member, `${result.problem} (an update lost or not encrypted?)`);
          else encryptedFields += 1;
        } else if (!sameJson(doc[member], value)) {
          add(member, "member differs from the application's last write");
        }
      }
    }
  }
  process.stdout.write(`${JSON.stringify({ checked, encryptedFields, problems: problems.length })}\n`);
  for (const p of problems.slice(0, 10)) process.stderr.write(`  ${p.container}/${p.id}${p.field ? ` .${p.field}` : ""}: ${p.problem}\n`);
  return problems.length ? 1 : 0;
}

try {
  process.exitCode = values.check ? await check() : (await write(), 0);
} catch (err) {
  process.stderr.write(`app_writer.mjs: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  client.close();
}
