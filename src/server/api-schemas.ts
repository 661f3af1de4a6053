/** The approval API's request schemas (zod), used to validate requests and to describe them in OpenAPI. */
import { z } from 'zod';
import { GRANT_LIMITS, LIMITS, checkGrantShape, checkGrantTtl, hasControlCharacters, isWellFormedText, isWellFormedValue } from '../core';
import type { Decision, GrantRequest } from '../core';
import { AuditEntrySchema, DecisionOutcomeSchema, PendingSummarySchema, ThreadStateSchema, ToolGrantSchema } from '../core/wire-schemas';
import { HttpError, HttpErrorType } from './http-errors';

const APPROVER_FIELD_REFUSED = 'approver is not accepted: a decision is recorded under the name your token belongs to';
const BY_FIELD_REFUSED = 'by is not accepted: a revocation is recorded under the name your token belongs to';

/** An id as people and programs write them: well-formed text without control characters. */
const id = (description: string) =>
  z
    .string()
    .min(1)
    .max(LIMITS.idChars)
    .refine((value) => isWellFormedText(value) && !hasControlCharacters(value), 'must be text without control characters')
    .describe(description);

const digest = (description: string) =>
  z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a 64-character hex SHA-256 digest')
    .optional()
    .describe(description);

const reason = z
  .string()
  .max(LIMITS.reasonChars)
  .refine(isWellFormedText, 'must be valid Unicode text')
  .optional()
  .describe('Why; shown to the model on a rejection and kept in the audit trail');

