/**
 * The compact reply of `sendMessage` and `awaitResponse`. What an Update returns is written into
 * the thread's history, so a client that asks for it (`{ form: 2 }` or newer) gets the response
 * without what it already holds or can work out from the rest: the thread id it asked, the message
 * it sent, the answer that is the last message, each interrupt's digests, its note (the policy's),
 * its tool-call id (part of its id) and, from form 3, its arguments (the model's own, in the
 * messages); and, for an `awaitResponse` that says what it holds of the exchange (`knowledgeOf`),
 * that part. `expandReply` puts them back, so callers see the same `AgentResponse` either way
 * (with the client's `completeResponse`). A worker that does not know the form answers in full; a
 * client takes both. Pure: the workflow compacts, the client expands.
 */
import { canonicalJson } from './canonical-json';
import { argsDigest } from './decision-signing';
import { AirlockError, ErrorType } from './errors';
import { callDigest } from './grants';
import { callArguments } from './turn-result-form';
import { interruptIdOf, toolCallIdOf, type AgentResponse, type ChatMessage, type DecisionOutcome, type HitlInterrupt, type ThreadState, type ToolGrant } from './types';

/**
 * The newest reply form this code knows: 1 is the full `AgentResponse`, 2 the compact one, 3 the
 * compact one that also leaves out an interrupt's arguments when they are the model's own in the
 * reply's messages (clients of the release before read 2 and expect the arguments).
 */
export const REPLY_FORM = 3;

/** The second argument of `sendMessage` and the first of `awaitResponse`: the reply form the client reads. */
export interface ReplyOptions {
  /** The newest form the client reads; the thread answers in the newest it knows up to that. */
  form: number;
}

/**
 * What a client holds of an exchange (`knowledgeOf` its last reply), the second argument of
 * `awaitResponse`: `<messagesFrom>:<messages held>:<turn>:<16 hex digits of their digest>`. When
 * the thread's exchange still starts with exactly that, the compact reply leaves it out.
 */
const KNOWN = /^(\d{1,9}):(\d{1,9}):(\d{1,9}):([0-9a-f]{16})$/;

/** The fields of an interrupt fixed when it opened, unless an edit changes them: a reply on a known exchange leaves them out. */
const CALL_FIELDS = ['toolName', 'toolArgs', 'createdAt', 'turn', 'policy', 'askReason', 'deadline'] as const;
type CallFields = Pick<HitlInterrupt, (typeof CALL_FIELDS)[number]>;

/**
 * An interrupt as a compact reply carries it: no digests, and no note, tool-call id or arguments
 * that can be worked out (the arguments, when they are the model's own in the reply's messages).
 */
export type CompactInterrupt = Omit<HitlInterrupt, 'argsDigest' | 'callDigest' | 'policyNote' | 'toolCallId' | 'toolArgs'> & { policyNote?: string; toolCallId?: string; toolArgs?: unknown };

/** An interrupt of a known exchange: its call fields left out (the client holds them), the rest as `CompactInterrupt`. */
export type KnownInterrupt = Omit<CompactInterrupt, (typeof CALL_FIELDS)[number]>;

