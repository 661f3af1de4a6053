/** Reading JSON requests and writing JSON responses, with the headers every response carries. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ERROR_LABELS } from '../core';
import { HttpError, HttpErrorType } from './http-errors';

/**
 * Headers on every response: only the server's own scripts and styles may run (no inline script,
 * as a second line behind rendering data as text), no framing, no referrer, no MIME sniffing.
 */
export const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** Writes `body` as JSON, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Writes `{ error: { type, message } }` with the error's status (and the bearer challenge on a 401). */
export function sendError(res: ServerResponse, error: HttpError): void {
  const headers: OutgoingHttpHeaders = {};
  if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="airlock"';
  // The rest of an oversized body is not read: close the connection once the answer is out.
  if (error.status === 413) headers.Connection = 'close';
  const label = ERROR_LABELS[error.type];
  sendJson(res, error.status, { error: { type: error.type, message: error.message, ...(label && { label }) } }, headers);
}

/**
 * Reads and parses a JSON body of at most `limit` bytes; an empty body is `emptyAs` when given.
 * @throws HttpError `PayloadTooLarge` over the limit, `RequestInvalid` for an empty body (unless `emptyAs`) or malformed JSON
 */
export function readJsonBody(req: IncomingMessage, limit: number, emptyAs?: unknown): Promise<unknown> {
  const tooLarge = () => new HttpError(HttpErrorType.PayloadTooLarge, `The body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Keep draining (and dropping) the rest, so the socket stays usable for the answer.
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => {
      if (size > limit) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '' && emptyAs !== undefined) return resolve(emptyAs);
      if (text.trim() === '') return reject(new HttpError(HttpErrorType.RequestInvalid, 'The request needs a JSON body'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        // The parser's message may quote the body: only the position is passed on.
        const position = /at position (\d+)/.exec((err as Error).message)?.[1];
        reject(new HttpError(HttpErrorType.RequestInvalid, `Malformed JSON${position === undefined ? '' : ` at position ${position}`}: the body is not valid JSON`));
      }
    });
  });
}
