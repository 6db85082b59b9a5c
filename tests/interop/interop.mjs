// The envelope contract with the NoteLett app, checked against node:crypto (what the app uses):
//   (a) backfilld seals -> node decrypts with AAD JSON.stringify([context, userId]) and
//       JSON.parse(plaintext) deep-equals the value;
//   (b) node seals (old and primary kid) -> backfilld opens to the exact plaintext;
//   (c) backfilld's encrypt-fields transform rewrites NoteLett documents -> node decrypts every
//       rewritten field and finds every other member, and the member order, unchanged.
// Usage: node interop.mjs <envelope_tool> [count]; INTEROP_SEED=n draws other values (keys and
// IVs are random in every run).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tool = process.argv[2];
const count = Number(process.argv[3] ?? 300);
const seed = Number(process.env.INTEROP_SEED ?? 20260505);
if (!tool) {
  console.error('usage: node interop.mjs <envelope_tool> [count]');
  process.exit(2);
}

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

const controls = Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).concat('\u007f');
const pools = [
  [...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,:;-_/{}[]'],
  ['"', '\\', '\\u0000', '</script>', "'"],
  controls,
  ['\u00e9', '\u00df', '\u03a9', '\u20ac', '\u2028', '\u2029', '\ufeff', '\ufffd', '\u2603',
   '\u00a0', '\u0301'],
  ['\u4e2d', '\u6587', '\u65e5', '\u672c', '\u8a9e', '\ud55c', '\u30c6', '\u0627', '\u05d0'],
  ['\u{1F600}', '\u{1D11E}', '\u{1F1EB}\u{1F1F7}', '\u{10FFFF}', '\u{1F468}\u200d\u{1F469}'],
];
// A lone low surrogate: RapidJSON keeps "\udc00" (as CESU-8); a lone high one is a parse error
// there, so Cosmos documents holding one cannot be processed at all (docs/ENVELOPE.md).
const loneLow = () => String.fromCharCode(0xdc00 + int(0x400));

function randomString(maxLength, { lone = true } = {}) {
  let text = '';
  const length = int(maxLength + 1);
  for (let i = 0; i < length; ++i) text += lone && random() < 0.04 ? loneLow() : pick(pick(pools));
  return text;
}

function randomNumber() {
  switch (int(5)) {
    case 0: return int(2_000_001) - 1_000_000;
    case 1: return pick([0, -0, 1, -1, 0.1, 0.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308,
                         2 ** 53 - 1, -(2 ** 53), 2 ** 63, 12345678901234567000]);
    case 2: return (random() - 0.5) * 10 ** (int(40) - 20);
    case 3: return (random() - 0.5) * 10 ** (int(600) - 300);
    default: return Math.round((random() - 0.5) * 1e6) / 100;
  }
}

function randomValue(depth = 0, options = {}) {
  const roll = int(depth >= 3 ? 6 : 9);
  if (roll < 3) return randomString(40, options);
  if (roll === 3) return randomNumber();
  if (roll === 4) return random() < 0.5;
  if (roll === 5) return depth === 0 ? '' : null;
  if (roll === 6 || roll === 7) {
    const object = {};
    for (let i = int(5); i > 0; --i) object[randomString(8, options)] = randomValue(depth + 1, options);
    return object;
  }
  return Array.from({ length: int(5) }, () => randomValue(depth + 1, options));
}

const randomUserId = (options) => {
  const id = randomString(16, options);
  return id.length > 0 ? id : 'u';
};

// What the app gets back from the value: JSON.parse of its stored text (-0 becomes 0 there too).
const normalized = (value) => JSON.parse(JSON.stringify(value));
const aadOf = (context, userId) => Buffer.from(JSON.stringify([context, userId]), 'utf8');

// ---- keys and the tool -------------------------------------------------------------------------
const keys = { k1: randomBytes(32), k2: randomBytes(32) };  // k2 is primary, k1 retired
const dir = mkdtempSync(join(tmpdir(), 'backfilld-interop-'));
const keyringFile = join(dir, 'keyring.json');
writeFileSync(keyringFile, JSON.stringify({
  primary: 'k2', keys: { k1: keys.k1.toString('base64'), k2: keys.k2.toString('base64') } }));

function runTool(requests) {
  const run = spawnSync(tool, {
    input: requests.map((r) => JSON.stringify(r)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, FIELD_ENCRYPT_KEY_PROVIDER: 'file',
           FIELD_ENCRYPT_KEYRING_FILE: keyringFile },
  });
  // A tool that dies early shows up as EPIPE on its stdin; its stderr says why.
  assert.ok(!run.error && run.status === 0,
            `envelope_tool failed (${run.error?.code ?? `exit ${run.status}`}): ${run.stderr}`);
  const lines = run.stdout.split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, requests.length, 'envelope_tool must answer every request');
  return lines.map((line) => JSON.parse(line));
}

