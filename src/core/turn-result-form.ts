/**
 * A local model turn's result is written into history (its marker) and read back only by the
 * workflow code of the same worker. So what it would say twice is left out: a call's arguments
 * when they are the message's own (the model's JSON, parsed), a call's policy when it is the one
 * the settings in the same result give the tool, and the list of checked calls when each is then
 * just the message's call, valid. `withCallsInFull` puts them back. Pure.
 */
import { canonicalJson } from './canonical-json';
import type { AgentSettings, CallModelResult, CheckedToolCall, HitlPolicy, RecordedModelTurn, ToolCall } from './types';

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
