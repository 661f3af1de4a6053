/**
 * Every HTTP status the approval API answers with for an error, decided in this one place: Airlock's
 * error types (a refused decision's `errorType`) and the API's own.
 */
import { WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import { AirlockError, ErrorType } from '../../core';

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
  /** No such thread in the namespace. */
  ThreadNotFound: 'ThreadNotFound',
  /** No such endpoint. */
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
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
  [HttpErrorType.Unauthorized]: 401,
  [HttpErrorType.TooManyAttempts]: 429,
  [HttpErrorType.RequestInvalid]: 400,
  [HttpErrorType.PayloadTooLarge]: 413,
  [HttpErrorType.ThreadNotFound]: 404,
  [HttpErrorType.NotFound]: 404,
  [HttpErrorType.MethodNotAllowed]: 405,
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
 * What the API answers for an error thrown while serving a thread: a missing thread, an ended
 * one, an Airlock error; anything else is an internal error.
 */
export function toHttpError(err: unknown, threadId?: string): HttpError {
  if (err instanceof HttpError) return err;
  const thread = threadId === undefined ? 'the thread' : `thread '${threadId}'`;
  // Temporal answers "not found" for a thread that has completed too: tell the two apart first.
  if (/workflow execution already completed/i.test((err as Error)?.message ?? '')) {
    return new HttpError(ErrorType.ThreadEnded, `The thread has ended and takes no more decisions (${thread})`);
  }
  // Reading history reports a missing thread as a bare gRPC NOT_FOUND, not a WorkflowNotFoundError.
  if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) {
    return new HttpError(HttpErrorType.ThreadNotFound, `No such thread in this namespace (${thread})`);
  }
  if (err instanceof AirlockError) return new HttpError(err.type, err.message);
  return new HttpError(HttpErrorType.InternalError, 'Internal error; the server log has the details', err);
}

const GRPC_NOT_FOUND = 5;
