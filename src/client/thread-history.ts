/**
 * A thread's conversation rebuilt from its event history, for when no worker runs to answer the
 * state query: each model turn's input (the conversation the model saw), its answer, the tool
 * results and the user messages that arrived since.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { echoesInFull, type CallModelInput, type CallModelResult, type ChatMessage, type ExecuteToolInput, type ExecuteToolResult, type ThreadInput } from '../core';
import { fetchRuns } from './audit-trail';

type Payload = temporal.api.common.v1.IPayload;

/**
 * The conversation of the thread's latest run, from history alone (works while no worker runs).
 * @throws AirlockError `ThreadNotFound` when there is no such thread
 */
export async function readConversationFromHistory(client: Client, threadId: string): Promise<ChatMessage[]> {
  const decode = (payload: Payload | null | undefined): unknown =>
    payload ? client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload) : undefined;
  const runs = await fetchRuns(client, threadId);
  return conversationOfRun(runs[runs.length - 1] ?? [], decode);
}

/** The conversation one run's events record (`decode` reads a payload). */
export function conversationOfRun(events: temporal.api.history.v1.IHistoryEvent[], decode: (payload: Payload | null | undefined) => unknown): ChatMessage[] {
  let messages: ChatMessage[] = [];
  // The conversation the model was last given, exactly as the thread keeps it.
  let given: ChatMessage[] = [];
  const scheduled = new Map<string, { type: string; input: unknown }>();
  // What each tool activity returned, by tool-call id: version 6 turns echo a tool result without it.
  const outputs = new Map<string, string>();
  for (const event of events) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      given = [...((decode(started.input?.payloads?.[0]) as ThreadInput | undefined)?.carried?.messages ?? [])];
      messages = [...given];
    }
    const activity = event.activityTaskScheduledEventAttributes;
    if (activity) {
      const input = decode(activity.input?.payloads?.[0]);
      scheduled.set(String(event.eventId), { type: activity.activityType?.name ?? '', input });
      // What the model is given is the conversation so far, in the thread's own order: whole
      // (version 2), or what it had before plus what was added since (version 3).
      if (activity.activityType?.name === 'callModel') {
        const { messages: whole, conversation } = input as CallModelInput;
        given = whole ? [...whole] : [...given.slice(0, conversation?.from ?? 0), ...(conversation?.added ?? [])];
        messages = [...given];
      }
    }
    // A local model turn (version 4 to 6) is one marker: its result holds what the turn was given from
    // where the previous one stopped (`given`; version 6 leaves out a tool result's text, which its
    // activity's result holds), and the reply. The next turn's `from` counts the reply (or, in
    // threads of an earlier release, echoes it again: the slice drops this copy).
    const local = localModelTurn(event, decode);
    if (local) {
      if (local.given) given = [...given.slice(0, local.given.from), ...echoesInFull(given.slice(0, local.given.from), local.given.added, outputs)];
      given = [...given, local.message];
      messages = [...given];
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const call = completed && scheduled.get(String(completed.scheduledEventId));
    if (completed && call?.type === 'callModel') messages.push((decode(completed.result?.payloads?.[0]) as CallModelResult).message);
    if (completed && call?.type === 'executeTool') {
      const input = call.input as ExecuteToolInput;
      const result = decode(completed.result?.payloads?.[0]) as ExecuteToolResult;
      if (result.ok) outputs.set(input.toolCallId, result.output);
      messages.push({ role: 'tool', toolCallId: input.toolCallId, name: input.toolName, content: result.ok ? result.output : `Error (${result.errorType}): ${result.error}` });
    }
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (update?.name === 'sendMessage') messages.push({ role: 'user', content: String(decode(update.args?.payloads?.[0])) });
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'userMessage') messages.push({ role: 'user', content: String(decode(signal.input?.payloads?.[0])) });
  }
  return messages;
}

/** The result of a model turn that ran as a local activity, from its marker; `undefined` for any other event. */
function localModelTurn(event: temporal.api.history.v1.IHistoryEvent, decode: (payload: Payload | null | undefined) => unknown): CallModelResult | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const about = decode(marker.details?.data?.payloads?.[0]) as { activity_type?: unknown } | undefined;
  if (about?.activity_type !== 'callModel') return undefined;
  const result = decode(marker.details?.result?.payloads?.[0]) as CallModelResult | undefined;
  return result?.message ? result : undefined;
}
