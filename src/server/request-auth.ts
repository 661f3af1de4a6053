/** Who a request to the approval service comes from: shared by the API and the codec endpoint. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress, type AuthAttempt, type AuthGuard } from './auth-guard';
import { HttpError, HttpErrorType } from './http-errors';

/**
 * The approver `identify` finds for the request (from its bearer token, or a session), refusing
 * an address throttled for failed attempts before anything is checked, and counting a failure
 * against the address. `withoutCredentials` tells a caller who sent none how to authenticate.
 * @throws HttpError `TooManyAttempts` (with `Retry-After`) while throttled, `Unauthorized` without a valid credential
 */
export function authenticateRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  guard: AuthGuard,
  identify: (authorization: string | undefined) => string | undefined,
  withoutCredentials: string,
): string {
  const attempt: AuthAttempt = { address: clientAddress(req), method: req.method ?? '', path };
  const retryAfter = guard.retryAfterSeconds(attempt);
  if (retryAfter > 0) {
    res.setHeader('Retry-After', String(retryAfter));
    throw new HttpError(HttpErrorType.TooManyAttempts, `Too many invalid tokens from this address; try again in ${retryAfter} s`);
  }
  const header = req.headers.authorization;
  const approver = identify(header);
  if (approver) return approver;
  guard.recordFailure(attempt, header ? 'invalid token' : 'no token');
  throw new HttpError(HttpErrorType.Unauthorized, header ? 'The bearer token is not valid' : withoutCredentials);
}
