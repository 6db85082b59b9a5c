// Prints the demo's result: per container, what the seed planted, what the dry run and the live
// runs counted, and whether the live counts match the seed's expectations. Exits 1 on a mismatch.
//   node demo_summary.mjs EXPECTED.json DRY.json LIVE.json SECOND.json
import fs from "node:fs";

const [expected, dry, live, second] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
const byName = (summary) => Object.fromEntries(summary.containers.map((c) => [c.container, c]));
const [dryBy, liveBy, secondBy] = [dry, live, second].map(byName);
const keys = ["scanned", "encrypted", "skipped", "errors", "ownerMismatch", "missingPartitionKey"];

const rows = [];
let mismatches = 0;
for (const name of Object.keys(byName(live))) {
  const want = expected[name];
  const got = liveBy[name].counts;
  const same = keys.every((k) => got[k] === want[k]) && dryBy[name].counts.encrypted === want.encrypted;
  if (!same) mismatches++;
  rows.push({
    container: name,
    scanned: got.scanned,
    "dry run: would encrypt": dryBy[name].counts.encrypted,
    "live: encrypted": got.encrypted,
    skipped: got.skipped,
    "errors/owner/pk": `${got.errors}/${got.ownerMismatch}/${got.missingPartitionKey}`,
    "2nd live: encrypted": secondBy[name].counts.encrypted,
    "docs/s": Math.round(liveBy[name].docsPerSecond),
    "as seeded": same ? "yes" : "NO",
  });
}
console.table(rows);
for (const summary of [dry, live, second]) {
  if (!summary.ok) { console.log(`run not ok: ${JSON.stringify(summary.containers.map((c) => c.reason))}`); mismatches++; }
}
const secondEncrypted = second.containers.reduce((n, c) => n + c.counts.encrypted, 0);
if (secondEncrypted !== 0) { console.log(`second live run encrypted ${secondEncrypted} values: not idempotent`); mismatches++; }
process.exit(mismatches ? 1 : 0);
