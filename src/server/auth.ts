/**
 * Approver authentication: bearer tokens mapped to approver names. The name a token maps to is
 * the approver recorded in history; nobody declares their own. Tokens are compared in constant
 * time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hasControlCharacters, isWellFormedText } from '../core';

/** The configured approvers, looked up by bearer token. */
export interface ApproverTokens {
  /** The approver a `Authorization: Bearer <token>` header belongs to; `undefined` for none or a wrong one. */
  authenticate(authorization: string | undefined): string | undefined;
  /** The approver names, for startup messages (never the tokens). */
  readonly approvers: string[];
}

const TOKEN = /^[\x21-\x7e]+$/;

/** The shortest approver token accepted: 24 printable characters, too many to guess through the API. */
export const MIN_TOKEN_LENGTH = 24;

/** The longest approver name accepted, in UTF-16 code units. */
const MAX_APPROVER_NAME_LENGTH = 100;

/** Unicode format characters (bidi overrides, zero-width joiners…): a name that renders unlike its text. */
const FORMAT_CHARACTER = /\p{Cf}/u;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Refuses a malformed or short token; the message never quotes it. */
function checkToken(token: string): void {
  if (!TOKEN.test(token)) throw new Error('Invalid approver tokens: a token must be printable ASCII without spaces');
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`Invalid approver tokens: a token must be at least ${MIN_TOKEN_LENGTH} characters long (e.g. openssl rand -hex 16)`);
  }
}

/** The trimmed approver name; refuses an empty, overlong or unprintable one (without quoting it). */
function checkApproverName(approver: unknown): string {
  if (typeof approver !== 'string' || approver.trim() === '') throw new Error('Invalid approver tokens: every token needs a non-empty approver name');
  const name = approver.trim();
  if (name.length > MAX_APPROVER_NAME_LENGTH) throw new Error(`Invalid approver tokens: an approver name is longer than ${MAX_APPROVER_NAME_LENGTH} characters`);
  if (hasControlCharacters(name) || FORMAT_CHARACTER.test(name) || !isWellFormedText(name)) {
    throw new Error('Invalid approver tokens: an approver name holds control or format characters, or malformed Unicode');
  }
  return name;
}

/**
 * Approver tokens from a map `{ "<token>": "<approver name>" }`. A token is printable ASCII, at
 * least `MIN_TOKEN_LENGTH` (24) characters; a name is at most `MAX_APPROVER_NAME_LENGTH` (100)
 * characters, without control characters (C0, C1), Unicode format characters or lone surrogates.
 * @throws Error when a token or a name is malformed (the message quotes neither)
 */
export function createApproverTokens(tokens: Record<string, string>): ApproverTokens {
  const entries = Object.entries(tokens).map(([token, approver]) => {
    checkToken(token);
    const name = checkApproverName(approver);
    // Digests have one length, so comparing them takes the same time whatever the presented token.
    return { digest: digest(token), approver: name };
  });
  return {
    approvers: [...new Set(entries.map((entry) => entry.approver))].sort(),
    authenticate(authorization) {
      const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization?.trim() ?? '');
      if (!match) return undefined;
      const presented = digest(match[1]);
      let found: string | undefined;
      // Every entry is compared, so the time taken does not tell which one matched.
      for (const entry of entries) if (timingSafeEqual(entry.digest, presented)) found = entry.approver;
      return found;
    },
  };
}

/**
 * Parses `AIRLOCK_APPROVER_TOKENS`: `"<token>=<name>,<token>=<name>"`.
 * @throws Error for an entry without `=`, an empty token or an empty name
 */
function parseTokenList(text: string): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const separator = item.lastIndexOf('=');
    if (separator <= 0 || separator === item.length - 1) throw new Error('AIRLOCK_APPROVER_TOKENS must look like "<token>=<name>,<token>=<name>"');
    tokens[item.slice(0, separator)] = item.slice(separator + 1);
  }
  return tokens;
}

/** Where `loadApproverTokens` reads tokens from. */
export interface TokenSources {
  /** `AIRLOCK_APPROVER_TOKENS`-style list, `"<token>=<name>,..."`. */
  list?: string;
  /** A JSON file `{ "<token>": "<name>" }`. */
  file?: string;
}

/**
 * Approver tokens from a list and/or a JSON file (a token in both maps to the file's name).
 * @throws Error with a readable message for an unreadable file or malformed content
 */
export function loadApproverTokens(sources: TokenSources): ApproverTokens {
  const fromList = sources.list ? parseTokenList(sources.list) : {};
  let fromFile: Record<string, string> = {};
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (err) {
      throw new Error(`Cannot read tokens file ${sources.file}: ${(err as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, string>;
    } catch {
      throw new Error(`Tokens file ${sources.file} is not JSON; expected {"<token>": "<approver name>"}`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      throw new Error(`Tokens file ${sources.file} must hold an object {"<token>": "<approver name>"}`);
    }
  }
  return createApproverTokens({ ...fromList, ...fromFile });
}
