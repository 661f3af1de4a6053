/**
 * The compact reply of `sendMessage` and `awaitResponse`. What an Update returns is written into
 * the thread's history, so a client that asks for it (`{ form: 2 }` or newer) gets the response
 * without what it already holds or can work out from the rest: the thread id it asked, the message
 * it sent, the answer that is the last message, each interrupt's digests, its note (the policy's),
 * its tool-call id (part of its id) and, from form 3, its arguments (the model's own, in the
 * messages); and, for an `awaitResponse` that says what it holds of the exchange (`knowledgeOf`),
 * that part. Form 4 also leaves out what the rest of the reply gives: an interrupt's tool name
 * (its call's) and turn (its id's), a tool result's tool name, an assistant's empty text beside its
 * calls, an exchange's start at 0 and the status its waiting interrupts give; and the resolutions a
 * client holds from its own decisions (`knowledgeOf` covers them). `expandReply` puts them back, so
 * callers see the same `AgentResponse` either way (with the client's `completeResponse`). A worker
 * that does not know the form answers in full or in the newest form it knows; a client takes each.
 * Pure: the workflow compacts, the client expands.
 */
import { canonicalJson } from './canonical-json';
import { argsDigest } from './decision-signing';
import { AirlockError, ErrorType } from './errors';
import { callDigest } from './grants';
import { OpenCalls, callArguments, hasOwn } from './turn-result-form';
import { interruptIdOf, toolCallIdOf, turnOfInterruptId, type AgentResponse, type ChatMessage, type Decision, type DecisionOutcome, type HitlInterrupt, type HitlPolicy, type ThreadState, type ToolCall, type ToolGrant } from './types';

/**
 * The newest reply form this code knows: 1 is the full `AgentResponse`, 2 the compact one, 3 the
 * compact one that also leaves out an interrupt's arguments when they are the model's own in the
 * reply's messages, 4 the one that also leaves out what the rest of the reply gives or the client
 * holds from its decisions (see above; a decision's outcome in its form 3). Each release's clients
 * ask for the form they read.
 */
export const REPLY_FORM = 4;

/** The resolution each action of a decision leads to. */
export const RESOLVED_AS: Readonly<Record<string, string>> = { accept: 'accepted', reject: 'rejected', edit: 'edited', respond: 'responded' };

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
export type CompactInterrupt = Omit<HitlInterrupt, 'argsDigest' | 'callDigest' | 'policyNote' | 'toolCallId' | 'toolArgs' | 'toolName' | 'turn'> & {
  policyNote?: string;
  toolCallId?: string;
  toolArgs?: unknown;
  /** Form 4: absent when it is its call's, in the reply's messages. */
  toolName?: string;
  /** Form 4: absent when its id names it. */
  turn?: number;
};

/** An interrupt of a known exchange: its call fields left out (the client holds them), the rest as `CompactInterrupt`. */
export type KnownInterrupt = Omit<CompactInterrupt, (typeof CALL_FIELDS)[number]>;

/** The compact form of an `AgentResponse`. */
export interface CompactReply {
  form: 2 | 3 | 4;
  /**
   * `1`: the reply to an `awaitResponse` that said what it held (`known`), which the exchange still
   * starts with: its first messages are left out, and its interrupts up to that turn carry no call
   * fields. `2` (form 4): their resolutions are left out too, as the client holds each of them.
   */
  known?: 1 | 2;
  /** Absent when it is the last message's text (an assistant's), or empty when the last message is not an assistant's. */
  content?: string;
  /** `1`: the exchange's first message, the user message the reply answers, was left out (the sender has it). */
  sent?: 1;
  /** Without `agent` and `messagesFrom` when `known` (the client holds them). */
  state: Omit<ThreadState, 'threadId' | 'pendingInterrupts' | 'interrupts' | 'agent' | 'status' | 'messages' | 'turn'> & {
    agent?: string;
    /** Form 4: absent when the waiting interrupts give it (`awaiting_approval` when some wait, else `idle`). */
    status?: ThreadState['status'];
    /** Form 4: absent when it is the newest waiting interrupt's. */
    turn?: number;
    /** Form 4: an assistant's empty text beside its calls and a tool result's tool name (its call's) are left out. */
    messages: Array<ChatMessage | CompactMessage>;
    pendingInterrupts?: Array<CompactInterrupt | KnownInterrupt>;
    interrupts?: Array<CompactInterrupt | KnownInterrupt>;
  };
}

