/** The approval API's request schemas (zod), used to validate requests and to describe them in OpenAPI. */
import { z } from 'zod';
import { LIMITS, hasControlCharacters, isWellFormedText } from '../core';
import type { Decision } from '../core';
import { AuditEntrySchema, DecisionOutcomeSchema, PendingSummarySchema, ThreadStateSchema } from '../core/wire-schemas';
import { HttpError, HttpErrorType } from './http-errors';

const APPROVER_FIELD_REFUSED = 'approver is not accepted: a decision is recorded under the name your token belongs to';

/** An id as people and programs write them: well-formed text without control characters. */
const id = (description: string) =>
  z
    .string()
    .min(1)
    .max(LIMITS.idChars)
    .refine((value) => isWellFormedText(value) && !hasControlCharacters(value), 'must be text without control characters')
    .describe(description);

/**
 * `POST /api/approvals`: the seed's `{ threadId, interruptId, approved }`, or `action` instead of
 * `approved` (exactly one of the two). No `approver`: that is the authenticated one.
 */
export const DecisionRequestSchema = z
  .strictObject(
    {
      threadId: id('The thread (workflow id)'),
      interruptId: id('The interrupt to decide'),
      approved: z.boolean().optional().describe("The seed's shape: true accepts, false rejects. Give this or `action`."),
      action: z.enum(['accept', 'reject']).optional().describe('Give this or `approved`.'),
      reason: z
        .string()
        .max(LIMITS.reasonChars)
        .refine(isWellFormedText, 'must be valid Unicode text')
        .optional()
        .describe('Why; shown to the model on a rejection and kept in the audit trail'),
      argsDigest: z
        .string()
        .regex(/^[0-9a-f]{64}$/, 'must be the 64-character hex SHA-256 of the arguments')
        .optional()
        .describe("The `argsDigest` of the arguments you were shown (from GET /api/approvals): the decision is refused (409 `DecisionArgumentsChanged`) if the interrupt's arguments differ"),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' && issue.keys.includes('approver') ? APPROVER_FIELD_REFUSED : undefined) },
  )
  .refine((body) => (body.approved === undefined) !== (body.action === undefined), {
    message: 'Give exactly one of approved (true | false) or action (accept | reject)',
  });

export type DecisionRequest = z.infer<typeof DecisionRequestSchema>;

/** A pending approval as the API lists it: a thread's pending summary with the thread and agent. */
export const PendingApprovalSchema = PendingSummarySchema.extend({ threadId: z.string(), agent: z.string().optional() });

/** The body of every response, by name (the OpenAPI document's components). */
export const ResponseSchemas = {
  Error: z.object({
    error: z.object({
      type: z.string().describe('InterruptNotFound, InterruptAlreadyDecided, InterruptTimedOut, ThreadEnded, ThreadNotFound, DecisionNotAllowed, DecisionSignatureRequired, DecisionSignatureInvalid, DecisionArgumentsChanged, RequestInvalid, Unauthorized, TooManyAttempts, …'),
      message: z.string(),
      label: z.string().optional().describe('A short name of the error for people'),
    }),
  }),
  Approvals: z.object({ approvals: z.array(PendingApprovalSchema) }),
  DecisionApplied: z.object({ outcome: DecisionOutcomeSchema }),
  Thread: z.object({ state: ThreadStateSchema, pending: z.array(PendingApprovalSchema).describe("The thread's pending interrupts as the pending list shows them") }),
  Audit: z.object({ entries: z.array(AuditEntrySchema) }),
  Me: z.object({ approver: z.string() }),
  RecentDecisions: z.object({
    decisions: z.array(AuditEntrySchema).describe('Resolved interrupts (accepted, rejected, timed-out, cancelled), newest first'),
    scannedThreads: z.number().int().describe('How many threads were read: the running ones, newest started first, then the most recently closed'),
  }),
} as const;

/** `GET /api/approvals` query: an optional tool name. */
export const ApprovalsQuerySchema = z.strictObject({
  tool: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool must be a tool name: letters, digits, _ or -, at most 64')
    .optional()
    .describe('Only interrupts of this tool'),
});

/** `GET /api/decisions/recent` query: how many decisions, at most 100. */
export const RecentDecisionsQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit must be a number from 1 to 100')
    .transform(Number)
    .refine((value) => value >= 1 && value <= 100, 'limit must be a number from 1 to 100')
    .optional()
    .describe('Decisions to return, 1 to 100; default 20'),
});

/**
 * Validates a value against a schema.
 * @throws HttpError `RequestInvalid` with zod's readable message
 */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(HttpErrorType.RequestInvalid, `Invalid ${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** zod's issues as one sentence that names fields only when they are plain names: no input is repeated. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        if (issue.keys.includes('approver')) return APPROVER_FIELD_REFUSED;
        const named = issue.keys.filter((key) => FIELD.test(key));
        return `unknown field${issue.keys.length > 1 ? 's' : ''}${named.length === issue.keys.length ? ` ${named.join(', ')}` : ''}`;
      }
      const path = issue.path.map(String);
      const field = path.length && path.every((part) => FIELD.test(part) || /^\d+$/.test(part)) ? `${path.join('.')}: ` : '';
      return `${field}${issue.message}`;
    })
    .join('; ');
}

/** The decision a validated request stands for, under the authenticated approver's name. */
export function toDecision(request: DecisionRequest, approver: string): Decision {
  const action = request.action ?? (request.approved ? 'accept' : 'reject');
  return {
    interruptId: request.interruptId,
    action,
    approver,
    ...(request.reason !== undefined && { reason: request.reason }),
    ...(request.argsDigest !== undefined && { argsDigest: request.argsDigest }),
  };
}
