/**
 * A pending interrupt as approvers see it: the arguments in full with their digest, the policy's
 * flags, and why the call exists (the user's message that led to it and the agent's own words in
 * the same turn). Pure and deterministic: the workflow writes it to visibility, the approval
 * service builds the same from a thread's state.
 */
import { allowedActions, allowsGrants } from './types';
import type { ChatMessage, HitlInterrupt, PendingContext, PendingSummary } from './types';

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
  const context = describeCallContext(messages, interrupt.toolCallId);
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
