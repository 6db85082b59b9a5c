// Effective partition keys (EPK) and range boundaries, as the service computes them for a
// container with `partitionKey.version: 2` (hash V2).
//
// Why reuse the SDK: the hash is the one thing that must match the clients bit for bit (the SDK's
// bulk mode routes each operation to a range by hashing its key itself). `@azure/cosmos` (pinned
// in ../package.json) ships it in dist/esm/utils/hashing/v2.js, which its `exports` map does not
// expose, so it is imported by file path; the test checks it against the published vectors of
// shared/COSMOS_NOTES.md.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
let hashV2;
try {
  const root = path.dirname(require.resolve("@azure/cosmos/package.json"));
  ({ hashV2PartitionKey: hashV2 } = await import(
    pathToFileURL(path.join(root, "dist/esm/utils/hashing/v2.js")).href
  ));
} catch (err) {
  throw new Error(`ranges layer: cannot load the SDK's hash V2 (npm ci in deploy/local?): ${err.message}`);
}

/// Hash V2 of one partition key value list (e.g. ["redmond"]): 32 uppercase hex digits.
export function hashV2PartitionKey(values) {
  return hashV2(values);
}

// V2 hashes clear the top two bits, so every EPK lies in [0, 2^126): the service lays its
// boundaries over that space (0x10.., 0x20.., 0x30.. for four ranges), and the last range still
// ends at "FF". Splitting "" .. "FF" evenly would leave every key in the first quarter.
const kSpace = 1n << 126n;

function toHex(value) {
  return value.toString(16).toUpperCase().padStart(32, "0");
}

function toNumber(epk) {
  if (epk === "") return 0n;
  if (epk === "FF") return kSpace;
  return BigInt(`0x${epk.padEnd(32, "0")}`);
}

/// K ranges [min, max) covering "" .. "FF" evenly over the V2 hash space.
export function initialBoundaries(k) {
  const bounds = [];
  for (let i = 0; i < k; i += 1) {
    const min = i === 0 ? "" : toHex((kSpace * BigInt(i)) / BigInt(k));
    const max = i === k - 1 ? "FF" : toHex((kSpace * BigInt(i + 1)) / BigInt(k));
    bounds.push({ min, max });
  }
  return bounds;
}

/// The EPK that halves [min, max), or null when the range is too narrow to split.
export function midpoint(min, max) {
  const lo = toNumber(min);
  const hi = toNumber(max);
  const mid = (lo + hi) / 2n;
  return mid <= lo ? null : toHex(mid);
}

/// True when epk is in [min, max): EPKs compare as strings (uppercase hex, "" lowest, "FF" above
/// every V2 hash).
export function inRange(epk, min, max) {
  return epk >= min && epk < max;
}

/// The EPK of a partition key as sent in `x-ms-documentdb-partitionkey` (a JSON array).
/// `[]` is PartitionKey.None (a document without the key), whose EPK is "" as in the service;
/// `[{}]` is an explicit undefined, which hashes.
export function epkOfHeader(header) {
  const values = typeof header === "string" ? JSON.parse(header) : header;
  if (!Array.isArray(values)) throw new Error(`partition key is not a JSON array: ${header}`);
  if (values.length === 0) return "";
  return hashV2PartitionKey(values.map((v) => (v !== null && typeof v === "object" ? undefined : v)));
}

/// The EPK of a stored document, given the container's partition key paths (["/tenantId"]).
/// A document without the key is stored under PartitionKey.None, EPK "".
export function epkOfDocument(document, paths) {
  const values = [];
  for (const keyPath of paths) {
    let value = document;
    for (const part of keyPath.split("/").slice(1)) {
      value = value !== null && typeof value === "object" ? value[part] : undefined;
    }
    if (value === undefined || (value !== null && typeof value === "object")) return "";
    values.push(value);
  }
  return hashV2PartitionKey(values);
}
