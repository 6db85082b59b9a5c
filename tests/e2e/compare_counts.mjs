#!/usr/bin/env node
// Compares the JSON summary of `backfilld run` (its stdout) with the counts the seed says an
// encryption backfill must report (seed.mjs --expect-out). Exit 0 when they agree, 1 otherwise
// (every difference listed), 2 on bad usage.
//
//   node compare_counts.mjs --summary S --expect E --manifest M --db DB
//        [--only NAME] [--dry-run] [--already S1 ...] [--already-verified V] [--stopped]
//        [--fail-at NAME (--reason TEXT | --reason-match REGEX)]
//
// Containers: the summary must list the manifest's containers in manifest order (only NAME with
// --only), each "succeeded", and "ok": true.
// Counts of a succeeded container: scanned, errors, ownerMismatch and missingPartitionKey equal
// the seed's; encrypted equals the seed's minus what earlier runs (--already: their summaries)
// encrypted, and skipped grows by as much; per field likewise. So --already with the first live
// run's summary expects a second run to encrypt nothing, and with a stopped run's summary, that
// the two runs together encrypted every value exactly once. A container the run continued from an
// earlier run's checkpoint (its resumedFrom) reports the job's counts across both runs: what it
// had encrypted before is its own, not "earlier".
// --already-verified V: what is already encrypted on the server, as verify.mjs --expect partial
//   counted it (its JSON summary: encryptedDocs and encryptedByField per container); for runs
//   that follow killed runs, which leave no summary.
// --stopped: the last container listed is "stopped" (reason "stopped by signal N after batch B"),
//   "ok" is false;
//   its counts can only be bounded: every count at most the seed's.
// --fail-at NAME --reason TEXT: the list ends at NAME, which "failed" with exactly that reason
//   (--reason-match: a reason matching REGEX); "ok" is false. The failed container's counts
//   include the batch that crossed the criterion, so only the crossed count is checked: it is
//   what the reason says, and the threshold named is the manifest's.
import fs from "node:fs";
import { parseArgs } from "node:util";

const kUsage = `usage: node compare_counts.mjs --summary S --expect E --manifest M --db DB
       [--only NAME] [--dry-run] [--already S1 ...] [--already-verified V] [--stopped]
       [--fail-at NAME (--reason TEXT | --reason-match REGEX)]`;

function usageError(message) {
  process.stderr.write(`compare_counts.mjs: ${message}\n${kUsage}\n`);
  process.exit(2);
}

function readJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    usageError(`${what} ${file}: ${err.message}`);
  }
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      summary: { type: "string" },
      expect: { type: "string" },
      manifest: { type: "string" },
      db: { type: "string" },
      only: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      already: { type: "string", multiple: true, default: [] },
      "already-verified": { type: "string" },
      stopped: { type: "boolean", default: false },
      "fail-at": { type: "string" },
      reason: { type: "string" },
      "reason-match": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usageError(err.message);
}
for (const flag of ["summary", "expect", "manifest", "db"]) if (!values[flag]) usageError(`--${flag} is required`);
if (Boolean(values["fail-at"]) !== Boolean(values.reason || values["reason-match"])) {
  usageError("--fail-at goes with --reason or --reason-match");
}
if (values.stopped && values["fail-at"]) usageError("--stopped and --fail-at exclude each other");

const summary = readJson(values.summary, "summary");
const expect = readJson(values.expect, "expectations");
const manifest = readJson(values.manifest, "manifest");
const earlier = values.already.map((f) => readJson(f, "earlier summary"));
const verified = values["already-verified"] ? readJson(values["already-verified"], "verify summary") : null;

