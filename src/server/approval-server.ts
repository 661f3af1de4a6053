/** The approval service: the HTTP API under `/api/` and the web inbox, in one `node:http` server. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirlockClient } from '../client/airlock-client';
import type { SigningKey } from '../core';
import { ApprovalEvents } from './approval-events';
import type { ApproverTokens } from './auth';
import { AuthGuard } from './auth-guard';
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
  /** Ends the live streams and stops the server. */
  close(): Promise<void>;
}

/**
 * Creates the approval service: the JSON API (`/api/approvals`, `/api/threads/:id`,
 * `/api/threads/:id/audit`, `/api/threads/:id/grants`, `/api/threads/:id/grants/:grantId/revoke`,
 * `/api/decisions/recent`, `/api/events`, `/api/me`, `/api/openapi.json`) and the web inbox at `/`.
 * @throws Error when the inbox's files cannot be read, or an auth failure limit is not a positive integer
 */
export function createApprovalServer(options: ApprovalServerOptions): ApprovalServer {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const assets = loadInboxAssets();
  const authGuard = new AuthGuard({ limit: options.authFailureLimit, windowMs: options.authFailureWindowMs, log });
  const events = new ApprovalEvents({ list: () => options.client.pendingApprovals(), pollIntervalMs: options.pollIntervalMs ?? 1_000, log });
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
  };
  const codec = options.codec && createCodecContext(options.codec, { tokens: options.tokens, authGuard, log });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) void handleApiRequest(req, res, url, context);
    else if (codec && isCodecPath(url.pathname)) void handleCodecRequest(req, res, url, codec);
    else serveInboxAsset(req, res, url.pathname, assets);
  });
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
        events.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