/** A message of a form 4 reply (see `CompactReply.state.messages`). */
export type CompactMessage = { role: 'assistant'; content?: string; toolCalls?: ToolCall[] } | { role: 'tool'; toolCallId?: string; name?: string; content: string };

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

/**
 * 16 hex digits of the digest of a thread's agent, its exchange's first messages and the call
 * fields of its interrupts up to `turn`; with `resolutions` (form 4), also those interrupts'
 * resolutions: their own (`true`) or none (`'none'`, what a client that decided none of them holds).
 */
function exchangeDigest(agent: string, messages: readonly ChatMessage[], interrupts: readonly HitlInterrupt[], turn: number, resolutions?: true | 'none'): string {
  const held = interrupts.filter((interrupt) => interrupt.turn <= turn).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const calls = held.map((interrupt) => [interrupt.id, callFieldsOf(interrupt)]);
  if (resolutions === undefined) return argsDigest({ agent, messages, calls }).slice(0, 16);
  const resolved = resolutions === 'none' ? [] : held.flatMap((interrupt) => (interrupt.resolution ? [[interrupt.id, interrupt.resolution]] : []));
  return argsDigest({ agent, messages, calls, resolutions: resolved }).slice(0, 16);
}

/**
 * What a client holding `response` (a whole one, as `expandReply` and `completeResponse` give it)
 * tells `awaitResponse` (`known`); for form 4, it covers the resolutions the client holds (of its
 * own decisions) too.
 */
export function knowledgeOf(response: AgentResponse, form = REPLY_FORM): string {
  const { messages, turn } = response.state;
  const from = response.state.messagesFrom ?? 0;
  return `${from}:${messages.length}:${turn}:${exchangeDigest(response.state.agent, messages, allInterrupts(response.state), turn, form >= 4 ? true : undefined)}`;
}

/**
 * How many of `response`'s messages, and which turns' interrupts, the client holds already
 * (`known`), and whether it holds their resolutions (form 4); `undefined` when they are not what it holds.
 */