/** The compact form of an `AgentResponse`. */
export interface CompactReply {
  form: 2 | 3;
  /**
   * `1`: the reply to an `awaitResponse` that said what it held (`known`), which the exchange still
   * starts with: its first messages are left out, and its interrupts up to that turn carry no call fields.
   */
  known?: 1;
  /** Absent when it is the last message's text (an assistant's), or empty when the last message is not an assistant's. */
  content?: string;
  /** `1`: the exchange's first message, the user message the reply answers, was left out (the sender has it). */
  sent?: 1;
  /** Without `agent` and `messagesFrom` when `known` (the client holds them). */
  state: Omit<ThreadState, 'threadId' | 'pendingInterrupts' | 'interrupts' | 'agent'> & {
    agent?: string;
    pendingInterrupts?: Array<CompactInterrupt | KnownInterrupt>;
    interrupts?: Array<CompactInterrupt | KnownInterrupt>;
  };
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

/**
 * Why `value` is not what a client says it holds, the second argument of `awaitResponse` (a
 * separate argument, so a worker that does not know it ignores it and answers in full). A fixed
 * sentence: it never repeats the input.
 */
export function checkKnown(value: unknown): string | undefined {
  if (value === undefined || (typeof value === 'string' && KNOWN.test(value))) return undefined;
  return "What the client holds must be as its knowledgeOf gives it ('<from>:<messages>:<turn>:<16 hex digits>')";
}

function withoutKeys<T extends object>(value: T, keys: readonly string[]): T {
  const rest = { ...value } as Record<string, unknown>;
  for (const key of keys) delete rest[key];
  return rest as T;
}

/** Every interrupt a response carries, each once, by id. */
function allInterrupts(state: Pick<ThreadState, 'interrupts' | 'pendingInterrupts'>): HitlInterrupt[] {
  const byId = new Map<string, HitlInterrupt>();
  for (const interrupt of [...(state.interrupts ?? []), ...(state.pendingInterrupts ?? [])]) if (!byId.has(interrupt.id)) byId.set(interrupt.id, interrupt);
  return [...byId.values()];
}

function callFieldsOf(interrupt: HitlInterrupt): CallFields {
  const fields: Record<string, unknown> = {};
  for (const key of CALL_FIELDS) if (interrupt[key] !== undefined) fields[key] = interrupt[key];
  return fields as unknown as CallFields;
}

/** 16 hex digits of the digest of a thread's agent, its exchange's first messages and the call fields of its interrupts up to `turn`. */
function exchangeDigest(agent: string, messages: readonly ChatMessage[], interrupts: readonly HitlInterrupt[], turn: number): string {
  const calls = interrupts
    .filter((interrupt) => interrupt.turn <= turn)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((interrupt) => [interrupt.id, callFieldsOf(interrupt)]);
  return argsDigest({ agent, messages, calls }).slice(0, 16);
}

/** What a client holding `response` (a whole one, as `expandReply` and `completeResponse` give it) tells `awaitResponse` (`known`). */
export function knowledgeOf(response: AgentResponse): string {
  const { messages, turn } = response.state;
  const from = response.state.messagesFrom ?? 0;
  return `${from}:${messages.length}:${turn}:${exchangeDigest(response.state.agent, messages, allInterrupts(response.state), turn)}`;
}

/** How many of `response`'s messages, and which turns' interrupts, the client holds already (`known`), or `undefined` when they are not what it holds. */
function heldOf(response: AgentResponse, known: string | undefined): { messages: number; turn: number } | undefined {
  const parts = known === undefined ? null : KNOWN.exec(known);
  if (!parts) return undefined;
  const [from, messages, turn] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const state = response.state;
  if ((state.messagesFrom ?? 0) !== from || messages > state.messages.length) return undefined;
  return exchangeDigest(state.agent, state.messages.slice(0, messages), allInterrupts(state), turn) === parts[4] ? { messages, turn } : undefined;
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

/** The arguments the model wrote for call `toolCallId` in `messages`, parsed; `undefined` when there are none that parse. */
function modelArgs(messages: readonly ChatMessage[], toolCallId: string): unknown {
  const asked = messages.find((message) => message.role === 'assistant' && message.toolCalls?.some((call) => call.id === toolCallId));
  return asked?.role === 'assistant' ? callArguments(asked.toolCalls, toolCallId) : undefined;
}

function compactInterrupt(interrupt: HitlInterrupt, messages: readonly ChatMessage[], form: number): CompactInterrupt {
  const { argsDigest: _args, callDigest: _call, policyNote, toolCallId, toolArgs, ...rest } = interrupt;
  const own = form >= 3 ? modelArgs(messages, toolCallId) : undefined;
  return {
    ...rest,
    ...((own === undefined || canonicalJson(own) !== canonicalJson(toolArgs)) && { toolArgs }),
    ...(policyNote !== interrupt.policy?.note && { policyNote }),
    ...(interrupt.id !== interruptIdOf(interrupt.turn, toolCallId) && { toolCallId }),
  };
}

function expandInterrupt(interrupt: CompactInterrupt, messages: readonly ChatMessage[]): HitlInterrupt {
  const toolCallId = interrupt.toolCallId ?? toolCallIdOf(interrupt.id, interrupt.turn) ?? interrupt.id;
  const toolArgs = 'toolArgs' in interrupt ? interrupt.toolArgs : modelArgs(messages, toolCallId);
  if (toolArgs === undefined) throw new AirlockError("A compact reply left out an interrupt's arguments, and its messages do not hold them", ErrorType.WireDataInvalid);
  return {
    ...interrupt,
    toolArgs,
    toolCallId,
    argsDigest: argsDigest(toolArgs),
    callDigest: callDigest(interrupt.toolName, toolArgs, interrupt.policy),
    ...(interrupt.policyNote === undefined && interrupt.policy?.note !== undefined && { policyNote: interrupt.policy.note }),
  };
}

/**
 * The compact form of `response`; `sent` is the user message it answers (an `awaitResponse` has
 * none), `known` what an `awaitResponse` said it holds (`knowledgeOf`), `asked` the form the
 * caller reads (2 or newer).
 */
export function compactReply(response: AgentResponse, sent?: string, known?: string, asked = REPLY_FORM): CompactReply {
  const form = asked >= 3 ? 3 : 2;
  const { threadId: _threadId, pendingInterrupts, interrupts, currentInterrupt, messages, ...state } = response.state;
  const leaveOutSent = isSentMessage(messages[0], sent);
  const held = heldOf(response, known);
  const compact = (interrupt: HitlInterrupt): CompactInterrupt | KnownInterrupt => {
    const full = compactInterrupt(interrupt, messages, form);
    return !held || interrupt.turn > held.turn ? full : (withoutKeys(full, CALL_FIELDS) as KnownInterrupt);
  };
  return {
    form,
    ...(held && { known: 1 }),
    ...(response.content !== derivedContent(messages) && { content: response.content }),
    ...(leaveOutSent && { sent: 1 }),
    state: {
      // What the client holds names the agent and where the exchange starts.
      ...(held ? withoutKeys(state, ['agent', 'messagesFrom']) : state),
      messages: held ? messages.slice(held.messages) : leaveOutSent ? messages.slice(1) : messages,
      // The oldest waiting interrupt is `pendingInterrupts[0]`: the client puts it back (`completeResponse`).
      ...(currentInterrupt && currentInterrupt.id !== pendingInterrupts[0]?.id && { currentInterrupt }),
      ...(pendingInterrupts.length > 0 && { pendingInterrupts: pendingInterrupts.map(compact) }),
      ...(interrupts.length > 0 && { interrupts: interrupts.map(compact) }),
    },
  };
}

/**
 * The reply as an `AgentResponse`, whichever form it came in. `threadId` is the thread asked;
 * `sent` the message sent; `held` the response whose `knowledgeOf` the `awaitResponse` sent.
 */
export function expandReply(reply: AgentResponse | CompactReply, threadId: string, sent?: string, held?: AgentResponse): AgentResponse {
  const form = (reply as CompactReply).form;
  if (form !== 2 && form !== 3) return reply as AgentResponse;
  const { content, sent: leftOut, known, state } = reply as CompactReply;
  if (leftOut === 1 && sent === undefined) throw new AirlockError('A compact reply left out the message sent, and the caller gave none to put back', ErrorType.WireDataInvalid);
  if (known === 1 && held === undefined) throw new AirlockError('A compact reply left out what the caller held, and the caller gave nothing to put back', ErrorType.WireDataInvalid);
  const heldCalls = new Map((held ? allInterrupts(held.state) : []).map((interrupt) => [interrupt.id, callFieldsOf(interrupt)]));
  const withCall = (interrupt: CompactInterrupt | KnownInterrupt): CompactInterrupt => {
    if (known !== 1 || 'toolName' in interrupt) return interrupt as CompactInterrupt;
    const call = heldCalls.get(interrupt.id);
    if (!call) throw new AirlockError('A compact reply names an interrupt the caller did not hold', ErrorType.WireDataInvalid);
    return { ...call, ...interrupt };
  };
  const agent = state.agent ?? (known === 1 ? held!.state.agent : undefined);
  if (agent === undefined) throw new AirlockError('A compact reply names no agent, and the caller held none', ErrorType.WireDataInvalid);
  const messages: ChatMessage[] = known === 1 ? [...held!.state.messages, ...state.messages] : leftOut === 1 ? [{ role: 'user', content: sent! }, ...state.messages] : state.messages;
  return {
    content: content ?? derivedContent(messages),
    state: {
      ...(known === 1 && { messagesFrom: held!.state.messagesFrom }),
      ...state,
      agent,
      threadId,
      messages,
      pendingInterrupts: (state.pendingInterrupts ?? []).map((interrupt) => expandInterrupt(withCall(interrupt), messages)),
      interrupts: (state.interrupts ?? []).map((interrupt) => expandInterrupt(withCall(interrupt), messages)),
    },
  };
}

/**
 * The compact form of a `decide` Update's outcome (`{ form: 2 }` or newer as its second argument, which a
 * worker that does not know it ignores): without the interrupt id and, for a resolution the Update
 * applied, how it arrived and the Update's id, which the caller sent (`airlock audit` reads them
 * from the Update's request); an edit's digest of its arguments is worked out again.
 */
export type CompactOutcome = { form: 2 } & (
  | { type: 'applied'; resolution: Record<string, unknown>; grant?: ToolGrant }
  | { type: 'escalated'; interrupt: HitlInterrupt }
  | { type: 'refused'; reason: string; errorType: string }
);

/** `outcome` in the compact form. */
export function compactOutcome(outcome: DecisionOutcome): CompactOutcome {
  const { interruptId: _interruptId, ...rest } = outcome;
  if (rest.type !== 'applied') return { form: 2, ...rest };
  const resolution: Record<string, unknown> = { ...rest.resolution };
  if (resolution.via === 'update' && typeof resolution.updateId === 'string') {
    delete resolution.via;
    delete resolution.updateId;
  }
  if (resolution.type === 'edited' && resolution.argsDigest === argsDigest(resolution.args)) delete resolution.argsDigest;
  return { form: 2, ...rest, resolution };
}

/** The outcome as a `DecisionOutcome`, whichever form it came in: `interruptId` and `updateId` are the decision's and its Update's. */
export function expandOutcome(outcome: DecisionOutcome | CompactOutcome, interruptId: string, updateId: string): DecisionOutcome {
  if ((outcome as CompactOutcome).form !== 2) return outcome as DecisionOutcome;
  const { form: _form, ...rest } = outcome as CompactOutcome;
  if (rest.type !== 'applied') return { ...rest, interruptId } as DecisionOutcome;
  const resolution = { ...rest.resolution };
  if (resolution.type !== 'timed-out' && resolution.type !== 'cancelled' && resolution.via === undefined) Object.assign(resolution, { via: 'update', updateId });
  if (resolution.type === 'edited' && resolution.argsDigest === undefined) resolution.argsDigest = argsDigest(resolution.args);
  return { ...rest, interruptId, resolution } as DecisionOutcome;
}
