/**
 * Validation at the thread's doors: decisions, user messages and the workflow's input, as they
 * arrive by signal, Update or workflow start. Pure and dependency-free on purpose: it runs inside
 * the workflow sandbox, where every cached thread would otherwise hold its own copy of a
 * validation library. Refusal messages are fixed sentences that never repeat the input.
 */
import { isBase64Of } from './decision-signing';
import { checkGrantShape } from './grants';
import { LIMITS } from './limits';
import { hasControlCharacters, isWellFormedText, isWellFormedValue } from './text-checks';
import type { CarriedExchange, ChatMessage, Decision, GrantRevocation, ThreadInput, ToolGrant } from './types';

type Check = (value: unknown) => boolean;

const isText = (max: number): Check => (value) => typeof value === 'string' && value.length <= max && isWellFormedText(value);
const isName = (max: number): Check => (value) =>
  isText(max)(value) && (value as string).trim() !== '' && !hasControlCharacters(value as string) && !/\p{Cf}/u.test(value as string);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const optional = (check: Check): Check => (value) => value === undefined || check(value);

/** Each field of a decision: its rule, and the sentence that states it. */
const DECISION_FIELDS: Record<keyof Decision, { check: Check; rule: string }> = {
  interruptId: { check: isName(LIMITS.idChars), rule: `interruptId must be the interrupt's id (1-${LIMITS.idChars} characters, no control characters)` },
  action: {
    check: (value) => value === 'accept' || value === 'reject' || value === 'edit' || value === 'respond',
    rule: "action must be 'accept', 'reject', 'edit' or 'respond'",
  },
  approver: { check: isName(LIMITS.approverChars), rule: `approver must name who decides (1-${LIMITS.approverChars} characters, no control characters)` },
  reason: { check: optional(isText(LIMITS.reasonChars)), rule: `reason must be text of at most ${LIMITS.reasonChars} characters` },
  args: {
    check: optional((value) => isRecord(value) && isWellFormedValue(value) && JSON.stringify(value).length <= LIMITS.toolArgsChars),
    rule: `args must be a JSON object of valid text, at most ${LIMITS.toolArgsChars} characters`,
  },
  message: { check: optional((value) => isText(LIMITS.reasonChars)(value) && (value as string).trim() !== ''), rule: `message must be non-empty text of at most ${LIMITS.reasonChars} characters` },
  toolName: { check: optional(isName(LIMITS.idChars)), rule: 'toolName must be a tool name' },
  grant: { check: optional((value) => checkGrantShape(value) === undefined), rule: 'grant must be { match: { <argument>: <pattern> }, ttl? } with 1-16 patterns' },
  argsDigest: {
    check: optional((value) => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)),
    rule: 'argsDigest must be the 64-character hex SHA-256 of the arguments (argsDigest())',
  },
  callDigest: {
    check: optional((value) => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)),
    rule: "callDigest must be the interrupt's 64-character hex callDigest",
  },
  signature: {
    check: optional(
      (value) =>
        isRecord(value) &&
        Object.keys(value).every((key) => key === 'keyId' || key === 'signature') &&
        isName(LIMITS.idChars)(value.keyId) &&
        typeof value.signature === 'string' &&
        isBase64Of(value.signature, 64),
    ),
    rule: 'signature must be { keyId, signature } with a base64 Ed25519 signature',
  },
};
const DECISION_KEYS = Object.keys(DECISION_FIELDS) as Array<keyof Decision>;

/** Whether a value is a well-formed decision; the reason names the first rule it breaks. */
export function parseDecision(value: unknown): { ok: true; decision: Decision } | { ok: false; reason: string } {
  if (!isRecord(value)) return { ok: false, reason: 'A decision must be an object' };
  if (Object.keys(value).some((key) => !(DECISION_KEYS as string[]).includes(key))) {
    return { ok: false, reason: `A decision has only ${DECISION_KEYS.join(', ')}` };
  }
  for (const key of DECISION_KEYS) {
    if (!DECISION_FIELDS[key].check(value[key])) return { ok: false, reason: DECISION_FIELDS[key].rule };
  }
  const action = value.action;
  if ((action === 'edit') !== (value.args !== undefined)) return { ok: false, reason: "args go with action 'edit', and an edit needs them" };
  if ((action === 'respond') !== (value.message !== undefined)) return { ok: false, reason: "message goes with action 'respond', and a response needs one" };
  if (value.grant !== undefined && action !== 'accept' && action !== 'edit') return { ok: false, reason: "grant goes with action 'accept' or 'edit'" };
  const decision = Object.fromEntries(DECISION_KEYS.filter((key) => value[key] !== undefined).map((key) => [key, value[key]]));
  return { ok: true, decision: decision as unknown as Decision };
}

