/**
 * Signed decisions: Ed25519 over the thread, the interrupt, the action, the approver, the digest
 * of the arguments shown and the reason, so a signature cannot be replayed on another call or
 * moved to other arguments. Pure JavaScript (no Node APIs): the workflow verifies signatures
 * deterministically inside its update validator and signal handler.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha256 } from '@noble/hashes/sha256';
import { canonicalJson } from './canonical-json';

/** What a signature covers, before it is turned into bytes. */
export interface SignedDecisionFields {
  threadId: string;
  interruptId: string;
  action: string;
  approver: string;
  /** `argsDigest(toolArgs)` of the arguments the approver saw. */
  argsDigest: string;
  reason?: string;
  /** An edit: `argsDigest` of the arguments it runs instead. */
  editedArgsDigest?: string;
  /** A response: the text the model reads in place of the tool's result. */
  message?: string;
  /** A grant that comes with the decision. */
  grant?: { match: Record<string, string>; ttl?: number | string };
}

/** A signature on a decision. */
export interface DecisionSignature {
  /** Which trusted key signed it. */
  keyId: string;
  /** The Ed25519 signature, base64. */
  signature: string;
}

/**
 * A public key a worker trusts for decisions. An `approver` key signs only for its owner; a
 * `service` key (the approval service's) vouches for any approver it has authenticated.
 */
export interface TrustedKey {
  keyId: string;
  kind: 'approver' | 'service';
  /** The approver's name (`approver` keys) or the service's name (`service` keys). */
  owner: string;
  /** The raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
}

/** A private signing key as `airlock keys create` writes it. */
export interface SigningKey {
  keyId: string;
  kind: 'approver' | 'service';
  owner: string;
  /** The 32-byte Ed25519 secret seed, base64. */
  privateKey: string;
}

const SIGNATURE_DOMAIN = 'airlock-decision/v1';

/** Hex SHA-256 of the arguments' canonical JSON: the same whatever their key order. */
export function argsDigest(args: unknown): string {
  return toHex(sha256(utf8(canonicalJson(args))));
}

/**
 * The exact bytes a decision signature covers. An edit's arguments, a response and a grant are
 * covered too, as a seventh member (absent for a plain accept or reject, so older signatures hold).
 */
export function decisionSigningBytes(fields: SignedDecisionFields): Uint8Array {
  const { threadId, interruptId, action, approver, argsDigest: digest, reason, editedArgsDigest, message, grant } = fields;
  const base = [threadId, interruptId, action, approver, digest, reason ?? ''];
  const extras = {
    ...(editedArgsDigest !== undefined && { editedArgsDigest }),
    ...(message !== undefined && { message }),
    ...(grant !== undefined && { grant }),
  };
  const members = Object.keys(extras).length > 0 ? [...base, canonicalJson(extras)] : base;
  return utf8(`${SIGNATURE_DOMAIN}\n${JSON.stringify(members)}`);
}

/**
 * What a signature on `decision` covers, given the thread and the digest of the arguments it was
 * made on. One definition for the client that signs, the workflow and the tool activity that check.
 */
export function signedFieldsOf(
  decision: { interruptId: string; action: string; approver: string; reason?: string; args?: unknown; message?: string; grant?: SignedDecisionFields['grant'] },
  threadId: string,
  decidedOnDigest: string,
): SignedDecisionFields {
  return {
    threadId,
    interruptId: decision.interruptId,
    action: String(decision.action),
    approver: decision.approver,
    argsDigest: decidedOnDigest,
    ...(decision.reason !== undefined && { reason: decision.reason }),
    ...(decision.args !== undefined && { editedArgsDigest: argsDigest(decision.args) }),
    ...(decision.message !== undefined && { message: decision.message }),
    ...(decision.grant !== undefined && { grant: decision.grant }),
  };
}

/** Signs a decision with a private key. */
export function signDecision(fields: SignedDecisionFields, key: SigningKey): DecisionSignature {
  const signature = ed25519.sign(decisionSigningBytes(fields), fromBase64(key.privateKey));
  return { keyId: key.keyId, signature: toBase64(signature) };
}

/** The public key (base64) of a private signing key. */
export function publicKeyOf(privateKey: string): string {
  return toBase64(ed25519.getPublicKey(fromBase64(privateKey)));
}

/** Why a signature does not hold, or `undefined` when it does. Never echoes the input. */
export function checkDecisionSignature(
  fields: SignedDecisionFields,
  signature: DecisionSignature,
  keys: readonly TrustedKey[],
): { ok: true; key: TrustedKey } | { ok: false; reason: string } {
  const key = keys.find((candidate) => candidate.keyId === signature.keyId);
  if (!key) return { ok: false, reason: 'The decision is signed with a key this worker does not trust' };
  if (key.kind === 'approver' && key.owner !== fields.approver) {
    return { ok: false, reason: `Key '${key.keyId}' belongs to another approver and cannot sign for this one` };
  }
  let valid = false;
  try {
    valid = ed25519.verify(fromBase64(signature.signature), decisionSigningBytes(fields), fromBase64(key.publicKey));
  } catch {
    valid = false;
  }
  return valid ? { ok: true, key } : { ok: false, reason: `The signature does not match this decision (key '${key.keyId}')` };
}

/** True when the text is the base64 of exactly `bytes` bytes. */
export function isBase64Of(text: string, bytes: number): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return false;
  try {
    return fromBase64(text).length === bytes;
  } catch {
    return false;
  }
}

function utf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return Uint8Array.from(bytes);
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    text += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    text += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : '=';
    text += i + 2 < bytes.length ? ALPHABET[n & 63] : '=';
  }
  return text;
}

function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new Error('Not base64');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}
