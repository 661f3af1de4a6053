/**
 * The wire data that history, visibility and the HTTP API carry, as zod schemas with versions:
 * what clients check when they read it, and what the OpenAPI document is generated from.
 *
 * Not exported from `core/index.ts` on purpose: the workflow imports the core, and zod in the
 * workflow sandbox would cost every cached thread a copy of it.
 */
import { z } from 'zod';
import { AirlockError, ErrorType } from './errors';
import { COMPACT_PENDING_VERSION, expandPending, type CompactPendingSummary } from './pending-summary';
import { WIRE_VERSION } from './types';
import type { AuditEvent, PendingSummary } from './types';

const version = z.number().int().min(1).optional().describe('Absent in data written by the first release (version 1)');
const isoTime = z.string().describe('ISO 8601 time');

export const HitlPolicySchema = z.looseObject({
  allowAuto: z.boolean(),
  note: z.string().optional(),
  timeout: z.union([z.number(), z.string()]).optional(),
  onTimeout: z.enum(['reject', 'accept']).optional(),
  approvers: z.array(z.string()).optional(),
  requireSignature: z.boolean().optional(),
  confirm: z.boolean().optional(),
  allowedDecisions: z.array(z.enum(['accept', 'reject', 'edit', 'respond'])).optional().describe('The decisions the policy allows; absent: all'),
  grants: z.union([z.boolean(), z.object({ maxTtl: z.union([z.number(), z.string()]).optional() })]).optional().describe('Whether approvers may grant; absent: yes'),
  conditional: z.boolean().optional().describe("A rule of the worker's policy decides per call"),
});

export const SignedBySchema = z.object({ keyId: z.string(), kind: z.enum(['approver', 'service']), owner: z.string() });

const origin = {
  approver: z.string(),
  reason: z.string().optional(),
  signedBy: SignedBySchema.optional(),
  signature: z.object({ keyId: z.string(), signature: z.string() }).optional(),
  via: z.enum(['update', 'signal', 'message']).optional().describe("How the decision arrived; 'message': the user's new message rejected the call"),
  updateId: z.string().optional(),
};

const ArgsMatchSchema = z.record(z.string(), z.string()).describe('Argument name → glob pattern (`*` within a path segment, `**` across)');

export const DecisionSchema = z.object({
  interruptId: z.string(),
  action: z.enum(['accept', 'reject', 'edit', 'respond']),
  approver: z.string(),
  reason: z.string().optional(),
  args: z.unknown().optional(),
  message: z.string().optional(),
  toolName: z.string().optional(),
  grant: z.object({ match: ArgsMatchSchema, ttl: z.union([z.number(), z.string()]).optional() }).optional(),
  argsDigest: z.string().optional(),
  callDigest: z.string().optional(),
  signature: z.object({ keyId: z.string(), signature: z.string() }).optional(),
});

export const InterruptResolutionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('accepted'), at: isoTime, grantId: z.string().optional(), ...origin }),
  z.object({ type: z.literal('rejected'), at: isoTime, ...origin }),
  z.object({ type: z.literal('edited'), at: isoTime, args: z.unknown(), argsDigest: z.string(), decidedOnDigest: z.string(), grantId: z.string().optional(), ...origin }),
  z.object({ type: z.literal('responded'), at: isoTime, message: z.string(), ...origin }),
  z.object({ type: z.literal('timed-out'), outcome: z.enum(['accept', 'reject']), at: isoTime }),
  z.object({ type: z.literal('cancelled'), reason: z.string(), at: isoTime }),
]);

const InterruptEditSchema = z.object({ at: isoTime, args: z.unknown(), argsDigest: z.string(), ...origin });

