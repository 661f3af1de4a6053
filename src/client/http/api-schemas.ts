/** The approval API's request schemas (zod), used to validate requests and to describe them in OpenAPI. */
import { z } from 'zod';
import type { Decision } from '../../core';
import { HttpError, HttpErrorType } from './http-errors';

const APPROVER_FIELD_REFUSED = 'approver is not accepted: a decision is recorded under the name your token belongs to';

/**
 * `POST /api/approvals`: the seed's `{ threadId, interruptId, approved }`, or `action` instead of
 * `approved` (exactly one of the two). No `approver`: that is the authenticated one.
 */
export const DecisionRequestSchema = z
  .strictObject(
    {
      threadId: z.string().min(1).max(1000).describe('The thread (workflow id)'),
      interruptId: z.string().min(1).max(1000).describe('The interrupt to decide'),
      approved: z.boolean().optional().describe("The seed's shape: true accepts, false rejects. Give this or `action`."),
      action: z.enum(['accept', 'reject']).optional().describe('Give this or `approved`.'),
      reason: z.string().max(2000).optional().describe('Why; shown to the model on a rejection and kept in the audit trail'),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' && issue.keys.includes('approver') ? APPROVER_FIELD_REFUSED : undefined) },
  )
  .refine((body) => (body.approved === undefined) !== (body.action === undefined), {
    message: 'Give exactly one of approved (true | false) or action (accept | reject)',
  });

export type DecisionRequest = z.infer<typeof DecisionRequestSchema>;

/** `GET /api/approvals` query: an optional tool name. */
export const ApprovalsQuerySchema = z.strictObject({
  tool: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool must be a tool name: letters, digits, _ or -, at most 64')
    .optional()
    .describe('Only interrupts of this tool'),
});

/**
 * Validates a value against a schema.
 * @throws HttpError `RequestInvalid` with zod's readable message
 */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(HttpErrorType.RequestInvalid, `Invalid ${what}: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, ' ')}`);
  return parsed.data;
}

/** The decision a validated request stands for, under the authenticated approver's name. */
export function toDecision(request: DecisionRequest, approver: string): Decision {
  const action = request.action ?? (request.approved ? 'accept' : 'reject');
  return { interruptId: request.interruptId, action, approver, ...(request.reason !== undefined && { reason: request.reason }) };
}
