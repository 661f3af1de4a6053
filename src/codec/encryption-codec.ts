/**
 * History encryption: a `PayloadCodec` that seals every payload with AES-256-GCM before it leaves
 * the process (client, worker, approval service) and opens it on the way back. Temporal's server,
 * its database and anyone reading history without the keys see only ciphertext.
 *
 * An encrypted payload's metadata says `encoding: binary/encrypted` and names the key
 * (`encryption-key-id`); its data is a fresh 12-byte nonce, then the ciphertext of the whole
 * original payload (metadata and data, as the protobuf `Payload`), then GCM's 16-byte tag. The key
 * id is authenticated too (additional data), so a payload cannot be relabelled to another key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CodecError, CodecErrorType } from './codec-errors';
import { KEY_ID_PATTERN, type CodecKey, type CodecKeyring } from './codec-keys';

/** The metadata `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CIPHER = 'aes-256-gcm';
const ProtoPayload = temporal.api.common.v1.Payload;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** True when the payload is one this codec (or another using the same convention) encrypted. */
export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && textDecoder.decode(encoding) === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload names, or `undefined` when it names none. */
export function payloadKeyId(payload: Payload): string | undefined {
  const id = payload.metadata?.[KEY_ID_METADATA];
  return id ? textDecoder.decode(id) : undefined;
}

/**
 * AES-256-GCM over whole payloads. Encoding uses the keyring's current (newest) key; decoding
 * uses the key the payload names, so payloads written under older keys still read. A payload
 * that is not encrypted decodes as itself (threads written before encryption was turned on).
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeyring) {}

  /** The id of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.keys.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => encryptPayload(payload, this.keys.current));
  }

  /**
   * @throws CodecError `CodecKeyUnknown` for a key id this keyring lacks (named in the message),
   *   `PayloadDecryptionFailed` for a payload that does not authenticate under its key
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncryptedPayload(payload) ? decryptPayload(payload, this.keys) : payload));
  }
}

function encryptPayload(payload: Payload, key: CodecKey): Payload {
  const plaintext = ProtoPayload.encode(payload).finish();
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, key.key, nonce);
  cipher.setAAD(additionalData(key.id));
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { encoding: textEncoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: textEncoder.encode(key.id) },
    data: new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.byteLength),
  };
}

function decryptPayload(payload: Payload, keys: CodecKeyring): Payload {
  const keyId = payloadKeyId(payload);
  const shownId = keyId !== undefined && KEY_ID_PATTERN.test(keyId) ? `'${keyId}'` : 'a malformed key id';
  const key = keyId === undefined ? undefined : keys.byId.get(keyId);
  if (!key) {
    throw new CodecError(
      CodecErrorType.CodecKeyUnknown,
      keyId === undefined
        ? 'An encrypted payload names no key (no encryption-key-id in its metadata)'
        : `A payload is encrypted with key ${shownId}, which is not among this process's codec keys: add it to AIRLOCK_CODEC_KEYS / AIRLOCK_CODEC_KEYS_FILE`,
    );
  }
  const data = payload.data ?? new Uint8Array();
  try {
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error('too short');
    const decipher = createDecipheriv(CIPHER, key.key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(additionalData(key.id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plaintext = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return ProtoPayload.decode(plaintext);
  } catch {
    throw new CodecError(
      CodecErrorType.PayloadDecryptionFailed,
      `A payload encrypted with key ${shownId} does not decrypt: the key under that id is not the one that wrote it, or the payload was altered`,
    );
  }
}

/** Binds the ciphertext to its key id and to this format's version. */
function additionalData(keyId: string): Uint8Array {
  return textEncoder.encode(`airlock-codec-v1:${keyId}`);
}
