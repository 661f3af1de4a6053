/**
 * The codec endpoint of the Temporal Web UI (and `temporal … --codec-endpoint`): `POST
 * /codec/decode` and `POST /codec/encode` take and answer `{ "payloads": [{ "metadata": { k:
 * base64 }, "data": base64 }] }`, running the service's payload codec. It decrypts history for
 * whoever may call it, so every call is authenticated (an approver's bearer token, or the session
 * cookie of a sign-in at `/codec/`): no credentials, no decryption (401). Browsers may call it only
 * from the configured Web UI origins (CORS, credentials included); the request's `X-Namespace`
 * must be the service's namespace.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { CodecError } from '../codec';
import type { ApproverTokens } from './auth';
import type { AuthGuard } from './auth-guard';
import { authenticateRequest } from './request-auth';
import { CodecSessions } from './codec-sessions';
import { sendSignInPage, signIn, signOut } from './codec-sign-in';
import { HttpError, HttpErrorType } from './http-errors';
import { SECURITY_HEADERS, readJsonBody, sendError, sendJson } from './http-io';

/** Options of the codec endpoint (`createApprovalServer({ codec })`). */
export interface CodecEndpointOptions {
  /** The codec the endpoint runs (the service's history encryption). */
  payloadCodec: PayloadCodec;
  /** The namespace it serves; a request naming another (`X-Namespace`) is refused. */
  namespace: string;
  /** Origins of the Web UI allowed to call it from a browser, e.g. `http://localhost:8233`. Default: none (no browser may). */
  webUiOrigins?: string[];
  /** Largest body accepted. Default 4 MiB (Temporal refuses payloads over 2 MB). */
  maxBodyBytes?: number;
  /** How long a sign-in lasts. Default 8 h. */
  sessionTtlMs?: number;
}

/** What the codec endpoint's requests share. */
export interface CodecContext {
  options: CodecEndpointOptions;
  tokens: ApproverTokens;
  authGuard: AuthGuard;
  sessions: CodecSessions;
  log: (line: string) => void;
}

const MAX_PAYLOADS = 1_000;
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const PayloadsSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string().max(256), base64).optional(), data: base64.optional() }).passthrough())
    .max(MAX_PAYLOADS)
    // Protobuf's JSON leaves an empty list out: the `temporal` CLI sends `{}` for no payloads.
    .default([]),
});

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

/** Creates what the endpoint keeps between requests (sign-in sessions). */
export function createCodecContext(options: CodecEndpointOptions, shared: Omit<CodecContext, 'options' | 'sessions'>): CodecContext {
  return { options, sessions: new CodecSessions({ ttlMs: options.sessionTtlMs }), ...shared };
}

/** True for the paths the codec endpoint serves. */
export function isCodecPath(pathname: string): boolean {
  return pathname === '/codec' || pathname.startsWith('/codec/');
}

/** Serves a request under `/codec/`. */
export async function handleCodecRequest(req: IncomingMessage, res: ServerResponse, url: URL, context: CodecContext): Promise<void> {
  const cors = corsHeaders(req, context.options);
  try {
    const operation = /^\/codec\/(encode|decode)$/.exec(url.pathname)?.[1] as 'encode' | 'decode' | undefined;
    if (operation && req.method === 'OPTIONS') return answerPreflight(res, cors);
    if (operation && req.method === 'POST') return await runCodec(req, res, url, context, operation, cors);
    if ((url.pathname === '/codec' || url.pathname === '/codec/') && req.method === 'GET') return sendSignInPage(res, context.sessions.approverOf(req.headers.cookie));
    if (url.pathname === '/codec/session' && req.method === 'POST') return await signIn(req, res, url, context);
    if (url.pathname === '/codec/sign-out' && req.method === 'POST') return signOut(req, res, context);
    throw new HttpError(HttpErrorType.NotFound, `No codec endpoint for ${req.method} at this path`);
  } catch (err) {
    const error = err instanceof HttpError ? err : new HttpError(HttpErrorType.InternalError, 'Internal error; the server log has the details', err);
    if (error.type === HttpErrorType.InternalError) context.log(`${req.method} ${url.pathname} failed: ${String((err as Error)?.stack ?? err)}`);
    if (res.headersSent) return void res.end();
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value as string);
    sendError(res, error);
  }
}

/** CORS headers for a request from an allowed Web UI origin; none for any other origin. */
function corsHeaders(req: IncomingMessage, options: CodecEndpointOptions): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  const headers: OutgoingHttpHeaders = { Vary: 'Origin' };
  if (origin && (options.webUiOrigins ?? []).includes(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Allow-Credentials'] = 'true';
  }
  return headers;
}

function answerPreflight(res: ServerResponse, cors: OutgoingHttpHeaders): void {
  if (!cors['Access-Control-Allow-Origin']) throw new HttpError(HttpErrorType.Forbidden, 'This origin may not call the codec endpoint');
  res.writeHead(204, {
    ...SECURITY_HEADERS,
    ...cors,
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
    'Content-Length': 0,
  });
  res.end();
}

async function runCodec(req: IncomingMessage, res: ServerResponse, url: URL, context: CodecContext, operation: 'encode' | 'decode', cors: OutgoingHttpHeaders): Promise<void> {
  // A browser page of an origin not allowed gets nothing, whatever cookie its browser sends.
  if (req.headers.origin && !cors['Access-Control-Allow-Origin']) throw new HttpError(HttpErrorType.Forbidden, 'This origin may not call the codec endpoint');
  authenticate(req, res, url, context);
  const namespace = req.headers['x-namespace'];
  if (namespace !== undefined && namespace !== context.options.namespace) {
    throw new HttpError(HttpErrorType.Forbidden, `This codec endpoint serves namespace '${context.options.namespace}' only`);
  }
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new HttpError(HttpErrorType.RequestInvalid, 'The body must be JSON (Content-Type: application/json)');
  const body = await readJsonBody(req, context.options.maxBodyBytes ?? 4 * 1024 * 1024);
  const parsed = PayloadsSchema.safeParse(body);
  if (!parsed.success) throw new HttpError(HttpErrorType.RequestInvalid, `The body must be { "payloads": [{ "metadata": { <key>: <base64> }, "data": <base64> }] } with at most ${MAX_PAYLOADS} payloads`);
  const payloads = parsed.data.payloads.map(fromJson);
  let result: Payload[];
  try {
    result = operation === 'decode' ? await context.options.payloadCodec.decode(payloads) : await context.options.payloadCodec.encode(payloads);
  } catch (err) {
    // The codec's errors name a key id at most, never key material or payload contents.
    throw new HttpError(HttpErrorType.PayloadUndecodable, CodecError.isInstance(err) ? err.message : `The payloads could not be ${operation}d`, err);
  }
  sendJson(res, 200, { payloads: result.map(toJson) }, cors);
}

/**
 * The approver the request speaks for: its bearer token's, or its session cookie's. An address
 * throttled for wrong tokens is refused first (429).
 * @throws HttpError `Unauthorized` (401) without valid credentials, `TooManyAttempts` while throttled
 */
function authenticate(req: IncomingMessage, res: ServerResponse, url: URL, context: CodecContext): string {
  const identify = (header: string | undefined) => (header ? context.tokens.authenticate(header) : context.sessions.approverOf(req.headers.cookie));
  return authenticateRequest(req, res, url.pathname, context.authGuard, identify, 'Sign in at /codec/ on the approval service, or send Authorization: Bearer <approver token>');
}

function fromJson(payload: { metadata?: Record<string, string>; data?: string }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
