// backfilld's effective partition keys against the official SDK's (@azure/cosmos, installed from
// the one pinned copy in deploy/local/node_modules, which deploy/local/cosmos.sh install puts there): a few hundred generated keys under
// hash V1, V2 (one and several paths) and MultiHash, through tests/interop/epk_tool.
// Usage: node epk_interop.mjs <epk_tool> [count]; INTEROP_SEED=n draws other values.
//
// Where the JS SDK's V1 differs from the .NET and Java SDKs (whose managed/native test checks
// them against the service, and which backfilld follows), a mismatch is accepted only in its
// exact, known shape, and counted:
//   number-final-zero: the JS encoding of a number drops a final 0x00 byte (ours = sdk + "00");
//   long-utf8-string:  a string whose first 100 UTF-16 units take more than 100 UTF-8 bytes is
//                      cut at 101 bytes by .NET/Java, kept whole by JS (ours is a prefix of sdk,
//                      so the hash, over the same truncated bytes, agrees).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tool = process.argv[2];
const count = Number(process.argv[3] ?? 300);
const seed = Number(process.env.INTEROP_SEED ?? 20260513);
if (!tool) {
  console.error('usage: node epk_interop.mjs <epk_tool> [count]');
  process.exit(2);
}

// The SDK does not export its hashing; its own module file is imported by path instead.
const here = dirname(fileURLToPath(import.meta.url));
const sdkDir = join(here, '../../deploy/local/node_modules/@azure/cosmos');
const hashModule = join(sdkDir, 'dist/esm/utils/hashing/hash.js');
if (!existsSync(hashModule)) {
  console.error(`epk_interop: ${hashModule} is missing; run deploy/setup.sh (deploy/local/cosmos.sh install)`);
  process.exit(1);
}
const { hashPartitionKey } = await import(pathToFileURL(hashModule).href);
const sdkVersion = (await import(pathToFileURL(join(sdkDir, 'package.json')),
                                 { with: { type: 'json' } })).default.version;

// ---- deterministic random values ---------------------------------------------------------------
let state = seed >>> 0;
const random = () => {  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(random() * n);
const pick = (items) => items[int(items.length)];

// Code point ranges; the last is lone surrogates, which JSON.stringify escapes and the SDK
// encodes as U+FFFD (two in a row may pair up, in both implementations alike).
const ranges = [[0x20, 0x7e], [0x01, 0x1f], [0xa0, 0x24f], [0x400, 0x4ff], [0x4e00, 0x9fff],
                [0xe000, 0xfffd], [0x1f300, 0x1faff], [0x10000, 0x10ffff], [0xd800, 0xdfff]];
const character = () => {
  const [low, high] = random() < 0.6 ? ranges[0] : pick(ranges);
  const code = low + int(high - low + 1);
  return code >= 0xd800 && code <= 0xdfff ? String.fromCharCode(code) : String.fromCodePoint(code);
};
const randomString = () => {
  const length = pick([0, 1, 2, 7, 50, 99, 100, 101, 120, 300, int(40), int(400)]);
  let text = '';
  while (text.length < length) text += character();
  return text;
};
const randomDouble = () => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, int(2 ** 32));
  view.setUint32(4, int(2 ** 32));
  const value = view.getFloat64(0);
  return Number.isFinite(value) ? value : 0.5;
};
const randomNumber = () => pick([
  () => int(2001) - 1000, () => -int(2 ** 31), () => int(2 ** 53), () => randomDouble(),
  () => (random() - 0.5) * 1e6, () => 2 ** (int(2098) - 1074) * pick([1, -1]),
  () => pick([0, -0, 1, -1, 2, 0.5, 5, 5.5, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 63),
              Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e300, -1e-300]),
])();
const randomValue = () => {
  const roll = random();
  if (roll < 0.45) return randomString();
  if (roll < 0.85) return randomNumber();
  return pick([true, false, null, undefined]);
};

const fixed = [
  'redmond', '', 'a'.repeat(110), 'a'.repeat(99) + '\u{1F600}', 'a'.repeat(98) + '\u{1F600}x',
  '\u00e9'.repeat(60), 'по-русски', '\u{1F600}'.repeat(60), 'a\ud800b', '\udc00\ud800',
  'a'.repeat(99) + '\ud83d', 0, -0, 5, 5.5, -1, true, false, null, undefined,
];
const values = fixed.concat(Array.from({ length: count }, randomValue));

// ---- cases: [definition, key components] -------------------------------------------------------
const hashV1 = { paths: ['/pk'], kind: 'Hash' };
const hashV2 = { paths: ['/pk'], kind: 'Hash', version: 2 };
const cases = [];
for (const value of values) {
  cases.push([hashV1, [value]], [hashV2, [value]]);
}
for (let i = 0; i < count; ++i) {
  const components = Array.from({ length: 1 + int(3) }, randomValue);
  const paths = components.map((_, index) => `/p${index}`);
  cases.push([{ paths, kind: 'MultiHash', version: 2 }, components]);
  cases.push([{ paths, kind: 'Hash', version: 2 }, components]);
}

// Our side reads the header JSON: undefined as {} (as PartitionKey::none writes it), -0 as -0.0
// (JSON.stringify would write 0).
const componentJson = (value) =>
  value === undefined ? '{}' : Object.is(value, -0) ? '-0.0' : JSON.stringify(value);
const input = cases.map(([definition, components]) =>
  `${JSON.stringify(definition)}\t[${components.map(componentJson).join(',')}]`).join('\n') + '\n';
const run = spawnSync(tool, [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
if (run.status !== 0) {
  console.error(`epk_interop: ${tool} exited ${run.status}: ${run.stderr}`);
  process.exit(1);
}
const ours = run.stdout.split('\n');

// ---- compare -----------------------------------------------------------------------------------
const tally = { match: 0, 'number-final-zero': 0, 'long-utf8-string': 0 };
const failures = [];
const utf8Length = (text) => Buffer.byteLength(text, 'utf8');
cases.forEach(([definition, components], index) => {
  const sdk = hashPartitionKey(components.map((v) => (v === undefined ? {} : v)), definition);
  const mine = ours[index];
  if (mine === sdk) {
    tally.match += 1;
    return;
  }
  const value = components[0];
  const v1 = definition.kind === 'Hash' && definition.version === undefined;
  if (v1 && typeof value === 'number' && mine === `${sdk}00`) {
    tally['number-final-zero'] += 1;
  } else if (v1 && typeof value === 'string' && utf8Length(value.substring(0, 100)) > 100 &&
             sdk.startsWith(mine) && mine.length < sdk.length) {
    tally['long-utf8-string'] += 1;
  } else {
    failures.push({ definition, key: components.map(componentJson), sdk, ours: mine });
  }
});

console.log(`epk_interop: @azure/cosmos ${sdkVersion}, seed ${seed}, ${cases.length} keys: ` +
            JSON.stringify(tally));
if (failures.length > 0) {
  for (const failure of failures.slice(0, 20)) console.error(JSON.stringify(failure));
  console.error(`epk_interop: ${failures.length} EPKs differ from the SDK's`);
  process.exit(1);
}
