/**
 * The compact reply of `sendMessage` and `awaitResponse`. What an Update returns is written into
 * the thread's history, so a client that asks for it (`{ form: 2 }`) gets the response without
 * what it already holds or can work out from the rest: the thread id it asked, the message it
 * sent, the answer that is the last message, each interrupt's digests, its note (the policy's)
 * and its tool-call id (part of its id). `expandReply` puts them back, so callers see the same
 * `AgentResponse` either way (with the client's `completeResponse`). A worker that does not know the form answers in full; a client
 * takes both. Pure: the workflow compacts, the client expands.
 */
import { argsDigest } from './decision-signing';
import { AirlockError, ErrorType } from './errors';
import { callDigest } from './grants';
import type { AgentResponse, ChatMessage, HitlInterrupt, ThreadState } from './types';

/** The newest reply form this code knows: 1 is the full `AgentResponse`, 2 the compact one. */
export const REPLY_FORM = 2;

/** The second argument of `sendMessage` and the first of `awaitResponse`: the reply form the client reads. */
export interface ReplyOptions {
  /** The newest form the client reads; the thread answers in the newest it knows up to that. */
  form: number;
}

/** An interrupt as a compact reply carries it: no digests, and no note or tool-call id that can be worked out. */
export type CompactInterrupt = Omit<HitlInterrupt, 'argsDigest' | 'callDigest' | 'policyNote' | 'toolCallId'> & { policyNote?: string; toolCallId?: string };

/** The compact form of an `AgentResponse`. */
export interface CompactReply {
  form: 2;
  /** Absent when it is the last message's text (an assistant's), or empty when the last message is not an assistant's. */
  content?: string;
  /** `1`: the exchange's first message, the user message the reply answers, was left out (the sender has it). */
  sent?: 1;
  state: Omit<ThreadState, 'threadId' | 'pendingInterrupts' | 'interrupts'> & { pendingInterrupts?: CompactInterrupt[]; interrupts?: CompactInterrupt[] };
}

/** Why `value` is not a reply option (`undefined` when it is one, or absent). A fixed sentence: it never repeats the input. */
export function checkReplyOptions(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const isOptions =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).every((key) => key === 'form') &&
    Number.isSafeInteger((value as ReplyOptions).form) &&
    (value as ReplyOptions).form >= 1;
  return isOptions ? undefined : 'Reply options must be { form: <a whole number from 1> }';
}

/** Whether the reply to `options` (checked by `checkReplyOptions`) is the compact form. */
export function wantsCompactReply(options: ReplyOptions | undefined): boolean {
  return options !== undefined && options.form >= 2;
}

/** What a reply's `content` is when it does not say: the last message's text, when an assistant wrote it. */
function derivedContent(messages: readonly ChatMessage[]): string {
  const last = messages[messages.length - 1];
  return last?.role === 'assistant' ? last.content : '';
}

const isSentMessage = (message: ChatMessage | undefined, sent: string | undefined): boolean =>
  sent !== undefined && message?.role === 'user' && message.content === sent && Object.keys(message).length === 2;

function compactInterrupt(interrupt: HitlInterrupt): CompactInterrupt {
  const { argsDigest: _args, callDigest: _call, policyNote, toolCallId, ...rest } = interrupt;
  return {
    ...rest,
    ...(policyNote !== interrupt.policy?.note && { policyNote }),
    ...(interrupt.id !== `t${interrupt.turn}-${toolCallId}` && { toolCallId }),
  };
}

function expandInterrupt(interrupt: CompactInterrupt): HitlInterrupt {
  const prefix = `t${interrupt.turn}-`;
  const toolCallId = interrupt.toolCallId ?? (interrupt.id.startsWith(prefix) ? interrupt.id.slice(prefix.length) : interrupt.id);
  return {
    ...interrupt,
    toolCallId,
    argsDigest: argsDigest(interrupt.toolArgs),
    callDigest: callDigest(interrupt.toolName, interrupt.toolArgs, interrupt.policy),
    ...(interrupt.policyNote === undefined && interrupt.policy?.note !== undefined && { policyNote: interrupt.policy.note }),
  };
}

/** The compact form of `response`; `sent` is the user message it answers (an `awaitResponse` has none). */
export function compactReply(response: AgentResponse, sent?: string): CompactReply {
  const { threadId: _threadId, pendingInterrupts, interrupts, currentInterrupt, messages, ...state } = response.state;
  const leaveOutSent = isSentMessage(messages[0], sent);
  return {
    form: 2,
    ...(response.content !== derivedContent(messages) && { content: response.content }),
    ...(leaveOutSent && { sent: 1 }),
    state: {
      ...state,
      messages: leaveOutSent ? messages.slice(1) : messages,
      // The oldest waiting interrupt is `pendingInterrupts[0]`: the client puts it back (`completeResponse`).
      ...(currentInterrupt && currentInterrupt.id !== pendingInterrupts[0]?.id && { currentInterrupt }),
      ...(pendingInterrupts.length > 0 && { pendingInterrupts: pendingInterrupts.map(compactInterrupt) }),
      ...(interrupts.length > 0 && { interrupts: interrupts.map(compactInterrupt) }),
    },
  };
}

/** The reply as an `AgentResponse`, whichever form it came in. `threadId` is the thread asked; `sent` the message sent. */
export function expandReply(reply: AgentResponse | CompactReply, threadId: string, sent?: string): AgentResponse {
  if ((reply as CompactReply).form !== 2) return reply as AgentResponse;
  const { content, sent: leftOut, state } = reply as CompactReply;
  if (leftOut === 1 && sent === undefined) throw new AirlockError('A compact reply left out the message sent, and the caller gave none to put back', ErrorType.WireDataInvalid);
  const messages: ChatMessage[] = leftOut === 1 ? [{ role: 'user', content: sent! }, ...state.messages] : state.messages;
  const pendingInterrupts = (state.pendingInterrupts ?? []).map(expandInterrupt);
  return {
    content: content ?? derivedContent(messages),
    state: {
      ...state,
      threadId,
      messages,
      pendingInterrupts,
      interrupts: (state.interrupts ?? []).map(expandInterrupt),
    },
  };
}