function heldOf(response: AgentResponse, known: string | undefined, form: number): { messages: number; turn: number; resolutions: boolean } | undefined {
  const parts = known === undefined ? null : KNOWN.exec(known);
  if (!parts) return undefined;
  const [from, messages, turn] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const state = response.state;
  if ((state.messagesFrom ?? 0) !== from || messages > state.messages.length) return undefined;
  const digest = (resolutions?: true | 'none') => exchangeDigest(state.agent, state.messages.slice(0, messages), allInterrupts(state), turn, resolutions);
  if (form < 4) return digest() === parts[4] ? { messages, turn, resolutions: false } : undefined;
  if (digest('none') === parts[4]) return { messages, turn, resolutions: false };
  return digest(true) === parts[4] ? { messages, turn, resolutions: true } : undefined;
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

/** The messages that hold the model's call `toolCallId`, as the model wrote it; `undefined` when none does. */
function modelCall(messages: ReadonlyArray<ChatMessage | CompactMessage>, toolCallId: string): ToolCall | undefined {
  for (const message of messages) {
    const call = message.role === 'assistant' ? message.toolCalls?.find((candidate) => candidate.id === toolCallId) : undefined;
    if (call) return call;
  }
  return undefined;
}

function compactInterrupt(interrupt: HitlInterrupt, messages: readonly ChatMessage[], form: number): CompactInterrupt {
  const { argsDigest: _args, callDigest: _call, policyNote, toolCallId, toolArgs, ...rest } = interrupt;
  const call = form >= 3 ? modelCall(messages, toolCallId) : undefined;
  const own = call && callArguments([call], toolCallId);
  const ownId = interrupt.id === interruptIdOf(interrupt.turn, toolCallId);
  const compact: CompactInterrupt = {
    ...rest,
    ...((own === undefined || canonicalJson(own) !== canonicalJson(toolArgs)) && { toolArgs }),
    ...(policyNote !== interrupt.policy?.note && { policyNote }),
    ...(!ownId && { toolCallId }),
  };
  // Form 4: the id names the turn, and the model's call the tool; a policy lets nothing run by itself unless it says so.
  if (form >= 4 && ownId && turnOfInterruptId(interrupt.id) === interrupt.turn) delete compact.turn;
  if (form >= 4 && call?.name === interrupt.toolName) delete compact.toolName;
  if (form >= 4 && compact.policy?.allowAuto === false) compact.policy = withoutKeys(compact.policy, ['allowAuto']);
  return compact;
}

function expandInterrupt(interrupt: CompactInterrupt, messages: readonly ChatMessage[]): HitlInterrupt {
  const turn = interrupt.turn ?? turnOfInterruptId(interrupt.id);
  if (turn === undefined) throw new AirlockError("A compact reply left out an interrupt's turn, and its id does not name one", ErrorType.WireDataInvalid);
  const toolCallId = interrupt.toolCallId ?? toolCallIdOf(interrupt.id, turn) ?? interrupt.id;
  const call = modelCall(messages, toolCallId);
  const toolName = interrupt.toolName ?? call?.name;
  if (toolName === undefined) throw new AirlockError("A compact reply left out an interrupt's tool, and its messages do not hold its call", ErrorType.WireDataInvalid);
  const toolArgs = 'toolArgs' in interrupt ? interrupt.toolArgs : call && callArguments([call], toolCallId);
  if (toolArgs === undefined) throw new AirlockError("A compact reply left out an interrupt's arguments, and its messages do not hold them", ErrorType.WireDataInvalid);
  const policy = interrupt.policy && !hasOwn(interrupt.policy, 'allowAuto') ? { ...(interrupt.policy as Omit<HitlPolicy, 'allowAuto'>), allowAuto: false } : interrupt.policy;
  return {
    ...interrupt,
    ...(policy && { policy }),
    turn,
    toolName,
    toolArgs,
    toolCallId,
    argsDigest: argsDigest(toolArgs),
    callDigest: callDigest(toolName, toolArgs, policy),
    ...(interrupt.policyNote === undefined && policy?.note !== undefined && { policyNote: policy.note }),
  };
}

/** The status a form 4 reply leaves out: `awaiting_approval` when interrupts wait, else `idle`. */
const statusByPending = (pending: readonly unknown[] | undefined): ThreadState['status'] => ((pending?.length ?? 0) > 0 ? 'awaiting_approval' : 'idle');

/**
 * The turn a form 4 reply leaves out: after the turn held (`known`), one more for each answer of
 * the model shown; else that of the newest waiting interrupt (`undefined` when none waits).
 */
function impliedTurn(pending: ReadonlyArray<{ turn: number }>, heldTurn: number | undefined, shown: ReadonlyArray<{ role: string }>): number | undefined {
  if (heldTurn !== undefined) return heldTurn + shown.filter((message) => message.role === 'assistant').length;
  return pending.length > 0 ? Math.max(...pending.map((interrupt) => interrupt.turn)) : undefined;
}

/** The calls an exchange asked for so far (the first with each id), and those still open. */
class AskedCalls extends OpenCalls {
  private readonly names = new Map<string, string>();
  /** The tool of the call `id` asked before, if any. */
  nameOf(id: string): string | undefined {
    return this.names.get(id);
  }
  override see(message: ChatMessage): void {
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) if (!this.names.has(call.id)) this.names.set(call.id, call.name);
    super.see(message);
  }
}

/**
 * Form 4's messages of `exchange` from `from` on: an assistant's empty text beside its calls, and a
 * tool result's tool name when it is its call's (asked before it) and its call id when it answers the
 * first call still open, left out.
 */
