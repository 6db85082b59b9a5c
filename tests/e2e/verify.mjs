#!/usr/bin/env node
// Independent verifier of an encryption backfill over the seeded NoteLett containers. It shares
// no code with backfilld: it regenerates the seeded documents in memory (deploy/local/seed.mjs's
// `generate` and `classify`), reads every document back from the server (paged cross-partition
// query, TLS verified against --ca) and checks each one with node:crypto alone.
//
//   node verify.mjs --endpoint URL --ca FILE --db DB --keyring FILE
//                   [--per-container 200] [--body-bytes 1000] [--huge-bytes 0] [--seed backfilld]
//                   [--containers notes,palace_memories,...]
//                   --expect encrypted|plaintext|partial
//                   [--snapshot-out FILE] [--unchanged-since FILE] [--ignore-ids FILE]
//
// --expect plaintext   every document equals the seed (member order included): nothing written.
// --expect encrypted   every mapped field the classification encrypts is an envelope v1 under
//                      the keyring's primary kid that decrypts (AES-256-GCM, AAD
//                      JSON.stringify([context, userId])) to exactly the seeded value; a value
//                      encrypted twice decrypts to an envelope and fails. Values that were
//                      envelopes in the seed are byte-identical; every other member, and the
//                      member order, equals the seed; documents the classification leaves alone
//                      (other product, missing partition key, owner mismatch, malformed
//                      envelope, skip-listed owner, nothing to encrypt) equal the seed.
// --expect partial     as encrypted, but a document may also still be exactly the seed (a run
//                      that stopped part-way): each document is either untouched or completely
//                      and correctly encrypted, never half or twice.
// --snapshot-out FILE  writes every document's _etag ({container: {id: etag}}).
// --unchanged-since F  fails when any document's _etag differs from snapshot F: proves that
//                      nothing was written at all, not even an identical body.
// --ignore-ids FILE    skips the documents an app_writer.mjs record lists (they are its to check).
//
// The seed parameters must be those of the seeding, and so must FIELD_ENCRYPT_KEY /
// FIELD_ENCRYPT_KEY_ID when the seed was made with other than its defaults (seed.mjs reads them
// to make the values it seeds already encrypted).
// Prints a JSON summary on stdout. Exit 0 when everything checks, 1 on discrepancies (the first
// few listed on stderr by container, id, field and problem: never a value), 2 on bad usage.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual, parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const seedModule = path.resolve(here, "../../deploy/local/seed.mjs");
const { generate, classify, kFieldMap } = await import(seedModule);
const { CosmosClient } = await import(path.resolve(here, "../../deploy/local/admin.mjs"));

const kSystemMembers = new Set(["_rid", "_self", "_etag", "_attachments", "_ts"]);
const kEnvelopeMembers = ["__encrypted", "v", "alg", "kid", "iv", "ct"];
const kProduct = "notelett";
const kUsage = `usage: node verify.mjs --endpoint URL --ca FILE --db DB --keyring FILE
       --expect encrypted|plaintext|partial [--per-container 200] [--body-bytes 1000]
       [--seed backfilld] [--containers ${Object.keys(kFieldMap).join(",")}]
       [--snapshot-out FILE] [--unchanged-since FILE] [--ignore-ids FILE]`;

function usageError(message) {
  process.stderr.write(`verify.mjs: ${message}\n${kUsage}\n`);
  process.exit(2);
}

function positiveInt(text, flag) {
  if (!/^\d+$/.test(text) || Number(text) < 1) usageError(`${flag} needs an integer >= 1, got "${text}"`);
  return Number(text);
}

/** {primary, keys: Map kid -> 32-byte Buffer} from DESIGN's keyring JSON. */
export function loadKeyring(file) {
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    usageError(`keyring ${file}: ${err.message}`);
  }
  if (typeof json?.primary !== "string" || typeof json.keys !== "object" || json.keys === null) {
    usageError(`keyring ${file}: want {"primary": kid, "keys": {kid: base64}}`);
  }
  const keys = new Map();
  for (const [kid, b64] of Object.entries(json.keys)) {
    const key = Buffer.from(String(b64), "base64");
    if (key.length !== 32) usageError(`keyring ${file}: key ${kid} is not 32 bytes`);
    keys.set(kid, key);
  }
  if (!keys.has(json.primary)) usageError(`keyring ${file}: primary ${json.primary} is not in keys`);
  return { primary: json.primary, keys };
}