export const HitlInterruptSchema = z.object({
  id: z.string(),
  toolName: z.string(),
  toolArgs: z.unknown(),
  argsDigest: z.string().optional(),
  policyNote: z.string().optional(),
  createdAt: isoTime,
  deadline: isoTime.optional(),
  toolCallId: z.string(),
  turn: z.number(),
  policy: HitlPolicySchema,
  askReason: z.string().optional().describe('Why the policy asks for this call'),
  callDigest: z.string().optional().describe('Digest of the tool, arguments and policy: name it in a decision'),
  originalArgs: z.unknown().optional().describe("The model's arguments, when an approver edited them"),
  edits: z.array(InterruptEditSchema).optional(),
  resolution: InterruptResolutionSchema.optional(),
});

export const ToolGrantSchema = z.object({
  id: z.string(),
  toolName: z.string(),
  match: ArgsMatchSchema,
  interruptId: z.string(),
  grantedBy: z.string(),
  decision: DecisionSchema,
  decidedOnDigest: z.string(),
  signedBy: SignedBySchema.optional(),
  createdAt: isoTime,
  expiresAt: isoTime.optional(),
  uses: z.number().int(),
  ended: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('revoked'), by: z.string(), reason: z.string().optional(), at: isoTime }),
      z.object({ type: z.literal('expired'), at: isoTime }),
    ])
    .optional(),
});

export const AuditEventSchema = z.discriminatedUnion('kind', [
  z.object({ version, kind: z.literal('interrupt-opened'), interrupt: HitlInterruptSchema.omit({ resolution: true }) }),
  z.object({ version, kind: z.literal('interrupt-resolved'), interruptId: z.string(), toolName: z.string(), resolution: InterruptResolutionSchema }),
  z.object({
    version,
    kind: z.literal('interrupt-edited'),
    interruptId: z.string(),
    toolName: z.string(),
    edit: InterruptEditSchema,
    policy: HitlPolicySchema,
    askReason: z.string().optional(),
    callDigest: z.string(),
  }),
  z.object({
    version,
    kind: z.literal('call-allowed'),
    toolCallId: z.string(),
    turn: z.number().int(),
    toolName: z.string(),
    args: z.unknown(),
    by: z.enum(['rule', 'grant']),
    reason: z.string(),
    grantId: z.string().optional(),
    at: isoTime,
  }),
  z.object({ version, kind: z.literal('grant-issued'), grant: ToolGrantSchema }),
  z.object({ version, kind: z.literal('grant-ended'), grantId: z.string(), interruptId: z.string(), toolName: z.string(), ended: ToolGrantSchema.shape.ended.unwrap() }),
  z.object({
    version,
    kind: z.literal('decision-refused'),
    // The first release kept whatever a signal carried here, well formed or not.
    decision: z.unknown(),
    errorType: z.string(),
    reason: z.string(),
    at: isoTime,
    via: z.enum(['update', 'signal']).optional(),
    updateId: z.string().optional(),
  }),
]);

export const PendingSummarySchema = z.object({
  id: z.string().describe('The interrupt id'),
  toolName: z.string(),
  args: z.unknown().optional().describe('The arguments in full (show them with keys sorted). Absent only in summaries written by the first release.'),
  argsDigest: z.string().optional().describe('SHA-256 of the canonical JSON of args: send it with the decision to bind the decision to what was shown'),
  argsPreview: z.string().optional().describe('First release only: JSON of the arguments cut at 500 characters. Never approve on it.'),
  policyNote: z.string().optional(),
  createdAt: isoTime,
  deadline: isoTime.optional(),
  approvers: z.array(z.string()).optional().describe('Who may decide; absent: any approver'),
  requireSignature: z.boolean().optional().describe('The policy requires signed decisions'),
  confirm: z.boolean().optional().describe('An irreversible or high-risk tool: ask the approver to confirm an approval in a second step'),
  context: z
    .object({
      userMessage: z.string().optional().describe('The latest user message before the call'),
      agentText: z.string().optional().describe("The agent's own words in the turn that made the call"),
    })
    .optional()
    .describe('Why the call exists; each text cut at 2,000 characters (a cut ends with …). Absent in summaries of older releases.'),
  askReason: z.string().optional().describe('Why the policy asks for this call ("amount 5,000 exceeds 1,000")'),
  callDigest: z.string().optional().describe('Digest of the tool, arguments and policy: send it with the decision; refused (409) if the call changed since'),
  allowedDecisions: z.array(z.enum(['accept', 'reject', 'edit', 'respond'])).optional().describe('The decisions the policy allows; absent: all'),
  grants: z.boolean().optional().describe('Whether the policy lets an approver grant'),
  originalArgs: z.unknown().optional().describe("The model's arguments, when an approver edited them"),
  editedBy: z.string().optional().describe('Who edited the arguments last'),
});