/** The parts of a refused decision that are safe to keep in history (each passed its own check). */
export function safeDecisionParts(value: unknown): Partial<Decision> {
  if (!isRecord(value)) return {};
  // Arguments and grants are left out: a refusal keeps who tried what, not the payload.
  const keys = DECISION_KEYS.filter((key) => key !== 'signature' && key !== 'args' && key !== 'grant' && value[key] !== undefined && DECISION_FIELDS[key].check(value[key]));
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Partial<Decision>;
}

/** Whether a value is a well-formed grant revocation `{ grantId, by, reason? }`. */
export function parseRevocation(value: unknown): { ok: true; revocation: GrantRevocation } | { ok: false; reason: string } {
  if (!isRecord(value) || Object.keys(value).some((key) => key !== 'grantId' && key !== 'by' && key !== 'reason')) {
    return { ok: false, reason: 'A revocation is { grantId, by, reason? }' };
  }
  if (!isName(LIMITS.idChars)(value.grantId)) return { ok: false, reason: "grantId must be the grant's id" };
  if (!isName(LIMITS.approverChars)(value.by)) return { ok: false, reason: `by must name who revokes (1-${LIMITS.approverChars} characters, no control characters)` };
  if (!optional(isText(LIMITS.reasonChars))(value.reason)) return { ok: false, reason: `reason must be text of at most ${LIMITS.reasonChars} characters` };
  return { ok: true, revocation: { grantId: value.grantId as string, by: value.by as string, ...(typeof value.reason === 'string' && { reason: value.reason }) } };
}

/** Why a user message cannot be accepted, or `undefined` when it can. */
export function checkMessage(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'A message must be non-empty text';
  if (value.length > LIMITS.messageChars) return `A message may have at most ${LIMITS.messageChars} characters`;
  if (!isWellFormedText(value)) return 'A message must be valid Unicode text (it holds a lone surrogate)';
  return undefined;
}

const AGENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const isString = (value: unknown): value is string => typeof value === 'string';

function isChatMessage(value: unknown): value is ChatMessage {
  if (!isRecord(value) || !isString(value.content)) return false;
  switch (value.role) {
    case 'user':
      return true;
    case 'tool':
      return isString(value.toolCallId) && isString(value.name);
    case 'assistant':
      return (
        value.toolCalls === undefined ||
        (Array.isArray(value.toolCalls) && value.toolCalls.every((call) => isRecord(call) && isString(call.id) && isString(call.name) && isString(call.arguments)))
      );
    default:
      return false;
  }
}

function isCarriedGrant(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { id, toolName, interruptId, grantedBy, decision, decidedOnDigest, createdAt, expiresAt, uses } = value;
  return (
    [id, toolName, interruptId, grantedBy, decidedOnDigest, createdAt].every(isName(LIMITS.idChars)) &&
    (expiresAt === undefined || isString(expiresAt)) &&
    typeof uses === 'number' &&
    checkGrantShape({ match: value.match }) === undefined &&
    parseDecision(decision).ok
  );
}

/** The most decided interrupts one carried exchange may hold, and its most characters as JSON. */
export const CARRIED_EXCHANGE_LIMITS = { interrupts: 256, chars: 262_144 } as const;

/**
 * A carried exchange: a start inside the carried conversation, a turn count no later than the
 * carried one, and decided interrupts of well-formed text within the limits (only what a response
 * reports: they decide nothing in the next run). The run that continues as new checks what it
 * carries with this too, and carries nothing that would not pass.
 */
