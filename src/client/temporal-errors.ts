/**
 * The one place that turns what Temporal's client throws into Airlock's errors, so the library,
 * the CLI and the HTTP API all see `AirlockError`s with stable types for what a user can act on.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AirlockError, ErrorType, quoteIfSafe } from '../core';

const GRPC_NOT_FOUND = 5;
/** Temporal's answer to an Update or signal for a thread that has completed (a NOT_FOUND with this text). */
const COMPLETED = /workflow execution already completed/i;

/**
 * An `AirlockError` for what Temporal threw about a thread: `ThreadNotFound`, `ThreadEnded`, or the
 * type a thread's refusal carried (an Update's `ApplicationFailure`). Anything else is returned as is.
 */
export function toAirlockError(err: unknown, threadId: string): unknown {
  if (err instanceof AirlockError) return err;
  const message = err instanceof Error ? err.message : '';
  if (err instanceof WorkflowExecutionAlreadyStartedError || COMPLETED.test(message) || COMPLETED.test(causeMessage(err))) {
    return threadEnded(threadId);
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type) {
    return new AirlockError(err.cause.message, err.cause.type);
  }
  if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) {
    return new AirlockError(`No thread ${quoteIfSafe(threadId, 'thread')} in this namespace`, ErrorType.ThreadNotFound);
  }
  return err;
}

/** The error for a thread that has ended and takes no more messages or decisions. */
export function threadEnded(threadId: string): AirlockError {
  return new AirlockError(`Thread ${quoteIfSafe(threadId, 'thread')} has ended; start a new thread to go on`, ErrorType.ThreadEnded);
}

/** Calls `fn` and rethrows what it throws as `toAirlockError` gives it. */
export async function translatingTemporalErrors<T>(threadId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAirlockError(err, threadId);
  }
}

function causeMessage(err: unknown): string {
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  return typeof cause?.message === 'string' ? cause.message : '';
}
