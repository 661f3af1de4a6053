/**
 * `airlock show` rebuilds a thread's conversation from history alone. Local model turns record
 * their reply in their marker and what was added since the previous turn (`given`); threads of
 * the release before also echoed the previous reply in the next turn's `given`; version 6 echoes a
 * tool result without its text, which its tool activity's result holds. Read from the recorded
 * version 4 histories of both and from version 6's, every model turn's reply is in the conversation exactly once,
 * every tool result follows the call it answers, and each run starts with its user's message.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { conversationOfRun } from '../../src/client/thread-history';
import type { CallModelResult, ChatMessage } from '../../src/core';

type Payload = temporal.api.common.v1.IPayload;
const decode = (payload: Payload | null | undefined): unknown => (payload ? defaultPayloadConverter.fromPayload(payload as never) : undefined);
const HISTORIES = path.join(__dirname, '..', 'replay', 'histories');
const SCENARIOS = ['thread', 'decisions', 'failures', 'message-signal', 'on-timeout-accept', 'continue-as-new'];
/** Each scenario as the release before recorded it (replies echoed again) and as this one does (each reply once). */
const RECORDED = ['v4', 'v4-reply-once', 'v6', 'v6-form4'].flatMap((version) => SCENARIOS.map((scenario) => (scenario === 'continue-as-new' ? `${scenario}-${version}.run1.json` : `${scenario}-${version}.json`)));

/** The replies of the run's local model turns, from their markers, in order. */
function localReplies(events: temporal.api.history.v1.IHistoryEvent[]): ChatMessage[] {
  return events.flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const about = decode(marker.details?.data?.payloads?.[0]) as { activity_type?: string };
    if (about.activity_type !== 'callModel') return [];
    // A failed turn's marker holds its failure, no reply.
    const result = decode(marker.details?.result?.payloads?.[0]) as CallModelResult | undefined;
    return result ? [result.message] : [];
  });
}

test.each(RECORDED)('%s: each reply once, each tool result after its call', (file) => {
  const events = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))).events ?? [];
  const conversation = conversationOfRun(events, decode);
  const replies = localReplies(events);
  expect(replies.length).toBeGreaterThan(1);
  const same = (a: ChatMessage, b: ChatMessage) => JSON.stringify(a) === JSON.stringify(b);
  for (const reply of replies) expect(conversation.filter((message) => same(message, reply))).toHaveLength(1);
  // Replies in the order the turns ran.
  const positions = replies.map((reply) => conversation.findIndex((message) => same(message, reply)));
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  conversation.forEach((message, index) => {
    if (message.role !== 'tool') return;
    const asked = conversation.slice(0, index).some((earlier) => earlier.role === 'assistant' && earlier.toolCalls?.some((call) => call.id === message.toolCallId));
    expect(asked).toBe(true);
  });
  expect(conversation[0].role).toBe('user');
  // Every message has its text: a tool result echoed without it (version 6) has its activity's output.
  for (const message of conversation) expect(typeof message.content).toBe('string');
  expect(conversation.filter((message) => message.role === 'tool' && message.content === '')).toEqual([]);
});

test("version 6: a tool result echoed without its text reads as its tool activity's output", () => {
  const events = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, 'thread-v6.json'), 'utf8'))).events ?? [];
  const outputs = events.flatMap((event) => {
    const result = decode(event.activityTaskCompletedEventAttributes?.result?.payloads?.[0]) as { ok?: boolean; output?: string } | undefined;
    return result?.ok ? [result.output] : [];
  });
  const toolTexts = conversationOfRun(events, decode).filter((message) => message.role === 'tool').map((message) => message.content);
  expect(outputs.length).toBeGreaterThan(1);
  for (const output of outputs) expect(toolTexts).toContain(output);
});