const diffs = [];
const differ = (where, got, want) => diffs.push(`${where}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
const check = (where, got, want) => {
  if (got !== want) differ(where, got, want);
};

/** What earlier runs encrypted in `name`: documents and each field. A job this run continued
 * (resumedFrom: its checkpoint when this run took it over) counts what it had encrypted before as
 * its own, so that part is not "earlier". */
function encryptedEarlier(name, fields, resumedFrom) {
  const out = { docs: 0, fields: Object.fromEntries(fields.map((f) => [f, 0])) };
  for (const run of earlier) {
    for (const entry of run.containers ?? []) {
      if (entry.container !== name) continue;
      out.docs += entry.counts.encrypted;
      for (const f of fields) out.fields[f] += entry.counts.fields[f].encrypted;
    }
  }
  if (verified) {
    const stats = verified.containers?.[name];
    if (!stats) usageError(`${values["already-verified"]}: no container ${name}`);
    out.docs += stats.encryptedDocs;
    for (const f of fields) out.fields[f] += stats.encryptedByField[f];
  }
  if (resumedFrom) {
    out.docs -= resumedFrom.counts.encrypted;
    for (const f of fields) out.fields[f] -= resumedFrom.counts.fields[f].encrypted;
  }
  return out;
}

let names = manifest.containers.map((c) => c.name);
if (values.only) {
  if (!names.includes(values.only)) usageError(`--only ${values.only}: not in the manifest`);
  names = [values.only];
}
if (values["fail-at"]) {
  const at = names.indexOf(values["fail-at"]);
  if (at < 0) usageError(`--fail-at ${values["fail-at"]}: not among the containers run`);
  names = names.slice(0, at + 1);
}
const listed = (summary.containers ?? []).map((c) => c.container);
const failing = Boolean(values.stopped || values["fail-at"]);

check("dryRun", summary.dryRun, values["dry-run"]);
check("database", summary.database, values.db);
check("manifest", summary.manifest, manifest.id);
check("ok", summary.ok, !failing);
if (values.stopped) {
  // Stopped somewhere: a non-empty prefix of the manifest order.
  if (listed.length === 0 || listed.join(",") !== names.slice(0, listed.length).join(",")) {
    differ("containers (a prefix of the manifest order)", listed, names);
  }
} else if (listed.join(",") !== names.join(",")) {
  differ("containers (in manifest order)", listed, names);
}

const docKeys = ["scanned", "encrypted", "skipped", "errors", "ownerMismatch", "missingPartitionKey"];
for (const [index, entry] of (summary.containers ?? []).entries()) {
  const name = entry.container;
  const want = expect[name];
  const spec = manifest.containers.find((c) => c.name === name);
  if (!want || !spec) {
    diffs.push(`${name}: not a seeded container of the manifest`);
    continue;
  }
  const last = index === listed.length - 1;
  const counts = entry.counts ?? {};
  const fields = spec.fields;
  const gotFields = Object.keys(counts.fields ?? {});
  if (gotFields.join(",") !== fields.join(",")) differ(`${name}.counts.fields (names, in order)`, gotFields, fields);
  if (typeof entry.docsPerSecond !== "number" || typeof entry.seconds !== "number") {
    diffs.push(`${name}: seconds/docsPerSecond missing`);
  }

  if (last && values.stopped) {
    check(`${name}.status`, entry.status, "stopped");
    // A signal stops a run; the job stays resumable ("stopped by signal 15 after batch N: ...").
    if (!/^stopped by signal \d+ after batch \d+/.test(entry.reason ?? "")) {
      differ(`${name}.reason`, entry.reason, "stopped by signal N after batch B");
    }
    for (const k of docKeys) {
      if (!(counts[k] <= want[k])) differ(`${name}.counts.${k} (at most the seed's, stopped part-way)`, counts[k], `<= ${want[k]}`);
    }
    continue;
  }
  if (last && values["fail-at"]) {
    check(`${name}.status`, entry.status, "failed");
    if (values.reason) {
      check(`${name}.reason`, entry.reason, values.reason);
    } else if (!new RegExp(values["reason-match"]).test(entry.reason ?? "")) {
      differ(`${name}.reason (to match /${values["reason-match"]}/)`, entry.reason, values["reason-match"]);
    }
    // "stop criterion: errors 1 > maxErrors 0": the count named is the one in the summary, over
    // the manifest's threshold.
    const m = /^stop criterion: (\w+) (\d+) > (\w+) (\d+)$/.exec(entry.reason ?? "");
    if (!m) {
      differ(`${name}.reason (stop criterion: COUNT N > LIMIT L)`, entry.reason, "a stop criterion");
    } else {
      check(`${name}.counts.${m[1]} (the crossed count)`, counts[m[1]], Number(m[2]));
      check(`${name}: the threshold ${m[3]}`, Number(m[4]), manifest.stopCriteria?.[m[3]] ?? 0);
      if (!(Number(m[2]) > Number(m[4]))) differ(`${name}: crossed count over its threshold`, m[2], `> ${m[4]}`);
    }
    continue;
  }
  check(`${name}.status`, entry.status, "succeeded");
  if (entry.reason !== undefined) differ(`${name}.reason`, entry.reason, undefined);

  const before = encryptedEarlier(name, fields, entry.resumedFrom);
  for (const k of ["scanned", "errors", "ownerMismatch", "missingPartitionKey"]) check(`${name}.counts.${k}`, counts[k], want[k]);
  check(`${name}.counts.encrypted`, counts.encrypted, want.encrypted - before.docs);
  check(`${name}.counts.skipped`, counts.skipped, want.skipped + before.docs);
  for (const f of fields) {
    const got = counts.fields?.[f] ?? {};
    const w = want.fields[f];
    check(`${name}.fields.${f}.errors`, got.errors, w.errors);
    check(`${name}.fields.${f}.encrypted`, got.encrypted, w.encrypted - before.fields[f]);
    check(`${name}.fields.${f}.skipped`, got.skipped, w.skipped + before.fields[f]);
  }
}

if (diffs.length) {
  process.stderr.write(`compare_counts.mjs: ${values.summary} differs from ${values.expect}:\n`);
  for (const d of diffs) process.stderr.write(`  ${d}\n`);
  process.exit(1);
}
process.stdout.write(`compare_counts.mjs: ${values.summary}: ${listed.join(", ")} as expected\n`);