function compactMessages(exchange: readonly ChatMessage[], from: number): Array<ChatMessage | CompactMessage> {
  const asked = new AskedCalls();
  const shown: Array<ChatMessage | CompactMessage> = [];
  for (const [index, message] of exchange.entries()) {
    if (index >= from) {
      if (message.role === 'assistant' && message.content === '' && (message.toolCalls?.length ?? 0) > 0) shown.push({ role: 'assistant', toolCalls: message.toolCalls });
      else if (message.role === 'tool') {
        const ownName = asked.nameOf(message.toolCallId) === message.name;
        const nextCall = asked.next()?.id === message.toolCallId;
        shown.push({ role: 'tool', ...(!nextCall && { toolCallId: message.toolCallId }), ...(!ownName && { name: message.name }), content: message.content } as CompactMessage);
      } else shown.push(message);
    }
    asked.see(message);
  }
  return shown;
}

function expandMessages(messages: ReadonlyArray<ChatMessage | CompactMessage>, before: readonly ChatMessage[]): ChatMessage[] {
  const asked = new AskedCalls();
  before.forEach((message) => asked.see(message));
  return messages.map((message) => {
    let whole = message as ChatMessage;
    if (message.role === 'assistant' && message.content === undefined) whole = { role: 'assistant', content: '', ...(message.toolCalls && { toolCalls: message.toolCalls }) };
    if (message.role === 'tool' && (message.name === undefined || message.toolCallId === undefined)) {
      const toolCallId = message.toolCallId ?? asked.next()?.id;
      const name = message.name ?? (toolCallId === undefined ? undefined : asked.nameOf(toolCallId));
      if (toolCallId === undefined || name === undefined) throw new AirlockError("A compact reply left out a tool result's call, and its messages do not hold it", ErrorType.WireDataInvalid);
      whole = { role: 'tool', toolCallId, name, content: message.content };
    }
    asked.see(whole);
    return whole;
  });
}

/** Whether `held` (in order) starts `list`, by id. */
const startsWith = (list: readonly HitlInterrupt[], held: readonly HitlInterrupt[]) => held.length <= list.length && held.every((interrupt, index) => list[index].id === interrupt.id);

/**
 * The compact form of `response`; `sent` is the user message it answers (an `awaitResponse` has
 * none), `known` what an `awaitResponse` said it holds (`knowledgeOf`), `asked` the form the
 * caller reads (2 or newer).
 */
export function compactReply(response: AgentResponse, sent?: string, known?: string, asked = REPLY_FORM): CompactReply {
  const form = Math.min(Math.max(asked, 2), REPLY_FORM) as CompactReply['form'];
  const { threadId: _threadId, pendingInterrupts, interrupts, currentInterrupt, messages, ...state } = response.state;
  const leaveOutSent = isSentMessage(messages[0], sent);
  let held = heldOf(response, known, form);
  // Form 4, resolutions held: the interrupts up to the turn held are left out of both lists, which they start (else they are sent by id).
  const heldUpTo = (list: readonly HitlInterrupt[]) => list.filter((interrupt) => held !== undefined && interrupt.turn <= held.turn);
  if (held?.resolutions && !(startsWith(interrupts, heldUpTo(interrupts)) && startsWith(pendingInterrupts, heldUpTo(pendingInterrupts)))) held = { ...held, resolutions: false };
  const compact = (interrupt: HitlInterrupt): CompactInterrupt | KnownInterrupt => {
    const full = compactInterrupt(interrupt, messages, form);
    return !held || interrupt.turn > held.turn ? full : (withoutKeys(full, CALL_FIELDS) as KnownInterrupt);
  };
  const listed = (list: readonly HitlInterrupt[]) => (held?.resolutions ? list.slice(heldUpTo(list).length) : list);
  const from = held ? held.messages : leaveOutSent ? 1 : 0;
  // Form 4: what the rest of the reply gives is left out.
  const derived =
    form >= 4
      ? [
          ...(state.messagesFrom === 0 ? ['messagesFrom'] : []),
          ...(state.status === statusByPending(pendingInterrupts) ? ['status'] : []),
          ...(state.turn === impliedTurn(pendingInterrupts, held?.turn, messages.slice(from)) ? ['turn'] : []),
        ]
      : [];
  const [shownPending, shownInterrupts] = [listed(pendingInterrupts), listed(interrupts)];
  return {
    form,
    ...(held && { known: held.resolutions ? 2 : 1 }),
    ...(response.content !== derivedContent(messages) && { content: response.content }),
    ...(leaveOutSent && { sent: 1 }),
    state: {
      // What the client holds names the agent and where the exchange starts.
      ...(withoutKeys(state, held ? ['agent', 'messagesFrom', ...derived] : derived) as CompactReply['state']),
      messages: form >= 4 ? compactMessages(messages, from) : messages.slice(from),
      // The oldest waiting interrupt is `pendingInterrupts[0]`: the client puts it back (`completeResponse`).
      ...(currentInterrupt && currentInterrupt.id !== pendingInterrupts[0]?.id && { currentInterrupt }),
      ...(shownPending.length > 0 && { pendingInterrupts: shownPending.map(compact) }),
      ...(shownInterrupts.length > 0 && { interrupts: shownInterrupts.map(compact) }),
    },
  };
}

