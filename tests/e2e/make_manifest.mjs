#!/usr/bin/env node
// Derives a test manifest from the real NoteLett manifest (migrations/notelett/encrypt-fields.json)
// and the seed's expectations (seed.mjs --expect-out). Everything but the stop criteria and, for
// fail-last, the container list stays as in the real manifest.
//
//   node make_manifest.mjs --base M --expect E --out F --stop raised|real|fail-last
//
// raised     stop criteria = the seed's _meta.maxPerContainer: the seed plants bad documents on
//            purpose, and a count equal to its threshold must not fail the run.
// real       the real manifest's stop criteria, unchanged.
// fail-last  criteria raised, except maxOwnerMismatch = (the most owner mismatches of any
//            container) - 1, and the containers reordered so that every container under that
//            threshold runs first (manifest order) and one container over it runs last: the
//            run must succeed for all but the last, which fails on the criterion.
// Prints {"failAt": NAME, "reason": "stop criterion: ..."} for fail-last, {} otherwise.
import fs from "node:fs";
import { parseArgs } from "node:util";

function die(message) {
  process.stderr.write(`make_manifest.mjs: ${message}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      base: { type: "string" },
      expect: { type: "string" },
      out: { type: "string" },
      stop: { type: "string" },
    },
    strict: true,
  }));
} catch (err) {
  die(err.message);
}
for (const flag of ["base", "expect", "out", "stop"]) if (!values[flag]) die(`--${flag} is required`);
const manifest = JSON.parse(fs.readFileSync(values.base, "utf8"));
const expect = JSON.parse(fs.readFileSync(values.expect, "utf8"));
const max = expect._meta?.maxPerContainer;
if (!max) die(`${values.expect} has no _meta.maxPerContainer`);
const raised = {
  maxErrors: max.errors,
  maxOwnerMismatch: max.ownerMismatch,
  maxMissingPartitionKey: max.missingPartitionKey,
};

let result = {};
switch (values.stop) {
  case "raised":
    manifest.stopCriteria = raised;
    break;
  case "real":
    break;
  case "fail-last": {
    const limit = max.ownerMismatch - 1;
    const under = manifest.containers.filter((c) => expect[c.name].ownerMismatch <= limit);
    const over = manifest.containers.find((c) => expect[c.name].ownerMismatch > limit);
    if (under.length === 0 || !over) die("the seed has no containers with different owner-mismatch counts");
    manifest.containers = [...under, over];
    manifest.stopCriteria = { ...raised, maxOwnerMismatch: limit };
    result = {
      failAt: over.name,
      reason: `stop criterion: ownerMismatch ${expect[over.name].ownerMismatch} > maxOwnerMismatch ${limit}`,
    };
    break;
  }
  default:
    die(`--stop must be raised, real or fail-last, not "${values.stop}"`);
}
fs.writeFileSync(values.out, `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
