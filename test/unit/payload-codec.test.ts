/**
 * History encryption's codec and keys, without a server: payloads come back exactly as they went
 * in, each is sealed with its own nonce under the newest key, older keys still open what they
 * sealed, and everything that cannot be opened fails with a message naming the key, never its
 * material or the payload.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecError, CodecErrorType, EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, createKeyring, loadCodecKeys } from '../../src/codec';

const key = () => randomBytes(32).toString('base64');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const sample = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;
const codecOf = (...entries: Array<{ id: string; key: string }>) => new EncryptionCodec(createKeyring(entries));

test('a payload is sealed under the newest key and decodes to exactly the original, metadata included', async () => {
  const codec = codecOf({ id: 'k-2025', key: key() }, { id: 'k-2026', key: key() });
  const original: Payload = { metadata: { encoding: Buffer.from('json/plain'), 'x-custom': Buffer.from([0, 1, 2, 255]) }, data: Buffer.from('{"path":"/srv/customers.db"}') };
  const [sealed] = await codec.encode([original]);
  expect(text(sealed.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(sealed.metadata![KEY_ID_METADATA])).toBe('k-2026');
  expect(Object.keys(sealed.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA]);
  expect(Buffer.from(sealed.data!).includes(Buffer.from('customers'))).toBe(false);
  const [opened] = await codec.decode([sealed]);
  expect(Buffer.from(opened.data!)).toEqual(Buffer.from(original.data!));
  expect(Object.keys(opened.metadata!).sort()).toEqual(['encoding', 'x-custom']);
  expect(Buffer.from(opened.metadata!['x-custom']!)).toEqual(Buffer.from([0, 1, 2, 255]));
});

test('every encoding uses a fresh nonce: the same payload twice gives two different ciphertexts', async () => {
  const codec = codecOf({ id: 'k1', key: key() });
  const [first, second] = await codec.encode([sample('same'), sample('same')]);
  expect(Buffer.from(first.data!).subarray(0, 12).equals(Buffer.from(second.data!).subarray(0, 12))).toBe(false);
  expect(Buffer.from(first.data!).equals(Buffer.from(second.data!))).toBe(false);
});

test('any value round-trips through the codec', async () => {
  const codec = codecOf({ id: 'k1', key: key() });
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (value) => {
      const [opened] = await codec.decode(await codec.encode([sample(value)]));
      expect(defaultPayloadConverter.fromPayload(opened)).toEqual(defaultPayloadConverter.fromPayload(sample(value)));
    }),
    { numRuns: 200 },
  );
});

test('after rotation, payloads sealed under the old key still decode and new ones carry the new key id', async () => {
  const oldKey = { id: 'k-old', key: key() };
  const before = codecOf(oldKey);
  const [written] = await before.encode([sample({ amount: 500 })]);
  const after = codecOf(oldKey, { id: 'k-new', key: key() });
  expect(defaultPayloadConverter.fromPayload((await after.decode([written]))[0])).toEqual({ amount: 500 });
  const [fresh] = await after.encode([sample({ amount: 80 })]);
  expect(text(fresh.metadata![KEY_ID_METADATA])).toBe('k-new');
});

test('a payload under a key this process lacks fails naming that key id, not passing ciphertext along', async () => {
  const [written] = await codecOf({ id: 'k-retired', key: key() }).encode([sample('secret')]);
  const reader = codecOf({ id: 'k-current', key: key() });
  const failure = await reader.decode([written]).catch((err: unknown) => err);
  expect(CodecError.isInstance(failure, CodecErrorType.CodecKeyUnknown)).toBe(true);
  expect((failure as Error).message).toContain("'k-retired'");
});

test('a payload altered, relabelled to another key, or sealed by other material under the same id does not decode', async () => {
  const material = key();
  const codec = codecOf({ id: 'a', key: material }, { id: 'b', key: key() });
  const [sealed] = await codecOf({ id: 'a', key: material }).encode([sample('secret')]);
  const flipped = Buffer.from(sealed.data!);
  flipped[20] ^= 1;
  const relabelled = { metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('b') }, data: sealed.data };
  const [otherMaterial] = await codecOf({ id: 'a', key: key() }).encode([sample('secret')]);
  for (const bad of [{ ...sealed, data: flipped }, relabelled, otherMaterial]) {
    const failure = await codec.decode([bad]).catch((err: unknown) => err);
    expect(CodecError.isInstance(failure, CodecErrorType.PayloadDecryptionFailed)).toBe(true);
    expect((failure as Error).message).not.toContain(material);
  }
});

test('payloads that were never encrypted decode as themselves (threads from before encryption)', async () => {
  const plain = sample({ note: 'written in the clear' });
  const [opened] = await codecOf({ id: 'k1', key: key() }).decode([plain]);
  expect(opened).toBe(plain);
});

describe('loading keys', () => {
  const material = key();

  test('from the environment list and a file; the last key encrypts', () => {
    const keys = loadCodecKeys({ fileText: JSON.stringify({ keys: [{ id: 'file-1', key: key() }] }), list: `env-1=${material}` })!;
    expect([...keys.byId.keys()]).toEqual(['file-1', 'env-1']);
    expect(keys.current.id).toBe('env-1');
    expect(loadCodecKeys({})).toBeUndefined();
    expect(loadCodecKeys({ fileText: JSON.stringify([{ id: 'bare', key: material }]) })!.current.id).toBe('bare');
  });

  test.each([
    ['a short key', { list: `short=${Buffer.alloc(16).toString('base64')}` }, /key #1 .*'short'.*not 32 bytes/i],
    ['a key that is not base64', { list: `k=${material.slice(0, 20)}!!${material.slice(22)}` }, /'k'.*not 32 bytes/],
    ['a duplicate id', { list: `same=${material},same=${key()}` }, /key #2 .*'same'.*appears twice/],
    ['a key pasted as its id', { fileText: JSON.stringify([{ id: material.slice(0, 43).replace(/[+/]/g, 'A'), key: 'short' }]) }, /^Key #1 of the codec keys is not 32 bytes/],
    ['an entry without an id', { list: material }, /Entry #1 of AIRLOCK_CODEC_KEYS/],
    ['an id with spaces', { fileText: JSON.stringify({ keys: [{ id: 'has space', key: material }] }) }, /id of key #1/],
    ['a file that is not JSON', { fileText: `{"keys": ["${material}"`, fileName: 'keys.json' }, /keys.json is not valid JSON/],
    ['a file of the wrong shape', { fileText: JSON.stringify({ keys: material }) }, /must hold/],
    ['no key at all', { list: ' , ' }, /No key/],
  ])('refuses %s with a message that never prints key material', (_name, sources, message) => {
    let failure: unknown;
    try {
      loadCodecKeys(sources);
    } catch (err) {
      failure = err;
    }
    expect(CodecError.isInstance(failure, CodecErrorType.CodecKeysInvalid)).toBe(true);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toContain(material.slice(0, 12));
  });
});