/**
 * The reply as an `AgentResponse`, whichever form it came in. `threadId` is the thread asked;
 * `sent` the message sent; `held` the response whose `knowledgeOf` the `awaitResponse` sent.
 */
export function expandReply(reply: AgentResponse | CompactReply, threadId: string, sent?: string, held?: AgentResponse): AgentResponse {
  const form = (reply as CompactReply).form;
  if (form !== 2 && form !== 3 && form !== 4) return reply as AgentResponse;
  const { content, sent: leftOut, known, state } = reply as CompactReply;
  if (leftOut === 1 && sent === undefined) throw new AirlockError('A compact reply left out the message sent, and the caller gave none to put back', ErrorType.WireDataInvalid);
  if (known !== undefined && held === undefined) throw new AirlockError('A compact reply left out what the caller held, and the caller gave nothing to put back', ErrorType.WireDataInvalid);
  const heldInterrupts = new Map((held ? allInterrupts(held.state) : []).map((interrupt) => [interrupt.id, interrupt]));
  // An interrupt of the exchange held comes without its call's fields (every interrupt has a creation time).
  const withCall = (interrupt: CompactInterrupt | KnownInterrupt): CompactInterrupt => {
    if (known === undefined || 'createdAt' in interrupt) return interrupt as CompactInterrupt;
    const heldOne = heldInterrupts.get(interrupt.id);
    if (!heldOne) throw new AirlockError('A compact reply names an interrupt the caller did not hold', ErrorType.WireDataInvalid);
    return { ...callFieldsOf(heldOne), ...interrupt };
  };
  const agent = state.agent ?? (known !== undefined ? held!.state.agent : undefined);
  if (agent === undefined) throw new AirlockError('A compact reply names no agent, and the caller held none', ErrorType.WireDataInvalid);
  const before: ChatMessage[] = known !== undefined ? held!.state.messages : leftOut === 1 ? [{ role: 'user', content: sent! }] : [];
  const messages: ChatMessage[] = [...before, ...expandMessages(state.messages, before)];
  // Known 2: the interrupts held, with their resolutions, start both lists.
  const heldTurn = held?.state.turn ?? 0;
  const heldFirst = (list: readonly HitlInterrupt[] | undefined) => (known === 2 ? (list ?? []).filter((interrupt) => interrupt.turn <= heldTurn) : []);
  const pendingInterrupts = [...heldFirst(held?.state.pendingInterrupts), ...(state.pendingInterrupts ?? []).map((interrupt) => expandInterrupt(withCall(interrupt), messages))];
  return {
    content: content ?? derivedContent(messages),
    state: {
      ...(known !== undefined && { messagesFrom: held!.state.messagesFrom }),
      ...(form === 4 && known === undefined && { messagesFrom: 0 }),
      ...state,
      status: state.status ?? statusByPending(pendingInterrupts),
      turn: state.turn ?? impliedTurn(pendingInterrupts, known !== undefined ? held!.state.turn : undefined, state.messages) ?? 0,
      agent,
      threadId,
      messages,
      pendingInterrupts,
      interrupts: [...heldFirst(held?.state.interrupts), ...(state.interrupts ?? []).map((interrupt) => expandInterrupt(withCall(interrupt), messages))],
    },
  };
}