function nodeSeal(kid, context, userId, value) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys[kid], iv);
  cipher.setAAD(aadOf(context, userId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(),
                            cipher.getAuthTag()]);
  return { __encrypted: true, v: 1, alg: 'A256GCM', kid, iv: iv.toString('base64'),
           ct: ct.toString('base64') };
}

function nodeOpen(envelope, context, userId) {
  const ct = Buffer.from(envelope.ct, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', keys[envelope.kid], Buffer.from(envelope.iv, 'base64'));
  decipher.setAAD(aadOf(context, userId));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()])
    .toString('utf8');
}

const failures = [];
function check(what, details, body) {
  try {
    body();
  } catch (error) {
    failures.push({ what, details, error: error.message.split('\n').slice(0, 12).join('\n') });
  }
}

const contexts = ['notes', 'palace-memory', 'note_artifacts', 'note_prompts', 'note_agent_actions'];
const fixedValues = ['', 'plain', '\u0000', controls.join(''), '"\\/', '\u2028\u2029',
  '\u{1F600}\u4e2d\u00e9\u2603', loneLow() + 'x', {}, [], [[[]]], { '': '' }, 0, -0, 1e21,
  5e-324, true, false, null, { a: { b: { c: [1, 'two', { three: 3.5 }] } } }];
const cases = fixedValues.map((value, i) => ({
  context: contexts[i % contexts.length], userId: i % 2 ? 'u\u0001ser\n' : 'user-\u00e9', value }));
for (let i = 0; i < count; ++i) {
  cases.push({ context: random() < 0.8 ? pick(contexts) : randomString(12) || 'ctx',
               userId: randomUserId(), value: randomValue() });
}

// ---- (a) backfilld seals, node opens -----------------------------------------------------------
const sealed = runTool(cases.map(({ context, userId, value }) => ({ op: 'seal', context, userId, value })));
const ivs = new Set();
sealed.forEach((reply, i) => check('backfilld seals, node opens', cases[i], () => {
  const { context, userId, value } = cases[i];
  assert.equal(reply.ok, true, JSON.stringify(reply.error));
  const envelope = reply.envelope;
  assert.deepEqual(Object.keys(envelope), ['__encrypted', 'v', 'alg', 'kid', 'iv', 'ct']);
  assert.equal(envelope.__encrypted, true);
  assert.equal(envelope.v, 1);
  assert.equal(envelope.alg, 'A256GCM');
  assert.equal(envelope.kid, 'k2', 'the primary kid encrypts');
  assert.equal(Buffer.from(envelope.iv, 'base64').length, 12);
  assert.equal(Buffer.from(envelope.iv, 'base64').toString('base64'), envelope.iv);
  assert.equal(Buffer.from(envelope.ct, 'base64').toString('base64'), envelope.ct);
  assert.equal(reply.aadHex, aadOf(context, userId).toString('hex'), 'AAD is JSON.stringify([context, userId])');
  assert.ok(!ivs.has(envelope.iv), 'IV reused');
  ivs.add(envelope.iv);
  assert.deepEqual(JSON.parse(nodeOpen(envelope, context, userId)), normalized(value));
}));

// ---- (b) node seals, backfilld opens -----------------------------------------------------------
const nodeEnvelopes = cases.map(({ context, userId, value }, i) =>
  nodeSeal(i % 3 === 0 ? 'k1' : 'k2', context, userId, value));
const opened = runTool(cases.map(({ context, userId }, i) =>
  ({ op: 'open', context, userId, envelope: nodeEnvelopes[i] })));
opened.forEach((reply, i) => check('node seals, backfilld opens', cases[i], () => {
  assert.equal(reply.ok, true, JSON.stringify(reply.error));
  assert.equal(reply.plaintext, JSON.stringify(cases[i].value));
}));

// The tool must refuse what does not authenticate, so that (b) cannot pass by echoing.
const tampered = structuredClone(nodeEnvelopes[0]);
const tamperedCt = Buffer.from(tampered.ct, 'base64');
tamperedCt[0] ^= 1;
tampered.ct = tamperedCt.toString('base64');
const refusals = [
  [{ ...cases[0], userId: cases[0].userId + 'x' }, nodeEnvelopes[0], 'decrypt_failed'],
  [{ ...cases[0], context: 'other' }, nodeEnvelopes[0], 'decrypt_failed'],
  [cases[0], tampered, 'decrypt_failed'],
  [cases[0], { ...nodeEnvelopes[0], kid: 'k9' }, 'unknown_kid'],
  [cases[0], { ...nodeEnvelopes[0], v: 2 }, 'malformed_envelope'],
];
runTool(refusals.map(([{ context, userId }, envelope]) => ({ op: 'open', context, userId, envelope })))
  .forEach((reply, i) => check('backfilld refuses', refusals[i][2], () => {
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, refusals[i][2]);
  }));

