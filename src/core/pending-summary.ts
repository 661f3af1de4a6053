/**
 * A pending interrupt as approvers see it: the arguments in full with their digest, the policy's
 * flags, and why the call exists (the user's message that led to it and the agent's own words in
 * the same turn). Pure and deterministic: the workflow writes it to visibility, the approval
 * service builds the same from a thread's state.
 */
import { argsDigest } from './decision-signing';
import { callDigest } from './grants';
import { allowedActions, allowsGrants, toolCallIdOf, turnOfInterruptId } from './types';
import type { ChatMessage, HitlInterrupt, HitlPolicy, PendingContext, PendingSummary } from './types';

/** Longest text kept for each part of the context, in UTF-16 code units (the marker included). */
export const CONTEXT_TEXT_CHARS = 2_000;

const MORE = '…';

/** `text` cut to `max` code units with a trailing `…` when longer, never splitting a surrogate pair. */
export function capText(text: string, max = CONTEXT_TEXT_CHARS): string {
  if (text.length <= max) return text;
  let end = max - MORE.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}${MORE}`;
}

/**
 * The context of the tool call `toolCallId`: the text of the assistant message that made it (if
 * any) and the latest user message before that. Undefined when the call is not in `messages`
 * (e.g. a run that continued as new before the call was made).
 */
export function describeCallContext(messages: readonly ChatMessage[], toolCallId: string): PendingContext | undefined {
  const at = messages.findIndex((message) => message.role === 'assistant' && message.toolCalls?.some((call) => call.id === toolCallId));
  if (at < 0) return undefined;
  const assistant = messages[at];
  let userMessage: string | undefined;
  for (let index = at - 1; index >= 0 && userMessage === undefined; index--) {
    const message = messages[index];
    if (message.role === 'user') userMessage = message.content;
  }
  const agentText = assistant.content.trim();
  return {
    ...(userMessage !== undefined && { userMessage: capText(userMessage) }),
    ...(agentText && { agentText: capText(agentText) }),
  };
}

/** The summary of a pending interrupt, with the context read from the thread's conversation. */
export function summarizePending(interrupt: HitlInterrupt, messages: readonly ChatMessage[]): PendingSummary {
  return summaryOf(interrupt, describeCallContext(messages, interrupt.toolCallId));
}

function summaryOf(interrupt: HitlInterrupt, context: PendingContext | undefined): PendingSummary {
  return {
    id: interrupt.id,
    toolName: interrupt.toolName,
    args: interrupt.toolArgs,
    argsDigest: interrupt.argsDigest,
    policyNote: interrupt.policyNote,
    createdAt: interrupt.createdAt,
    deadline: interrupt.deadline,
    approvers: interrupt.policy.approvers,
    ...(interrupt.policy.requireSignature && { requireSignature: true }),
    ...(interrupt.policy.confirm && { confirm: true }),
    ...(context && { context }),
    ...(interrupt.askReason !== undefined && { askReason: interrupt.askReason }),
    ...(interrupt.callDigest !== undefined && { callDigest: interrupt.callDigest }),
    ...(interrupt.policy.allowedDecisions?.length && { allowedDecisions: allowedActions(interrupt.policy) }),
    ...(allowsGrants(interrupt.policy) && { grants: true }),
    ...(interrupt.originalArgs !== undefined && { originalArgs: interrupt.originalArgs }),
    ...(interrupt.edits?.length && { editedBy: interrupt.edits[interrupt.edits.length - 1].approver }),
  };
}

/** The pending memo's third form (threads of input version 6). */
export const COMPACT_PENDING_VERSION = 3;

/**
 * A pending interrupt in the memo's third form: the policy itself instead of the note, flags and
 * digests it gives (`expandPending` works them out), and `opened` when the interrupt opened in
 * the workflow task that wrote the memo (the audit's record of its opening).
 */
export interface CompactPendingSummary {
  id: string;
  toolName: string;
  args: unknown;
  createdAt: string;
  deadline?: string;
  policy: HitlPolicy;
  context?: PendingContext;
  askReason?: string;
  originalArgs?: unknown;
  editedBy?: string;
  opened?: 1;
}

/** `interrupt` in the memo's third form. */
export function compactPending(interrupt: HitlInterrupt, messages: readonly ChatMessage[], opened: boolean): CompactPendingSummary {
  const context = describeCallContext(messages, interrupt.toolCallId);
  return {
    id: interrupt.id,
    toolName: interrupt.toolName,
    args: interrupt.toolArgs,
    createdAt: interrupt.createdAt,
    ...(interrupt.deadline !== undefined && { deadline: interrupt.deadline }),
    policy: interrupt.policy,
    ...(context && { context }),
    ...(interrupt.askReason !== undefined && { askReason: interrupt.askReason }),
    ...(interrupt.originalArgs !== undefined && { originalArgs: interrupt.originalArgs }),
    ...(interrupt.edits?.length && { editedBy: interrupt.edits[interrupt.edits.length - 1].approver }),
    ...(opened && { opened: 1 }),
  };
}

/** The interrupt a compact summary describes, as the thread held it when it wrote the memo (its edits but the last approver aside). */
export function interruptOfPending(summary: CompactPendingSummary): Omit<HitlInterrupt, 'resolution'> {
  const { id, toolName, args, createdAt, deadline, policy, askReason, originalArgs } = summary;
  // A thread's interrupt ids are `t<turn>-<tool call id>` (`interruptIdOf`).
  const turn = turnOfInterruptId(id) ?? 0;
  return {
    id,
    toolName,
    toolArgs: args,
    argsDigest: argsDigest(args),
    policyNote: policy.note,
    createdAt,
    ...(deadline !== undefined && { deadline }),
    toolCallId: toolCallIdOf(id, turn) ?? id,
    turn,
    policy,
    ...(askReason !== undefined && { askReason }),
    callDigest: callDigest(toolName, args, policy),
    ...(originalArgs !== undefined && { originalArgs }),
  };
}

/** A compact summary as the `PendingSummary` the thread would have written in the second form. */
export function expandPending(summary: CompactPendingSummary): PendingSummary {
  const { editedBy, context } = summary;
  return { ...summaryOf(interruptOfPending(summary), context), ...(editedBy !== undefined && { editedBy }) };
}