export function isCarriedExchange(value: unknown, messages: number, turn: number): value is CarriedExchange {
  if (!isRecord(value) || Object.keys(value).some((key) => key !== 'start' && key !== 'turn' && key !== 'interrupts')) return false;
  const { start, turn: before, interrupts } = value;
  if (!Number.isInteger(start) || (start as number) < 0 || (start as number) > messages) return false;
  if (!Number.isInteger(before) || (before as number) < 0 || (before as number) > turn) return false;
  // Tool arguments nest up to 64 deep, and sit a few levels down in an interrupt (edits deepest).
  if (!Array.isArray(interrupts) || interrupts.length > CARRIED_EXCHANGE_LIMITS.interrupts || !isWellFormedValue(interrupts, 72, 400_000)) return false;
  if (JSON.stringify(interrupts).length > CARRIED_EXCHANGE_LIMITS.chars) return false;
  return interrupts.every(
    (interrupt) =>
      isRecord(interrupt) &&
      isString(interrupt.id) &&
      isString(interrupt.toolName) &&
      isString(interrupt.toolCallId) &&
      Number.isInteger(interrupt.turn) &&
      isRecord(interrupt.resolution) &&
      isString(interrupt.resolution.type),
  );
}

const INVALID_INPUT = 'The thread input must be { version: 6, agent: <agent name>, carried? } with a well-formed conversation';

/**
 * The workflow's input, checked: a version this code knows, an agent *name* (never a spec: the
 * policy comes from the worker), and a well-formed carried conversation. Version 1 inputs
 * (earlier releases) are read as version 2; a spec they carried is ignored. Version 3 is the
 * lean history of an earlier release, versions 4 and 5 those of the releases before; version 6 is this release's (see `ThreadInput.version`).
 */
export function parseThreadInput(value: unknown): { ok: true; input: ThreadInput } | { ok: false; reason: string } {
  if (!isRecord(value)) return { ok: false, reason: INVALID_INPUT };
  const { version, agent, carried } = value;
  // Only a whole version past this release's is a newer release's; anything else is malformed.
  if (Number.isSafeInteger(version) && (version as number) > 6) {
    return { ok: false, reason: `This worker reads thread input versions 1 to 6; the thread was started with version ${version as number} by a newer release` };
  }
  if (isRecord(agent)) {
    return { ok: false, reason: "A thread names its agent ('agent': a name the worker hosts); its definition and policy come from the worker and cannot be given at start" };
  }
  if ((version !== 1 && version !== 2 && version !== 3 && version !== 4 && version !== 5 && version !== 6) || !isString(agent) || !AGENT_NAME.test(agent)) return { ok: false, reason: INVALID_INPUT };
  const known = version === 6 ? 6 : version === 5 ? 5 : version === 4 ? 4 : version === 3 ? 3 : 2;
  if (carried === undefined) return { ok: true, input: { version: known, agent } };
  if (
    !isRecord(carried) ||
    !Array.isArray(carried.messages) ||
    !carried.messages.every(isChatMessage) ||
    !Number.isInteger(carried.turn) ||
    (carried.turn as number) < 0 ||
    !Array.isArray(carried.inbox) ||
    !carried.inbox.every(isString)
  ) {
    return { ok: false, reason: INVALID_INPUT };
  }
  if (!isWellFormedValue(carried.messages, 16, 1_000_000)) return { ok: false, reason: 'The carried conversation holds malformed text' };
  if (carried.inbox.some((message) => checkMessage(message) !== undefined)) return { ok: false, reason: 'A carried message is not acceptable text' };
  if (carried.grants !== undefined && !(Array.isArray(carried.grants) && carried.grants.every(isCarriedGrant))) return { ok: false, reason: 'The carried grants are not well formed' };
  if (carried.lastExchange !== undefined && !isCarriedExchange(carried.lastExchange, carried.messages.length, carried.turn as number)) {
    return { ok: false, reason: 'The carried exchange is not well formed' };
  }
  // Only the fields this version knows are carried on (a spec an older input held is dropped).
  const grants = carried.grants as ToolGrant[] | undefined;
  const lastExchange = carried.lastExchange as CarriedExchange | undefined;
  return {
    ok: true,
    input: {
      version: known,
      agent,
      carried: { messages: carried.messages as ChatMessage[], turn: carried.turn as number, inbox: carried.inbox as string[], ...(grants?.length && { grants }), ...(lastExchange && { lastExchange }) },
    },
  };
}