/** `grant` of a decision: the shape, then the thread's own rules for it (`checkGrantShape`, whose sentences never repeat the input). */
const GrantRequestSchema = z
  .strictObject({
    match: z
      .record(z.string(), z.string())
      .meta({ minProperties: 1, maxProperties: GRANT_LIMITS.patterns })
      .describe(
        `Argument name → glob pattern on its string value (1-${GRANT_LIMITS.patterns}): \`*\` matches within a path segment, \`**\` across; a value with a \`.\` or \`..\` segment never matches; a pattern must hold more than wildcards`,
      ),
    ttl: z
      // Checked by checkGrantShape below; the bounds are stated here for the OpenAPI document.
      .union([z.number().meta({ exclusiveMinimum: 0, maximum: GRANT_LIMITS.maxTtlMs }), z.string().meta({ pattern: '^\\d+(ms|s|m|h|d)$' })])
      .optional()
      .describe("How long the grant lasts: milliseconds or '30s', '15m', '1h', '2d', at most 3650d. Default: until revoked (or the policy's cap)"),
  })
  .superRefine((grant, ctx) => {
    const problem = checkGrantShape(grant) ?? checkGrantTtl(grant);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('accept or edit only: later calls of the same tool in this thread whose arguments match every pattern run without asking, until revoked or expired');

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// The arguments pass through exactly as sent (a record schema would copy them, dropping a key such as `__proto__`).
const EditArgsSchema = z
  .unknown()
  .refine(
    (args) => isJsonObject(args) && isWellFormedValue(args) && (JSON.stringify(args)?.length ?? 0) <= LIMITS.toolArgsChars,
    `must be a JSON object of valid text, at most ${LIMITS.toolArgsChars} characters`,
  )
  .meta({ type: 'object' })
  .describe("edit only: the arguments to run instead (the tool's schema checks them, and the policy is evaluated on them again: an edit that needs a stricter approver waits for one, 202)");

const ResponseMessageSchema = z
  .string()
  .min(1)
  .max(LIMITS.reasonChars)
  .refine((text) => isWellFormedText(text) && text.trim() !== '', 'must be non-empty valid Unicode text')
  .describe("respond only: what the model reads in place of the tool's result (the tool does not run)");

/**
 * `POST /api/approvals`: the seed's `{ threadId, interruptId, approved }`, or `action` instead of
 * `approved` (exactly one of the two); `args` with an edit, `message` with a response, `grant`
 * with an accept or an edit. No `approver`: that is the authenticated one.
 */
export const DecisionRequestSchema = z
  .strictObject(
    {
      threadId: id('The thread (workflow id)'),
      interruptId: id('The interrupt to decide'),
      approved: z.boolean().optional().describe("The seed's shape: true accepts, false rejects. Give this or `action`."),
      action: z
        .enum(['accept', 'reject', 'edit', 'respond'])
        .optional()
        .describe("Give this or `approved`. Only the decisions the policy allows (the pending approval's `allowedDecisions`) are accepted."),
      reason,
      args: EditArgsSchema.optional(),
      message: ResponseMessageSchema.optional(),
      grant: GrantRequestSchema.optional(),
      argsDigest: digest(
        "The `argsDigest` of the arguments you were shown (from GET /api/approvals): the decision is refused (409 `DecisionArgumentsChanged`) if the interrupt's arguments differ",
      ),
      callDigest: digest(
        'The `callDigest` of the call you were shown (tool, arguments and policy, from GET /api/approvals): the decision is refused (409 `DecisionArgumentsChanged`, "the call changed since you looked") if another approver edited it since',
      ),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' && issue.keys.includes('approver') ? APPROVER_FIELD_REFUSED : undefined) },
  )
  .superRefine((body, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
    if ((body.approved === undefined) === (body.action === undefined)) return problem('Give exactly one of approved (true | false) or action (accept | reject | edit | respond)');
    const action = body.action ?? (body.approved ? 'accept' : 'reject');
    if ((action === 'edit') !== (body.args !== undefined)) problem("args go with action 'edit', and an edit needs them");
    if ((action === 'respond') !== (body.message !== undefined)) problem("message goes with action 'respond', and a response needs one");
    if (body.grant !== undefined && action !== 'accept' && action !== 'edit') problem("grant goes with action 'accept' (or approved: true) or 'edit'");
  });

export type DecisionRequest = z.infer<typeof DecisionRequestSchema>;

/** A pending approval as the API lists it: a thread's pending summary with the thread and agent. */
export const PendingApprovalSchema = PendingSummarySchema.extend({ threadId: z.string(), agent: z.string().optional() });

// The outcomes a decision request answers with: applied (200) or escalated (202); refusals are errors.
const [AppliedOutcomeSchema, EscalatedOutcomeSchema] = DecisionOutcomeSchema.options;

/** The body of every response, by name (the OpenAPI document's components). */
export const ResponseSchemas = {
  Health: z.object({
    status: z.enum(['ok', 'ready', 'draining', 'unavailable']).describe('`ok` (alive), `ready`, `draining` (stopping: finishing open requests) or `unavailable` (Temporal does not answer)'),
  }),
  Error: z.object({
    error: z.object({
      type: z
        .string()
        .describe(
          'InterruptNotFound, InterruptAlreadyDecided, InterruptTimedOut, ThreadEnded, ThreadNotFound, DecisionNotAllowed, DecisionSignatureRequired, DecisionSignatureInvalid, DecisionArgumentsChanged, DecisionEditInvalid, GrantNotAllowed, GrantNotFound, RequestInvalid, Unauthorized, TooManyAttempts, …',
        ),
      message: z.string(),
      label: z.string().optional().describe('A short name of the error for people'),
    }),
  }),
  Approvals: z.object({ approvals: z.array(PendingApprovalSchema) }),
  DecisionApplied: z.object({ outcome: AppliedOutcomeSchema.describe('The decision was applied; `grant` is the grant it issued, if it asked for one') }),
  DecisionEscalated: z.object({
    outcome: EscalatedOutcomeSchema,
    pending: PendingApprovalSchema.describe(
      'The call as it now waits: the edited arguments, who may decide it (`approvers`), why the policy asks (`askReason`), its new `callDigest`, `editedBy` and `originalArgs`. No `context` or `agent` here: the pending list has them.',
    ),
  }),
  Thread: z.object({ state: ThreadStateSchema, pending: z.array(PendingApprovalSchema).describe("The thread's pending interrupts as the pending list shows them") }),
  Audit: z.object({ entries: z.array(AuditEntrySchema) }),
  Grants: z.object({ grants: z.array(ToolGrantSchema).describe("The thread's grants (active, revoked and expired), oldest first, each with the calls it let through (`uses`)") }),
  GrantRevoked: z.object({ outcome: z.object({ type: z.literal('revoked'), grant: ToolGrantSchema }) }),
  Me: z.object({ approver: z.string() }),
  RecentDecisions: z.object({
    decisions: z.array(AuditEntrySchema).describe('Resolved interrupts (accepted, edited, responded, rejected, timed-out, cancelled), newest first'),
    scannedThreads: z.number().int().describe('How many threads were read: the running ones, newest started first, then the most recently closed'),
  }),
} as const;

/** `POST /api/threads/{id}/grants/{grantId}/revoke`: an optional reason; the authenticated approver revokes. */
export const RevokeRequestSchema = z.strictObject(
  { reason: reason.describe('Why; kept in the audit trail') },
  { error: (issue) => (issue.code === 'unrecognized_keys' && (issue.keys.includes('by') || issue.keys.includes('approver')) ? BY_FIELD_REFUSED : undefined) },
);

/** A thread and a grant named in a path. */
export const GrantPathSchema = z.object({ threadId: id('The thread (workflow id)'), grantId: id("The grant's id (`g-<interruptId>`)") });

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
        // The schema's own sentence for a field that names who decides (the token says who).
        if (issue.message === APPROVER_FIELD_REFUSED || issue.message === BY_FIELD_REFUSED) return issue.message;
        const named = issue.keys.filter((key) => FIELD.test(key));
        return `unknown field${issue.keys.length > 1 ? 's' : ''}${named.length === issue.keys.length ? ` ${named.join(', ')}` : ''}`;
      }
      const path = issue.path.map(String);
      const named = path.length > 0 && path.every((part) => FIELD.test(part) || /^\d+$/.test(part));
      // A message of the thread's own rules may already name its field ("grant.match: …").
      const field = named && !issue.message.startsWith(path[0]) ? `${path.join('.')}: ` : '';
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
    ...(request.args !== undefined && { args: request.args }),
    ...(request.message !== undefined && { message: request.message }),
    ...(request.grant !== undefined && { grant: request.grant as GrantRequest }),
    ...(request.argsDigest !== undefined && { argsDigest: request.argsDigest }),
    ...(request.callDigest !== undefined && { callDigest: request.callDigest }),
  };
}
