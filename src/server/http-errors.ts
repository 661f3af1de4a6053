/**
 * Every HTTP status the approval API answers with for an error, decided in this one place: Airlock's
 * error types (a refused decision's `errorType`) and the API's own.
 */
import { ErrorType, isAirlockError } from '../core';
import { toAirlockError } from '../client/temporal-errors';

/** Error types of the HTTP layer itself, next to Airlock's `ErrorType`s. */
export const HttpErrorType = {
  /** No token, or a token no approver has. */
  Unauthorized: 'Unauthorized',
  /** Too many invalid tokens from the client's address: it waits for `Retry-After` seconds. */
  TooManyAttempts: 'TooManyAttempts',
  /** Malformed JSON, wrong types, unknown fields, a bad query parameter. */
  RequestInvalid: 'RequestInvalid',
  /** A body over the size limit. */
  PayloadTooLarge: 'PayloadTooLarge',
  /** No such endpoint. */
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  /** Authenticated, but not for this: another namespace's payloads, a page of another origin. */
  Forbidden: 'Forbidden',
  /** The codec endpoint could not decode a payload (a key it lacks, altered bytes). */
  PayloadUndecodable: 'PayloadUndecodable',
  InternalError: 'InternalError',
} as const;

const STATUS: Record<string, number> = {
  [ErrorType.InterruptNotFound]: 404,
  [ErrorType.InterruptAlreadyDecided]: 409,
  [ErrorType.InterruptTimedOut]: 409,
  [ErrorType.ThreadEnded]: 409,
  [ErrorType.DecisionNotAllowed]: 403,
  [ErrorType.DecisionInvalid]: 400,
  [ErrorType.DecisionSignatureRequired]: 403,
  [ErrorType.DecisionSignatureInvalid]: 403,
  [ErrorType.DecisionArgumentsChanged]: 409,
  // Well formed, but the edited arguments do not fit the tool's schema: nothing ran, the call still waits.
  [ErrorType.DecisionEditInvalid]: 422,
  // The policy forbids grants on this tool, or caps their time to live below the one asked for.
  [ErrorType.GrantNotAllowed]: 403,
  [ErrorType.GrantNotFound]: 404,
  [HttpErrorType.Unauthorized]: 401,
  [HttpErrorType.TooManyAttempts]: 429,
  [HttpErrorType.RequestInvalid]: 400,
  [HttpErrorType.PayloadTooLarge]: 413,
  [ErrorType.ThreadNotFound]: 404,
  [HttpErrorType.NotFound]: 404,
  [HttpErrorType.MethodNotAllowed]: 405,
  [HttpErrorType.Forbidden]: 403,
  [HttpErrorType.PayloadUndecodable]: 422,
  [ErrorType.WorkerUnavailable]: 503,
  [HttpErrorType.InternalError]: 500,
};

/** The HTTP status of an error type; 500 for a type without a mapping. */
function statusOf(type: string): number {
  return STATUS[type] ?? 500;
}

/** An error the API answers with `{ error: { type, message } }` and the type's status. `cause`: the error behind it, for the log. */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly type: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'HttpError';
    this.status = statusOf(type);
  }
}

/**
 * What the API answers for an error thrown while serving a thread: Airlock's errors (Temporal's
 * translated by `toAirlockError`) with their type; anything else is an internal error.
 */
export function toHttpError(err: unknown, threadId = ''): HttpError {
  if (err instanceof HttpError) return err;
  const error = toAirlockError(err, threadId);
  if (isAirlockError(error)) return new HttpError(error.type, error.message);
  return new HttpError(HttpErrorType.InternalError, 'Internal error; the server log has the details', err);
}
