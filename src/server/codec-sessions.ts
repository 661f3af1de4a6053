/**
 * Sign-in sessions of the codec endpoint. The Temporal Web UI calls a remote codec with the
 * browser's cookies (its "include cross-origin credentials" setting) but, unless the UI itself
 * runs with single sign-on, with no bearer token: so an approver signs in once on the approval
 * service with their token, and the service sets a session cookie (`HttpOnly`, `SameSite=Strict`,
 * path `/codec`) that the browser then sends with the UI's codec requests. Sessions live in this
 * process's memory (a restart signs everyone out) and are looked up by the SHA-256 of their id.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The cookie's name. */
export const SESSION_COOKIE = 'airlock_codec_session';

interface Session {
  approver: string;
  expiresAt: number;
}

/** Options of `CodecSessions`. */
export interface CodecSessionsOptions {
  /** How long a sign-in lasts. Default 8 h. */
  ttlMs?: number;
  /** Sessions kept at once; past it, the oldest is dropped. Default 10 000. */
  maxSessions?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

const digest = (id: string) => createHash('sha256').update(id, 'utf8').digest('base64url');

/** The signed-in browsers of the codec endpoint. */
export class CodecSessions {
  private readonly sessions = new Map<string, Session>();
  readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: CodecSessionsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 8 * 60 * 60 * 1000;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Opens a session for the approver and returns its id (the cookie's value). */
  open(approver: string): string {
    const id = randomBytes(32).toString('base64url');
    if (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(digest(id), { approver, expiresAt: this.now() + this.ttlMs });
    return id;
  }

  /** The approver of the session the request's `Cookie` header names, or `undefined` (none, unknown, expired). */
  approverOf(cookieHeader: string | undefined): string | undefined {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (!id) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return session.approver;
  }

  /** Ends the session the `Cookie` header names, if any. */
  close(cookieHeader: string | undefined): void {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id) this.sessions.delete(digest(id));
  }
}

/** One cookie's value from a `Cookie` header. */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
