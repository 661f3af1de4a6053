/**
 * Live updates of the pending approvals as Server-Sent Events. While at least one client listens,
 * the server reads the list from Temporal visibility every `pollIntervalMs` and pushes it when it
 * changed; with no client listening, it reads nothing.
 */
import type { ServerResponse } from 'node:http';
import type { PendingApproval } from '../client/pending-approvals';
import { SECURITY_HEADERS } from './http-io';

/** Options of `ApprovalEvents`. */
export interface ApprovalEventsOptions {
  /** Reads the pending approvals (from visibility). */
  list: () => Promise<PendingApproval[]>;
  /** Time between two reads while clients listen. */
  pollIntervalMs: number;
  /** A comment line at least this often keeps idle connections (and proxies) open. Default 15 s. */
  heartbeatMs?: number;
  log: (line: string) => void;
}

/**
 * The `GET /api/events` stream. Events: `approvals` with `{ approvals: PendingApproval[] }` (at
 * connection and on every change), `problem` with `{ message }` when visibility cannot be read.
 */
export class ApprovalEvents {
  private readonly clients = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;
  private latest?: string;
  private failing = false;
  private lastWrite = 0;
  private closed = false;

  constructor(private readonly options: ApprovalEventsOptions) {}

  /** Turns the response into an event stream until the client goes away or `close` is called. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.write(': connected\n\n');
    this.clients.add(res);
    res.once('close', () => this.clients.delete(res));
    if (this.latest !== undefined) res.write(frame('approvals', this.latest));
    if (!this.timer) this.schedule(0);
  }

  /** Ends every stream and stops reading visibility. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.clients.size === 0 || this.closed) {
      // Nobody listens: stop, and forget the list so the next client does not get a stale one.
      this.timer = undefined;
      this.latest = undefined;
      return;
    }
    try {
      const data = JSON.stringify({ approvals: await this.options.list() });
      this.failing = false;
      if (data !== this.latest) {
        this.latest = data;
        this.broadcast(frame('approvals', data));
      }
    } catch (err) {
      if (!this.failing) {
        this.options.log(`Cannot read pending approvals: ${(err as Error).message}`);
        this.broadcast(frame('problem', JSON.stringify({ message: 'Cannot read the pending approvals from Temporal; retrying' })));
      }
      this.failing = true;
      this.latest = undefined;
    }
    if (Date.now() - this.lastWrite >= (this.options.heartbeatMs ?? 15_000)) this.broadcast(': heartbeat\n\n');
    if (!this.closed) this.schedule(this.options.pollIntervalMs);
  }

  private broadcast(text: string): void {
    this.lastWrite = Date.now();
    for (const res of this.clients) res.write(text);
  }
}

const frame = (event: string, data: string) => `event: ${event}\ndata: ${data}\n\n`;
