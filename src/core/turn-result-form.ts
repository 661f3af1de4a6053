/**
 * A local model turn's result is written into history (its marker) and read back only by the
 * workflow code of the same worker. So what it would say twice is left out: a call's arguments
 * when they are the message's own (the model's JSON, parsed), a call's policy when it is the one
 * the settings in the same result give the tool, and the list of checked calls when each is then
 * just the message's call, valid. `withCallsInFull` puts them back. Pure.
 */
import { canonicalJson } from './canonical-json';
import type { AgentSettings, CallModelResult, ChatMessage, CheckedToolCall, EchoedMessage, HitlPolicy, RecordedModelTurn, ToolCall } from './types';

export const hasOwn = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

/** The policy `settings` give `tool`: its own, or `null` (unprotected). */
export function policyInSettings(settings: Pick<AgentSettings, 'interrupts'>, tool: string): HitlPolicy | null {
  return hasOwn(settings.interrupts, tool) ? settings.interrupts[tool] : null;
}

/** The arguments the model wrote for call `id` among `calls`, parsed; `undefined` when there are none, or they are not JSON. */
export function callArguments(calls: readonly ToolCall[] | undefined, id: string): unknown {
  const text = calls?.find((call) => call.id === id)?.arguments;
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The policy the settings in `result` give `tool`; `undefined` when it brings none. */
const settingsPolicy = (result: RecordedModelTurn, tool: string) => (result.spec ? policyInSettings(result.spec, tool) : undefined);
const messageArgs = (result: RecordedModelTurn, id: string) => callArguments(result.message.toolCalls, id);

/** `result` without what it says twice (for a local turn's marker). */
export function withoutRepeatedCallParts(result: CallModelResult): RecordedModelTurn {
  const toolCalls = result.toolCalls.map((call): CheckedToolCall => {
    if (call.status !== 'valid') return call;
    const { args, policy, ...rest } = call;
    const own = messageArgs(result, call.id);
    const sameArgs = own !== undefined && canonicalJson(own) === canonicalJson(args);
    const fromSettings = settingsPolicy(result, call.name);
    const samePolicy = policy !== undefined && fromSettings !== undefined && canonicalJson(policy) === canonicalJson(fromSettings);
    return { ...rest, ...(!sameArgs && { args }), ...(!samePolicy && { policy }) } as CheckedToolCall;
  });
  const asked = result.message.toolCalls ?? [];
  const plain = toolCalls.length === asked.length && toolCalls.every((call, index) => Object.values(call).filter((value) => value !== undefined).length === 3 && call.status === 'valid' && call.id === asked[index].id && call.name === asked[index].name);
  const { toolCalls: _calls, ...rest } = result;
  return plain ? rest : { ...rest, toolCalls };
}

/**
 * `recorded` with its checked calls, each with its arguments and policy, as
 * `withoutRepeatedCallParts` found them. Results recorded whole (activities, older markers) come
 * back unchanged.
 */
export function withCallsInFull(recorded: RecordedModelTurn): CallModelResult {
  const full = (calls: CheckedToolCall[]) => calls.every((call) => call.status !== 'valid' || (hasOwn(call, 'args') && call.policy !== undefined));
  if (recorded.toolCalls && full(recorded.toolCalls)) return recorded as CallModelResult;
  // No list: each of the message's calls, valid (their arguments and policy follow).
  const calls = recorded.toolCalls ?? (recorded.message.toolCalls ?? []).map(({ id, name }) => ({ id, name, status: 'valid' }) as CheckedToolCall);
  const result: CallModelResult = { ...recorded, toolCalls: calls };
  const toolCalls = result.toolCalls.map((call): CheckedToolCall => {
    if (call.status !== 'valid') return call;
    // A recorded call without a policy, and no settings with it, keeps none: the thread's settings give it (older results).
    const policy = call.policy !== undefined ? call.policy : settingsPolicy(result, call.name);
    return { ...call, ...(!hasOwn(call, 'args') && { args: messageArgs(result, call.id) }), ...(policy !== undefined && { policy }) };
  });
  return { ...result, toolCalls };
}

/**
 * The calls of a conversation that have no result yet, in the model's order, after each message
 * it is shown: a tool result that answers the first of them can leave its call out.
 */
export class OpenCalls {
  private open: ToolCall[] = [];
  /** The call the next tool result answers, when it answers the first one still open. */
  next(): ToolCall | undefined {
    return this.open[0];
  }
  see(message: { role: string; toolCalls?: ToolCall[]; toolCallId?: string }): void {
    if (message.role === 'assistant' && (message.toolCalls?.length ?? 0) > 0) this.open = [...message.toolCalls!];
    else if (message.role === 'tool') this.open = this.open.filter((call) => call.id !== message.toolCallId);
  }
}

/**
 * What a local turn echoes of `messages` from `from` on (`CallModelResult.given.added`): each as
 * the thread holds it, but a tool result whose text its tool activity's result records (index in
 * `recorded`) without it and, with `bare` (version 6), without its call id and tool name when it
 * answers the first call still open (`echoesInFull` puts them back).
 */
export function echoesOf(messages: readonly ChatMessage[], from: number, recorded: ReadonlySet<number>, bare: boolean): EchoedMessage[] {
  const open = new OpenCalls();
  messages.slice(0, from).forEach((message) => open.see(message));
  return messages.slice(from).map((message, index): EchoedMessage => {
    const next = open.next();
    open.see(message);
    if (message.role !== 'tool' || !recorded.has(from + index)) return message;
    return bare && next?.id === message.toolCallId && next.name === message.name ? { role: 'tool' } : { role: 'tool', toolCallId: message.toolCallId, name: message.name };
  });
}

/**
 * `added` (`echoesOf`) as the thread held it, after `before`: a tool result echoed without its text
 * gets its tool activity's output (`outputs`, by call id), one without its call the first call still open.
 */
export function echoesInFull(before: readonly ChatMessage[], added: readonly EchoedMessage[], outputs: ReadonlyMap<string, string>): ChatMessage[] {
  const open = new OpenCalls();
  before.forEach((message) => open.see(message));
  return added.map((message): ChatMessage => {
    let whole: ChatMessage;
    if ('content' in message) whole = message;
    else {
      const call = 'toolCallId' in message ? { id: message.toolCallId, name: message.name } : open.next();
      whole = { role: 'tool', toolCallId: call?.id ?? '', name: call?.name ?? '', content: outputs.get(call?.id ?? '') ?? '' };
    }
    open.see(whole);
    return whole;
  });
}