/**
 * The compact form of a `decide` Update's outcome (`{ form: 2 }` or newer as its second argument, which a
 * worker that does not know it ignores): without the interrupt id and, for a resolution the Update
 * applied, how it arrived and the Update's id, which the caller sent (`airlock audit` reads them
 * from the Update's request); an edit's digest of its arguments is worked out again. Form 3 (asked
 * by reply form 4) also leaves out what the decision gives: `applied`, the resolution the action
 * leads to and the approver.
 */
export type CompactOutcome = { form: 2 | 3 } & (
  | { type?: 'applied'; resolution: Record<string, unknown>; grant?: ToolGrant }
  | { type: 'escalated'; interrupt: HitlInterrupt }
  | { type: 'refused'; reason: string; errorType: string }
);

/** `outcome` in the compact form; `asked` is the reply form the caller reads, `decision` the decision as it sent it. */
export function compactOutcome(outcome: DecisionOutcome, asked = 2, decision?: unknown): CompactOutcome {
  const { interruptId: _interruptId, ...rest } = outcome;
  const sent = asked >= 4 && typeof decision === 'object' && decision !== null ? (decision as Partial<Decision>) : undefined;
  const form = sent ? 3 : 2;
  if (rest.type !== 'applied') return { form, ...rest };
  const resolution: Record<string, unknown> = { ...rest.resolution };
  if (resolution.via === 'update' && typeof resolution.updateId === 'string') {
    delete resolution.via;
    delete resolution.updateId;
  }
  if (resolution.type === 'edited' && resolution.argsDigest === argsDigest(resolution.args)) delete resolution.argsDigest;
  if (!sent) return { form: 2, ...rest, resolution };
  if (resolution.type === RESOLVED_AS[String(sent.action)]) delete resolution.type;
  if (resolution.approver === sent.approver) delete resolution.approver;
  const { type: _applied, ...applied } = rest;
  return { form: 3, ...applied, resolution };
}

/**
 * The outcome as a `DecisionOutcome`, whichever form it came in: `interruptId` and `updateId` are
 * the decision's and its Update's, `decision` the decision sent (form 3 leaves out what it gives).
 */
export function expandOutcome(outcome: DecisionOutcome | CompactOutcome, interruptId: string, updateId: string, decision?: Partial<Decision>): DecisionOutcome {
  const form = (outcome as CompactOutcome).form;
  if (form !== 2 && form !== 3) return outcome as DecisionOutcome;
  const { form: _form, ...rest } = outcome as CompactOutcome;
  if (rest.type === 'escalated' || rest.type === 'refused') return { ...rest, interruptId } as DecisionOutcome;
  const resolution = { ...rest.resolution };
  if (form === 3) {
    if (!decision) throw new AirlockError("A compact outcome left out what its decision gives, and the caller gave no decision", ErrorType.WireDataInvalid);
    if (resolution.type === undefined) resolution.type = RESOLVED_AS[String(decision.action)];
    if (resolution.approver === undefined && decision.approver !== undefined) resolution.approver = decision.approver;
  }
  if (resolution.type !== 'timed-out' && resolution.type !== 'cancelled' && resolution.via === undefined) Object.assign(resolution, { via: 'update', updateId });
  if (resolution.type === 'edited' && resolution.argsDigest === undefined) resolution.argsDigest = argsDigest(resolution.args);
  return { ...rest, type: 'applied', interruptId, resolution } as DecisionOutcome;
}
