/**
 * Approver authentication: bearer tokens mapped to approver names. The name a token maps to is
 * the approver recorded in history; nobody declares their own. Tokens are compared in constant
 * time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The configured approvers, looked up by bearer token. */
export interface ApproverTokens {
  /** The approver a `Authorization: Bearer <token>` header belongs to; `undefined` for none or a wrong one. */
  authenticate(authorization: string | undefined): string | undefined;
  /** The approver names, for startup messages (never the tokens). */
  readonly approvers: string[];
}

const TOKEN = /^[\x21-\x7e]+$/;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Approver tokens from a map `{ "<token>": "<approver name>" }`.
 * @throws Error when a token or a name is malformed (the message never quotes the token)
 */
export function createApproverTokens(tokens: Record<string, string>): ApproverTokens {
  const entries = Object.entries(tokens).map(([token, approver]) => {
    if (!TOKEN.test(token)) throw new Error('Invalid approver tokens: a token must be printable ASCII without spaces');
    if (typeof approver !== 'string' || approver.trim() === '') throw new Error('Invalid approver tokens: every token needs a non-empty approver name');
    // Digests have one length, so comparing them takes the same time whatever the presented token.
    return { digest: digest(token), approver: approver.trim() };
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