/** Strict standard base64 (what Buffer.toString('base64') writes): decoded length or -1. */
function base64Length(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return -1;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes.length : -1;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function isEnvelopeMarker(value) {
  return isObject(value) && value.__encrypted === true;
}

/** Byte-level equality of two JSON values as stored (member order included). */
export function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Opens an envelope v1 written by the backfill: returns {value} or {problem}. The problem text
 * names the defect, never the value.
 */
function openEnvelope(envelope, keyring, context, userId) {
  if (!isEnvelopeMarker(envelope)) return { problem: "not an envelope (still plaintext?)" };
  const members = Object.keys(envelope);
  if (members.length !== kEnvelopeMembers.length || !kEnvelopeMembers.every((m) => members.includes(m))) {
    return { problem: `envelope members are [${members.join(",")}], want [${kEnvelopeMembers.join(",")}]` };
  }
  if (envelope.v !== 1 || envelope.alg !== "A256GCM") return { problem: "envelope v/alg is not 1/A256GCM" };
  if (envelope.kid !== keyring.primary) return { problem: `envelope kid is not the primary ${keyring.primary}` };
  if (base64Length(envelope.iv) !== 12) return { problem: "envelope iv is not base64 of 12 bytes" };
  const ctLength = base64Length(envelope.ct);
  if (ctLength < 16) return { problem: "envelope ct is not base64 of at least 16 bytes" };
  const raw = Buffer.from(envelope.ct, "base64");
  let plaintext;
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", keyring.keys.get(envelope.kid), Buffer.from(envelope.iv, "base64"));
    decipher.setAAD(Buffer.from(JSON.stringify([context, userId]), "utf8"));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    plaintext = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]);
  } catch {
    return { problem: "envelope does not decrypt (tag fails: wrong key, AAD or bytes)" };
  }
  const text = plaintext.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(plaintext)) return { problem: "plaintext is not valid UTF-8" };
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "plaintext is not JSON" };
  }
  return { value };
}

/**
 * Checks one encrypted field against its seeded value: {ok} or {problem}. A value encrypted
 * twice decrypts to an envelope, which is named as such.
 */
export function checkEncryptedField(stored, original, keyring, context, userId) {
  const opened = openEnvelope(stored, keyring, context, userId);
  if (opened.problem) return opened;
  if (isEnvelopeMarker(opened.value)) return { problem: "encrypted twice (plaintext is an envelope)" };
  if (sameJson(opened.value, original)) return { ok: true };
  // Stricter than deep equality on purpose (member order too); say which of the two failed.
  return {
    problem: isDeepStrictEqual(opened.value, original)
      ? "decrypted value has its members reordered"
      : "decrypted value differs from the seeded value",
  };
}

/** Member names minus Cosmos's system properties, in stored order. */
function userMembers(doc) {
  return Object.keys(doc).filter((k) => !kSystemMembers.has(k));
}

/**
 * Checks one stored document against its seed. Returns {state, problems}: state is "seed" (equal
 * to the seed), "encrypted" (correctly encrypted) or "bad".
 */
