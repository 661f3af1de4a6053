/** The approval service: the HTTP API under `/api/` and the web inbox, in one `node:http` server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirlockClient } from '../client/airlock-client';
import type { SigningKey } from '../core';
import { ApprovalEvents } from './approval-events';
import type { ApproverTokens } from './auth';
import { AuthGuard } from './auth-guard';
import { HEALTH_PATHS, serveHealth } from './health-endpoints';
import { HttpError, HttpErrorType } from './http-errors';
import { sendError } from './http-io';
import { loadInboxAssets, serveInboxAsset } from './inbox-assets';
import { handleApiRequest, type ApiContext } from './routes';
import { createCodecContext, handleCodecRequest, isCodecPath, type CodecEndpointOptions } from './codec-routes';

/** Options of `createApprovalServer`. */
export interface ApprovalServerOptions {
  /** The client decisions and reads go through. */
  client: AirlockClient;
  /** Who may use the API, and under which name their decisions are recorded. */
  tokens: ApproverTokens;
  /** How long a decision or a thread read waits for a worker before answering 503. Default 10 s. */
  workerTimeoutMs?: number;
  /** How often the live view re-reads the pending approvals while a page listens. Default 1 s. */
  pollIntervalMs?: number;
  /** Largest request body accepted; larger ones get 413. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Invalid tokens one client address may present within `authFailureWindowMs` before it gets 429
   * `TooManyAttempts` (with `Retry-After`) until the window ends, whatever token it sends. Default 20.
   * Behind a reverse proxy every client shares the proxy's address, and so its limit.
   */
  authFailureLimit?: number;
  /** The window of `authFailureLimit`, from an address's first invalid token. Default 60 s. */
  authFailureWindowMs?: number;
  /** Where server errors and refused authentications are written (never tokens). Default: stderr. */
  log?: (line: string) => void;
  /**
   * The service's own key (`airlock keys create --service`): every decision it relays is signed
   * with it (edits, responses and grants included), bound to the arguments the approver was shown. Workers that require signed decisions
   * trust its public key as a `service` key.
   */
  signingKey?: SigningKey;
  /**
   * Serve the codec endpoint of the Temporal Web UI under `/codec/` (decode and encode with this
   * codec, for approvers signed in by token or session cookie). Default: not served.
   */
  codec?: CodecEndpointOptions;
}

/** How long `/readyz` waits for Temporal to answer. */
const HEALTH_TIMEOUT_MS = 2_000;

/** Where to listen. */
export interface ListenOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

/** A created approval service. */
export interface ApprovalServer {
  /** The underlying Node server. */
  readonly server: http.Server;
  /** Starts listening and resolves with the base URL, e.g. `http://127.0.0.1:8787`. */
  listen(options?: ListenOptions): Promise<string>;
  /**
   * Drains and stops: `/readyz` answers 503, no new connection is accepted, the live streams end,
   * and the requests in progress finish; resolves once the last one has.
   */
  close(): Promise<void>;
}

/**
 * Creates the approval service: the JSON API (`/api/approvals`, `/api/threads/:id`,
 * `/api/threads/:id/audit`, `/api/threads/:id/grants`, `/api/threads/:id/grants/:grantId/revoke`,
 * `/api/decisions/recent`, `/api/events`, `/api/me`, `/api/openapi.json`), the web inbox at `/`,
 * and `/healthz` and `/readyz` (no token).
 * @throws Error when the inbox's files cannot be read, or an auth failure limit is not a positive integer
 */
export function createApprovalServer(options: ApprovalServerOptions): ApprovalServer {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const assets = loadInboxAssets();
  const authGuard = new AuthGuard({ limit: options.authFailureLimit, windowMs: options.authFailureWindowMs, log });
  const listPending = pendingLister(options.client, log);
  const events = new ApprovalEvents({ list: () => listPending(), pollIntervalMs: options.pollIntervalMs ?? 1_000, log });
  const context: ApiContext = {
    client: options.client,
    tokens: options.tokens,
    authGuard,
    events,
    decider: options.signingKey
      ? new AirlockClient({ client: options.client.client, taskQueue: options.client.taskQueue, signingKey: options.signingKey })
      : options.client,
    workerTimeoutMs: options.workerTimeoutMs ?? 10_000,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    log,
    listPending,
  };
  const codec = options.codec && createCodecContext(options.codec, { tokens: options.tokens, authGuard, log });
  let draining = false;
  const health = { client: options.client, draining: () => draining, timeoutMs: HEALTH_TIMEOUT_MS };
  const server = http.createServer((req, res) => {
    // A request that arrives on a kept-alive connection while draining is served, then its connection closes.
    if (draining) res.setHeader('Connection', 'close');
    try {
      const url = requestUrl(req.url);
      if (!url) sendError(res, new HttpError(HttpErrorType.RequestInvalid, 'The request target is not a path this service can read'));
      else if ((HEALTH_PATHS as readonly string[]).includes(url.pathname)) void serveHealth(req, res, url.pathname, health);
      else if (url.pathname === '/api' || url.pathname.startsWith('/api/')) void handleApiRequest(req, res, url, context);
      else if (codec && isCodecPath(url.pathname)) void handleCodecRequest(req, res, url, codec);
      else serveInboxAsset(req, res, url.pathname, assets);
    } catch (err) {
      // Whatever one request does, the service keeps serving the others.
      log(`A request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendError(res, new HttpError(HttpErrorType.InternalError, 'Internal error; the server log has the details'));
      else res.destroy();
    }
  });
  // A client gets 10 s to send its headers and 30 s for its whole request (bodies are at most a few
  // MiB): a slow sender cannot hold a connection for Node's default five minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return {
    server,
    listen: ({ port = 8787, host = '127.0.0.1' } = {}) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          resolve(`http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        draining = true;
        events.close();
        // Connections kept alive become idle as their requests finish: close them as they do.
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        server.close((err) => {
          clearInterval(idle);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * The request's target as a URL on this service, `undefined` when it cannot be one: Node passes
 * absolute-form targets such as `http://[/` through, and the URL parser throws on them.
 */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/**
 * Lists pending approvals, saying in the log (once per change of the count) how many waiting
 * threads this service cannot read: encrypted under codec keys it lacks, they are not listed, and
 * an operator must learn why the inbox misses them.
 */
function pendingLister(client: AirlockClient, log: (line: string) => void) {
  let lastUnreadable = 0;
  return async (options: { tool?: string } = {}) => {
    let unreadable = 0;
    const approvals = await client.pendingApprovals({ ...options, onUnreadable: () => unreadable++ });
    if (!options.tool && unreadable !== lastUnreadable) {
      lastUnreadable = unreadable;
      log(unreadable ? `${unreadable} waiting thread(s) cannot be read with this service's codec keys (AIRLOCK_CODEC_KEYS) and are not listed` : 'Every waiting thread can be read again');
    }
    return approvals;
  };
}
