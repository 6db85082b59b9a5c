#!/usr/bin/env node
// Seeds the five NoteLett containers with deterministic, realistic documents (including the
// awkward ones a backfill must classify) and prints what an encryption backfill with the
// NoteLett field map must count. The counts come from the documents as generated, never from
// reading the server back.
//
//   node seed.mjs --endpoint URL --ca FILE --db DB [--per-container 200] [--body-bytes 1000]
//                 [--containers notes,palace_memories,...] [--seed S] [--concurrency 16]
//                 [--expect-out FILE] [--huge-bytes N]
//
// Missing partition key values and the local server (@vercel/cosmosdb-server 1.0.1), found by
// reading its source and probing it with curl:
// - It accepts a document whose partition key path is absent or null (upsert answers 201) and
//   stores it under its id in place of the partition key value (Items._getId uses
//   `partition || id`; "", 0 and false fall back the same way, where real Cosmos keeps them).
// - We upsert such documents with `x-ms-documentdb-partitionkey: [{}]` (absent: Cosmos's "none"
//   value) or `[null]` (null); the server maps both to the id, so a second seed replaces them.
// - Every cross-partition query returns them (`x-ms-documentdb-query-enablecrosspartition: True`);
//   `WHERE NOT IS_DEFINED(c.workspaceId)` / `WHERE IS_NULL(c.workspaceId)` pick them out.
// - Point read `GET .../docs/{id}`: a null value reads back with `[null]` (200). An absent value
//   cannot be read by partition key alone: `[{}]` -> 400 ("fewer components than defined"),
//   `[null]` -> 404; it needs `x-ms-documentdb-query-enablecrosspartition: True`, which skips the
//   check (then any partition key header gives 200).
// - `PUT` with `[{}]` and `If-Match` replaces it (200; 412 on a stale _etag), and so does a
//   batch Replace whose operation carries `"partitionKey": "[{}]"`.
// Real Cosmos DB is documented to accept them too (the "none" partition key value, addressed as
// [{}]; not verified here).
// The backfill must count them as missingPartitionKey and never write them.
//
// Partition key headers are JSON with non-ASCII escaped as \uXXXX (admin.mjs
// partitionKeyHeader): raw UTF-8 in that header gets a 500 from this server.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CosmosClient } from "./admin.mjs";

/** The NoteLett field map (DESIGN.md), with the owner skip lists the transform applies. */
export const kFieldMap = {
  notes: { pk: "workspaceId", fields: ["body"], context: "notes", skipUsers: [] },
  palace_memories: { pk: "userId", fields: ["content"], context: "palace-memory", skipUsers: [] },
  note_artifacts: {
    pk: "workspaceId", fields: ["title", "description", "blobPath"], context: "note_artifacts",
    skipUsers: [],
  },
  note_prompts: {
    pk: "userId", fields: ["description", "systemPrompt", "userPromptTemplate"],
    context: "note_prompts", skipUsers: ["__builtin__"],
  },
  note_agent_actions: {
    pk: "workspaceId", fields: ["reason", "beforeSummary", "afterSummary", "reviewNote"],
    context: "note_agent_actions", skipUsers: [],
  },
};
const kOwnerField = "userId";
const kProduct = "notelett";

// ---------------------------------------------------------------- deterministic randomness

