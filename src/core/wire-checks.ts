/**
 * Validation at the thread's doors: decisions, user messages and the workflow's input, as they
 * arrive by signal, Update or workflow start. Pure (zod, no Node APIs): the workflow uses it in its
 * validators and handlers, clients use it before sending. Refusal messages are fixed sentences
 * that never repeat the input.
 */
import { z } from 'zod';
import { isBase64Of } from './decision-signing';
import { LIMITS } from './limits';
import { hasControlCharacters, isWellFormedText, isWellFormedValue } from './text-checks';
import type { Decision, ThreadInput } from './types';

const text = (max: number) => z.string().max(max).refine(isWellFormedText);
const name = (max: number) => text(max).refine((value) => value.trim() !== '' && !hasControlCharacters(value) && !/\p{Cf}/u.test(value));

/** A decision as it may arrive: exact fields, bounded sizes, well-formed text. */
export const DecisionSchema = z.strictObject({
  interruptId: name(LIMITS.idChars),
  action: z.enum(['accept', 'reject']),
  approver: name(LIMITS.approverChars),
  reason: text(LIMITS.reasonChars).optional(),
  argsDigest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  signature: z
    .strictObject({ keyId: name(LIMITS.idChars), signature: z.string().refine((value) => isBase64Of(value, 64)) })
    .optional(),
});

const DECISION_FIELD_RULES: Record<string, string> = {
  interruptId: `interruptId must be the interrupt's id (1-${LIMITS.idChars} characters, no control characters)`,
  action: "action must be 'accept' or 'reject'",
  approver: `approver must name who decides (1-${LIMITS.approverChars} characters, no control characters)`,
  reason: `reason must be text of at most ${LIMITS.reasonChars} characters`,
  argsDigest: 'argsDigest must be the 64-character hex SHA-256 of the arguments (argsDigest())',
  signature: 'signature must be { keyId, signature } with a base64 Ed25519 signature',
};

/** Whether a value is a well-formed decision; the reason names the first rule it breaks. */
export function parseDecision(value: unknown): { ok: true; decision: Decision } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'A decision must be an object' };
  const parsed = DecisionSchema.safeParse(value);
  if (parsed.success) return { ok: true, decision: parsed.data };
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, reason: `A decision has only ${Object.keys(DECISION_FIELD_RULES).join(', ')}` };
  }
  const field = String(issue.path[0] ?? '');
  return { ok: false, reason: DECISION_FIELD_RULES[field] ?? 'A decision must be an object' };
}

/** The parts of a refused decision that are safe to keep in history (each passed its own check). */
export function safeDecisionParts(value: unknown): Partial<Decision> {
  if (typeof value !== 'object' || value === null) return {};
  const parts: Partial<Decision> = {};
  const shape = DecisionSchema.shape;
  for (const key of ['interruptId', 'action', 'approver', 'reason', 'argsDigest'] as const) {
    const member = shape[key].safeParse((value as Record<string, unknown>)[key]);
    if (member.success && member.data !== undefined) Object.assign(parts, { [key]: member.data });
  }
  return parts;
}

/** Why a user message cannot be accepted, or `undefined` when it can. */
export function checkMessage(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'A message must be non-empty text';
  if (value.length > LIMITS.messageChars) return `A message may have at most ${LIMITS.messageChars} characters`;
  if (!isWellFormedText(value)) return 'A message must be valid Unicode text (it holds a lone surrogate)';
  return undefined;
}

const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string(),
    toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
  }),
  z.object({ role: z.literal('tool'), toolCallId: z.string(), name: z.string(), content: z.string() }),
]);

const ThreadInputSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  agent: z.string().regex(AGENT_NAME),
  carried: z
    .object({
      messages: z.array(MessageSchema),
      turn: z.number().int().min(0),
      inbox: z.array(z.string()),
    })
    .optional(),
});

/**
 * The workflow's input, checked: a version this code knows, an agent *name* (never a spec: the
 * policy comes from the worker), and a well-formed carried conversation. Version 1 inputs
 * (earlier releases) are read as version 2; a spec they carried is ignored.
 */
export function parseThreadInput(value: unknown): { ok: true; input: ThreadInput } | { ok: false; reason: string } {
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > 2) {
    return { ok: false, reason: `This worker reads thread input versions 1 and 2; the thread was started with version ${Math.floor(version)} by a newer release` };
  }
  const parsed = ThreadInputSchema.safeParse(value);
  if (!parsed.success) {
    const agent = (value as { agent?: unknown } | null)?.agent;
    if (agent !== null && typeof agent === 'object') {
      return { ok: false, reason: "A thread names its agent ('agent': a name the worker hosts); its definition and policy come from the worker and cannot be given at start" };
    }
    return { ok: false, reason: 'The thread input must be { version: 2, agent: <agent name>, carried? } with a well-formed conversation' };
  }
  const carried = parsed.data.carried;
  if (carried && !isWellFormedValue(carried, 16, 1_000_000)) return { ok: false, reason: 'The carried conversation holds malformed text' };
  if (carried?.inbox.some((message) => checkMessage(message) !== undefined)) return { ok: false, reason: 'A carried message is not acceptable text' };
  return { ok: true, input: { version: 2, agent: parsed.data.agent, ...(carried && { carried }) } };
}