// ---- (c) the transform over NoteLett documents -------------------------------------------------
const fieldMap = [
  { name: 'notes', partitionKeyPath: '/workspaceId', fields: ['body'], context: 'notes' },
  { name: 'palace_memories', partitionKeyPath: '/userId', fields: ['content'], context: 'palace-memory' },
  { name: 'note_artifacts', partitionKeyPath: '/workspaceId', fields: ['title', 'description', 'blobPath'],
    context: 'note_artifacts' },
  { name: 'note_prompts', partitionKeyPath: '/userId',
    fields: ['description', 'systemPrompt', 'userPromptTemplate'], context: 'note_prompts',
    skipOwners: ['__builtin__'] },
  { name: 'note_agent_actions', partitionKeyPath: '/workspaceId',
    fields: ['reason', 'beforeSummary', 'afterSummary', 'reviewNote'], context: 'note_agent_actions' },
].map((container) => ({ userIdField: 'userId', skipOwners: [], ...container }));

// The daemon writes other members back with RapidJSON, which keeps a lone surrogate as raw
// CESU-8 (not UTF-8): lone surrogates go only into values the transform rewrites.
const plain = { lone: false };
const documents = [];
for (let i = 0; i < count; ++i) {
  const container = pick(fieldMap);
  const userId = int(10) === 0 && container.name === 'note_prompts' ? '__builtin__' : randomUserId(plain);
  const document = { id: `doc-${i}`, workspaceId: `ws-${int(5)}`, productId: 'notelett', userId,
                     createdAt: '2026-05-05T10:00:00.000Z', meta: randomValue(1, plain) };
  const builtin = container.skipOwners.includes(userId);
  const fieldValue = () => randomValue(0, builtin ? plain : {});
  const expected = [];
  for (const field of container.fields) {
    const roll = int(6);
    if (roll === 0) { expected.push('skipped'); continue; }                      // absent
    if (roll === 1) { document[field] = null; expected.push('skipped'); continue; }
    if (roll === 2) {                                                            // encrypted before
      document[field] = nodeSeal('k1', container.context, userId, randomValue());
      expected.push('skipped');
      continue;
    }
    document[field] = fieldValue();
    expected.push('rewritten');
  }
  Object.assign(document, { embedding: [randomNumber(), randomNumber()], state: 'done',
                            updatedAt: '2026-05-05T11:00:00.000Z', _etag: '"0000-1111"',
                            _ts: 1778000000 + i });
  const fields = builtin ? container.fields.map(() => 'skipped') : expected;
  const outcome = fields.includes('rewritten') ? 'rewritten' : 'unchanged';
  documents.push({ container, document, fields, outcome });
}
const transformed = runTool(documents.map(({ container, document }) =>
  ({ op: 'encrypt-document', container, document })));
transformed.forEach((reply, i) => check('backfilld encrypts a document, node reads it', documents[i], () => {
  const { container, document, fields, outcome } = documents[i];
  assert.equal(reply.ok, true, JSON.stringify(reply.error));
  assert.equal(reply.outcome, outcome, reply.detail);
  assert.deepEqual(reply.fields, fields);
  const written = reply.document;
  assert.deepEqual(Object.keys(written), Object.keys(document), 'member order');
  for (const key of Object.keys(document)) {
    const index = container.fields.indexOf(key);
    if (index >= 0 && fields[index] === 'rewritten') {
      assert.equal(written[key].kid, 'k2');
      assert.deepEqual(JSON.parse(nodeOpen(written[key], container.context, document.userId)),
                       normalized(document[key]), `field ${key}`);
    } else {
      assert.deepEqual(written[key], normalized(document[key]), `member ${key}`);
    }
  }
}));

rmSync(dir, { recursive: true, force: true });
const total = sealed.length + opened.length + refusals.length + transformed.length;
if (failures.length > 0) {
  for (const failure of failures.slice(0, 10)) {
    console.error(`FAIL ${failure.what}\n  case: ${JSON.stringify(failure.details).slice(0, 600)}\n  ${failure.error}`);
  }
  console.error(`${failures.length} of ${total} checks failed (INTEROP_SEED=${seed})`);
  process.exit(1);
}
console.log(`interop ok (INTEROP_SEED=${seed}): ${sealed.length} sealed by backfilld and opened by ` +
            `node, ${opened.length} sealed by node and opened by backfilld, ${refusals.length} ` +
            `refusals, ${transformed.length} documents encrypted by the transform`);
