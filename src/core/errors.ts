/**
 * Error types with stable names. Workflow code runs in its own V8 context, so errors are
 * matched by `name` (or `ApplicationFailure.type`), never by `instanceof` across the boundary.
 */

export const ErrorType = {
  /** A decision names an interrupt the thread does not have. */
  InterruptNotFound: 'InterruptNotFound',
  /** A decision for an interrupt a person already decided. */
  InterruptAlreadyDecided: 'InterruptAlreadyDecided',
  /** A decision that arrives after the policy's timeout resolved the interrupt. */
  InterruptTimedOut: 'InterruptTimedOut',
  /** The approver is not among the policy's `approvers`. */
  DecisionNotAllowed: 'DecisionNotAllowed',
  /** A decision that is not well formed (missing approver, unknown action, malformed text), or sent with malformed reply options. */
  DecisionInvalid: 'DecisionInvalid',
  /** The policy requires signed decisions and this one carries no signature. */
  DecisionSignatureRequired: 'DecisionSignatureRequired',
  /** The signature is from an unknown key, a key of another approver, or does not match the decision. */
  DecisionSignatureInvalid: 'DecisionSignatureInvalid',
  /** The decision names arguments (`argsDigest`) or a call (`callDigest`) other than the interrupt's: the call changed since the approver looked. */
  DecisionArgumentsChanged: 'DecisionArgumentsChanged',
  /** An edit whose arguments do not fit the tool's schema, or that names another tool. Nothing ran; the interrupt still waits. */
  DecisionEditInvalid: 'DecisionEditInvalid',
  /** A grant the policy does not allow (grants forbidden, a pattern that is not valid, a time to live over the policy's cap). */
  GrantNotAllowed: 'GrantNotAllowed',
  /** A revocation names a grant the thread does not have, or one that has already ended. */
  GrantNotFound: 'GrantNotFound',
  /** The tool activity was asked to run a protected tool without an approval that fits the worker's policy. */
  ApprovalMissing: 'ApprovalMissing',
  /** The workflow's input is not a valid `ThreadInput` (e.g. an agent spec instead of a name). */
  ThreadInputInvalid: 'ThreadInputInvalid',
  /** The model's reply is too large to keep in history. */
  ModelResponseTooLarge: 'ModelResponseTooLarge',
  /** The tool's result is too large to give to the model. */
  ToolResultTooLarge: 'ToolResultTooLarge',
  /** The model's arguments do not match the tool's schema. */
  ToolArgumentsInvalid: 'ToolArgumentsInvalid',
  /** The model called a tool the agent does not have. */
  ToolNotFound: 'ToolNotFound',
  /** The tool threw. */
  ToolFailed: 'ToolFailed',
  /** The model provider refused the request (bad key, invalid request): retrying cannot help. */
  ModelRequestRejected: 'ModelRequestRejected',
  /** The model provider could not answer now (rate limit, 5xx, network): retried with backoff. */
  ModelUnavailable: 'ModelUnavailable',
  /** The worker does not know the agent a thread names. */
  AgentNotFound: 'AgentNotFound',
  /** No thread with that id in the namespace. */
  ThreadNotFound: 'ThreadNotFound',
  /** Data in history or visibility written by a newer release than this one. */
  WireVersionUnsupported: 'WireVersionUnsupported',
  /** Data in history or visibility that does not fit its schema. */
  WireDataInvalid: 'WireDataInvalid',
  /** No worker answered the thread in time (the server keeps the request; a worker may still act on it). */
  WorkerUnavailable: 'WorkerUnavailable',
  /** The thread has ended and takes no more messages. */
  ThreadEnded: 'ThreadEnded',
  /** A message that is empty or not text. */
  MessageInvalid: 'MessageInvalid',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** The ways a thread refuses a decision (the decision changed nothing). One list for the CLI, the HTTP API, the inbox and the chat. */
export const DECISION_REFUSALS: readonly string[] = [
  ErrorType.InterruptNotFound,
  ErrorType.InterruptAlreadyDecided,
  ErrorType.InterruptTimedOut,
  ErrorType.ThreadEnded,
  ErrorType.DecisionNotAllowed,
  ErrorType.DecisionInvalid,
  ErrorType.DecisionSignatureRequired,
  ErrorType.DecisionSignatureInvalid,
  ErrorType.DecisionArgumentsChanged,
  ErrorType.DecisionEditInvalid,
  ErrorType.GrantNotAllowed,
];

/** True when `type` is a way a thread refuses a decision. */
export function isDecisionRefusal(type: unknown): boolean {
  return typeof type === 'string' && DECISION_REFUSALS.includes(type);
}

/** Short labels for people, for the error types an approver meets. */
export const ERROR_LABELS: Readonly<Record<string, string>> = {
  [ErrorType.InterruptNotFound]: 'Not found',
  [ErrorType.InterruptAlreadyDecided]: 'Already decided',
  [ErrorType.InterruptTimedOut]: 'Timed out',
  [ErrorType.ThreadEnded]: 'Thread ended',
  [ErrorType.ThreadNotFound]: 'Not found',
  [ErrorType.DecisionNotAllowed]: 'Not allowed',
  [ErrorType.DecisionInvalid]: 'Invalid decision',
  [ErrorType.DecisionSignatureRequired]: 'Signature required',
  [ErrorType.DecisionSignatureInvalid]: 'Signature not accepted',
  [ErrorType.DecisionArgumentsChanged]: 'Call changed',
  [ErrorType.DecisionEditInvalid]: 'Edit not valid',
  [ErrorType.GrantNotAllowed]: 'Grant not allowed',
  [ErrorType.GrantNotFound]: 'No such grant',
  [ErrorType.WorkerUnavailable]: 'No worker',
};

/** Base class for Airlock errors: `name` is the stable error type. */
export class AirlockError extends Error {
  constructor(
    message: string,
    readonly type: ErrorType | string = 'AirlockError',
  ) {
    super(message);
    this.name = type;
  }

  /** True for any Airlock error of the given type, across V8 contexts. */
  static isType(err: unknown, type: ErrorType): boolean {
    return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === type;
  }
}

/** True for an `AirlockError` (of one of `types`, when given), matched by shape so it works across V8 contexts. */
export function isAirlockError(err: unknown, ...types: ErrorType[]): err is AirlockError {
  if (typeof err !== 'object' || err === null) return false;
  const { name, type } = err as { name?: unknown; type?: unknown };
  if (typeof type !== 'string' || name !== type) return false;
  return types.length === 0 || (types as string[]).includes(type);
}

/** A decision the thread refused. `type` says why. */
export class DecisionRefusedError extends AirlockError {
  constructor(
    message: string,
    type: ErrorType | string,
    readonly interruptId: string,
  ) {
    super(message, type);
  }
}