/** The `airlock.pending` memo: a bare list (first release) or `{ version, interrupts }`. */
export const PendingMemoSchema = z.union([z.array(PendingSummarySchema), z.object({ version: z.number().int(), interrupts: z.array(PendingSummarySchema) })]);

function newerRelease(what: string, found: number, known = WIRE_VERSION): AirlockError {
  return new AirlockError(`This ${what} was written by a newer release of Airlock (wire version ${found}; this one reads up to ${known}): upgrade to read it`, ErrorType.WireVersionUnsupported);
}

/** The pending memo's third form (`compactPending`): the policy itself, the rest worked out from it. */
const CompactPendingMemoSchema = z.object({
  version: z.literal(COMPACT_PENDING_VERSION),
  interrupts: z.array(
    z.object({
      id: z.string(),
      toolName: z.string(),
      args: z.unknown(),
      createdAt: isoTime,
      deadline: isoTime.optional(),
      policy: HitlPolicySchema,
      context: PendingSummarySchema.shape.context,
      askReason: z.string().optional(),
      originalArgs: z.unknown().optional(),
      editedBy: z.string().optional(),
      opened: z.literal(1).optional(),
    }),
  ),
});

/** The interrupts of a pending memo in its third form, as the thread held them; `undefined` for a memo of another form. */
export function readCompactPendingMemo(value: unknown): CompactPendingSummary[] | undefined {
  if ((value as { version?: unknown } | null)?.version !== COMPACT_PENDING_VERSION) return undefined;
  const parsed = CompactPendingMemoSchema.safeParse(value);
  if (!parsed.success) throw new AirlockError('A pending summary does not fit its schema', ErrorType.WireDataInvalid);
  return parsed.data.interrupts as CompactPendingSummary[];
}

/**
 * An audit event read from history, checked.
 * @throws AirlockError `WireVersionUnsupported` for a version this release does not know,
 * `WireDataInvalid` for data that does not fit the schema
 */
export function readAuditEvent(value: unknown): AuditEvent {
  const found = (value as { version?: unknown } | null)?.version;
  if (typeof found === 'number' && found > WIRE_VERSION) throw newerRelease('audit event', found);
  const parsed = AuditEventSchema.safeParse(value);
  if (!parsed.success) throw new AirlockError('An audit event in this thread\'s history does not fit the audit schema', ErrorType.WireDataInvalid);
  return parsed.data as AuditEvent;
}

/** The version of the lean audit memo, `{ version, events }`: every audit event of one workflow task. */
export const AUDIT_BATCH_VERSION = 3;

/**
 * The audit events of one `airlock.audit` memo upsert, checked: one event (versions 1 and 2), or
 * the batch a lean run writes per workflow task (`{ version: 3, events }`).
 * @throws AirlockError `WireVersionUnsupported`, `WireDataInvalid`
 */
export function readAuditEvents(value: unknown): AuditEvent[] {
  const found = (value as { version?: unknown } | null)?.version;
  if (found === AUDIT_BATCH_VERSION) {
    const events = (value as { events?: unknown }).events;
    if (!Array.isArray(events)) throw new AirlockError('An audit batch in this thread\'s history does not fit the audit schema', ErrorType.WireDataInvalid);
    return events.map(readAuditEvent);
  }
  if (typeof found === 'number' && found > AUDIT_BATCH_VERSION) throw newerRelease('audit event', found);
  return [readAuditEvent(value)];
}

