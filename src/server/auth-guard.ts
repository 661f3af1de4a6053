/**
 * Throttling and logging of failed sign-ins to the approval API, per client address. A wrong token
 * counts as a failure; after `limit` of them within a window, the address is refused with 429
 * until the window ends, its token not even checked, so guessing is throttled. The log says when,
 * from where, on which endpoint and why, never the token or any header's contents.
 */
import type { IncomingMessage } from 'node:http';

/** Why a request was refused authentication, as the log says it. */
export type AuthFailureReason = 'no token' | 'invalid token' | 'throttled';

/** A request asking to be authenticated, as the log describes it. */
export interface AuthAttempt {
  /** The client's address (`req.socket.remoteAddress`). */
  address: string;
  method: string;
  /** The URL's path, without its query. */
  path: string;
}

/** Options of `AuthGuard`. */
export interface AuthGuardOptions {
  /** Wrong tokens one address may present within a window before it is throttled. Default 20. */
  limit?: number;
  /** The window, from an address's first failure; the address is throttled until it ends. Default 60 s. */
  windowMs?: number;
  /** How many addresses are tracked at once; past it, the oldest window is dropped. Default 10 000. */
  maxAddresses?: number;
  /** Where failed attempts are written. */
  log: (line: string) => void;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** One address's failures in its current window. */
interface FailureWindow {
  startedAt: number;
  failures: number;
  /** Whether a throttled refusal was logged in this window (one line per window, not one per request). */
  throttleLogged: boolean;
}

/** The longest path a log line repeats. */
const MAX_LOGGED_PATH = 200;

/**
 * Counts failed authentications per client address and says when one must wait. Requests
 * without a token guess nothing: they are logged but not counted. A success changes no counter
 * (neither its own address's nor anyone else's): failures only expire with their window. While an
 * address is throttled, every request from it needing a token is refused, a good token included:
 * checking it would tell a guesser that it was right.
 */
export class AuthGuard {
  private readonly windows = new Map<string, FailureWindow>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  /** @throws Error when a limit is not a positive integer */
  constructor(options: AuthGuardOptions) {
    this.limit = positiveInteger(options.limit ?? 20, 'authFailureLimit');
    this.windowMs = positiveInteger(options.windowMs ?? 60_000, 'authFailureWindowMs');
    this.maxAddresses = positiveInteger(options.maxAddresses ?? 10_000, 'maxAddresses');
    this.log = options.log;
    this.now = options.now ?? Date.now;
  }

  /** Seconds the attempt's address must still wait (logged as `throttled`), or 0 when it may try. */
  retryAfterSeconds(attempt: AuthAttempt): number {
    const window = this.currentWindow(attempt.address);
    if (!window || window.failures < this.limit) return 0;
    const seconds = Math.max(1, Math.ceil((window.startedAt + this.windowMs - this.now()) / 1000));
    if (!window.throttleLogged) {
      window.throttleLogged = true;
      this.write(attempt, 'throttled', `${window.failures} invalid tokens; refused for ${seconds} s, further refusals not logged`);
    }
    return seconds;
  }

  /** Logs a failed attempt, and counts it against its address when a (wrong) token was presented. */
  recordFailure(attempt: AuthAttempt, reason: Exclude<AuthFailureReason, 'throttled'>): void {
    this.write(attempt, reason);
    if (reason === 'no token') return;
    const window = this.currentWindow(attempt.address) ?? this.openWindow(attempt.address);
    window.failures++;
  }

  /** The address's window, or `undefined` when it has none or it ended (then it is dropped). */
  private currentWindow(address: string): FailureWindow | undefined {
    const window = this.windows.get(address);
    if (window && this.now() - window.startedAt >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  /** Starts a window for the address, making room first. The map stays ordered by window start. */
  private openWindow(address: string): FailureWindow {
    this.dropEndedWindows();
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    const window: FailureWindow = { startedAt: this.now(), failures: 0, throttleLogged: false };
    this.windows.set(address, window);
    return window;
  }

  /** Drops ended windows from the front (the oldest), stopping at the first that still runs. */
  private dropEndedWindows(): void {
    const now = this.now();
    for (const [address, window] of this.windows) {
      if (now - window.startedAt < this.windowMs) break;
      this.windows.delete(address);
    }
  }

  private write({ address, method, path }: AuthAttempt, reason: AuthFailureReason, detail?: string): void {
    const shownPath = JSON.stringify(path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path);
    const line = `${new Date(this.now()).toISOString()} authentication refused (${reason}) from ${address}: ${method} ${shownPath}`;
    this.log(detail ? `${line} (${detail})` : line);
  }
}

/** The client's address as the socket reports it (IPv4-mapped IPv6 written as IPv4); `unknown` once the socket is gone. */
export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}
