/**
 * Signing in to the codec endpoint from a browser: a page at `/codec/` with a form for an
 * approver's token; a good token gets the session cookie the Temporal Web UI then sends with its
 * codec requests (see `codec-sessions.ts`). No script runs on the page: a plain HTML form.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress, type AuthAttempt } from './auth-guard';
import type { CodecContext } from './codec-routes';
import { SESSION_COOKIE } from './codec-sessions';
import { HttpError, HttpErrorType } from './http-errors';
import { SECURITY_HEADERS } from './http-io';

const MAX_FORM_BYTES = 4_096;

/** Signs in with an approver token posted by the page's form (`token=…`): sets the session cookie. */
export async function signIn(req: IncomingMessage, res: ServerResponse, url: URL, context: CodecContext): Promise<void> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new HttpError(HttpErrorType.RequestInvalid, 'Sign in with the form at /codec/');
  const token = new URLSearchParams(await readFormBody(req)).get('token') ?? '';
  const attempt: AuthAttempt = { address: clientAddress(req), method: req.method ?? '', path: url.pathname };
  const retryAfter = context.authGuard.retryAfterSeconds(attempt);
  if (retryAfter > 0) {
    res.setHeader('Retry-After', String(retryAfter));
    throw new HttpError(HttpErrorType.TooManyAttempts, `Too many invalid tokens from this address; try again in ${retryAfter} s`);
  }
  const approver = token ? context.tokens.authenticate(`Bearer ${token.trim()}`) : undefined;
  if (!approver) {
    context.authGuard.recordFailure(attempt, token ? 'invalid token' : 'no token');
    return sendPage(res, 401, '<p>That token is not valid.</p><p><a href="/codec/">Try again</a></p>');
  }
  const id = context.sessions.open(approver);
  const maxAge = Math.floor(context.sessions.ttlMs / 1000);
  // Behind a TLS proxy the cookie is marked Secure: the browser then never sends it over plain HTTP.
  const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/codec; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
  sendPage(res, 200, `<p>Signed in as ${escapeHtml(approver)}. The Temporal Web UI in this browser can now decode this service's payloads (set its Data Encoder to this service's <code>/codec</code> with "Include cross-origin credentials").</p>`);
}

/** Ends the browser's session and clears its cookie. */
export function signOut(req: IncomingMessage, res: ServerResponse, context: CodecContext): void {
  context.sessions.close(req.headers.cookie);
  res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/codec; HttpOnly; SameSite=Strict; Max-Age=0`);
  sendPage(res, 200, '<p>Signed out.</p>');
}

/** The sign-in page (and who is signed in, if anyone). */
export function sendSignInPage(res: ServerResponse, approver: string | undefined): void {
  const status = approver ? `<p>Signed in as ${escapeHtml(approver)}.</p><form method="post" action="/codec/sign-out"><button>Sign out</button></form>` : '';
  sendPage(
    res,
    200,
    `${status}<form method="post" action="/codec/session"><label>Approver token <input type="password" name="token" autocomplete="current-password" required></label> <button>Sign in</button></form>`,
  );
}

function sendPage(res: ServerResponse, status: number, body: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Airlock codec sign-in</title></head><body><h1>Airlock: decode history in the Temporal Web UI</h1>${body}</body></html>`;
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), 'Cache-Control': 'no-store' });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function readFormBody(req: IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length']) > MAX_FORM_BYTES) {
    req.resume();
    return Promise.reject(new HttpError(HttpErrorType.PayloadTooLarge, `The body is larger than ${MAX_FORM_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('end', () => (size > MAX_FORM_BYTES ? reject(new HttpError(HttpErrorType.PayloadTooLarge, `The body is larger than ${MAX_FORM_BYTES} bytes`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
  });
}
