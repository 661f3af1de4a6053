/**
 * Thrown by a tool for a failure that a retry cannot mend (a path outside the sandbox, a missing
 * file). The model is told at once. Any other error is retried with the same idempotency key.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}