/** xoshiro128** seeded from SHA-256 of a string: one independent stream per container. */
class Rng {
  constructor(seedText) {
    const h = crypto.createHash("sha256").update(seedText).digest();
    this.s = [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)];
  }
  u32() {
    const s = this.s;
    const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
    const result = (rotl((s[1] * 5) >>> 0, 7) * 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }
  float() { return this.u32() / 4294967296; }
  int(lo, hi) { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  chance(p) { return this.float() < p; }
  pick(list) { return list[Math.floor(this.float() * list.length)]; }
  bytes(n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) b[i] = this.u32() & 0xff;
    return b;
  }
  hex(n) { return this.bytes(Math.ceil(n / 2)).toString("hex").slice(0, n); }
  uuid() {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

// ---------------------------------------------------------------- envelope v1

let cachedKey;
/** The 32-byte key from FIELD_ENCRYPT_KEY (base64), default 32 bytes of 0x07; read on first use. */
function encryptionKey() {
  if (!cachedKey) {
    const b64 = process.env.FIELD_ENCRYPT_KEY;
    const key = b64 ? Buffer.from(b64, "base64") : Buffer.alloc(32, 7);
    if (key.length !== 32) throw new Error("FIELD_ENCRYPT_KEY must be base64 of 32 bytes");
    cachedKey = key;
  }
  return cachedKey;
}
const kKid = process.env.FIELD_ENCRYPT_KEY_ID || "k1";
/** A kid no keyring of the tests holds (a retired key): such envelopes are skipped, never opened. */
const kUnknownKid = "k-retired-unknown";
/**
 * Planted in mapped values (one encrypted, one of an owner-mismatch document, one inside a
 * malformed envelope): tests fail when it appears in any log, metric, response or checkpoint.
 */
export const kLeakMarker = "PLAINTEXT-LEAK-MARKER-7f3a9c";

/**
 * Envelope v1 exactly as the NoteLett app writes it. The iv comes from the seeded stream (not
 * the OS) so a seed always produces the same bytes; that is fine for test data only.
 */
function encryptValue(rng, value, context, userId, kid = kKid) {
  const iv = rng.bytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", encryptionKey(), iv);
  cipher.setAAD(Buffer.from(JSON.stringify([context, userId]), "utf8"));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { __encrypted: true, v: 1, alg: "A256GCM", kid, iv: iv.toString("base64"), ct: ct.toString("base64") };
}

function base64Length(text) {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return -1;
  return Buffer.from(text, "base64").length;
}

function isEncryptedMarker(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value) && value.__encrypted === true;
}

function isWellFormedEnvelope(value) {
  return isEncryptedMarker(value) && value.v === 1 && value.alg === "A256GCM" &&
    typeof value.kid === "string" && base64Length(value.iv) === 12 && base64Length(value.ct) >= 16;
}

// ---------------------------------------------------------------- the classification rules

/**
 * What an encryption backfill must do with one document that passed the productId filter:
 * { doc: "missingPartitionKey" | "ownerMismatch" | "error" | "encrypted" | "skipped",
 *   fields: { name: "encrypted" | "skipped" | "error" } } (fields only where counted).
 */
export function classify(containerName, doc) {
  const { pk, fields, skipUsers } = kFieldMap[containerName];
  if (doc[pk] === undefined || doc[pk] === null) return { doc: "missingPartitionKey", fields: {} };
  const owner = doc[kOwnerField];
  if (typeof owner !== "string" || owner === "") return { doc: "ownerMismatch", fields: {} };
  if (skipUsers.includes(owner)) {
    return { doc: "skipped", fields: Object.fromEntries(fields.map((f) => [f, "skipped"])) };
  }
  const malformed = fields.find((f) => isEncryptedMarker(doc[f]) && !isWellFormedEnvelope(doc[f]));
  if (malformed) return { doc: "error", fields: { [malformed]: "error" } };
  const out = {};
  for (const f of fields) {
    const v = doc[f];
    out[f] = v === undefined || v === null || isWellFormedEnvelope(v) ? "skipped" : "encrypted";
  }
  return { doc: Object.values(out).includes("encrypted") ? "encrypted" : "skipped", fields: out };
}

// ---------------------------------------------------------------- realistic content

const kWords = (
  "meeting roadmap draft review budget launch customer feedback sprint retro design api " +
  "latency migration encrypt backlog hiring onboarding quarterly metrics dashboard incident " +
  "postmortem outline idea research summary action owner deadline follow-up decision risk " +
  "dependency prototype experiment cohort churn pricing partner contract legal privacy memo"
).split(" ");
const kExotic = [
  "café déjà vu", "naïve résumé", "☃ snowman", "🚀 launch 🎉", "📝 note", "中文笔记", "日本語のメモ",
  "한국어 메모", "Ελληνικά", "русский текст", "עברית", "العربية", "emoji 👩‍💻 zwj", "tab\there",
  "line\nbreak", "ctl\u0001char", "quote \" and \\ backslash", "nul-ish \u0000 byte",
];
const kUserPool = 40;

function sentence(rng, minWords, maxWords, exoticP = 0.15) {
  const n = rng.int(minWords, maxWords);
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(rng.chance(exoticP) ? rng.pick(kExotic) : rng.pick(kWords));
  const s = out.join(" ");
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function textOfBytes(rng, bytes) {
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const s = sentence(rng, 6, 16);
    parts.push(s);
    size += Buffer.byteLength(s, "utf8") + 1;
  }
  let text = parts.join(rng.chance(0.3) ? "\n" : " ");
  while (Buffer.byteLength(text, "utf8") > bytes && text.length > 1) text = text.slice(0, -1);
  // Never end on half a surrogate pair.
  if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  return text;
}

function userIdFor(rng) {
  const n = rng.int(0, kUserPool - 1);
  if (n === 7) return "user-é☃-😀-中文-07";
  if (n === 13) return "user-\u0001\t\nctl-13";
  if (n === 21) return "usr_Ünïcødé_21";
  return `user-${n.toString().padStart(4, "0")}`;
}

function workspaceIdFor(rng, perContainer) {
  const pool = Math.max(3, Math.floor(perContainer / 10));
  const n = rng.int(0, pool - 1);
  return n === 1 ? "ws-ünïcode-☃-0001" : `ws-${n.toString().padStart(4, "0")}`;
}

function timestamps(rng) {
  const created = Date.UTC(2025, 0, 1) + rng.int(0, 480 * 24 * 3600) * 1000 + rng.int(0, 999);
  const updated = created + (rng.chance(0.4) ? 0 : rng.int(1, 30 * 24 * 3600) * 1000);
  return { createdAt: new Date(created).toISOString(), updatedAt: new Date(updated).toISOString() };
}

function embedding(rng) {
  return Array.from({ length: 8 }, () => Math.round((rng.float() * 2 - 1) * 1e6) / 1e6);
}

/** Base documents, before any field is shaped for a test case. */
const kBuilders = {
  notes(rng, i, ctx) {
    const userId = userIdFor(rng);
    return {
      id: `note-${i.toString().padStart(6, "0")}`,
      workspaceId: workspaceIdFor(rng, ctx.perContainer),
      userId,
      createdBy: rng.chance(0.9) ? userId : userIdFor(rng),
      productId: kProduct,
      title: sentence(rng, 2, 7, 0.1).slice(0, -1),
      body: textOfBytes(rng, ctx.bodyBytes),
      tags: Array.from({ length: rng.int(0, 4) }, () => rng.pick(kWords)),
      embedding: embedding(rng),
      pinned: rng.chance(0.1),
      version: rng.int(1, 12),
      ...timestamps(rng),
    };
  },
  palace_memories(rng, i) {
    return {
      id: `mem-${i.toString().padStart(6, "0")}`,
      userId: userIdFor(rng),
      productId: kProduct,
      palaceId: `palace-${rng.int(0, 9)}`,
      roomId: `room-${rng.int(0, 49)}`,
      content: textOfBytes(rng, rng.int(80, 400)),
      embedding: embedding(rng),
      importance: Math.round(rng.float() * 1000) / 1000,
      ...timestamps(rng),
    };
  },
  note_artifacts(rng, i, ctx) {
    const kind = rng.pick(["summary", "attachment", "transcript", "image", "export"]);
    const noteId = `note-${rng.int(0, Math.max(0, ctx.perContainer - 1)).toString().padStart(6, "0")}`;
    const doc = {
      id: `art-${i.toString().padStart(6, "0")}`,
      workspaceId: workspaceIdFor(rng, ctx.perContainer),
      userId: userIdFor(rng),
      productId: kProduct,
      noteId,
      kind,
      title: `${kind} of ${sentence(rng, 2, 6, 0.2).slice(0, -1)}`,
    };
    if (rng.chance(0.6)) doc.description = sentence(rng, 5, 20);
    const r = rng.float();
    if (r < 0.5) doc.blobPath = `artifacts/${noteId}/${rng.hex(12)}.${kind === "image" ? "png" : "bin"}`;
    else if (r < 0.75) doc.blobPath = null;
    doc.sizeBytes = rng.int(100, 5_000_000);
    return { ...doc, ...timestamps(rng) };
  },
  note_prompts(rng, i) {
    const builtin = rng.chance(0.1);
    return {
      id: `prompt-${i.toString().padStart(6, "0")}`,
      userId: builtin ? "__builtin__" : userIdFor(rng),
      productId: kProduct,
      name: `${rng.pick(kWords)}-${rng.pick(kWords)}`,
      description: sentence(rng, 4, 14),
      systemPrompt: `You are a helpful assistant. ${sentence(rng, 10, 30)}`,
      userPromptTemplate: `Summarise {{note}} focusing on ${rng.pick(kWords)}. ${sentence(rng, 3, 10)}`,
      ...timestamps(rng),
    };
  },
  note_agent_actions(rng, i, ctx) {
    const state = rng.pick(["proposed", "approved", "rejected", "applied", "failed"]);
    return {
      id: `act-${i.toString().padStart(6, "0")}`,
      workspaceId: workspaceIdFor(rng, ctx.perContainer),
      userId: userIdFor(rng),
      productId: kProduct,
      noteId: `note-${rng.int(0, Math.max(0, ctx.perContainer - 1)).toString().padStart(6, "0")}`,
      state,
      actor: rng.pick(["agent", "user", "system"]),
      workflowId: `wf-${rng.hex(8)}`,
      idempotencyKey: rng.uuid(),
      correlationId: rng.uuid(),
      reason: sentence(rng, 4, 16),
      beforeSummary: sentence(rng, 6, 24),
      afterSummary: sentence(rng, 6, 24),
      reviewNote: state === "rejected" || rng.chance(0.15) ? sentence(rng, 3, 12) : null,
      ...timestamps(rng),
    };
  },
};

// ---------------------------------------------------------------- test cases

/**
 * Special documents, in the order they are placed (only as many as fit in half the container).
 * Each shapes a base document and names the document-level outcome it must have (null = not
 * scanned: other product); classify() must agree or seeding aborts.
 */
function specialCases(name, hugeBytes) {
  const { pk, fields } = kFieldMap[name];
  const first = fields[0];
  const last = fields[fields.length - 1];
  const userIsPk = pk === kOwnerField;
  const cases = [
    ["other product", null, (d) => { d.productId = "other"; }],
    ["other product, no partition key, malformed envelope", null, (d) => {
      d.productId = "other"; delete d[pk]; d[first] = { __encrypted: true, v: 1 };
    }],
    ["partition key absent", "missingPartitionKey", (d) => { delete d[pk]; }],
    ["partition key null", "missingPartitionKey", (d) => { d[pk] = null; }],
    ["malformed envelope (only __encrypted and v)", "error", (d) => { d[last] = { __encrypted: true, v: 1 }; }],
    ["owner is a number", "ownerMismatch", (d) => { d.userId = 4242; d[first] = `${kLeakMarker} owner mismatch`; }],
    ["plaintext leak marker in a mapped value", "encrypted", (d) => { d[first] = `${kLeakMarker} ${d[first]}`; }],
    ["malformed envelope carrying a leak marker", "error", (d) => {
      d[first] = { __encrypted: true, v: 1, alg: "A256GCM", kid: kKid, iv: kLeakMarker, ct: kLeakMarker };
    }],
    [`envelope with an unknown kid (${kUnknownKid})`, fields.length > 1 ? "encrypted" : "skipped", (d, rng) => {
      d[first] = encryptValue(rng, "retired", kFieldMap[name].context, d.userId, kUnknownKid);
      if (fields.length > 1) d[last] = "plaintext beside an envelope of a retired key";
    }],
    ["owner is empty", "ownerMismatch", (d) => { d.userId = ""; }],
    ["malformed envelope (8-byte iv)", "error", (d, rng) => {
      d[first] = { __encrypted: true, v: 1, alg: "A256GCM", kid: kKid,
        iv: rng.bytes(8).toString("base64"), ct: rng.bytes(40).toString("base64") };
    }],
    ["mapped value is a number", "encrypted", (d) => { d[first] = 12345.5; }],
    ["mapped value is a nested object", "encrypted", (d) => {
      d[first] = { blocks: [{ type: "p", text: "nested é ☃ 😀 中文" }, { type: "ul", items: ["a", "b\tc"] }], v: 2 };
    }],
    ["mapped value is an empty string", "encrypted", (d) => { d[first] = ""; }],
    ["mapped value is a boolean", "encrypted", (d) => { d[first] = true; }],
    ["mapped value is an array", "encrypted", (d) => { d[last] = ["x", 1, null, "ünï"]; }],
    ["mapped object with __encrypted false", "encrypted", (d) => { d[first] = { __encrypted: false, text: "plain" }; }],
    ["all mapped fields already encrypted", "skipped", (d, rng) => {
      for (const f of fields) d[f] = encryptValue(rng, d[f] ?? "x", kFieldMap[name].context, d.userId);
    }],
    ["all mapped fields null", "skipped", (d) => { for (const f of fields) d[f] = null; }],
    ["control characters and non-ASCII in values", "encrypted", (d) => {
      d[first] = "tab\there\nnewline \u0001 ctl é ☃ 😀 中文 \u2028 sep";
    }],
  ];
  // Lone UTF-16 surrogates, as a JavaScript app writes them when a substring cuts an emoji in
  // half; JSON.stringify escapes them ("\ud83d"). A backfill must read such a document, keep
  // the members it does not encrypt as they were, and encrypt a mapped one so that it decrypts
  // to the same string.
  cases.push(["lone surrogates in a member the map leaves alone", "encrypted", (d) => {
    d.preview = "cut emoji \ud83d| low half \udc00| pair \ud83d\ude00| \udbff\udbff end";
  }]);
  cases.push(["lone surrogates in a mapped value", "encrypted", (d) => {
    d[first] = "cut emoji \ud83d and low half \udc00 alone";
  }]);
  // HTTP headers carry printable ASCII only: the partition key header must escape these.
  cases.push(["lone surrogate and DEL in the partition key value", "encrypted", (d) => {
    d[pk] = `${d[pk]}-\u007f-cut\ud83d`;
  }]);
  if (!userIsPk) {
    cases.push(["lone surrogates in the owner (the AAD)", "encrypted", (d) => {
      d.userId = "user-\udc00-cut\ud83d";
    }]);
    cases.push(["owner absent", "ownerMismatch", (d) => { delete d.userId; }]);
    cases.push(["partition key and owner absent", "missingPartitionKey", (d) => { delete d[pk]; delete d.userId; }]);
  }
  if (hugeBytes > 0) {
    // Near Cosmos's 2 MB document limit once encrypted (base64 grows it by a third). Its own
    // stream, so the other documents do not depend on its size.
    cases.push([`huge document (${hugeBytes} bytes of mapped text)`, "encrypted", (d) => {
      d[first] = textOfBytes(new Rng(`${name}:huge`), hugeBytes);
    }]);
  }
  if (name === "note_prompts") {
    cases.push(["built-in prompt with malformed envelope is skipped", "skipped", (d) => {
      d.userId = "__builtin__"; d.description = { __encrypted: true, v: 1 };
    }]);
  }
  return cases;
}

/** Mixes the ordinary variety into a normal document: some values already encrypted or null. */
function varyNormal(name, doc, rng) {
  const { fields, context } = kFieldMap[name];
  if (typeof doc.userId !== "string" || doc.userId === "" || kFieldMap[name].skipUsers.includes(doc.userId)) return;
  for (const f of fields) {
    if (doc[f] === undefined || doc[f] === null) continue;
    const r = rng.float();
    if (r < 0.08) doc[f] = encryptValue(rng, doc[f], context, doc.userId);
    else if (r < 0.10 && name !== "notes") doc[f] = null;
  }
}

function emptyCounts(fields) {
  return {
    seeded: 0, notScanned: 0, scanned: 0, encrypted: 0, skipped: 0, errors: 0, ownerMismatch: 0,
    missingPartitionKey: 0,
    fields: Object.fromEntries(fields.map((f) => [f, { encrypted: 0, skipped: 0, errors: 0 }])),
  };
}

/** Generates one container's documents and the counts a backfill must report for them. */
export function generate(name, { perContainer, bodyBytes, seed, hugeBytes = 0 }) {
  const rng = new Rng(`${seed}:${name}`);
  const ctx = { perContainer, bodyBytes };
  const cases = specialCases(name, hugeBytes).slice(0, Math.floor(perContainer / 2));
  // Spread the special documents evenly through the id range (and so through the scan).
  const at = new Map(cases.map((c, k) => [Math.floor(((k + 0.5) * perContainer) / cases.length), c]));
  const counts = emptyCounts(kFieldMap[name].fields);
  const docs = [];
  for (let i = 0; i < perContainer; i += 1) {
    const doc = kBuilders[name](rng, i, ctx);
    const special = at.get(i);
    if (special) {
      // Each case means one outcome: start it from an ordinary (not skip-listed) owner.
      if (kFieldMap[name].skipUsers.includes(doc.userId)) doc.userId = "user-0000";
      special[2](doc, rng);
    } else {
      varyNormal(name, doc, rng);
    }
    docs.push(doc);
    counts.seeded += 1;
    if (doc.productId !== kProduct) {
      counts.notScanned += 1;
      if (special && special[1] !== null) throw new Error(`${name} ${doc.id}: case "${special[0]}" not scanned`);
      continue;
    }
    counts.scanned += 1;
    const outcome = classify(name, doc);
    if (special && special[1] !== outcome.doc) {
      throw new Error(`${name} ${doc.id}: case "${special[0]}" classified ${outcome.doc}, meant ${special[1]}`);
    }
    const docKey = { error: "errors" }[outcome.doc] ?? outcome.doc;
    counts[docKey] += 1;
    for (const [f, r] of Object.entries(outcome.fields)) counts.fields[f][r === "error" ? "errors" : r] += 1;
  }
  return { docs, counts };
}

// ---------------------------------------------------------------- writing

async function upsertAll(client, db, name, docs, concurrency) {
  const { pk } = kFieldMap[name];
  let next = 0;
  async function worker() {
    while (next < docs.length) {
      const doc = docs[next];
      next += 1;
      // Absent partition key -> [{}]; null -> [null] (see the note at the top).
      const pkValue = Object.hasOwn(doc, pk) ? doc[pk] : undefined;
      for (let attempt = 1; ; attempt += 1) {
        let res;
        try {
          res = await client.upsert(db, name, doc, pkValue);
        } catch (err) {
          if (attempt < 4 && ["ECONNRESET", "EPIPE", "ECONNREFUSED"].includes(err.code)) continue;
          throw new Error(`upsert ${name}/${doc.id}: ${err.message}`);
        }
        if (res.status === 200 || res.status === 201) break;
        if (attempt < 4 && [408, 429, 449, 503].includes(res.status)) {
          const ms = Number(res.headers["x-ms-retry-after-ms"]) || 50 * attempt;
          await new Promise((r) => setTimeout(r, ms));
          continue;
        }
        const hint = res.status === 404 ? " (does the container exist? cosmos.sh notelett STATE_DIR DB)" : "";
        throw new Error(`upsert ${name}/${doc.id}: HTTP ${res.status} ${JSON.stringify(res.body)}${hint}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, docs.length) }, worker));
}

const kUsage = `usage: node seed.mjs --endpoint URL --ca FILE --db DB [--per-container 200]
         [--body-bytes 1000] [--huge-bytes 0] [--containers ${Object.keys(kFieldMap).join(",")}]
         [--seed S] [--concurrency 16] [--expect-out FILE] [--dry-run]
FIELD_ENCRYPT_KEY (base64, 32 bytes; default 32 x 0x07) and FIELD_ENCRYPT_KEY_ID (default k1)
key the envelopes of values that are seeded already encrypted. --dry-run writes nothing.
--huge-bytes N adds one document per container whose first mapped value is N bytes of text.`;

function usageError(message) {
  process.stderr.write(`seed.mjs: ${message}\n${kUsage}\n`);
  process.exit(2);
}

function positiveInt(text, flag, min = 1) {
  if (!/^\d+$/.test(text) || Number(text) < min) usageError(`${flag} needs an integer >= ${min}, got "${text}"`);
  return Number(text);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        endpoint: { type: "string" },
        ca: { type: "string" },
        db: { type: "string" },
        "per-container": { type: "string", default: "200" },
        "body-bytes": { type: "string", default: "1000" },
        "huge-bytes": { type: "string", default: "0" },
        containers: { type: "string", default: Object.keys(kFieldMap).join(",") },
        seed: { type: "string", default: "backfilld" },
        concurrency: { type: "string", default: "16" },
        "expect-out": { type: "string" },
        "dry-run": { type: "boolean", default: false },
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
    return;
  }
  try {
    encryptionKey();
  } catch (err) {
    usageError(err.message);
  }
  const dryRun = values["dry-run"];
  if (!dryRun && (!values.endpoint || !values.ca || !values.db)) usageError("--endpoint, --ca and --db are required");
  const perContainer = positiveInt(values["per-container"], "--per-container");
  const bodyBytes = positiveInt(values["body-bytes"], "--body-bytes");
  const hugeBytes = positiveInt(values["huge-bytes"], "--huge-bytes", 0);
  const concurrency = positiveInt(values.concurrency, "--concurrency");
  const names = values.containers.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!kFieldMap[n]) usageError(`unknown container "${n}"`);
  if (new Set(names).size !== names.length) usageError("a container is named twice");

  const client = dryRun ? null : new CosmosClient({ endpoint: values.endpoint, caFile: values.ca, maxSockets: concurrency });
  const summary = {};
  const max = { errors: 0, ownerMismatch: 0, missingPartitionKey: 0 };
  const started = process.hrtime.bigint();
  try {
    for (const name of names) {
      const t0 = process.hrtime.bigint();
      const { docs, counts } = generate(name, { perContainer, bodyBytes, seed: values.seed, hugeBytes });
      if (!dryRun) await upsertAll(client, values.db, name, docs, concurrency);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      process.stderr.write(`seed.mjs: ${name}: ${docs.length} documents in ${ms.toFixed(0)} ms\n`);
      summary[name] = counts;
      for (const k of Object.keys(max)) max[k] = Math.max(max[k], counts[k]);
    }
  } finally {
    client?.close();
  }
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stderr.write(`seed.mjs: ${names.length} containers x ${perContainer} documents in ${totalMs.toFixed(0)} ms\n`);
  // "_meta" is not a container: the settings that produced these counts, and the most bad
  // documents of each kind in any one container (what stop-criteria thresholds must allow).
  summary._meta = {
    seed: values.seed, perContainer, bodyBytes, hugeBytes, keyId: kKid, productId: kProduct,
    maxPerContainer: max,
  };
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  if (values["expect-out"]) {
    const file = path.resolve(values["expect-out"]);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  process.stdout.write(text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`seed.mjs: ${err.message}\n`);
    process.exit(1);
  });
}
