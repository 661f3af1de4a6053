import { isGrpcCancelledError, isGrpcDeadlineError, type Client } from '@temporalio/client';
import { AirlockError, ErrorType } from '../core';

/**
 * Runs a call that needs a worker (an update, a query) with a deadline, so a caller does not wait
 * forever while no worker runs for the thread.
 * @throws AirlockError of type `WorkerUnavailable` when the deadline passes
 */
export async function withWorkerDeadline<T>(client: Client, threadId: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  try {
    return await client.withDeadline(deadline, fn);
  } catch (err) {
    // At the deadline gRPC ends the call as DEADLINE_EXCEEDED, or as CANCELLED when it falls between two retries.
    if (isGrpcDeadlineError(err) || (isGrpcCancelledError(err) && Date.now() >= deadline)) {
      throw new AirlockError(`No worker answered for thread '${threadId}' within ${timeoutMs / 1000}s; start a worker for its task queue`, ErrorType.WorkerUnavailable);
    }
    throw err;
  }
}
