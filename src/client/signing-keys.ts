/**
 * Decision keys on disk: an approver's (or the approval service's) Ed25519 private key, and the
 * list of public keys a worker trusts. Files are JSON; private keys are written readable by their
 * owner only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { hasControlCharacters, isBase64Of, isWellFormedText, LIMITS, publicKeyOf } from '../core';
import type { SigningKey, TrustedKey } from '../core';

const KEY_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const owner = z
  .string()
  .min(1)
  .max(LIMITS.approverChars)
  .refine((value) => isWellFormedText(value) && !hasControlCharacters(value) && !/\p{Cf}/u.test(value) && value.trim() === value, 'a plain name');

const SigningKeySchema = z.strictObject({
  keyId: z.string().regex(KEY_ID),
  kind: z.enum(['approver', 'service']),
  owner,
  privateKey: z.string().refine((value) => isBase64Of(value, 32), 'the base64 of a 32-byte Ed25519 seed'),
});

const TrustedKeySchema = z.strictObject({
  keyId: z.string().regex(KEY_ID),
  kind: z.enum(['approver', 'service']),
  owner,
  publicKey: z.string().refine((value) => isBase64Of(value, 32), 'the base64 of a 32-byte Ed25519 public key'),
});

/**
 * A new key pair. `approver` keys sign for their owner only; `service` keys vouch for any approver
 * the service authenticated.
 * @throws Error for a key id or owner that is not a plain name
 */
export function createSigningKey(options: { keyId: string; owner: string; kind: SigningKey['kind'] }): { signingKey: SigningKey; trustedKey: TrustedKey } {
  const signingKey = SigningKeySchema.parse({ ...options, privateKey: randomBytes(32).toString('base64') });
  return { signingKey, trustedKey: trustedKeyOf(signingKey) };
}

/** The public half of a signing key, as a worker lists it. */
export function trustedKeyOf(key: SigningKey): TrustedKey {
  return { keyId: key.keyId, kind: key.kind, owner: key.owner, publicKey: publicKeyOf(key.privateKey) };
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} ${file} is not JSON`);
  }
}

/**
 * A private signing key from a file written by `airlock keys create`.
 * @throws Error naming the file and the field that is wrong (never the key's content)
 */
export function loadSigningKey(file: string): SigningKey {
  const parsed = SigningKeySchema.safeParse(readJson(file, 'signing key'));
  if (!parsed.success) throw new Error(`Signing key ${file} is not valid: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

/**
 * The public keys a worker trusts: a JSON array of `{ keyId, kind, owner, publicKey }` (the
 * `.pub.json` files of `airlock keys create`, collected in one list).
 * @throws Error naming the file and the entry that is wrong
 */
export function loadTrustedKeys(file: string): TrustedKey[] {
  const value = readJson(file, 'approver keys file');
  const list = Array.isArray(value) ? value : [value];
  const keys = list.map((entry, index) => {
    const parsed = TrustedKeySchema.safeParse(entry);
    if (!parsed.success) throw new Error(`Approver keys file ${file}, entry ${index + 1}: ${describeIssue(parsed.error)}`);
    return parsed.data;
  });
  const ids = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.keyId)) throw new Error(`Approver keys file ${file} lists key '${key.keyId}' twice`);
    ids.add(key.keyId);
  }
  return keys;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.map(String).filter((part) => KEY_ID.test(part)).join('.');
  return field ? `${field}: ${issue.message}` : issue.message.slice(0, 200);
}
