import { AirlockError, ErrorType } from '../core';

/** The provider refused the request (bad key, invalid request, unknown model): retrying cannot help. */
export class ModelRequestRejectedError extends AirlockError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, ErrorType.ModelRequestRejected);
  }
}

/** The provider cannot answer now (rate limit, overload, 5xx, network): retried with backoff. */
export class ModelUnavailableError extends AirlockError {
  constructor(
    message: string,
    readonly status?: number,
    /** How long the provider asked us to wait (from `retry-after`), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message, ErrorType.ModelUnavailable);
  }
}
