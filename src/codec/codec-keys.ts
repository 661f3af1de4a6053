/**
 * The keys of history encryption: AES-256 keys, each with an id that is written next to every
 * payload it encrypts. The keys are given in the order they were made; the last one encrypts new
 * payloads, every one of them decrypts. Loading checks every key (32 bytes, base64) and that ids
 * are unique; its errors name a key by its id or position, never its material.
 */
import { CodecError, CodecErrorType } from './codec-errors';

/** One key: its id (a label written into every payload's metadata) and its 32 bytes. */
export interface CodecKey {
  id: string;
  key: Uint8Array;
}

/** The keys a process holds: `current` encrypts, every key in `byId` decrypts. */
export interface CodecKeyring {
  current: CodecKey;
  byId: ReadonlyMap<string, CodecKey>;
}

/** Where keys come from: `AIRLOCK_CODEC_KEYS` (`list`) and/or `AIRLOCK_CODEC_KEYS_FILE`'s contents (`fileText`). */
export interface CodecKeySources {
  /** `"<id>=<base64 key>,<id>=<base64 key>"`, oldest first. */
  list?: string;
  /** A JSON file's text: `{ "keys": [{ "id": "...", "key": "<base64>" }] }` or the bare list, oldest first. */
  fileText?: string;
  /** Named in errors about the file (its path), never its contents. */
  fileName?: string;
}

/** A key id: letters, digits, `.`, `_`, `-`; at most 64 characters. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** AES-256: 32 bytes. */
export const KEY_BYTES = 32;

const invalid = (message: string) => new CodecError(CodecErrorType.CodecKeysInvalid, message);

/**
 * Builds the keyring from the sources: the file's keys first, then the list's; the last key
 * encrypts. Returns `undefined` when no source is given (encryption off).
 * @throws CodecError `CodecKeysInvalid` for malformed input, a key that is not 32 bytes of base64, a duplicate id, or no key
 */
export function loadCodecKeys(sources: CodecKeySources): CodecKeyring | undefined {
  if (sources.list === undefined && sources.fileText === undefined) return undefined;
  const entries = [
    ...(sources.fileText === undefined ? [] : parseKeyFile(sources.fileText, sources.fileName ?? 'the keys file')),
    ...(sources.list === undefined ? [] : parseKeyList(sources.list)),
  ];
  return createKeyring(entries);
}

/**
 * A keyring from `{ id, key }` entries (the key as base64 text or bytes), oldest first.
 * @throws CodecError `CodecKeysInvalid` as `loadCodecKeys`
 */
export function createKeyring(entries: ReadonlyArray<{ id: unknown; key: unknown }>, where = 'the codec keys'): CodecKeyring {
  if (entries.length === 0) throw invalid(`No key in ${where}: give at least one { id, key } (a key is 32 random bytes in base64: openssl rand -base64 32)`);
  const byId = new Map<string, CodecKey>();
  entries.forEach((entry, index) => {
    const key = checkKey(entry, index, where);
    if (byId.has(key.id)) throw invalid(`The id of ${label(key.id, index, where)} appears twice in ${where}: every key needs its own id`);
    byId.set(key.id, key);
  });
  return { current: [...byId.values()][byId.size - 1], byId };
}

function checkKey(entry: { id: unknown; key: unknown }, index: number, where: string): CodecKey {
  if (typeof entry.id !== 'string' || !KEY_ID_PATTERN.test(entry.id)) {
    throw invalid(`The id of key #${index + 1} of ${where} is not valid: 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  const bytes = entry.key instanceof Uint8Array ? entry.key : typeof entry.key === 'string' ? decodeBase64(entry.key) : undefined;
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw invalid(`${capitalize(label(entry.id, index, where))} is not ${KEY_BYTES} bytes in base64 (make one with: openssl rand -base64 32)`);
  }
  return { id: entry.id, key: Uint8Array.from(bytes) };
}

/**
 * How an error names a key: its position, and its id unless the id itself could be key material
 * (32 or more base64 characters: a key pasted where its id belongs must not end up in a log).
 */
function label(id: string, index: number, where: string): string {
  const position = `key #${index + 1} of ${where}`;
  return (decodeBase64(id)?.length ?? 0) >= 24 ? position : `${position} ('${id}')`;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Strict base64 (standard or URL-safe alphabet, padding optional), or `undefined`. */
function decodeBase64(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function parseKeyList(list: string): Array<{ id: string; key: string }> {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item, index) => {
      const at = item.indexOf('=');
      // A bare key has its '=' padding at the end: nothing after it, no id before it.
      if (at <= 0 || item.slice(at + 1).trim() === '') throw invalid(`Entry #${index + 1} of AIRLOCK_CODEC_KEYS is not '<id>=<base64 key>'`);
      return { id: item.slice(0, at).trim(), key: item.slice(at + 1).trim() };
    });
}

function parseKeyFile(text: string, fileName: string): Array<{ id: unknown; key: unknown }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(`${fileName} is not valid JSON: expected { "keys": [{ "id": "...", "key": "<base64>" }] }`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'object' && entry !== null)) {
    throw invalid(`${fileName} must hold { "keys": [{ "id": "...", "key": "<base64>" }] } (or the bare list)`);
  }
  return list as Array<{ id: unknown; key: unknown }>;
}