function checkDocument(name, stored, seeded, expect, keyring) {
  const problems = [];
  const add = (field, problem) => problems.push({ container: name, id: seeded.id, field, problem });
  const storedMembers = userMembers(stored);
  const seededMembers = Object.keys(seeded);
  if (storedMembers.join("\u0000") !== seededMembers.join("\u0000")) {
    const missing = seededMembers.filter((m) => !storedMembers.includes(m));
    const extra = storedMembers.filter((m) => !seededMembers.includes(m));
    add(null, missing.length || extra.length
      ? `members differ: missing [${missing.join(",")}], extra [${extra.join(",")}]`
      : "member order changed");
  }
  const { fields, context } = kFieldMap[name];
  const outcome = seeded.productId === kProduct ? classify(name, seeded) : { doc: "notScanned", fields: {} };
  const toEncrypt = new Set(
    outcome.doc === "encrypted" ? Object.keys(outcome.fields).filter((f) => outcome.fields[f] === "encrypted") : [],
  );
  const plain = [...toEncrypt].filter((f) => sameJson(stored[f], seeded[f]));
  let state = "encrypted";
  if (expect === "plaintext" || toEncrypt.size === 0) {
    state = "seed";
  } else if (expect === "partial" && plain.length === toEncrypt.size) {
    state = "seed";
  } else if (expect === "partial" && plain.length > 0) {
    add(plain.join(","), `half-migrated: ${plain.length} of ${toEncrypt.size} fields still plaintext`);
  }
  for (const member of seededMembers) {
    if (!Object.hasOwn(stored, member)) continue;  // reported above
    if (state === "encrypted" && toEncrypt.has(member)) {
      const result = checkEncryptedField(stored[member], seeded[member], keyring, context, seeded.userId);
      if (result.problem) add(member, result.problem);
    } else if (!sameJson(stored[member], seeded[member])) {
      const why = fields.includes(member)
        ? (isEnvelopeMarker(seeded[member]) ? "seeded envelope was rewritten" : "mapped value changed where it must not")
        : "member changed";
      add(member, `${why} (document ${outcome.doc}, expect ${expect})`);
    }
  }
  return { state: problems.length ? "bad" : state, toEncrypt: [...toEncrypt], outcome: outcome.doc, problems };
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        endpoint: { type: "string" },
        ca: { type: "string" },
        db: { type: "string" },
        keyring: { type: "string" },
        "per-container": { type: "string", default: "200" },
        "body-bytes": { type: "string", default: "1000" },
        "huge-bytes": { type: "string", default: "0" },
        seed: { type: "string", default: "backfilld" },
        containers: { type: "string", default: Object.keys(kFieldMap).join(",") },
        expect: { type: "string" },
        "snapshot-out": { type: "string" },
        "unchanged-since": { type: "string" },
        "ignore-ids": { type: "string" },
        "max-report": { type: "string", default: "10" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError(err.message);
  }
  if (values.help) {
    process.stdout.write(`${kUsage}\n`);
    return 0;
  }
  for (const flag of ["endpoint", "ca", "db", "keyring", "expect"]) if (!values[flag]) usageError(`--${flag} is required`);
  if (!["encrypted", "plaintext", "partial"].includes(values.expect)) usageError(`--expect must be encrypted, plaintext or partial`);
  const perContainer = positiveInt(values["per-container"], "--per-container");
  const bodyBytes = positiveInt(values["body-bytes"], "--body-bytes");
  const maxReport = positiveInt(values["max-report"], "--max-report");
  const names = values.containers.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!kFieldMap[n]) usageError(`unknown container "${n}"`);
  const keyring = loadKeyring(values.keyring);
  // A record of tests/faults/app_writer.mjs: documents the application wrote are its to check.
  const ignored = values["ignore-ids"] ? JSON.parse(fs.readFileSync(values["ignore-ids"], "utf8")).containers : {};
  const since = values["unchanged-since"] ? JSON.parse(fs.readFileSync(values["unchanged-since"], "utf8")) : null;

  const client = new CosmosClient({ endpoint: values.endpoint, caFile: values.ca, maxSockets: 2 });
  const summary = { expect: values.expect, db: values.db, containers: {}, discrepancies: 0, ok: false };
  const problems = [];
  const snapshot = {};
  try {
    for (const name of names) {
      // The stored form of the seed is its JSON text: compare against that, not the live objects.
      const seeded = JSON.parse(JSON.stringify(generate(name, {
        perContainer, bodyBytes, seed: values.seed, hugeBytes: Number(values["huge-bytes"]),
      }).docs));
      const byId = new Map(seeded.map((d) => [d.id, d]));
      const stored = await client.queryAll(values.db, name, "SELECT * FROM c", [], 1000);
      const stats = {
        seeded: seeded.length, stored: stored.length, equalToSeed: 0, encryptedDocs: 0,
        encryptedFields: 0, problemDocs: 0, etagChanged: 0,
        encryptedByField: Object.fromEntries(kFieldMap[name].fields.map((f) => [f, 0])),
      };
      const seen = new Set();
      snapshot[name] = {};
      for (const doc of stored) {
        const id = doc.id;
        if (Object.hasOwn(ignored[name] ?? {}, id)) {
          stats.ignored = (stats.ignored ?? 0) + 1;
          seen.add(id);
          continue;
        }
        snapshot[name][id] = doc._etag;
        if (since && since[name]?.[id] !== doc._etag) {
          stats.etagChanged += 1;
          problems.push({ container: name, id, field: "_etag", problem: "document was written (etag changed)" });
        }
        const seed = byId.get(id);
        if (!seed) {
          problems.push({ container: name, id, field: null, problem: "document not in the seed" });
          continue;
        }
        if (seen.has(id)) {
          problems.push({ container: name, id, field: null, problem: "document returned twice by the query" });
          continue;
        }
        seen.add(id);
        const result = checkDocument(name, doc, seed, values.expect, keyring);
        if (["missingPartitionKey", "ownerMismatch", "error", "notScanned"].includes(result.outcome)) stats.problemDocs += 1;
        if (result.state === "seed") stats.equalToSeed += 1;
        if (result.state === "encrypted") {
          stats.encryptedDocs += 1;
          stats.encryptedFields += result.toEncrypt.length;
          for (const f of result.toEncrypt) stats.encryptedByField[f] += 1;
        }
        problems.push(...result.problems);
      }
      for (const id of byId.keys()) {
        if (!seen.has(id)) problems.push({ container: name, id, field: null, problem: "seeded document missing" });
      }
      if (since) {
        for (const id of Object.keys(since[name] ?? {})) {
          if (!Object.hasOwn(snapshot[name], id)) problems.push({ container: name, id, field: "_etag", problem: "snapshot document missing" });
        }
      }
      summary.containers[name] = stats;
    }
  } finally {
    client.close();
  }
  if (values["snapshot-out"]) fs.writeFileSync(values["snapshot-out"], `${JSON.stringify(snapshot)}\n`);
  summary.discrepancies = problems.length;
  summary.ok = problems.length === 0;
  if (problems.length) summary.firstDiscrepancies = problems.slice(0, maxReport);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (problems.length) {
    process.stderr.write(`verify.mjs: ${problems.length} discrepancies (expect ${values.expect}); first ${Math.min(maxReport, problems.length)}:\n`);
    for (const p of problems.slice(0, maxReport)) {
      process.stderr.write(`  ${p.container}/${p.id}${p.field ? ` .${p.field}` : ""}: ${p.problem}\n`);
    }
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  process.exitCode = await main().catch((err) => {
    process.stderr.write(`verify.mjs: ${err.message}\n`);
    return 1;
  });
}