/**
 * A thread's pending memo, checked: the summaries of the interrupts that wait.
 * @throws AirlockError `WireVersionUnsupported`, `WireDataInvalid`
 */
export function readPendingMemo(value: unknown): PendingSummary[] {
  if (value === undefined || value === null) return [];
  const found = (value as { version?: unknown }).version;
  if (typeof found === 'number' && found > COMPACT_PENDING_VERSION) throw newerRelease('pending summary', found, COMPACT_PENDING_VERSION);
  const compact = readCompactPendingMemo(value);
  if (compact) return compact.map(expandPending);
  const parsed = PendingMemoSchema.safeParse(value);
  if (!parsed.success) throw new AirlockError('A pending summary does not fit its schema', ErrorType.WireDataInvalid);
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.interrupts;
}

export const ChatMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string(),
    toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
  }),
  z.object({ role: z.literal('tool'), toolCallId: z.string(), name: z.string(), content: z.string() }),
]);

export const ThreadStateSchema = z.object({
  threadId: z.string(),
  agent: z.string(),
  status: z.enum(['idle', 'running', 'awaiting_approval', 'ended']),
  messages: z.array(ChatMessageSchema),
  currentInterrupt: HitlInterruptSchema.optional().describe('The oldest interrupt still waiting'),
  pendingInterrupts: z.array(HitlInterruptSchema),
  interrupts: z.array(HitlInterruptSchema).describe('In responses: the exchange\'s interrupts, decided and waiting'),
  grants: z.array(ToolGrantSchema).optional(),
  turn: z.number().int(),
  messagesFrom: z.number().int().optional().describe('In responses: messages holds the conversation from this index on (the exchange answered); getState returns it whole'),
  lastError: z.object({ type: z.string(), message: z.string(), at: isoTime }).optional(),
});

export const AuditEntrySchema = z.object({
  timestamp: isoTime.describe('When it was decided (or created, while pending): a signal by its delivery, a timeout by its deadline'),
  threadId: z.string(),
  interruptId: z.string(),
  toolName: z.string(),
  toolArgs: z.unknown().optional(),
  decision: z.enum(['pending', 'accepted', 'rejected', 'edited', 'responded', 'allowed', 'timed-out', 'cancelled', 'refused', 'grant-revoked', 'grant-expired']),
  approver: z.string().optional(),
  sender: z.string().optional().describe('The Temporal identity that sent the decision (as the sender declared it)'),
  via: z.enum(['update', 'signal', 'message']).optional(),
  signedBy: SignedBySchema.optional().describe('The trusted key whose valid signature the decision carried'),
  argsDigest: z.string().optional(),
  reason: z.string().optional(),
  result: z.string().optional().describe("The tool's output or error, when it ran"),
  createdAt: isoTime,
  policyNote: z.string().optional(),
  policy: HitlPolicySchema.optional(),
  outcome: z.enum(['accept', 'reject']).optional(),
  refusal: z.object({ errorType: z.string(), reason: z.string() }).optional(),
  originalArgs: z.unknown().optional().describe("The model's arguments, when an approver edited them (toolArgs then holds what ran)"),
  edits: z.array(InterruptEditSchema).optional().describe('Edits that escalated the call to a stricter approval'),
  askReason: z.string().optional().describe('Why the policy asked'),
  response: z.string().optional().describe('responded: what the model read in place of the tool result'),
  grantId: z.string().optional().describe('The grant this decision issued, or (allowed) the grant that let the call through'),
  grant: z.object({ id: z.string(), match: ArgsMatchSchema, expiresAt: isoTime.optional() }).optional(),
});

export const DecisionOutcomeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('applied'), interruptId: z.string(), resolution: InterruptResolutionSchema, grant: ToolGrantSchema.optional() }),
  z.object({ type: z.literal('escalated'), interruptId: z.string(), interrupt: HitlInterruptSchema }).describe('The edit was kept but needs another approval; nothing ran'),
  z.object({ type: z.literal('refused'), interruptId: z.string(), reason: z.string(), errorType: z.string() }),
]);
