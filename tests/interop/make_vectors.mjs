// Computes the envelope v1 test vectors of docs/ENVELOPE.md and tests/unit/crypto/envelope_test.cpp
// with node:crypto alone, independently of backfilld: `node tests/interop/make_vectors.mjs`.
import { createCipheriv } from 'node:crypto';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
// Each vector has its own IV; a fixed IV is for vectors only (production IVs are random).
const ivOf = (index) => Buffer.from(`cafebabefacedbaddecaf8${(0x80 + index).toString(16)}`, 'hex');
const kid = 'k1';

const vectors = [
  ['notes', 'user-1', 'hello world'],
  ['notes', 'user-1', 'caf\u00e9 \u2603 \u{1F600} \u4e2d\u6587\u30c6\u30ad\u30b9\u30c8'],
  ['palace-memory', 'u\u0001ser\n', 'tab\there "quoted" back\\slash'],
  ['note_prompts', '\u30e6\u30fc\u30b6\u30fc42', 42],
  ['note_artifacts', 'user-1', -3.25],
  ['note_agent_actions', 'user-1',
   { summary: '\u00e9', steps: [1, 2.5, null, true, false], nested: { k: 'v' } }],
  ['notes', 'user-1', ''],
  ['notes', 'user-1', '\u0000\u001f\u007f\u2028'],
  ['notes', '\udc00lone', 'x'],
  ['note_prompts', 'user-1', ['a', 1, { b: null }]],
];

for (const [index, [context, userId, value]] of vectors.entries()) {
  const iv = ivOf(index);
  const plaintext = JSON.stringify(value);
  const aad = JSON.stringify([context, userId]);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const envelope = { __encrypted: true, v: 1, alg: 'A256GCM', kid, iv: iv.toString('base64'),
                     ct: ct.toString('base64') };
  console.log(JSON.stringify({ key: key.toString('base64'), iv: iv.toString('base64'), context,
                               userId, plaintext, aadHex: Buffer.from(aad).toString('hex'),
                               envelope: JSON.stringify(envelope) }));
}
